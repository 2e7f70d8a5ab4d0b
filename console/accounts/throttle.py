"""Sign-in limits that slow a password guesser without letting a stranger lock the owner out.

OWASP's "Blocking Brute Force Attacks" with device cookies: a browser that signed in to an account before
carries a signed device cookie for it (the account's hash and a random nonce, renewed at each sign-in). Such a
*trusted device* is counted only in its own window (LOGIN_DEVICE_RATE_LIMIT): strangers' failures, from any
number of addresses, never hold it back — the second outside sweep locked an owner out with 100 wrong
passwords from 10 addresses. Every other browser is *untrusted* and meets three windows:

- per (account, address): the tight one (LOGIN_RATE_LIMIT); a guesser at one account from one address;
- per address: one address spraying many accounts (LOGIN_ADDRESS_RATE_LIMIT);
- per account, any address: a slower backstop against a guesser with many addresses
  (LOGIN_ACCOUNT_RATE_LIMIT). Each address counts in it for at most a fifth of it (ACCOUNT_SHARE), so no
  single address can fill it and keep untrusted browsers out: that takes five.

Attempts are counted when they start, with the storage's atomic hit (a Lua script on Redis), not when the
wrong answer is known: counting afterwards let 40 concurrent guesses through a limit of 10. The tight window
is hit first: a guesser stopped there does not use up the wider windows that the owner shares. A successful
sign-in clears its own (account, address) or device window; the per-address and per-account counts stay
(clearing them would let a guesser who owns one account reset them at will).

Throttles in force are remembered in a sorted set, so that admins can see and clear them (Settings →
Sign-in throttles); each clearing is an audit event.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse

from console import audit, tasks
from console.accounts.models import User
from console.extensions import db, limiter

DEVICE_COOKIE = "console_device"
DEVICE_DAYS = 180
DEVICES_PER_BROWSER = 5  # accounts one browser is trusted for (a shared workstation)
ACCOUNT_SHARE = 5  # an address counts for at most 1/ACCOUNT_SHARE of the account-wide window
KINDS = {
    "account-address": "one account from one address",
    "address": "one address, any account",
    "account": "one account, from browsers that never signed in to it",
    "device": "one browser that signed in to the account before",
}


def account_key(email: str) -> str:
    """Hashed: the key stays short and never carries what a guesser typed into Redis verbatim."""
    normalized = (email or "").strip().lower()[:254]
    return hashlib.sha256(normalized.encode("utf-8", "backslashreplace")).hexdigest()[:32]


@dataclass(frozen=True)
class Throttle:
    """A window that refused an attempt: what it limits, and (from its stats) how full it is now."""

    kind: str
    account: str = ""  # account_key, for every kind but "address"
    address: str = ""
    device: str = ""  # the device cookie's nonce

    @property
    def id(self) -> str:
        return json.dumps([self.kind, self.account, self.address, self.device])

    @classmethod
    def from_id(cls, value: str) -> Throttle | None:
        try:
            kind, account, address, device = json.loads(value)
        except (ValueError, TypeError):
            return None
        if kind not in KINDS or not all(
            isinstance(v, str) and len(v) <= 200 for v in (account, address, device)
        ):
            return None
        return cls(kind, account, address, device)

    def window(self) -> tuple[RateLimitItem, tuple[str, ...]]:
        cfg = current_app.config
        prefix = cfg.get("RATELIMIT_KEY_PREFIX", "")
        limit_name, key = {
            "account-address": ("LOGIN_RATE_LIMIT", ("login-account-address", self.account, self.address)),
            "address": ("LOGIN_ADDRESS_RATE_LIMIT", ("login-address", self.address)),
            "account": ("LOGIN_ACCOUNT_RATE_LIMIT", ("login-account", self.account)),
            "device": ("LOGIN_DEVICE_RATE_LIMIT", ("login-device", self.account, self.device)),
        }[self.kind]
        return parse(cfg[limit_name]), (prefix, *key)


def _share(throttle: Throttle) -> tuple[RateLimitItem, tuple[str, ...]]:
    """What one address may add to the account-wide window: a fifth of it, over the same period."""
    limit, key = throttle.window()
    share = type(limit)(max(1, limit.amount // ACCOUNT_SHARE), limit.multiples)
    return share, (key[0], "login-account-share", throttle.account, throttle.address)


# --- device cookies ----------------------------------------------------------------------------------------


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def _entries(cookie: str | None) -> list[list[str]]:
    if not cookie or len(cookie) > 4000:
        return []
    try:
        entries = _devices().loads(cookie, max_age=DEVICE_DAYS * 86400)
    except (BadSignature, ValueError):
        return []
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, list) and len(e) == 2 and all(isinstance(v, str) for v in e)]


def trusted_device(cookie: str | None, email: str) -> str | None:
    """The nonce of this browser's device cookie for the account typed, or None (an untrusted browser)."""
    account = account_key(email)
    return next((nonce for acc, nonce in _entries(cookie) if acc == account), None)


def renewed_cookie(cookie: str | None, email: str) -> str:
    """The device cookie after a sign-in to this account: a new nonce for it, the newest first."""
    account = account_key(email)
    kept = [e for e in _entries(cookie) if e[0] != account]
    return _devices().dumps([[account, secrets.token_urlsafe(16)], *kept][:DEVICES_PER_BROWSER])


