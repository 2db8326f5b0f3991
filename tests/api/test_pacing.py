"""Pacer: rate headers, spacing without burst, the shared gate, slowdown, close.

The pacing tests run in an event loop on virtual time: ``AsyncLimiter`` reads the
loop's ``time()``, and the loop jumps to the next timer when every task waits, so
admission times are exact and no test waits for real.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import selectors
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from structlog.testing import capture_logs

from provisioner.api.pacing import (
    Pacer,
    PacerClosedError,
    WindowState,
    leading_number,
    rate_limit_wait,
    window_state,
)

from .helpers import FakeTime, make_pacer

NOW = dt.datetime(2026, 4, 1, 12, 0, 0, tzinfo=dt.UTC)

T = TypeVar("T")


class VirtualTime(FakeTime):
    """A clock shared by the pacer and the event loop that ``run`` starts.

    ``sleep`` is ``asyncio.sleep`` on that loop, recorded, so the pacer's 429 gate
    and ``AsyncLimiter``'s spacing both move ``now`` and nothing else.
    """

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(seconds)

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        with asyncio.Runner(loop_factory=lambda: VirtualTimeLoop(self)) as runner:
            return runner.run(main)


class JumpingSelector(selectors.DefaultSelector):
    """A selector that, instead of blocking for ``timeout``, moves the clock by it."""

    def __init__(self, time: VirtualTime) -> None:
        super().__init__()
        self.virtual_time = time

    def select(
        self, timeout: float | None = None
    ) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready:
            return ready
        if timeout is None:
            raise RuntimeError("every task waits and no timer is set: a deadlock")
        self.virtual_time.now += timeout
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` is ``VirtualTime.now``."""

    def __init__(self, time: VirtualTime) -> None:
        super().__init__(JumpingSelector(time))
        self.virtual_time = time

    def time(self) -> float:
        return self.virtual_time.now

    def call_at(
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: Any = None,
    ) -> asyncio.TimerHandle:
        # A timer is set at least one float step ahead. AsyncLimiter sets its
        # wake-up timer for "now" while its bucket level is a rounding error above
        # zero, and on a clock that never moves by itself it would do so forever.
        when = max(when, math.nextafter(self.time(), math.inf))
        return super().call_at(when, callback, *args, context=context)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("150 times/60 s", 150.0),
        ("149 times", 149.0),
        ("0.397 s", 0.397),
        (" 12", 12.0),
        ("7.", 7.0),
        ("times", None),
        ("", None),
        (None, None),
    ],
)
def test_leading_number(text: str | None, expected: float | None) -> None:
    assert leading_number(text) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, (7.0, "Retry-After")),
        ({"Retry-After": "Wed, 01 Apr 2026 12:00:30 GMT"}, (30.0, "Retry-After")),
        ({"Retry-After": "Wed, 01 Apr 2026 11:59:00 GMT"}, (0.0, "Retry-After")),
        ({"X-Retry-After": "3"}, (3.0, "X-Retry-After")),
        ({"X-Rate-Limit-Time-Reset-Ms": "2500"}, (2.5, "X-Rate-Limit-Time-Reset-Ms")),
        (
            {"X-Request-Window-Resets-After": "0.397 s"},
            (0.397, "X-Request-Window-Resets-After"),
        ),
        (
            {"Retry-After": "1", "X-Rate-Limit-Time-Reset-Ms": "4000"},
            (4.0, "X-Rate-Limit-Time-Reset-Ms"),
        ),
    ],
)
def test_rate_limit_wait(headers: dict[str, str], expected: tuple[float, str]) -> None:
    assert rate_limit_wait(headers, now=NOW) == expected


@pytest.mark.parametrize(
    "headers",
    [{}, {"Retry-After": "soon"}, {"Retry-After": "inf"}, {"X-Retry-After": "x"}],
)
def test_rate_limit_wait_none(headers: dict[str, str]) -> None:
    assert rate_limit_wait(headers, now=NOW) is None


