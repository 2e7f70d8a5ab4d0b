"""Every fact about NCMEC's CyberTipline API that the code depends on, in one place.

The source is the team's notes (/work/shared/ncmec/API.md). Where the live service's XSD (``<base>/xsd``)
disagrees, correct the data here: documents.py builds and schema.py validates from these same tuples, so one
edit moves both.
"""

from __future__ import annotations

from dataclasses import dataclass
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
# The console enforces them where data enters (ingestion API, forms) so that a report never fails at send time.

NAME_MAX = 100  # firstName, lastName, displayName, screenName
PHONE_MAX = 50
ESP_SERVICE_MAX = 100
URL_MAX = 2083  # url, profileUrl, legalURL, locationOfFile
ORIGINAL_FILE_NAME_MAX = 2056
DESCRIPTION_MAX = 3000  # incidentDateTimeDescription, escalateToHighPriority and other free descriptions


def url_problem(url: str) -> str | None:
    """Why NCMEC would refuse ``url`` (too long, whitespace or control characters), or None when it is fine."""
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
    REPORTED = "Reported"
    SUPPLEMENTAL_REPORTED = "Supplemental Reported"
    SUPPLEMENTAL = "Supplemental"


class HashType(StrEnum):
    MD5 = "MD5"
    SHA1 = "SHA1"


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


class CodeFamily(StrEnum):
    SUCCESS = "success"
    RETRYABLE = "retryable"  # 1xxx: the service failed; trying again later is expected to work
    NEEDS_ADMIN = "needs_admin"  # 2xxx/3xxx: credentials or permissions; a person must fix them
    DATA = "data"  # 4xxx: our document or request is wrong; retrying the same bytes cannot help
    REPORT_STATE = "report_state"  # 5xxx: the report/file is not in the state the call assumed


def classify_code(code: int) -> CodeFamily:
    """Group a ``responseCode`` by what the caller should do; unknown codes are grouped by range."""
    if code == SUCCESS:
        return CodeFamily.SUCCESS
    if 1000 <= code < 2000:
        return CodeFamily.RETRYABLE
    if 2000 <= code < 4000:
        return CodeFamily.NEEDS_ADMIN
    if 5000 <= code < 6000:
        return CodeFamily.REPORT_STATE
    # 4xxx and anything outside the documented ranges: do not retry blindly.
    return CodeFamily.DATA


def describe_code(code: int) -> str:
    return RESPONSE_CODES.get(code, f"Unknown response code {code}")


# --- Document structure -------------------------------------------------------------------------------------
#
# Each element is (name, minOccurs, maxOccurs, type). maxOccurs None means unbounded. The type is either one
# of the simple type names below or a tuple of child Elements (an xs:sequence, in the service's order).
#
# Simple types:
#   string        any text                    short         text of at most SHORT_TEXT_MAX characters
#   url           text of at most URL_MAX      long          free text of at most LONG_TEXT_MAX characters
#   boolean       true/false                  dateTime      ISO 8601 with a mandatory offset
#   flag          an empty element (present = true)
#   hash          text with a required ``hashType`` attribute
#   escalationReason  non-blank text of at most ESCALATION_REASON_MAX characters
#   incidentType / fileRelevance / industryClassification   the enumerations above
#
# Length limits are our own guesses (the notes give none): generous enough for real data, small enough to
# catch a runaway value before the service does.

SHORT_TEXT_MAX = 255

LONG_TEXT_MAX = 65536
ESCALATION_REASON_MAX = 3000


@dataclass(frozen=True)
class Element:
    name: str
    min_occurs: int = 1
    max_occurs: int | None = 1
    type: str | tuple[Element, ...] = "string"

    @property
    def repeated(self) -> bool:
        return self.max_occurs is None or self.max_occurs > 1

    @property
    def children(self) -> tuple[Element, ...]:
        return self.type if isinstance(self.type, tuple) else ()


def _flags(values: type[StrEnum]) -> tuple[Element, ...]:
    return tuple(Element(v.value, 0, 1, "flag") for v in values)


IP_CAPTURE_EVENT = (
    Element("ipAddress", 1, 1, "short"),
    Element("eventName", 0, 1, "short"),
    Element("dateTime", 0, 1, "dateTime"),
    Element("possibleProxy", 0, 1, "boolean"),
)

