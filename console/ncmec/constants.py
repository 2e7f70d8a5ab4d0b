"""The facts about NCMEC's CyberTipline API that the code names: URLs, enumerations, field rules, codes.

The authority is NCMEC's own XSD, vendored in xsd/cyber_tipline.xsd: every document is validated against it
before it leaves the console (schema.py), and tests/ncmec/test_schema_contract.py checks every enumeration
here against the XSD's, so a changed schema fails the build rather than a report. Response codes come from
NCMEC's documentation and the replies recorded from the real service (/work/shared/ncmec/RECORDED.md).
"""

from __future__ import annotations

from enum import StrEnum

PRODUCTION_URL = "https://report.cybertip.org/ispws"
TEST_URL = "https://exttest.cybertip.org/ispws"


class IncidentType(StrEnum):
    """The eight values of ``incidentType``; the string values must match NCMEC's enumeration exactly."""

    CHILD_PORNOGRAPHY = "Child Pornography (possession, manufacture, and distribution)"
    CHILD_SEX_TRAFFICKING = "Child Sex Trafficking"
    CHILD_SEX_TOURISM = "Child Sex Tourism"
    CHILD_SEXUAL_MOLESTATION = "Child Sexual Molestation"
    MISLEADING_DOMAIN_NAME = "Misleading Domain Name"
    MISLEADING_WORDS_OR_IMAGES = "Misleading Words or Digital Images on the Internet"
    ONLINE_ENTICEMENT = "Online Enticement of Children for Sexual Acts"
    UNSOLICITED_OBSCENE_MATERIAL = "Unsolicited Obscene Material Sent to a Child"

    @property
    def label(self) -> str:
        return _INCIDENT_LABELS[self]

    @property
    def guidance(self) -> str:
        """When a moderator should pick this type (from the product brief)."""
        return _INCIDENT_GUIDANCE[self]


_INCIDENT_LABELS = {
    IncidentType.CHILD_PORNOGRAPHY: "Child pornography (CSAM)",
    IncidentType.CHILD_SEX_TRAFFICKING: "Child sex trafficking",
    IncidentType.CHILD_SEX_TOURISM: "Child sex tourism",
    IncidentType.CHILD_SEXUAL_MOLESTATION: "Child sexual molestation",
    IncidentType.MISLEADING_DOMAIN_NAME: "Misleading domain name",
    IncidentType.MISLEADING_WORDS_OR_IMAGES: "Misleading words or images on the internet",
    IncidentType.ONLINE_ENTICEMENT: "Online enticement of children for sexual acts",
    IncidentType.UNSOLICITED_OBSCENE_MATERIAL: "Unsolicited obscene material sent to a child",
}

_INCIDENT_GUIDANCE = {
    IncidentType.CHILD_PORNOGRAPHY: "Sexual imagery involving a minor.",
    IncidentType.CHILD_SEX_TRAFFICKING: "Content advertising or facilitating the trafficking of minors.",
    IncidentType.CHILD_SEX_TOURISM: "Content promoting or arranging sexual tourism involving minors.",
    IncidentType.CHILD_SEXUAL_MOLESTATION: "Depictions or descriptions of the sexual molestation of a child.",
    IncidentType.MISLEADING_DOMAIN_NAME: "A URL designed to lure minors to explicit content.",
    IncidentType.MISLEADING_WORDS_OR_IMAGES: (
        "Text or imagery designed to deceive minors into accessing explicit content."
    ),
    IncidentType.ONLINE_ENTICEMENT: "An adult attempting to solicit a minor into sexual activity.",
    IncidentType.UNSOLICITED_OBSCENE_MATERIAL: "Sexually explicit content sent to a minor without consent.",
}


# --- Field rules from NCMEC's documentation ----------------------------------------------------------------
#
# The XSD sets no lengths; NCMEC's documentation (as the open-source clients that follow it cap them) does.
# The console enforces them where data enters (ingestion API, forms), so a report never fails at send time.

NAME_MAX = 100  # firstName, lastName, displayName, screenName
PHONE_MAX = 50
ESP_SERVICE_MAX = 100
URL_MAX = 2083  # url, profileUrl, legalURL, locationOfFile
ORIGINAL_FILE_NAME_MAX = 2056
DESCRIPTION_MAX = 3000  # incidentDateTimeDescription, escalateToHighPriority and other free descriptions
# Not documented by NCMEC: the console's own bound for free identifiers (agency names, case numbers, device
# ids, group identifiers), wide enough for any real one and small enough to show on a page.
IDENTIFIER_MAX = 200


