"""The sandbox's request limit per window and its limit on requests in progress."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from provisioner.sandbox.options import RateHeaderMode


@dataclass(frozen=True, slots=True)
class WindowState:
    """The budget after one request: whether it was allowed, and what is left."""

    allowed: bool
    limit: int
    remaining: int
    window_seconds: float
    resets_after: float
    """Seconds until the current window ends and the budget is full again."""


class RateWindow:
    """A fixed window: ``limit`` requests, then 429 until the window ends.

    A window starts with the first request after the previous one ended, which is how
    the B2B headers read: the reset time counts down from the window's first request.
    Requests rejected with 429 do not use up the budget.
    """

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start: float | None = None
        self._used = 0

    def configure(self, limit: int, window_seconds: float) -> None:
        """Change the limit and window length; the current window keeps its count."""
        with self._lock:
            self._limit = limit
            self._window_seconds = window_seconds

    def reset(self) -> None:
        with self._lock:
            self._window_start = None
            self._used = 0

    def acquire(self) -> WindowState:
        """Count one request if the budget allows it, and return the state after it."""
        with self._lock:
            now = self._clock()
            start = self._window_start
            if start is None or now - start >= self._window_seconds:
                self._window_start = start = now
                self._used = 0
            allowed = self._used < self._limit
            if allowed:
                self._used += 1
            return WindowState(
                allowed=allowed,
                limit=self._limit,
                remaining=max(self._limit - self._used, 0),
                window_seconds=self._window_seconds,
                resets_after=max(start + self._window_seconds - now, 0.0),
            )


class ConcurrencyGate:
    """Counts requests in progress and admits at most ``maximum`` (None: no limit)."""

    def __init__(self, maximum: int | None) -> None:
        self.maximum = maximum
        self._lock = threading.Lock()
        self._active = 0

    def enter(self) -> bool:
        """Admit one request, or return False when ``maximum`` are in progress."""
        with self._lock:
            if self.maximum is not None and self._active >= self.maximum:
                return False
            self._active += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._active -= 1


def _seconds_text(seconds: float) -> str:
    return f"{seconds:g} s"


def budget_headers(state: WindowState) -> dict[str, str]:
    """Return the three headers every B2B response carries, with their unit text."""
    return {
        "X-Requests-Allocated": (
            f"{state.limit} times/{_seconds_text(state.window_seconds)}"
        ),
        "X-Requests-Remaining": f"{state.remaining} times",
        "X-Request-Window-Resets-After": f"{state.resets_after:.3f} s",
    }


def too_many_requests_headers(
    mode: RateHeaderMode, state: WindowState, wait_seconds: float
) -> dict[str, str]:
    """Return the waiting hint of a 429 response in the style ``mode`` selects.

    ``wait_seconds`` is how long the client should wait; whole-second headers round
    it up, so a client that obeys them never comes back too early.
    """
    whole_seconds = str(max(math.ceil(wait_seconds), 1))
    if mode == "b2b":
        headers = budget_headers(state)
        headers["X-Request-Window-Resets-After"] = f"{wait_seconds:.3f} s"
        return headers
    if mode == "core":
        return {
            "X-Rate-Limit-Time-Window-Ms": str(round(state.window_seconds * 1000)),
            "X-Rate-Limit-Time-Reset-Ms": str(math.ceil(wait_seconds * 1000)),
            "X-Rate-Limit-Requests-Quota": str(state.limit),
            "X-Rate-Limit-Requests-Left": "0",
            "X-Retry-After": whole_seconds,
        }
    if mode == "retry-after":
        return {"Retry-After": whole_seconds}
    return {}