def test_window_state_b2b_headers() -> None:
    headers = {
        "X-Requests-Allocated": "150 times/60 s",
        "X-Requests-Remaining": "149 times",
        "X-Request-Window-Resets-After": "0.397 s",
    }
    assert window_state(headers) == WindowState(149.0, 0.397, 150.0)


def test_window_state_core_headers() -> None:
    headers = {
        "X-Rate-Limit-Requests-Left": "20",
        "X-Rate-Limit-Time-Reset-Ms": "15000",
        "X-Rate-Limit-Requests-Quota": "150",
    }
    assert window_state(headers) == WindowState(20.0, 15.0, 150.0)


def test_window_state_missing() -> None:
    assert window_state({"X-Requests-Remaining": "3 times"}) is None


async def admit(pacer: Pacer, time: FakeTime, count: int) -> list[float]:
    """Enter ``count`` slots one after another; return when each was admitted."""
    stamps = []
    for _ in range(count):
        async with pacer.slot():
            stamps.append(time.now)
    return stamps


async def admit_together(pacer: Pacer, time: FakeTime, count: int) -> list[float]:
    """Enter ``count`` slots concurrently; return the admission times in order."""
    stamps: list[float] = []

    async def one() -> None:
        async with pacer.slot():
            stamps.append(time.now)

    await asyncio.gather(*(one() for _ in range(count)))
    return stamps


def test_spacing_one_per_interval() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=120)
    stamps = time.run(admit(pacer, time, 5))
    assert stamps == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0])
    assert pacer.stats.admitted == 5


def test_spacing_waits_on_loop_clock() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=60)
    time.run(admit(pacer, time, 3))
    # The limiter, not the injected sleep, spaced the sends.
    assert time.sleeps == []
    assert pacer.stats.waited_seconds == pytest.approx(2.0)


def test_no_burst_when_concurrent() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=60, max_concurrency=4)
    stamps = time.run(admit_together(pacer, time, 6))
    assert stamps == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])


def test_no_burst_after_idle() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=60)

    async def scenario() -> list[float]:
        first = await admit(pacer, time, 1)
        await asyncio.sleep(600.0)
        return first + await admit(pacer, time, 3)

    stamps = time.run(scenario())
    assert stamps == pytest.approx([0.0, 600.0, 601.0, 602.0])


def test_pause_holds_every_sender() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=600, max_concurrency=3)
    pacer.pause_for(10.0)
    stamps = time.run(admit_together(pacer, time, 3))
    assert stamps == pytest.approx([10.0, 10.1, 10.2])
    assert pacer.stats.pauses == 1


def test_pause_during_gate_wait_extends_it() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=60)

    async def scenario() -> list[float]:
        pacer.pause_for(2.0)
        # A 429 elsewhere starts a longer pause while this sender waits at the gate.
        asyncio.get_running_loop().call_at(1.0, pacer.pause_for, 5.0)
        return await admit(pacer, time, 1)

    assert time.run(scenario()) == pytest.approx([6.0])
    assert time.sleeps == pytest.approx([2.0, 4.0])
    assert pacer.stats.pauses == 2


def test_pause_during_token_wait_holds_sender() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=60)

    async def scenario() -> list[float]:
        # The second sender waits for its token until 1.0; a 429 elsewhere at 0.5
        # pauses every sender until 5.5.
        asyncio.get_running_loop().call_at(0.5, pacer.pause_for, 5.0)
        return await admit(pacer, time, 2)

    assert time.run(scenario()) == pytest.approx([0.0, 5.5])
    assert time.sleeps == pytest.approx([4.5])


def test_shorter_pause_keeps_longer() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time)
    pacer.pause_for(30.0)
    pacer.pause_for(2.0)
    assert time.run(admit(pacer, time, 1)) == pytest.approx([30.0])