def url_problem(url: str) -> str | None:
    """Why NCMEC would refuse ``url`` (too long, whitespace or control characters), or None if fine."""
    if len(url) > URL_MAX:
        return f"is longer than {URL_MAX} characters"
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return "contains whitespace or control characters"
    return None


class IpCaptureEventName(StrEnum):
    """The ``ipCaptureType`` enumeration: what the user was doing when the address was seen."""

    LOGIN = "Login"
    REGISTRATION = "Registration"
    PURCHASE = "Purchase"
    UPLOAD = "Upload"
    OTHER = "Other"
    UNKNOWN = "Unknown"


# Platforms name their events freely; these common names map onto NCMEC's enumeration. Anything else is Other.
_IP_EVENT_ALIASES = {
    "login": IpCaptureEventName.LOGIN,
    "log in": IpCaptureEventName.LOGIN,
    "signin": IpCaptureEventName.LOGIN,
    "sign in": IpCaptureEventName.LOGIN,
    "sign-in": IpCaptureEventName.LOGIN,
    "session": IpCaptureEventName.LOGIN,
    "registration": IpCaptureEventName.REGISTRATION,
    "register": IpCaptureEventName.REGISTRATION,
    "signup": IpCaptureEventName.REGISTRATION,
    "sign up": IpCaptureEventName.REGISTRATION,
    "sign-up": IpCaptureEventName.REGISTRATION,
    "account created": IpCaptureEventName.REGISTRATION,
    "purchase": IpCaptureEventName.PURCHASE,
    "payment": IpCaptureEventName.PURCHASE,
    "upload": IpCaptureEventName.UPLOAD,
    "post": IpCaptureEventName.UPLOAD,
    "posted": IpCaptureEventName.UPLOAD,
    "message": IpCaptureEventName.UPLOAD,
    "unknown": IpCaptureEventName.UNKNOWN,
}


def ip_event_name(platform_name: str | None) -> IpCaptureEventName | None:
    """NCMEC's event name for a platform's: exact members and common aliases map, anything else is Other."""
    if platform_name is None or not platform_name.strip():
        return None
    key = " ".join(platform_name.strip().lower().replace("_", " ").split())
    for member in IpCaptureEventName:
        if key == member.value.lower():
            return member
    return _IP_EVENT_ALIASES.get(key, IpCaptureEventName.OTHER)


