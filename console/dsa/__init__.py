"""DSA Transparency Database: statements of reasons, the rules that check them, and the HTTP client.

A protocol library: it imports nothing from the rest of the console. The authority is docs/dsa/API.md; the
stand-in that plays the service in development and tests is the top-level ``dsa_standin`` package, written
from the same document and sharing none of this code.
"""

from .client import Receipt, TransparencyDatabaseClient
from .constants import (
    LANGUAGES,
    PRODUCTION_URL,
    PUID_LOCK_SECONDS,
    TERRITORIAL_SCOPE_CODES,
    AccountType,
    AutomatedDecision,
    Category,
    CategorySpecification,
    ContentType,
    DecisionAccount,
    DecisionGround,
    DecisionMonetary,
    DecisionProvision,
    DecisionVisibility,
    Field,
    SourceType,
)
from .delivery import (
    AlreadyThere,
    DuplicateUnconfirmedError,
    Outcome,
    Refused,
    Stored,
    Unresolved,
    deliver,
)
from .errors import (
    DsaError,
    DuplicatePuidError,
    IndeterminateError,
    LocalValidationError,
    NeedsAdminError,
    RateLimitedError,
    StatementRejectedError,
    TransientError,
    UnexpectedResponseError,
)
from .statement import IllegalContent, IncompatibleContent, Statement, batch_body, puid_for
from .validation import batch_problems, problems

__all__ = [
    "LANGUAGES",
    "PRODUCTION_URL",
    "PUID_LOCK_SECONDS",
    "TERRITORIAL_SCOPE_CODES",
    "AccountType",
    "AlreadyThere",
    "AutomatedDecision",
    "Category",
    "CategorySpecification",
    "ContentType",
    "DecisionAccount",
    "DecisionGround",
    "DecisionMonetary",
    "DecisionProvision",
    "DecisionVisibility",
    "DsaError",
    "DuplicatePuidError",
    "DuplicateUnconfirmedError",
    "Field",
    "IllegalContent",
    "IncompatibleContent",
    "IndeterminateError",
    "LocalValidationError",
    "NeedsAdminError",
    "Outcome",
    "RateLimitedError",
    "Receipt",
    "Refused",
    "SourceType",
    "Statement",
    "StatementRejectedError",
    "Stored",
    "TransientError",
    "TransparencyDatabaseClient",
    "UnexpectedResponseError",
    "Unresolved",
    "batch_body",
    "batch_problems",
    "deliver",
    "problems",
    "puid_for",
]
