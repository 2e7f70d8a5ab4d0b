"""The facts about the DSA Transparency Database's statement-of-reasons API that the code names.

Every enumeration, field, limit, date rule, PUID rule and answer text is defined here once. The authority is
docs/dsa/API.md (read from the service's code at a pinned commit; its own copy in ../shared/dsa/API.md);
tests/dsa/test_contract.py parses that document and compares it with every list below, so a changed document
fails the build rather than a statement.

Why this module is long: it is data — seven enumerations with the labels the service's site shows, 69
category specifications, 184 language codes — kept in one place so that nothing else spells a value.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

PRODUCTION_URL = "https://transparency.dsa.ec.europa.eu"
# The sandbox's host is handed out at onboarding; neither the code nor the pages name it (API.md §1).

PING_PATH = "/api/ping"
STATEMENT_PATH = "/api/v1/statement"
STATEMENTS_PATH = "/api/v1/statements"
EXISTING_PUID_PATH = "/api/v1/statement/existing-puid/{puid}"
PING_ANSWER = {"you_say": "ping", "i_say": "pong"}
# A Sanctum personal access token, "<number>|<random>", shown once on the user's profile page.
TOKEN_PATTERN = re.compile(r"[0-9]+\|\S+")


class _Labelled(StrEnum):
    """An enumeration sent as the constant's name; ``label`` is what the service's site shows."""

    @property
    def label(self) -> str:
        return LABELS[self.value]


class DecisionVisibility(_Labelled):
    CONTENT_REMOVED = "DECISION_VISIBILITY_CONTENT_REMOVED"
    CONTENT_DISABLED = "DECISION_VISIBILITY_CONTENT_DISABLED"
    CONTENT_DEMOTED = "DECISION_VISIBILITY_CONTENT_DEMOTED"
    CONTENT_AGE_RESTRICTED = "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"
    CONTENT_INTERACTION_RESTRICTED = "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"
    CONTENT_LABELLED = "DECISION_VISIBILITY_CONTENT_LABELLED"
    OTHER = "DECISION_VISIBILITY_OTHER"


class DecisionMonetary(_Labelled):
    SUSPENSION = "DECISION_MONETARY_SUSPENSION"
    TERMINATION = "DECISION_MONETARY_TERMINATION"
    OTHER = "DECISION_MONETARY_OTHER"


class DecisionProvision(_Labelled):
    PARTIAL_SUSPENSION = "DECISION_PROVISION_PARTIAL_SUSPENSION"
    TOTAL_SUSPENSION = "DECISION_PROVISION_TOTAL_SUSPENSION"
    PARTIAL_TERMINATION = "DECISION_PROVISION_PARTIAL_TERMINATION"
    TOTAL_TERMINATION = "DECISION_PROVISION_TOTAL_TERMINATION"


class DecisionAccount(_Labelled):
    SUSPENDED = "DECISION_ACCOUNT_SUSPENDED"
    TERMINATED = "DECISION_ACCOUNT_TERMINATED"


class AccountType(_Labelled):
    BUSINESS = "ACCOUNT_TYPE_BUSINESS"
    PRIVATE = "ACCOUNT_TYPE_PRIVATE"


class DecisionGround(_Labelled):
    ILLEGAL_CONTENT = "DECISION_GROUND_ILLEGAL_CONTENT"
    INCOMPATIBLE_CONTENT = "DECISION_GROUND_INCOMPATIBLE_CONTENT"


class ContentType(_Labelled):
    APP = "CONTENT_TYPE_APP"
    AUDIO = "CONTENT_TYPE_AUDIO"
    IMAGE = "CONTENT_TYPE_IMAGE"
    PRODUCT = "CONTENT_TYPE_PRODUCT"
    SYNTHETIC_MEDIA = "CONTENT_TYPE_SYNTHETIC_MEDIA"
    TEXT = "CONTENT_TYPE_TEXT"
    VIDEO = "CONTENT_TYPE_VIDEO"
    OTHER = "CONTENT_TYPE_OTHER"


class Category(_Labelled):
    """``category``, and each element of ``category_addition``."""

    ANIMAL_WELFARE = "STATEMENT_CATEGORY_ANIMAL_WELFARE"
    CONSUMER_INFORMATION = "STATEMENT_CATEGORY_CONSUMER_INFORMATION"
    CYBER_VIOLENCE = "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    CYBER_VIOLENCE_AGAINST_WOMEN = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN"
    DATA_PROTECTION_AND_PRIVACY_VIOLATIONS = "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"
    ILLEGAL_OR_HARMFUL_SPEECH = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    INTELLECTUAL_PROPERTY_INFRINGEMENTS = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS = (
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"
    )
    NOT_SPECIFIED_NOTICE = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"
    OTHER_VIOLATION_TC = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    PROTECTION_OF_MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    RISK_FOR_PUBLIC_SECURITY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    SCAMS_AND_FRAUD = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
    SELF_HARM = "STATEMENT_CATEGORY_SELF_HARM"
    UNSAFE_AND_PROHIBITED_PRODUCTS = "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"
    VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE"


class CategorySpecification(_Labelled):
    """``category_specification`` keywords. API.md lists them flat: the service ties none to a category."""

    ADULT_SEXUAL_MATERIAL = "KEYWORD_ADULT_SEXUAL_MATERIAL"
    AGE_SPECIFIC_RESTRICTIONS = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS"
    AGE_SPECIFIC_RESTRICTIONS_MINORS = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"
    ANIMAL_HARM = "KEYWORD_ANIMAL_HARM"
    BIOMETRIC_DATA_BREACH = "KEYWORD_BIOMETRIC_DATA_BREACH"
    BULLYING_AGAINST_GIRLS = "KEYWORD_BULLYING_AGAINST_GIRLS"
    CHILD_SEXUAL_ABUSE_MATERIAL = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"
    CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"
    CONTENT_PROMOTING_EATING_DISORDERS = "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS"
    COORDINATED_HARM = "KEYWORD_COORDINATED_HARM"
    COPYRIGHT_INFRINGEMENT = "KEYWORD_COPYRIGHT_INFRINGEMENT"
    CYBER_BULLYING_INTIMIDATION = "KEYWORD_CYBER_BULLYING_INTIMIDATION"
    CYBER_HARASSMENT = "KEYWORD_CYBER_HARASSMENT"
    CYBER_HARASSMENT_AGAINST_WOMEN = "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN"
    CYBER_INCITEMENT = "KEYWORD_CYBER_INCITEMENT"
    CYBER_STALKING = "KEYWORD_CYBER_STALKING"
    CYBER_STALKING_AGAINST_WOMEN = "KEYWORD_CYBER_STALKING_AGAINST_WOMEN"
    DATA_FALSIFICATION = "KEYWORD_DATA_FALSIFICATION"
    DEFAMATION = "KEYWORD_DEFAMATION"
    DESIGN_INFRINGEMENT = "KEYWORD_DESIGN_INFRINGEMENT"
    DISCRIMINATION = "KEYWORD_DISCRIMINATION"
    FEMALE_GENDERED_DISINFORMATION = "KEYWORD_FEMALE_GENDERED_DISINFORMATION"
    GEOGRAPHIC_INDICATIONS_INFRINGEMENT = "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT"
    GEOGRAPHICAL_REQUIREMENTS = "KEYWORD_GEOGRAPHICAL_REQUIREMENTS"
    GOODS_SERVICES_NOT_PERMITTED = "KEYWORD_GOODS_SERVICES_NOT_PERMITTED"
    GROOMING_SEXUAL_ENTICEMENT_MINORS = "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"
    HATE_SPEECH = "KEYWORD_HATE_SPEECH"
    HIDDEN_ADVERTISEMENT = "KEYWORD_HIDDEN_ADVERTISEMENT"
    HUMAN_EXPLOITATION = "KEYWORD_HUMAN_EXPLOITATION"
    HUMAN_TRAFFICKING = "KEYWORD_HUMAN_TRAFFICKING"
    ILLEGAL_ORGANIZATIONS = "KEYWORD_ILLEGAL_ORGANIZATIONS"
    IMPERSONATION_ACCOUNT_HIJACKING = "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING"
    INAUTHENTIC_ACCOUNTS = "KEYWORD_INAUTHENTIC_ACCOUNTS"
    INAUTHENTIC_LISTINGS = "KEYWORD_INAUTHENTIC_LISTINGS"
    INAUTHENTIC_USER_REVIEWS = "KEYWORD_INAUTHENTIC_USER_REVIEWS"
    INCITEMENT_AGAINST_WOMEN = "KEYWORD_INCITEMENT_AGAINST_WOMEN"
    INCITEMENT_VIOLENCE_HATRED = "KEYWORD_INCITEMENT_VIOLENCE_HATRED"
    INSUFFICIENT_INFORMATION_ON_TRADERS = "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS"
    LANGUAGE_REQUIREMENTS = "KEYWORD_LANGUAGE_REQUIREMENTS"
    MISINFORMATION_DISINFORMATION = "KEYWORD_MISINFORMATION_DISINFORMATION"
    MISLEADING_INFO_CONSUMER_RIGHTS = "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS"
    MISLEADING_INFO_GOODS_SERVICES = "KEYWORD_MISLEADING_INFO_GOODS_SERVICES"
    MISSING_PROCESSING_GROUND = "KEYWORD_MISSING_PROCESSING_GROUND"
    NON_CONSENSUAL_IMAGE_SHARING = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"
    NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN"
    NON_CONSENSUAL_MATERIAL_DEEPFAKE = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"
    NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"
    NONCOMPLIANCE_PRICING = "KEYWORD_NONCOMPLIANCE_PRICING"
    NUDITY = "KEYWORD_NUDITY"
    PATENT_INFRINGEMENT = "KEYWORD_PATENT_INFRINGEMENT"
    PHISHING = "KEYWORD_PHISHING"
    PROHIBITED_PRODUCTS = "KEYWORD_PROHIBITED_PRODUCTS"
    PYRAMID_SCHEMES = "KEYWORD_PYRAMID_SCHEMES"
    RIGHT_TO_BE_FORGOTTEN = "KEYWORD_RIGHT_TO_BE_FORGOTTEN"
    RISK_ENVIRONMENTAL_DAMAGE = "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE"
    RISK_PUBLIC_HEALTH = "KEYWORD_RISK_PUBLIC_HEALTH"
    SELF_MUTILATION = "KEYWORD_SELF_MUTILATION"
    STALKING = "KEYWORD_STALKING"
    SUICIDE = "KEYWORD_SUICIDE"
    TERRORIST_CONTENT = "KEYWORD_TERRORIST_CONTENT"
    TRADE_SECRET_INFRINGEMENT = "KEYWORD_TRADE_SECRET_INFRINGEMENT"  # noqa: S105 - a category, not a secret
    TRADEMARK_INFRINGEMENT = "KEYWORD_TRADEMARK_INFRINGEMENT"
    TRAFFICKING_WOMEN_GIRLS = "KEYWORD_TRAFFICKING_WOMEN_GIRLS"
    UNLAWFUL_SALE_ANIMALS = "KEYWORD_UNLAWFUL_SALE_ANIMALS"
    UNSAFE_CHALLENGES = "KEYWORD_UNSAFE_CHALLENGES"
    UNSAFE_PRODUCTS = "KEYWORD_UNSAFE_PRODUCTS"
    VIOLATION_EU_LAW = "KEYWORD_VIOLATION_EU_LAW"
    VIOLATION_NATIONAL_LAW = "KEYWORD_VIOLATION_NATIONAL_LAW"
    OTHER = "KEYWORD_OTHER"


class SourceType(_Labelled):
    ARTICLE_16 = "SOURCE_ARTICLE_16"
    TRUSTED_FLAGGER = "SOURCE_TRUSTED_FLAGGER"
    OTHER_NOTIFICATION = "SOURCE_TYPE_OTHER_NOTIFICATION"
    VOLUNTARY = "SOURCE_VOLUNTARY"


class AutomatedDecision(_Labelled):
    FULLY = "AUTOMATED_DECISION_FULLY"
    PARTIALLY = "AUTOMATED_DECISION_PARTIALLY"
    NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED"


# The two fields that take the literal words, not constant names: automated_detection and
# incompatible_content_illegal.
YES, NO = "Yes", "No"
YES_NO = (YES, NO)

LABELS: dict[str, str] = {
    DecisionVisibility.CONTENT_REMOVED: "Removal of content",
    DecisionVisibility.CONTENT_DISABLED: "Disabling access to content",
    DecisionVisibility.CONTENT_DEMOTED: "Demotion of content",
    DecisionVisibility.CONTENT_AGE_RESTRICTED: "Age restricted content",
    DecisionVisibility.CONTENT_INTERACTION_RESTRICTED: "Restricting interaction with content",
    DecisionVisibility.CONTENT_LABELLED: "Labelled content",
    DecisionVisibility.OTHER: "Other restriction (please specify)",
    DecisionMonetary.SUSPENSION: "Suspension of monetary payments",
    DecisionMonetary.TERMINATION: "Termination of monetary payments",
    DecisionMonetary.OTHER: "Other restriction (please specify)",
    DecisionProvision.PARTIAL_SUSPENSION: "Partial suspension of the provision of the service",
    DecisionProvision.TOTAL_SUSPENSION: "Total suspension of the provision of the service",
    DecisionProvision.PARTIAL_TERMINATION: "Partial termination of the provision of the service",
    DecisionProvision.TOTAL_TERMINATION: "Total termination of the provision of the service",
    DecisionAccount.SUSPENDED: "Suspension of the account",
    DecisionAccount.TERMINATED: "Termination of the account",
    AccountType.BUSINESS: "Business",
    AccountType.PRIVATE: "Private",
    DecisionGround.ILLEGAL_CONTENT: "Illegal Content",
    DecisionGround.INCOMPATIBLE_CONTENT: "Content incompatible with terms and conditions",
    ContentType.APP: "App",
    ContentType.AUDIO: "Audio",
    ContentType.IMAGE: "Image",
    ContentType.PRODUCT: "Product",
    ContentType.SYNTHETIC_MEDIA: "Synthetic Media",
    ContentType.TEXT: "Text",
    ContentType.VIDEO: "Video",
    ContentType.OTHER: "Other",
    Category.ANIMAL_WELFARE: "Animal welfare",
    Category.CONSUMER_INFORMATION: "Consumer information infringements",
    Category.CYBER_VIOLENCE: "Cyber violence",
    Category.CYBER_VIOLENCE_AGAINST_WOMEN: "Cyber violence against women",
    Category.DATA_PROTECTION_AND_PRIVACY_VIOLATIONS: "Data protection and privacy violations",
    Category.ILLEGAL_OR_HARMFUL_SPEECH: "Illegal or harmful speech",
    Category.INTELLECTUAL_PROPERTY_INFRINGEMENTS: "Intellectual property infringements",
    Category.NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS: (
        "Negative effects on civic discourse or elections"
    ),
    Category.NOT_SPECIFIED_NOTICE: "Type of alleged illegal content not specified by the notifier",
    Category.OTHER_VIOLATION_TC: "Other violation of provider’s terms and conditions",
    Category.PROTECTION_OF_MINORS: "Protection of minors",
    Category.RISK_FOR_PUBLIC_SECURITY: "Risk for public security",
    Category.SCAMS_AND_FRAUD: "Scams and/or fraud",
    Category.SELF_HARM: "Self-harm",
    Category.UNSAFE_AND_PROHIBITED_PRODUCTS: "Unsafe, non-compliant or prohibited products",
    Category.VIOLENCE: "Violence",
    CategorySpecification.ADULT_SEXUAL_MATERIAL: "Adult sexual material",
    CategorySpecification.AGE_SPECIFIC_RESTRICTIONS: "Age-specific restrictions",
    CategorySpecification.AGE_SPECIFIC_RESTRICTIONS_MINORS: "Age-specific restrictions concerning minors",
    CategorySpecification.ANIMAL_HARM: "Animal harm",
    CategorySpecification.BIOMETRIC_DATA_BREACH: "Biometric data breach",
    CategorySpecification.BULLYING_AGAINST_GIRLS: "Cyber bullying and intimidation against girls",
    CategorySpecification.CHILD_SEXUAL_ABUSE_MATERIAL: "Child sexual abuse material",
    CategorySpecification.CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE: (
        "Child sexual abuse material containing deepfake or similar technology"
    ),
    CategorySpecification.CONTENT_PROMOTING_EATING_DISORDERS: "Content promoting eating disorders",
    CategorySpecification.COORDINATED_HARM: "Coordinated harm",
    CategorySpecification.COPYRIGHT_INFRINGEMENT: "Copyright infringements",
    CategorySpecification.CYBER_BULLYING_INTIMIDATION: "Cyber bullying and intimidation",
    CategorySpecification.CYBER_HARASSMENT: "Cyber harassment",
    CategorySpecification.CYBER_HARASSMENT_AGAINST_WOMEN: "Cyber harassment against women",
    CategorySpecification.CYBER_INCITEMENT: "Cyber incitement to hatred or violence",
    CategorySpecification.CYBER_STALKING: "Cyber stalking",
    CategorySpecification.CYBER_STALKING_AGAINST_WOMEN: "Cyber stalking against women",
    CategorySpecification.DATA_FALSIFICATION: "Data falsification",
    CategorySpecification.DEFAMATION: "Defamation",
    CategorySpecification.DESIGN_INFRINGEMENT: "Design infringements",
    CategorySpecification.DISCRIMINATION: "Discrimination",
    CategorySpecification.FEMALE_GENDERED_DISINFORMATION: "Gendered disinformation",
    CategorySpecification.GEOGRAPHIC_INDICATIONS_INFRINGEMENT: "Geographic indications infringements",
    CategorySpecification.GEOGRAPHICAL_REQUIREMENTS: "Geographical requirements",
    CategorySpecification.GOODS_SERVICES_NOT_PERMITTED: (
        "Goods/services not permitted to be offered on the platform"
    ),
    CategorySpecification.GROOMING_SEXUAL_ENTICEMENT_MINORS: "Grooming/sexual enticement of minors",
    CategorySpecification.HATE_SPEECH: (
        "Illegal incitement to violence and hatred based on protected characteristics (hate speech)"
    ),
    CategorySpecification.HIDDEN_ADVERTISEMENT: (
        "Hidden advertisement or commercial communication, including by influencers"
    ),
    CategorySpecification.HUMAN_EXPLOITATION: "Human exploitation",
    CategorySpecification.HUMAN_TRAFFICKING: "Human trafficking",
    CategorySpecification.ILLEGAL_ORGANIZATIONS: "Illegal organizations",
    CategorySpecification.IMPERSONATION_ACCOUNT_HIJACKING: "Impersonation or account hijacking",
    CategorySpecification.INAUTHENTIC_ACCOUNTS: "Inauthentic accounts",
    CategorySpecification.INAUTHENTIC_LISTINGS: "Inauthentic listings",
    CategorySpecification.INAUTHENTIC_USER_REVIEWS: "Inauthentic user reviews",
    CategorySpecification.INCITEMENT_AGAINST_WOMEN: "Illegal incitement to violence and hatred against women",
    CategorySpecification.INCITEMENT_VIOLENCE_HATRED: "General calls or incitement to violence and/or hatred",
    CategorySpecification.INSUFFICIENT_INFORMATION_ON_TRADERS: "Insufficient information on traders",
    CategorySpecification.LANGUAGE_REQUIREMENTS: "Language requirements",
    CategorySpecification.MISINFORMATION_DISINFORMATION: (
        "Misinformation, disinformation, foreign information manipulation and interference"
    ),
    CategorySpecification.MISLEADING_INFO_CONSUMER_RIGHTS: (
        "Misleading information about the consumer's rights"
    ),
    CategorySpecification.MISLEADING_INFO_GOODS_SERVICES: (
        "Misleading information about the characteristics of the goods and services"
    ),
    CategorySpecification.MISSING_PROCESSING_GROUND: "Missing processing ground for data",
    CategorySpecification.NON_CONSENSUAL_IMAGE_SHARING: (
        "Non-consensual (intimate) material sharing, including (image-based) sexual abuse"
        " (excluding content depicting minors)"
    ),
    CategorySpecification.NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN: (
        "Non-consensual (intimate) material sharing against women, including (image-based) sexual abuse"
        " against women (excluding content depicting minors)"
    ),
    CategorySpecification.NON_CONSENSUAL_MATERIAL_DEEPFAKE: (
        "Non-consensual sharing of material containing deepfake or similar technology using a third party's"
        " features (excluding content depicting minors)"
    ),
    CategorySpecification.NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN: (
        "Non-consensual sharing of material containing deepfake or similar technology using a third party's"
        " features against women (excluding content depicting minors)"
    ),
    CategorySpecification.NONCOMPLIANCE_PRICING: "Non-compliance with pricing regulations",
    CategorySpecification.NUDITY: "Nudity",
    CategorySpecification.PATENT_INFRINGEMENT: "Patent infringements",
    CategorySpecification.PHISHING: "Phishing",
    CategorySpecification.PROHIBITED_PRODUCTS: "Prohibited or restricted products",
    CategorySpecification.PYRAMID_SCHEMES: "Pyramid schemes",
    CategorySpecification.RIGHT_TO_BE_FORGOTTEN: "Right to be forgotten",
    CategorySpecification.RISK_ENVIRONMENTAL_DAMAGE: "Risk for environmental damage",
    CategorySpecification.RISK_PUBLIC_HEALTH: "Risk for public health",
    CategorySpecification.SELF_MUTILATION: "Self-mutilation",
    CategorySpecification.STALKING: "Stalking",
    CategorySpecification.SUICIDE: "Suicide",
    CategorySpecification.TERRORIST_CONTENT: "Terrorist content",
    CategorySpecification.TRADE_SECRET_INFRINGEMENT: "Trade secret infringements",
    CategorySpecification.TRADEMARK_INFRINGEMENT: "Trademark infringements",
    CategorySpecification.TRAFFICKING_WOMEN_GIRLS: "Trafficking in women and girls",
    CategorySpecification.UNLAWFUL_SALE_ANIMALS: "Unlawful sale of animals",
    CategorySpecification.UNSAFE_CHALLENGES: "Unsafe challenges",
    CategorySpecification.UNSAFE_PRODUCTS: "Unsafe or non-compliant products",
    CategorySpecification.VIOLATION_EU_LAW: "Violation of EU law relevant to civic discourse or elections",
    CategorySpecification.VIOLATION_NATIONAL_LAW: (
        "Violation of national law relevant to civic discourse or elections"
    ),
    CategorySpecification.OTHER: "Not captured by any other keyword",
    SourceType.ARTICLE_16: "Notice submitted in accordance with Article 16 DSA",
    SourceType.TRUSTED_FLAGGER: "Notice submitted by a trusted flagger",
    SourceType.OTHER_NOTIFICATION: "Other type of notification",
    SourceType.VOLUNTARY: "Own voluntary initiative",
    AutomatedDecision.FULLY: "Fully automated",
    AutomatedDecision.PARTIALLY: "Partially automated",
    AutomatedDecision.NOT_AUTOMATED: "Not Automated",
}

# territorial_scope (EuropeanCountriesService): the EU-27 plus the EEA's three. Greece is GR, not EL.
EU_COUNTRIES = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
EEA_ONLY_COUNTRIES = ("IS", "LI", "NO")
TERRITORIAL_SCOPE_CODES = (*EU_COUNTRIES, *EEA_ONLY_COUNTRIES)

# content_language (EuropeanLanguagesService::ALL_LANGUAGES): upper-case ISO 639-1; Greek is EL.
LANGUAGES = tuple(
    """
    AA AB AE AF AK AM AN AR AS AV AY AZ BA BE BG BH BI BM BN BO BR BS CA CE CH CO CR CS CU CV CY DA
    DE DV DZ EE EL EN EO ES ET EU FA FF FI FJ FO FR FY GA GD GL GN GU GV HA HE HI HO HR HT HU HY HZ
    IA ID IE IG II IK IO IS IT IU JA JV KA KG KI KJ KK KL KM KN KO KR KS KU KV KW KY LA LB LG LI LN
    LO LT LU LV MG MH MI MK ML MN MR MS MT MY NA NB ND NE NG NL NN NO NR NV NY OC OJ OM OR OS PA PI
    PL PS PT QU RM RN RO RU RW SA SC SD SE SG SI SK SL SM SN SO SQ SR SS ST SU SV SW TA TE TG TH TI
    TK TL TN TO TR TS TT TW TY UG UK UR UZ VE VI VO WA WO XH YI YO ZA ZH ZU
    """.split()
)

# Values of the schema before 1 July 2025, now refused with a 422 (kept to recognise them in old data).
REMOVED_VALUES = frozenset(
    {
        "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
        "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        "KEYWORD_ONLINE_BULLYING_INTIMIDATION",
        "KEYWORD_INSUFFICIENT_INFORMATION_TRADERS",
        "KEYWORD_DISINFORMATION",
        "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE",
        "KEYWORD_MISINFORMATION",
        "KEYWORD_FOREIGN_INFORMATION_MANIPULATION",
        "KEYWORD_REGULATED_GOODS_SERVICES",
        "KEYWORD_DANGEROUS_TOYS",
        "KEYWORD_GENDER_BASED_VIOLENCE",
        "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE",
    }
)


class Field(StrEnum):
    """Every input field of a statement of reasons, in API.md's order (§4)."""

    DECISION_VISIBILITY = "decision_visibility"
    DECISION_VISIBILITY_OTHER = "decision_visibility_other"
    DECISION_MONETARY = "decision_monetary"
    DECISION_MONETARY_OTHER = "decision_monetary_other"
    DECISION_PROVISION = "decision_provision"
    DECISION_ACCOUNT = "decision_account"
    ACCOUNT_TYPE = "account_type"
    DECISION_GROUND = "decision_ground"
    DECISION_GROUND_REFERENCE_URL = "decision_ground_reference_url"
    ILLEGAL_CONTENT_LEGAL_GROUND = "illegal_content_legal_ground"
    ILLEGAL_CONTENT_EXPLANATION = "illegal_content_explanation"
    INCOMPATIBLE_CONTENT_GROUND = "incompatible_content_ground"
    INCOMPATIBLE_CONTENT_EXPLANATION = "incompatible_content_explanation"
    INCOMPATIBLE_CONTENT_ILLEGAL = "incompatible_content_illegal"
    CONTENT_TYPE = "content_type"
    CONTENT_TYPE_OTHER = "content_type_other"
    CATEGORY = "category"
    CATEGORY_ADDITION = "category_addition"
    CATEGORY_SPECIFICATION = "category_specification"
    CATEGORY_SPECIFICATION_OTHER = "category_specification_other"
    TERRITORIAL_SCOPE = "territorial_scope"
    CONTENT_LANGUAGE = "content_language"
    CONTENT_DATE = "content_date"
    APPLICATION_DATE = "application_date"
    END_DATE_ACCOUNT_RESTRICTION = "end_date_account_restriction"
    END_DATE_MONETARY_RESTRICTION = "end_date_monetary_restriction"
    END_DATE_SERVICE_RESTRICTION = "end_date_service_restriction"
    END_DATE_VISIBILITY_RESTRICTION = "end_date_visibility_restriction"
    DECISION_FACTS = "decision_facts"
    SOURCE_TYPE = "source_type"
    SOURCE_IDENTITY = "source_identity"
    AUTOMATED_DETECTION = "automated_detection"
    AUTOMATED_DECISION = "automated_decision"
    PUID = "puid"
    CONTENT_ID = "content_id"
    CONTENT_ID_EAN = "content_id_ean"


