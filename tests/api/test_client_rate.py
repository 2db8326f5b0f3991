"""B2BClient on 429: the wait each header requests, backoff, the cap, and logging."""

from __future__ import annotations

import asyncio
import datetime as dt
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from provisioner.api.pacing import PacerClosedError
from provisioner.api.types import CreatedIds
from provisioner.errors import TransientApiError

from .helpers import FakeApi, FakeTime, error, make_client, make_pacer, ok

USER = {
    "companyId": 42,
    "email": "ann.lee@example.com",
    "firstName": "A",
    "lastName": "L",
}
CREATED = ok({"userId": 11, "bcId": 22})


def too_many(headers: dict[str, str] | None = None) -> httpx.Response:
    return error(429, "Too many requests", headers=headers)


def create_one(api: FakeApi, time: FakeTime, **options: Any) -> CreatedIds:
    async def scenario() -> CreatedIds:
        async with make_client(api, time, **options) as client:
            return await client.create_user(USER)

    return asyncio.run(scenario())


@pytest.mark.parametrize(
    ("headers", "expected_wait"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"X-Retry-After": "3"}, 3.0),
        ({"X-Rate-Limit-Time-Reset-Ms": "2500"}, 2.5),
        ({"X-Request-Window-Resets-After": "0.397 s"}, 0.397),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else str(value),
)
def test_429_waits_as_header_asks(
    headers: dict[str, str], expected_wait: float
) -> None:
    api = FakeApi(too_many(headers), CREATED)
    time = FakeTime()
    assert create_one(api, time) == CreatedIds(11, 22)
    assert time.sleeps == [pytest.approx(expected_wait)]


def test_429_resends_same_request() -> None:
    api = FakeApi(too_many({"Retry-After": "1"}), CREATED)
    create_one(api, FakeTime())
    assert api.calls == 2
    assert api.bodies() == [USER, USER]


def test_429_retry_after_http_date() -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    api = FakeApi(
        too_many({"Retry-After": format_datetime(when, usegmt=True)}), CREATED
    )
    time = FakeTime()
    create_one(api, time)
    assert len(time.sleeps) == 1
    assert 27.0 <= time.sleeps[0] <= 30.0


def test_429_is_not_an_attempt() -> None:
    api = FakeApi(
        too_many({"Retry-After": "1"}),
        too_many({"Retry-After": "1"}),
        too_many({"Retry-After": "1"}),
        CREATED,
    )
    assert create_one(api, FakeTime(), max_attempts=1) == CreatedIds(11, 22)
    assert api.calls == 4


def test_429_counted_in_stats() -> None:
    api = FakeApi(too_many({"Retry-After": "1"}), CREATED)

    async def scenario() -> Any:
        async with make_client(api, FakeTime()) as client:
            await client.create_user(USER)
            return client.stats

    stats = asyncio.run(scenario())
    assert stats.rate_limited == 1
    assert stats.requests == 2
    assert stats.retries == 0


def test_429_without_headers_backs_off() -> None:
    api = FakeApi(too_many(), too_many(), too_many(), CREATED)
    time = FakeTime()
    create_one(api, time)
    assert len(time.sleeps) == 3
    for in_a_row, waited in enumerate(time.sleeps, start=1):
        ceiling = 2.0 ** (in_a_row - 1)
        assert ceiling / 2 <= waited <= ceiling


def test_repeated_429_waits_at_least_backoff() -> None:
    headers = {"X-Request-Window-Resets-After": "0.1 s"}
    api = FakeApi(too_many(headers), too_many(headers), too_many(headers), CREATED)
    time = FakeTime()
    create_one(api, time)
    assert time.sleeps[0] == pytest.approx(0.1)
    assert time.sleeps[1] >= 1.0
    assert time.sleeps[2] >= 2.0


def test_429_total_wait_capped() -> None:
    api = FakeApi(too_many({"Retry-After": "40"}))
    time = FakeTime()
    with pytest.raises(TransientApiError) as caught:
        create_one(api, time, max_rate_wait_seconds=100)
    assert caught.value.status == 429
    assert "rate.max_rate_wait_seconds" in str(caught.value)
    assert sum(time.sleeps) <= 100
    assert api.calls == 3


def test_429_wait_longer_than_cap_fails_at_once() -> None:
    api = FakeApi(too_many({"Retry-After": "3600"}), CREATED)
    time = FakeTime()
    with pytest.raises(TransientApiError):
        create_one(api, time, max_rate_wait_seconds=600)
    assert time.sleeps == []
    assert api.calls == 1


def test_429_pauses_other_senders() -> None:
    time = FakeTime()
    sends: list[tuple[float, str, int]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and not sends:
            response = too_many({"Retry-After": "5"})
        elif request.method == "POST":
            response = CREATED
        else:
            response = ok({"id": 3, "companyId": 42, "email": "x@y.io"})
        sends.append((time.now, request.method, response.status_code))
        return response

    async def scenario() -> None:
        pacer = make_pacer(time, max_concurrency=3)
        async with make_client(FakeApi(answer), time, pacer=pacer) as client:
            await asyncio.gather(
                client.create_user(USER), client.get_user(3), client.get_user(3)
            )

    asyncio.run(scenario())
    limited_at = next(at for at, _, status in sends if status == 429)
    after = [(at, method) for at, method, _ in sends if at > limited_at]
    assert len(sends) == 4
    assert "GET" in {method for _, method in after}, sends
    assert all(at >= limited_at + 5.0 for at, _ in after), sends


def test_429_logged_without_personal_data() -> None:
    api = FakeApi(too_many({"Retry-After": "2"}), CREATED)
    with capture_logs() as logs:
        create_one(api, FakeTime())
    events = [entry for entry in logs if entry["event"] == "rate_limited"]
    assert len(events) == 1
    assert events[0]["endpoint"] == "POST /users"
    assert events[0]["wait_seconds"] == 2.0
    assert events[0]["source"] == "Retry-After"
    assert events[0]["attempt"] == 1
    assert "ann.lee@example.com" not in repr(logs)


def test_retry_logged_with_attempt_and_wait() -> None:
    api = FakeApi(httpx.ConnectError("connection refused"), CREATED)
    time = FakeTime()
    with capture_logs() as logs:
        create_one(api, time)
    events = [entry for entry in logs if entry["event"] == "api_retry"]
    assert len(events) == 1
    assert events[0]["endpoint"] == "POST /users"
    assert events[0]["attempt"] == 1
    assert events[0]["wait_seconds"] == pytest.approx(time.sleeps[0], abs=0.001)
    assert events[0]["error"].startswith("ConnectError")


def test_closed_pacer_ends_429_wait() -> None:
    time = FakeTime()
    sleeping = asyncio.Event()

    async def blocking_sleep(seconds: float) -> None:
        time.sleeps.append(seconds)
        sleeping.set()
        await asyncio.Event().wait()

    api = FakeApi(too_many({"Retry-After": "30"}), CREATED)

    async def scenario() -> None:
        pacer = make_pacer(time, sleep=blocking_sleep)
        async with make_client(api, time, pacer=pacer) as client:
            task = asyncio.create_task(client.create_user(USER))
            await sleeping.wait()
            pacer.close()
            await task

    with pytest.raises(PacerClosedError):
        asyncio.run(scenario())
    assert api.calls == 1