# --- counting attempts -------------------------------------------------------------------------------------


def attempt_allowed(email: str, address: str | None, device_cookie: str | None = None) -> bool:
    """Count one sign-in attempt; False when a window is full (the attempt must not go ahead)."""
    strategy = limiter.limiter
    address = address or "unknown"
    account = account_key(email)
    device = trusted_device(device_cookie, email)
    if device is not None:
        throttle = Throttle("device", account, device=device)
        limit, key = throttle.window()
        return strategy.hit(limit, *key) or _refused(throttle)
    for throttle in (Throttle("account-address", account, address), Throttle("address", address=address)):
        limit, key = throttle.window()
        if not strategy.hit(limit, *key):
            return _refused(throttle)
    throttle = Throttle("account", account, address)
    limit, key = throttle.window()
    share, share_key = _share(throttle)
    # Within its share an address counts in the account-wide window; beyond it, it only meets it.
    if strategy.hit(share, *share_key):
        _remember_share(throttle, limit)
        counted = strategy.hit(limit, *key)
    else:
        counted = strategy.test(limit, *key)
    return counted or _refused(Throttle("account", account))


def _sharers_key(account: str) -> str:
    return f"{_index_key()}:sharers:{account}"


def _remember_share(throttle: Throttle, limit: RateLimitItem) -> None:
    """Which addresses hold a share of the account-wide window, so that clearing it clears their shares."""
    pipe = _index().pipeline()
    pipe.sadd(_sharers_key(throttle.account), throttle.address)
    pipe.expire(_sharers_key(throttle.account), limit.get_expiry())
    pipe.execute()


def signed_in(email: str, address: str | None, device_cookie: str | None = None) -> None:
    """A sign-in succeeded: its own window starts again (the wider ones stay, see the module's docstring)."""
    account = account_key(email)
    device = trusted_device(device_cookie, email)
    throttle = (
        Throttle("device", account, device=device)
        if device is not None
        else Throttle("account-address", account, address or "unknown")
    )
    limit, key = throttle.window()
    limiter.limiter.clear(limit, *key)
    _index().zrem(_index_key(), throttle.id)


# --- throttles in force, for admins ------------------------------------------------------------------------


def _index():
    return tasks.redis_connection()


def _index_key() -> str:
    return f"{current_app.config.get('RATELIMIT_KEY_PREFIX', '')}:login-throttles"


def _refused(throttle: Throttle) -> bool:
    now = time.time()
    try:
        pipe = _index().pipeline()
        pipe.zadd(_index_key(), {throttle.id: now})
        # Bounded however many addresses refused attempts come from: a day is longer than the default windows.
        pipe.zremrangebyscore(_index_key(), "-inf", now - 86400)
        pipe.execute()
    except Exception:  # noqa: BLE001 - the list for admins must never decide a sign-in
        current_app.logger.warning("could not note a sign-in throttle for the admins' list", exc_info=True)
    return False


@dataclass(frozen=True)
class InForce:
    throttle: Throttle
    attempts: int  # counted in the window now
    limit: int
    until: float  # when the window has room again (epoch seconds)


def in_force() -> list[InForce]:
    """Every throttle that refused an attempt and is still full, newest first (drained ones are forgotten)."""
    index, key = _index(), _index_key()
    found = []
    for raw, _score in index.zrevrange(key, 0, 499, withscores=True):
        member = raw.decode() if isinstance(raw, bytes) else raw
        throttle = Throttle.from_id(member)
        if throttle is None:
            index.zrem(key, member)
            continue
        limit, window_key = throttle.window()
        reset, remaining = limiter.limiter.get_window_stats(limit, *window_key)
        if remaining > 0:
            index.zrem(key, member)
            continue
        found.append(InForce(throttle, limit.amount - remaining, limit.amount, reset))
    return found


def account_emails() -> dict[str, str]:
    """account_key → email, for the console's accounts (a throttle names an account only by its hash)."""
    return {account_key(email): email for email in db.session.scalars(db.select(User.email))}


def clear(throttle_id: str, *, actor=None, actor_label: str = "") -> Throttle | None:
    """An admin lets sign-ins through one throttle again (the owner asked, the attack is over)."""
    throttle = Throttle.from_id(throttle_id)
    if throttle is None:
        return None
    limit, key = throttle.window()
    limiter.limiter.clear(limit, *key)
    if throttle.kind == "account":
        # Every address's share of it starts again too: cleared is cleared.
        for member in _index().smembers(_sharers_key(throttle.account)):
            address = member.decode() if isinstance(member, bytes) else member
            share, share_key = _share(Throttle("account", throttle.account, address))
            limiter.limiter.clear(share, *share_key)
        _index().delete(_sharers_key(throttle.account))
    _index().zrem(_index_key(), throttle.id)
    audit.record(
        "sign_in_throttle_cleared",
        "sign_in_throttle",
        "",
        actor=actor,
        actor_label=actor_label,
        kind=throttle.kind,
        account=throttle.account,
        address=throttle.address,
    )
    tasks.commit_then_enqueue()
    return throttle