F = Field
# The four restrictions: at least one must be non-empty (API.md §4, note A).
DECISION_FIELDS = (F.DECISION_VISIBILITY, F.DECISION_MONETARY, F.DECISION_PROVISION, F.DECISION_ACCOUNT)
ARRAY_FIELDS = (
    F.DECISION_VISIBILITY,
    F.CONTENT_TYPE,
    F.CATEGORY_ADDITION,
    F.CATEGORY_SPECIFICATION,
    F.TERRITORIAL_SCOPE,
)
# Required whatever else the statement says (the four decisions are required together, above).
REQUIRED_FIELDS = (
    F.DECISION_GROUND,
    F.CONTENT_TYPE,
    F.CATEGORY,
    F.CONTENT_DATE,
    F.APPLICATION_DATE,
    F.DECISION_FACTS,
    F.SOURCE_TYPE,
    F.AUTOMATED_DETECTION,
    F.AUTOMATED_DECISION,
    F.PUID,
)
# Character limits of the free-text fields and the PUID (counted in characters, not bytes).
MAX_LENGTH: dict[Field, int] = {
    F.DECISION_VISIBILITY_OTHER: 500,
    F.DECISION_MONETARY_OTHER: 500,
    F.DECISION_GROUND_REFERENCE_URL: 500,
    F.ILLEGAL_CONTENT_LEGAL_GROUND: 500,
    F.ILLEGAL_CONTENT_EXPLANATION: 2000,
    F.INCOMPATIBLE_CONTENT_GROUND: 500,
    F.INCOMPATIBLE_CONTENT_EXPLANATION: 2000,
    F.CONTENT_TYPE_OTHER: 500,
    F.CATEGORY_SPECIFICATION_OTHER: 500,
    F.DECISION_FACTS: 5000,
    F.SOURCE_IDENTITY: 500,
    F.PUID: 500,
}
# The enumerated fields and what each accepts.
ENUMERATIONS: dict[Field, tuple[str, ...]] = {
    F.DECISION_VISIBILITY: tuple(DecisionVisibility),
    F.DECISION_MONETARY: tuple(DecisionMonetary),
    F.DECISION_PROVISION: tuple(DecisionProvision),
    F.DECISION_ACCOUNT: tuple(DecisionAccount),
    F.ACCOUNT_TYPE: tuple(AccountType),
    F.DECISION_GROUND: tuple(DecisionGround),
    F.INCOMPATIBLE_CONTENT_ILLEGAL: YES_NO,
    F.CONTENT_TYPE: tuple(ContentType),
    F.CATEGORY: tuple(Category),
    F.CATEGORY_ADDITION: tuple(Category),
    F.CATEGORY_SPECIFICATION: tuple(CategorySpecification),
    F.TERRITORIAL_SCOPE: TERRITORIAL_SCOPE_CODES,
    F.CONTENT_LANGUAGE: LANGUAGES,
    F.SOURCE_TYPE: tuple(SourceType),
    F.AUTOMATED_DETECTION: YES_NO,
    F.AUTOMATED_DECISION: tuple(AutomatedDecision),
}