def test_concurrency_bounded() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=6000, max_concurrency=2)
    in_flight = 0
    highest = 0
    stamps: list[float] = []

    async def one() -> None:
        nonlocal in_flight, highest
        async with pacer.slot():
            stamps.append(time.now)
            in_flight += 1
            highest = max(highest, in_flight)
            await asyncio.sleep(1.0)
            in_flight -= 1

    async def scenario() -> None:
        await asyncio.gather(*(one() for _ in range(8)))

    time.run(scenario())
    assert highest == 2
    assert pacer.stats.admitted == 8
    # Two sends 0.01 s apart, then the next two as their slots free a second later.
    expected = [0.0, 0.01, 1.0, 1.01, 2.0, 2.01, 3.0, 3.01]
    assert stamps == pytest.approx(expected)


def b2b_headers(
    remaining: int, resets_in: float, allocated: int = 150
) -> dict[str, str]:
    return {
        "X-Requests-Allocated": f"{allocated} times/60 s",
        "X-Requests-Remaining": f"{remaining} times",
        "X-Request-Window-Resets-After": f"{resets_in} s",
    }


def test_slowdown_spreads_remaining_budget() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=120, store_limit_per_minute=150)
    # 33 s left at 2 a second would need 66 requests. 30 remain, of which this
    # tool's 0.8 share less 2 in flight is 22.
    pacer.observe(200, b2b_headers(remaining=30, resets_in=33.0))
    assert pacer.interval == pytest.approx(33.0 / 22.0)
    assert pacer.stats.slowdowns == 1
    assert time.run(admit(pacer, time, 3)) == pytest.approx([0.0, 1.5, 3.0])


def test_slowdown_spaces_from_last_send() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=120, store_limit_per_minute=150)

    async def scenario() -> list[float]:
        stamps = await admit(pacer, time, 2)
        pacer.observe(200, b2b_headers(remaining=30, resets_in=33.0))
        return stamps + await admit(pacer, time, 2)

    # The slower interval of 1.5 s counts from the send at 0.5.
    assert time.run(scenario()) == pytest.approx([0.0, 0.5, 2.0, 3.5])


def test_recovery_spaces_from_last_send() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=120, store_limit_per_minute=150)

    async def scenario() -> list[float]:
        pacer.observe(200, b2b_headers(remaining=30, resets_in=33.0))
        stamps = await admit(pacer, time, 1)
        pacer.observe(200, b2b_headers(remaining=150, resets_in=60.0))
        return stamps + await admit(pacer, time, 2)

    # Back at 0.5 s: not the slowed 1.5 s, and not at once after the send at 0.
    assert time.run(scenario()) == pytest.approx([0.0, 0.5, 1.0])


def test_no_slowdown_at_full_share() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=900, store_limit_per_minute=900)
    pacer.observe(200, b2b_headers(remaining=899, resets_in=60.0, allocated=900))
    assert pacer.interval == pytest.approx(60.0 / 900)
    assert pacer.stats.slowdowns == 0


def test_no_slowdown_with_enough_budget() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=120, store_limit_per_minute=150)
    pacer.observe(200, b2b_headers(remaining=140, resets_in=50.0))
    assert pacer.interval == pytest.approx(0.5)
    assert pacer.stats.slowdowns == 0


def test_slowdown_recovers_after_reset() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=120, store_limit_per_minute=150)

    async def scenario() -> list[float]:
        pacer.observe(200, b2b_headers(remaining=30, resets_in=30.0))
        stamps = await admit(pacer, time, 1)
        await asyncio.sleep(31.0)
        return stamps + await admit(pacer, time, 2)

    assert time.run(scenario()) == pytest.approx([0.0, 31.0, 31.5])
    assert pacer.interval == pytest.approx(0.5)


def test_slowdown_recovers_on_fresh_window() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=120, store_limit_per_minute=150)
    pacer.observe(200, b2b_headers(remaining=30, resets_in=30.0))
    pacer.observe(200, b2b_headers(remaining=150, resets_in=60.0))
    assert pacer.interval == pytest.approx(0.5)
    assert pacer.current_rate_per_minute == pytest.approx(120.0)


def test_spent_window_holds_until_reset() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=120, store_limit_per_minute=150)
    pacer.observe(200, b2b_headers(remaining=3, resets_in=12.5))
    assert time.run(admit(pacer, time, 1)) == pytest.approx([12.5])


