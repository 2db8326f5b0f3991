"""A fake clock, a scripted fake B2B API and a client factory for the API tests."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

from provisioner.api.client import B2BClient
from provisioner.api.pacing import Pacer
from provisioner.config import Secret

BASE_URL = "https://b2b.invalid/api/v3/io"
STORE_HASH = "teststore1"
TOKEN = "tok-7c1e9a-very-secret"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeTime:
    """A monotonic clock that only ``sleep`` moves; every sleep is recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class FakeApi:
    """A fake server that responds to each request with the next scripted reply.

    A reply is an ``httpx.Response``, an exception to raise (as the network would),
    or a function of the request. The last reply repeats once the script runs out.
    Every request is kept in ``requests``.
    """

    def __init__(self, *replies: Reply) -> None:
        if not replies:
            raise ValueError("give at least one reply")
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        index = min(len(self.requests), len(self.replies)) - 1
        reply = self.replies[index]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    @property
    def calls(self) -> int:
        return len(self.requests)

    def bodies(self) -> list[Any]:
        return [json.loads(request.content) for request in self.requests]


def envelope(
    data: Any, *, code: int = 200, message: str = "Success", **meta: Any
) -> Any:
    return {"code": code, "data": data, "meta": {"message": message, **meta}}


def ok(
    data: Any, *, headers: dict[str, str] | None = None, **meta: Any
) -> httpx.Response:
    return httpx.Response(200, json=envelope(data, **meta), headers=headers)


def error(
    status: int, err_msg: Any = None, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    data = {} if err_msg is None else {"errMsg": err_msg}
    body = envelope(data, code=status, message="Parameter Error")
    return httpx.Response(status, json=body, headers=headers)


def page(
    items: Iterable[Any], *, total: int, offset: int, limit: int
) -> httpx.Response:
    pagination = {"totalCount": total, "offset": offset, "limit": limit}
    return ok(list(items), pagination=pagination)


def make_pacer(
    time: FakeTime,
    *,
    requests_per_minute: float = 6000,
    store_limit_per_minute: int = 6000,
    max_concurrency: int = 2,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> Pacer:
    return Pacer(
        requests_per_minute=requests_per_minute,
        store_limit_per_minute=store_limit_per_minute,
        max_concurrency=max_concurrency,
        clock=time.clock,
        sleep=sleep or time.sleep,
    )


def make_client(
    api: Callable[[httpx.Request], httpx.Response],
    time: FakeTime,
    *,
    max_attempts: int = 3,
    max_rate_wait_seconds: float = 600.0,
    pacer: Pacer | None = None,
    verify_tls: bool = True,
    seed: int = 7,
) -> B2BClient:
    """Build a client on a mock transport: nothing leaves the process."""
    return B2BClient(
        base_url=BASE_URL,
        store_hash=STORE_HASH,
        token=Secret(TOKEN),
        pacer=pacer or make_pacer(time),
        timeouts=httpx.Timeout(5.0),
        max_connections=4,
        max_attempts=max_attempts,
        user_agent="provisioner-tests/1.0",
        verify_tls=verify_tls,
        transport=httpx.MockTransport(api),
        max_rate_wait_seconds=max_rate_wait_seconds,
        rng=random.Random(seed),
    )
