"""Sign-in attempt limits that slow a password guesser without letting anyone lock a colleague out.

Attempts are counted when they start, with the storage's atomic hit (a Lua script on Redis), not when the
wrong answer is known: counting afterwards let 40 concurrent guesses through a limit of 10 (17 got in).
Three windows:

- per (account, address): the tight one; a guesser at one account from one address gets N tries;
- per address: a guesser spraying many accounts from one address;
- per account, any address: a slower backstop against a guesser with many addresses. It is the only one an
  attacker could use to hold a victim out, so it is much wider.

A successful sign-in clears its own (account, address) window: someone who signs in and out all day is never
held back by it. The per-address and per-account counts stay: clearing them would let a guesser who owns one
account reset them at will.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from limits import parse

from console.extensions import limiter


def _account(email: str) -> str:
    # Hashed: the key stays short and never carries what a guesser typed into Redis verbatim.
    normalized = (email or "").strip().lower()[:254]
    return hashlib.sha256(normalized.encode("utf-8", "backslashreplace")).hexdigest()[:32]


def _windows(email: str, address: str) -> list[tuple[str, tuple[str, ...]]]:
    cfg = current_app.config
    prefix = cfg.get("RATELIMIT_KEY_PREFIX", "")
    account = _account(email)
    return [
        (cfg["LOGIN_RATE_LIMIT"], (prefix, "login-account-address", account, address)),
        (cfg["LOGIN_ADDRESS_RATE_LIMIT"], (prefix, "login-address", address)),
        (cfg["LOGIN_ACCOUNT_RATE_LIMIT"], (prefix, "login-account", account)),
    ]


def attempt_allowed(email: str, address: str | None) -> bool:
    """Count one sign-in attempt; False when any window is already full (the attempt must not go ahead).

    The tight window is hit first: a guesser stopped there does not use up the wider windows that the
    account's owner shares.
    """
    strategy = limiter.limiter
    for limit, key in _windows(email, address or "unknown"):
        if not strategy.hit(parse(limit), *key):
            return False
    return True


def signed_in(email: str, address: str | None) -> None:
    limit, key = _windows(email, address or "unknown")[0]
    limiter.limiter.clear(parse(limit), *key)