INCIDENT_SUMMARY = (
    Element("incidentType", 1, 1, "incidentType"),
    # A reason text, not a boolean: open-source clients send a non-blank string of at most 3000 characters.
    Element("escalateToHighPriority", 0, 1, "escalationReason"),
    Element("reportAnnotations", 0, 1, _flags(ReportAnnotation)),
    Element("incidentDateTime", 1, 1, "dateTime"),
    Element("incidentDateTimeDescription", 0, 1, "long"),
)

WEB_PAGE_INCIDENT = (
    Element("url", 1, None, "url"),
    Element("additionalInfo", 0, 1, "long"),
)

CHAT_IM_INCIDENT = (
    Element("chatClient", 0, 1, "short"),
    Element("chatRoomName", 0, 1, "short"),
    Element("content", 0, 1, "long"),
    Element("additionalInfo", 0, 1, "long"),
)

INTERNET_DETAILS = (
    # The real schema has an xs:choice of incident kinds; we model the two we send as optional in sequence and
    # documents.py emits exactly one of them per internetDetails.
    Element("webPageIncident", 0, 1, WEB_PAGE_INCIDENT),
    Element("chatImIncident", 0, 1, CHAT_IM_INCIDENT),
)

REPORTING_PERSON = (
    Element("firstName", 1, 1, "short"),
    Element("lastName", 1, 1, "short"),
    Element("email", 1, 1, "short"),
    Element("phone", 0, 1, "short"),
)

REPORTER = (
    Element("reportingPerson", 1, 1, REPORTING_PERSON),
    Element("companyTemplate", 0, 1, "long"),
    Element("termsOfService", 0, 1, "long"),
    Element("legalURL", 0, 1, "url"),
)

PERSON_OR_USER_REPORTED_PERSON = (
    Element("firstName", 0, 1, "short"),
    Element("lastName", 0, 1, "short"),
    Element("email", 0, None, "short"),
    Element("displayName", 0, 1, "short"),
)

PERSON_OR_USER_REPORTED = (
    Element("personOrUserReportedPerson", 0, 1, PERSON_OR_USER_REPORTED_PERSON),
    Element("espIdentifier", 0, 1, "short"),
    Element("espService", 0, 1, "short"),
    Element("screenName", 0, 1, "short"),
    Element("displayName", 0, 1, "short"),
    Element("profileUrl", 0, 1, "url"),
    Element("ipCaptureEvent", 0, None, IP_CAPTURE_EVENT),
    Element("additionalInfo", 0, 1, "long"),
)

REPORT = Element(
    "report",
    1,
    1,
    (
        Element("incidentSummary", 1, 1, INCIDENT_SUMMARY),
        Element("internetDetails", 0, None, INTERNET_DETAILS),
        Element("reporter", 1, 1, REPORTER),
        Element("personOrUserReported", 0, None, PERSON_OR_USER_REPORTED),
        Element("additionalInfo", 0, 1, "long"),
    ),
)

FILE_DETAILS = Element(
    "fileDetails",
    1,
    1,
    (
        Element("reportId", 1, 1, "short"),
        Element("fileId", 1, 1, "short"),
        Element("fileName", 0, 1, "short"),
        Element("originalFileName", 0, 1, "short"),
        Element("uploadedToEspTimestamp", 0, 1, "dateTime"),
        Element("locationOfFile", 0, 1, "url"),
        Element("fileViewedByEsp", 0, 1, "boolean"),
        Element("exifViewedByEsp", 0, 1, "boolean"),
        Element("publiclyAvailable", 0, 1, "boolean"),
        Element("fileRelevance", 0, 1, "fileRelevance"),
        Element("fileAnnotations", 0, 1, _flags(FileAnnotation)),
        Element("industryClassification", 0, 1, "industryClassification"),
        Element("originalFileHash", 0, None, "hash"),
        Element("ipCaptureEvent", 0, None, IP_CAPTURE_EVENT),
        Element("details", 0, 1, "long"),
        Element("additionalInfo", 0, 1, "long"),
    ),
)

# Simple types that are enumerations, for schema.py.
ENUMERATIONS: dict[str, type[StrEnum]] = {
    "incidentType": IncidentType,
    "fileRelevance": FileRelevance,
    "industryClassification": IndustryClassification,
    "hashType": HashType,
}

TEXT_LIMITS: dict[str, int | None] = {
    "string": None,
    "short": SHORT_TEXT_MAX,
    "url": URL_MAX,
    "long": LONG_TEXT_MAX,
    "escalationReason": ESCALATION_REASON_MAX,
}