# A free-text field the service requires when another field holds a value, and drops (or, in a batch,
# nulls) otherwise: (the text field, the field it depends on, the value that asks for it).
CONDITIONAL_TEXT: tuple[tuple[Field, Field, str], ...] = (
    (F.DECISION_VISIBILITY_OTHER, F.DECISION_VISIBILITY, DecisionVisibility.OTHER),
    (F.DECISION_MONETARY_OTHER, F.DECISION_MONETARY, DecisionMonetary.OTHER),
    (F.ILLEGAL_CONTENT_LEGAL_GROUND, F.DECISION_GROUND, DecisionGround.ILLEGAL_CONTENT),
    (F.ILLEGAL_CONTENT_EXPLANATION, F.DECISION_GROUND, DecisionGround.ILLEGAL_CONTENT),
    (F.INCOMPATIBLE_CONTENT_GROUND, F.DECISION_GROUND, DecisionGround.INCOMPATIBLE_CONTENT),
    (F.INCOMPATIBLE_CONTENT_EXPLANATION, F.DECISION_GROUND, DecisionGround.INCOMPATIBLE_CONTENT),
    (F.CONTENT_TYPE_OTHER, F.CONTENT_TYPE, ContentType.OTHER),
)
# Optional fields the service keeps only under a condition (it drops or nulls them otherwise); the console
# never sends them outside it: (field, the field it depends on, the value that allows it).
ONLY_WITH: tuple[tuple[Field, Field, str], ...] = (
    (F.INCOMPATIBLE_CONTENT_ILLEGAL, F.DECISION_GROUND, DecisionGround.INCOMPATIBLE_CONTENT),
    (F.CATEGORY_SPECIFICATION_OTHER, F.CATEGORY_SPECIFICATION, CategorySpecification.OTHER),
)
# source_identity is dropped (single) or nulled (batch) when the source is the platform's own initiative.
SOURCE_IDENTITY_DROPPED_FOR = SourceType.VOLUNTARY