class IndustryClassification(StrEnum):
    """The industry's shared categorisation of imagery (prepubescent/pubescent × explicit act/lascivious)."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"

    @property
    def description(self) -> str:
        return _INDUSTRY_DESCRIPTIONS[self]


_INDUSTRY_DESCRIPTIONS = {
    IndustryClassification.A1: "Prepubescent minor engaged in a sex act",
    IndustryClassification.A2: "Prepubescent minor in a lascivious exhibition or nudity/posing",
    IndustryClassification.B1: "Pubescent minor engaged in a sex act",
    IndustryClassification.B2: "Pubescent minor in a lascivious exhibition or nudity/posing",
}


class ReportAnnotation(StrEnum):
    """Empty flag elements inside ``incidentSummary/reportAnnotations``; the value is the element name."""

    SEXTORTION = "sextortion"
    CSAM_SOLICITATION = "csamSolicitation"
    MINOR_TO_MINOR_INTERACTION = "minorToMinorInteraction"
    SPAM = "spam"
    SADISTIC_ONLINE_EXPLOITATION = "sadisticOnlineExploitation"


class FileAnnotation(StrEnum):
    """Empty flag elements inside ``fileDetails/fileAnnotations``; the value is the element name."""

    ANIME_DRAWING_VIRTUAL_HENTAI = "animeDrawingVirtualHentai"
    POTENTIAL_MEME = "potentialMeme"
    VIRAL = "viral"
    POSSIBLE_SELF_PRODUCTION = "possibleSelfProduction"
    PHYSICAL_HARM = "physicalHarm"
    VIOLENCE_GORE = "violenceGore"
    BESTIALITY = "bestiality"
    LIVE_STREAMING = "liveStreaming"
    INFANT = "infant"
    GENERATIVE_AI = "generativeAi"


class FileRelevance(StrEnum):
    """``fileRelevance``: the XSD has these two; industry classification goes on Reported files only."""

    REPORTED = "Reported"
    SUPPLEMENTAL_REPORTED = "Supplemental Reported"


class HashType(StrEnum):
    """Common ``originalFileHash/@hashType`` values; the XSD takes any string, so detectors may add theirs."""

    MD5 = "MD5"
    SHA1 = "SHA1"
    SHA256 = "SHA256"
    PDQ = "PDQ"


class DetailsType(StrEnum):
    """``details/@type`` (the XSD's ``metadataTypes``): what the name/value pairs describe."""

    EXIF = "EXIF"
    HASH = "HASH"


class AddressType(StrEnum):
    """``address/@type`` (the XSD's ``addressType``)."""

    HOME = "Home"
    BUSINESS = "Business"
    BILLING = "Billing"
    SHIPPING = "Shipping"
    TECHNICAL = "Technical"


class AssociatedAccountType(StrEnum):
    """``associatedAccount/@type`` (required): how the other account relates to the reported user."""

    BILLING = "Billing"
    LINKED = "Linked"
    BUSINESS = "Business"
    CREATOR = "Creator"
    PARENT_GUARDIAN = "Parent/Guardian"
    OTHER = "Other"


# --- Response codes -----------------------------------------------------------------------------------------

SUCCESS = 0
REPORT_DOES_NOT_EXIST = 5001
FILE_DOES_NOT_EXIST = 5002
REPORT_ALREADY_RETRACTED = 5101
REPORT_ALREADY_FINISHED = 5102

RESPONSE_CODES: dict[int, str] = {
    0: "Success",
    1000: "Server error",
    1100: "Save failed",
    1110: "Upload failed",
    1111: "File upload failed",
    1210: "Resource not found",
    1300: "Update failed",
    2000: "Authentication required",
    3000: "Not authorised for this action",
    3100: "Not authorised to make submissions",
    3300: "Not authorised to make updates",
    4000: "Invalid request",
    4100: "Validation failed",
    4110: "Malformed XML",
    4200: "Malformed file submittal",
    REPORT_DOES_NOT_EXIST: "Report does not exist",
    FILE_DOES_NOT_EXIST: "File does not exist",
    REPORT_ALREADY_RETRACTED: "Report already retracted",
    REPORT_ALREADY_FINISHED: "Report already finished",
}


# The real service answers a document that breaks the schema with 1001 "Malformed (xml) report submittal - …"
# (recorded; not in the documented list). Retrying the same bytes fails the same way.
MALFORMED_SUBMITTAL = 1001
RESPONSE_CODES[MALFORMED_SUBMITTAL] = "Malformed (xml) submittal"
MALFORMED_CODES = frozenset({MALFORMED_SUBMITTAL, 4100, 4110})
RETRYABLE_CODES = frozenset({1000, 1100, 1110, 1111, 1210, 1300})


class CodeFamily(StrEnum):
    SUCCESS = "success"
    RETRYABLE = "retryable"  # documented 1xxx: the service failed; trying again later is expected to work
    NEEDS_ADMIN = "needs_admin"  # 2xxx/3xxx: credentials or permissions; a person must fix them
    MALFORMED = "malformed"  # the service refused our document's shape: fix the data or the code
    DATA = "data"  # other 4xxx: our request is wrong; retrying the same bytes cannot help
    REPORT_STATE = "report_state"  # 5001/5002/5101/5102: the report/file is not in the state the call assumed
    UNKNOWN = "unknown"  # a code nobody documented: retried a bounded number of times, then shown to a person


def classify_code(code: int, description: str = "") -> CodeFamily:
    """Group a ``responseCode`` by what the caller should do next.

    Only documented codes get a family of their own; an undocumented one is UNKNOWN (never retried forever),
    except that any reply whose description says "malformed" is MALFORMED whatever its code.
    """
    if code == SUCCESS:
        return CodeFamily.SUCCESS
    if code in MALFORMED_CODES or "malformed" in description.lower():
        return CodeFamily.MALFORMED
    if code in RETRYABLE_CODES:
        return CodeFamily.RETRYABLE
    if code in RESPONSE_CODES and 2000 <= code < 4000:
        return CodeFamily.NEEDS_ADMIN
    if code in RESPONSE_CODES and 4000 <= code < 5000:
        return CodeFamily.DATA
    if code in (
        REPORT_DOES_NOT_EXIST,
        FILE_DOES_NOT_EXIST,
        REPORT_ALREADY_RETRACTED,
        REPORT_ALREADY_FINISHED,
    ):
        return CodeFamily.REPORT_STATE
    return CodeFamily.UNKNOWN


def describe_code(code: int) -> str:
    return RESPONSE_CODES.get(code, f"Unknown response code {code}")
