"""Every model, imported in one place so that Alembic and the app see the whole schema."""

from console.accounts.models import User  # noqa: F401
from console.api.models import ApiToken  # noqa: F401
from console.audit import AuditEvent  # noqa: F401
from console.cases.models import Case, CaseDraft, ContentTypeKind, Decision, ReportedUser  # noqa: F401
from console.childsafety.models import CareSettings, ExposureBreak, ViewingPreference  # noqa: F401
from console.evidence.models import (  # noqa: F401
    AuditCheckpoint,
    AuditLogNode,
    EvidenceItem,
    EvidenceRecord,
    LegalHold,
    LogVerification,
)
from console.hashbank.models import HashEntry, HashMatch, HashSource, MediaHash, PdqFeed  # noqa: F401
from console.media.models import MediaFile, MediaView  # noqa: F401
from console.policies.models import Policy  # noqa: F401
from console.queues.models import Queue  # noqa: F401
from console.reporting.models import Agency, ExternalReport, ReportFile, ReportingRule  # noqa: F401
from console.sor.models import (  # noqa: F401
    SorActionMapping,
    SorAgency,
    SorEnvironment,
    SorPolicyMapping,
    SorSourceMapping,
    StatementOfReasons,
)
from console.webhooks.models import (  # noqa: F401
    WebhookAction,
    WebhookAllowedHost,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)