def test_slowdown_from_core_headers() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=120, store_limit_per_minute=150)
    pacer.observe(
        200,
        {
            "X-Rate-Limit-Requests-Left": "25",
            "X-Rate-Limit-Time-Reset-Ms": "20000",
            "X-Rate-Limit-Requests-Quota": "150",
        },
    )
    assert pacer.interval == pytest.approx(20.0 / (25 * 0.8 - 2))


def test_close_ends_gate_wait() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time)

    async def scenario() -> None:
        pacer.pause_for(60.0)
        asyncio.get_running_loop().call_at(1.0, pacer.close)
        await admit(pacer, time, 1)

    with pytest.raises(PacerClosedError):
        time.run(scenario())
    assert time.now == pytest.approx(1.0)
    assert pacer.stats.admitted == 0


def test_close_ends_token_wait() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=60)

    async def scenario() -> None:
        # The second send would get its token at 1.0.
        asyncio.get_running_loop().call_at(0.5, pacer.close)
        await admit(pacer, time, 2)

    with pytest.raises(PacerClosedError):
        time.run(scenario())
    assert time.now == pytest.approx(0.5)
    assert pacer.stats.admitted == 1


def test_cancelled_token_wait_frees_turn() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=60, max_concurrency=3)

    async def scenario() -> tuple[asyncio.Task[list[float]], list[float]]:
        await admit(pacer, time, 1)
        waiting = asyncio.create_task(admit(pacer, time, 1))
        asyncio.get_running_loop().call_at(0.5, waiting.cancel)
        # This sender queues behind the cancelled one and takes the token at 1.0.
        after = await admit(pacer, time, 1)
        return waiting, after

    waiting, after = time.run(scenario())
    assert waiting.cancelled()
    assert after == pytest.approx([1.0])
    assert pacer.stats.admitted == 2


def test_close_ends_concurrency_wait() -> None:
    time = VirtualTime(start=0.0)

    async def scenario() -> list[BaseException | None]:
        pacer = make_pacer(time, max_concurrency=1)
        holding = asyncio.Event()
        finish = asyncio.Event()

        async def holder() -> None:
            async with pacer.slot():
                holding.set()
                await finish.wait()

        first = asyncio.create_task(holder())
        await holding.wait()
        second = asyncio.create_task(admit(pacer, time, 1))
        await asyncio.sleep(0)
        pacer.close()
        outcome = await asyncio.gather(second, return_exceptions=True)
        finish.set()
        await first
        return [item if isinstance(item, BaseException) else None for item in outcome]

    outcome = time.run(scenario())
    assert isinstance(outcome[0], PacerClosedError)


def test_closed_pacer_admits_nothing() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time)
    pacer.close()
    with pytest.raises(PacerClosedError):
        time.run(admit(pacer, time, 1))
    assert pacer.closed


@pytest.mark.parametrize("rate", [0, -5])
def test_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="requests_per_minute"):
        Pacer(requests_per_minute=rate, store_limit_per_minute=150, max_concurrency=1)


def test_spent_window_logged_once() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=120, store_limit_per_minute=150)
    with capture_logs() as logs:
        pacer.observe(200, b2b_headers(remaining=2, resets_in=10.0))
        time.now = 1.0
        pacer.observe(200, b2b_headers(remaining=1, resets_in=9.001))
        time.now = 2.0
        pacer.observe(429, b2b_headers(remaining=0, resets_in=8.002))
    spent = [entry for entry in logs if entry["event"] == "rate_window_spent"]
    assert len(spent) == 1
    assert time.run(admit(pacer, time, 1)) == pytest.approx([10.002])


def test_window_reset_capped() -> None:
    time = VirtualTime(start=0.0)
    pacer = make_pacer(time, requests_per_minute=120, store_limit_per_minute=150)
    with capture_logs() as logs:
        pacer.observe(200, b2b_headers(remaining=0, resets_in=86400.0))
    assert time.run(admit(pacer, time, 1)) == pytest.approx([120.0])
    assert "rate_window_too_long" in [entry["event"] for entry in logs]
