"""Pacing of every request under the store's shared rate limit.

B2B Edition allows a store 150 requests a minute, shared by every integration on the
store, so one ``Pacer`` per run admits each actual send (retries and resends after a
429 included) through three steps:

1. a semaphore bounds the requests in flight to ``max_concurrency``;
2. a shared gate stops every sender while a 429 pause (``pause_for``) or a spent
   store window is running;
3. an ``aiolimiter.AsyncLimiter(1, interval)`` admits one send per interval,
   ``60 / requests_per_minute`` seconds. Its capacity of one token means no burst,
   at start or after idle time, where ``AsyncLimiter(rate, 60)`` would let ``rate``
   sends through at once.

The limiter reads the event loop's clock (``loop.time()``), while the gate and the
slowdown's end use the injected ``clock`` and ``sleep``. With the defaults both are
``time.monotonic``.

Adaptive slowdown: the rate headers of each response (``observe``) show how much of
the store's window is left. This tool's budget is its share of what remains
(``requests_per_minute / store_limit_per_minute``, the configured ``rate.share``),
less a small headroom. When the configured rate would spend more than that budget
before the window resets, because other integrations used the window too, the
interval grows to spread the budget over the time to the reset. It falls back to
the configured rate when a later response shows enough budget, or when that window
has reset. With less than one request of budget left, every sender waits for the
reset. An ``AsyncLimiter``'s rate is fixed when it is built, because aiolimiter 1.3
derives it in ``__init__``. So a changed interval gets a new limiter. That limiter is
charged with what is left of the last send's token, so the next send still waits the
new interval. A sender that already waits for a token when the interval changes gets
it at the old interval.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import TypeVar

import structlog
from aiolimiter import AsyncLimiter

from provisioner.errors import TransientApiError

log = structlog.get_logger(__name__)

T = TypeVar("T")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: Requests of this tool's budget left unplanned, for requests still in flight
#: whose use the last response did not count yet.
HEADROOM_REQUESTS = 2
#: How far the planned requests may pass the budget before the pace slows, so a
#: window that starts exactly at the configured share does not slow down.
SLOWDOWN_TOLERANCE = 0.05
#: The maximum window reset, in seconds, that ``observe`` acts on; a longer one is
#: cut to this. B2B Edition documents a 60-second window ("150 times/60 s").
MAX_WINDOW_SECONDS = 120.0

_LEADING_NUMBER = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?)")


class PacerClosedError(TransientApiError):
    """The pacer was closed (the run was interrupted) before the request was sent."""

    def __init__(self) -> None:
        super().__init__(
            "Sending stopped because the run was interrupted; this request was not "
            "sent. Run the job again to send it."
        )


@dataclass(slots=True)
class PacerStats:
    """Counts of admitted sends, seconds waited, 429 pauses and slowdowns.

    ``waited_seconds`` adds the waits at the gate, on the ``clock``, to the waits
    for the limiter's token, on the event loop's clock.
    """

    admitted: int = 0
    waited_seconds: float = 0.0
    pauses: int = 0
    slowdowns: int = 0


@dataclass(frozen=True, slots=True)
class WindowState:
    """The store's rate window as one response's headers report it.

    ``remaining`` requests are left in a window that resets in ``resets_in_seconds``;
    ``allocated`` is the window's size in requests, when the response gives it.
    """

    remaining: float
    resets_in_seconds: float
    allocated: float | None = None


def leading_number(text: str | None) -> float | None:
    """Parse the number a rate header starts with: ``"150 times/60 s"`` -> 150.0."""
    if text is None:
        return None
    match = _LEADING_NUMBER.match(text)
    if match is None:
        return None
    number = float(match.group(1))
    # Hundreds of digits overflow to infinity, which no wait may be.
    return number if math.isfinite(number) else None


def _retry_after_seconds(value: str, now: dt.datetime) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def retry_after_seconds(
    headers: Mapping[str, str], *, now: dt.datetime | None = None
) -> float | None:
    """Parse ``Retry-After`` (seconds or an HTTP date) into seconds from now."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    return _retry_after_seconds(value, now or dt.datetime.now(dt.UTC))


def rate_limit_wait(
    headers: Mapping[str, str], *, now: dt.datetime | None = None
) -> tuple[float, str] | None:
    """Return the wait a 429 requests, in seconds, and the header that set it.

    ``Retry-After`` (seconds or an HTTP date), ``X-Retry-After`` (seconds),
    ``X-Rate-Limit-Time-Reset-Ms`` (milliseconds) and
    ``X-Request-Window-Resets-After`` (``"0.397 s"``) are read; when several are
    present the longest wait wins, so a resend does not hit the same limit again.
    Return None when no header gives a usable wait. ``headers`` must look names up
    case-insensitively, as ``httpx.Headers`` does.
    """
    candidates: list[tuple[float, str]] = []
    seconds = retry_after_seconds(headers, now=now)
    if seconds is not None:
        candidates.append((seconds, "Retry-After"))

    for name, scale in (
        ("X-Retry-After", 1.0),
        ("X-Rate-Limit-Time-Reset-Ms", 0.001),
        ("X-Request-Window-Resets-After", 1.0),
    ):
        number = leading_number(headers.get(name))
        if number is not None:
            candidates.append((number * scale, name))

    if not candidates:
        return None
    return max(candidates)