# Dates: YYYY-MM-DD only, a real calendar date, within bounds (both ends accepted).
DATE_FORMAT = "%Y-%m-%d"
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
LATEST_DATE = date(2038, 1, 1)
EARLIEST_DATE: dict[Field, date] = {
    F.CONTENT_DATE: date(2000, 1, 1),
    F.APPLICATION_DATE: date(2020, 1, 1),
}
END_DATE_FIELDS = (
    F.END_DATE_ACCOUNT_RESTRICTION,
    F.END_DATE_MONETARY_RESTRICTION,
    F.END_DATE_SERVICE_RESTRICTION,
    F.END_DATE_VISIBILITY_RESTRICTION,
)
DATE_FIELDS = (F.CONTENT_DATE, F.APPLICATION_DATE, *END_DATE_FIELDS)
# The answers' created_at: "YYYY-MM-DD HH:MM:SS".
CREATED_AT_FORMAT = "%Y-%m-%d %H:%M:%S"

# PUID: 1–500 characters of a-z A-Z 0-9 - _; unique per platform, across both endpoints, for ever.
PUID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,500}")
PUID_MAX_LENGTH = MAX_LENGTH[F.PUID]
# The service locks (platform, PUID) for 30 s while it stores: a second request inside that window gets the
# duplicate answer even if the first then fails (API.md §6). After a lost answer, wait this long before
# asking about the PUID again.
PUID_LOCK_SECONDS = 30

EAN13_KEY = "EAN-13"
EAN13_PATTERN = re.compile(r"\d{13}")

BATCH_MIN, BATCH_MAX = 1, 100
BATCH_KEY = "statements"
BATCH_ERROR_PREFIX = "statement_"  # errors.statement_<0-based index> in a batch's per-statement 422

# Rate limits per user (API.md §3); a 429 carries Retry-After.
RATE_PER_SECOND = 200
RATE_PER_MINUTE = 12_000
ANONYMOUS_RATE_PER_MINUTE = 100

# The service's own words, used to recognise its answers.
NOT_UNIQUE_SINGLE = "The identifier given is not unique within this platform."
NOT_UNIQUE_BATCH = "The platform identifier(s) are not all unique within this call."
EXISTING_PUIDS_KEY = "existing_puids"
PUID_FOUND = "statement of reason found"
PUID_NOT_FOUND = "statement of reason not found"
UNAUTHENTICATED = "Unauthenticated."
UNAUTHORIZED = "This action is unauthorized."
RATE_LIMITED = "Limit Reached. Please do not overload the API"
