"""The service's rate limits (API.md §3): per token, 200 requests a second and 12 000 a minute; without a
valid token, 100 a minute per IP address. A window starts with its first request (the framework's way)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

PER_SECOND = 200
PER_MINUTE = 12_000
ANONYMOUS_PER_MINUTE = 100


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds, when refused
    reset_at: int  # epoch seconds


class RateLimits:
    def __init__(
        self,
        per_second: int = PER_SECOND,
        per_minute: int = PER_MINUTE,
        anonymous_per_minute: int = ANONYMOUS_PER_MINUTE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_second = per_second
        self.per_minute = per_minute
        self.anonymous_per_minute = anonymous_per_minute
        self.clock = clock
        self._mutex = threading.Lock()
        self._windows: dict[tuple[str, float], tuple[float, int]] = {}  # (who, seconds) → (start, hits)

    def shown(self) -> dict[str, int]:
        return {
            "per_second": self.per_second,
            "per_minute": self.per_minute,
            "anonymous_per_minute": self.anonymous_per_minute,
        }

    def set(self, **limits: int) -> None:
        for name, value in limits.items():
            if name not in self.shown() or not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: a limit is a whole number, at least 1")
        with self._mutex:
            for name, value in limits.items():
                setattr(self, name, value)
            self._windows.clear()

    def hit(self, who: str, *, authenticated: bool) -> Verdict:
        """Count one request; refused when any of the caller's windows is full."""
        rules = (
            [(1.0, self.per_second), (60.0, self.per_minute)]
            if authenticated
            else [(60.0, self.anonymous_per_minute)]
        )
        with self._mutex:
            now = self.clock()
            verdicts = []
            for seconds, limit in rules:
                start, hits = self._windows.get((who, seconds), (now, 0))
                if now - start >= seconds:
                    start, hits = now, 0
                if hits >= limit:
                    wait = max(1, math.ceil(start + seconds - now))
                    return Verdict(False, limit, 0, wait, math.ceil(start + seconds))
                verdicts.append((seconds, limit, start, hits))
            for seconds, _limit, start, hits in verdicts:
                self._windows[(who, seconds)] = (start, hits + 1)
            seconds, limit, start, hits = verdicts[-1]
            return Verdict(True, limit, limit - hits - 1, 0, math.ceil(start + seconds))