def window_state(headers: Mapping[str, str]) -> WindowState | None:
    """Read the store window from B2B or core BigCommerce rate headers, if present.

    B2B sends ``X-Requests-Remaining`` ("149 times"), ``X-Request-Window-Resets-After``
    ("0.397 s") and ``X-Requests-Allocated`` ("150 times/60 s"); core BigCommerce sends
    ``X-Rate-Limit-Requests-Left``, ``X-Rate-Limit-Time-Reset-Ms`` and
    ``X-Rate-Limit-Requests-Quota``.
    """
    remaining = leading_number(headers.get("X-Requests-Remaining"))
    resets_in = leading_number(headers.get("X-Request-Window-Resets-After"))
    allocated = leading_number(headers.get("X-Requests-Allocated"))
    if remaining is not None and resets_in is not None:
        return WindowState(remaining, resets_in, allocated)

    remaining = leading_number(headers.get("X-Rate-Limit-Requests-Left"))
    reset_ms = leading_number(headers.get("X-Rate-Limit-Time-Reset-Ms"))
    quota = leading_number(headers.get("X-Rate-Limit-Requests-Quota"))
    if remaining is not None and reset_ms is not None:
        return WindowState(remaining, reset_ms / 1000, quota)
    return None


class Pacer:
    """Admit requests at a steady rate, under a shared 429 gate and a concurrency cap.

    ``requests_per_minute`` is this tool's share of the store limit
    ``store_limit_per_minute``. ``clock`` returns monotonic seconds and ``sleep``
    waits that many seconds. Both time the 429 gate and the slowdown, while the
    spacing between sends runs on the event loop's clock. Create the pacer, use it
    and close it inside one running event loop, because an ``AsyncLimiter`` binds to
    the loop it first runs in.
    """

    def __init__(
        self,
        *,
        requests_per_minute: float,
        store_limit_per_minute: int,
        max_concurrency: int,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if requests_per_minute <= 0:
            raise ValueError(
                f"requests_per_minute must be above 0, not {requests_per_minute}"
            )
        if max_concurrency < 1:
            raise ValueError(
                f"max_concurrency must be at least 1, not {max_concurrency}"
            )
        self.requests_per_minute = requests_per_minute
        self.store_limit_per_minute = store_limit_per_minute
        self.share = min(1.0, requests_per_minute / max(1, store_limit_per_minute))
        """This tool's fraction of the store's rate limit."""
        self.max_concurrency = max_concurrency
        self.stats = PacerStats()
        self._clock = clock
        self._sleep = sleep
        self._base_interval = 60.0 / requests_per_minute
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._admission = asyncio.Lock()
        self._closed = asyncio.Event()
        self._limiter = AsyncLimiter(1, self._base_interval)
        #: When the last send was admitted, on the event loop's clock.
        self._last_admitted_at = -math.inf
        self._gate_until = -math.inf
        self._slow_interval = 0.0
        self._slow_until = -math.inf

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def interval(self) -> float:
        """The seconds between two sends now: the configured one or a slower one."""
        if self._clock() < self._slow_until:
            return max(self._base_interval, self._slow_interval)
        return self._base_interval

    @property
    def current_rate_per_minute(self) -> float:
        return 60.0 / self.interval

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a free slot, the 429 gate and the limiter's token, then send.

        Raise ``PacerClosedError`` when ``close`` was called before the send.
        """
        self._raise_if_closed()
        await self._until_closed(
            self._semaphore.acquire(), undo=self._semaphore.release
        )
        try:
            await self._admit()
            yield
        finally:
            self._semaphore.release()

    def pause_for(self, seconds: float) -> None:
        """Stop every sender for ``seconds`` from now, as a 429 requests."""
        seconds = max(0.0, seconds)
        until = self._clock() + seconds
        if until > self._gate_until:
            self._gate_until = until
            self.stats.pauses += 1

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Adjust the pace to the store window that a response's headers report."""
        state = window_state(headers)
        if state is None or state.resets_in_seconds <= 0:
            return
        if state.resets_in_seconds > MAX_WINDOW_SECONDS:
            # A reset further away than any documented window is not trusted to
            # stop the run for that long.
            log.warning(
                "rate_window_too_long",
                status=status,
                resets_in_seconds=state.resets_in_seconds,
                used_seconds=MAX_WINDOW_SECONDS,
            )
            state = replace(state, resets_in_seconds=MAX_WINDOW_SECONDS)
        now = self._clock()
        budget = state.remaining * self.share - HEADROOM_REQUESTS
        planned = state.resets_in_seconds / self._base_interval

        if budget < 1:
            # This tool's part of the window is spent: wait for it to reset.
            # Each response of the window reports the same reset, so log only the
            # first one.
            until = now + state.resets_in_seconds
            if until > self._gate_until:
                if self._gate_until <= now:
                    log.info(
                        "rate_window_spent",
                        status=status,
                        remaining=state.remaining,
                        wait_seconds=round(state.resets_in_seconds, 3),
                    )
                self._gate_until = until
            return

        if planned > budget * (1 + SLOWDOWN_TOLERANCE):
            interval = state.resets_in_seconds / budget
            if now >= self._slow_until or interval > self._slow_interval * 1.1:
                self.stats.slowdowns += 1
                log.info(
                    "rate_slowdown",
                    remaining=state.remaining,
                    resets_in_seconds=round(state.resets_in_seconds, 3),
                    requests_per_minute=round(60.0 / interval, 1),
                )
            self._slow_interval = interval
            self._slow_until = now + state.resets_in_seconds
            return

        if now < self._slow_until:
            log.info("rate_recovered", requests_per_minute=self.requests_per_minute)
        self._slow_interval = 0.0
        self._slow_until = -math.inf

    async def wait(self, seconds: float) -> None:
        """Sleep ``seconds`` unless ``close`` is called first (then raise)."""
        self._raise_if_closed()
        if seconds > 0:
            await self._until_closed(self._sleep(seconds))
            self.stats.waited_seconds += seconds

    def close(self) -> None:
        """End every pending wait with ``PacerClosedError`` and admit no more sends."""
        self._closed.set()

    async def _admit(self) -> None:
        # One sender at a time moves through the gate and the limiter, so senders
        # are admitted in arrival order and a pause that starts during a wait is
        # seen by the next check.
        async with self._admission:
            while True:
                await self._pass_gate()
                await self._take_token()
                # A pause that started while this sender waited for its token stops
                # it too. The token it took is spent, so after the pause it takes
                # another, which comes at once unless the pause was short.
                if self._clock() >= self._gate_until:
                    break
            self._last_admitted_at = asyncio.get_running_loop().time()
            self.stats.admitted += 1

    async def _pass_gate(self) -> None:
        while True:
            self._raise_if_closed()
            remaining = self._gate_until - self._clock()
            if remaining <= 0:
                return
            await self.wait(remaining)

    async def _take_token(self) -> None:
        """Wait for the limiter's token, first rebuilding it if the rate changed."""
        loop = asyncio.get_running_loop()
        interval = self.interval
        if self._limiter.time_period != interval:
            self._limiter = await self._new_limiter(interval, loop.time())
        started = loop.time()
        # No undo: a token taken for a send that is dropped cannot be given back,
        # so the next sender may wait up to one interval longer than needed.
        await self._until_closed(self._limiter.acquire())
        self.stats.waited_seconds += loop.time() - started

    async def _new_limiter(self, interval: float, now: float) -> AsyncLimiter:
        """Build a limiter for ``interval`` that remembers the last send.

        A fresh limiter is empty and would admit a send at once, even just after
        the last one. Taking the part of a token that has not drained since the last
        send makes the next send wait until ``interval`` after it.
        """
        limiter = AsyncLimiter(1, interval)
        undrained = 1.0 - (now - self._last_admitted_at) / interval
        if undrained > 0:
            # An empty limiter with capacity 1 grants any amount up to 1 at once.
            await limiter.acquire(min(1.0, undrained))
        return limiter

    def _raise_if_closed(self) -> None:
        if self._closed.is_set():
            raise PacerClosedError

    async def _until_closed(
        self, awaitable: Awaitable[T], undo: Callable[[], object] | None = None
    ) -> T:
        """Await ``awaitable``, but raise ``PacerClosedError`` as soon as closed.

        ``undo`` gives back what ``awaitable`` took (a semaphore) when it finished
        but its result is dropped, because the pacer closed or the caller was
        cancelled at the same time.
        """
        task = asyncio.ensure_future(awaitable)
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait({task, closed}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            self._drop(task, undo)
            raise
        finally:
            closed.cancel()
        if not self._closed.is_set():
            return task.result()
        self._drop(task, undo)
        raise PacerClosedError

    @staticmethod
    def _drop(task: asyncio.Future[T], undo: Callable[[], object] | None) -> None:
        if not task.done():
            task.cancel()
        elif not task.cancelled() and task.exception() is None and undo is not None:
            undo()
