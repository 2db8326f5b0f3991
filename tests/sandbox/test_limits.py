"""The request limit per window, its headers in each 429 style, and concurrency."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from provisioner.sandbox import RunningSandbox
from provisioner.sandbox.limits import RateWindow, budget_headers

from .helpers import api_client, new_user


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_allows_limit_then_refuses() -> None:
    clock = FakeClock()
    window = RateWindow(3, 60.0, clock=clock)
    states = [window.acquire() for _ in range(4)]
    assert [state.allowed for state in states] == [True, True, True, False]
    assert [state.remaining for state in states] == [2, 1, 0, 0]


def test_window_refills_when_it_ends() -> None:
    clock = FakeClock()
    window = RateWindow(1, 60.0, clock=clock)
    window.acquire()
    clock.now += 59.5
    rejected = window.acquire()
    clock.now += 0.5
    allowed = window.acquire()
    assert rejected.allowed is False
    assert rejected.resets_after == pytest.approx(0.5)
    assert allowed.allowed is True
    assert allowed.resets_after == pytest.approx(60.0)


def test_budget_headers_carry_unit_text() -> None:
    clock = FakeClock()
    window = RateWindow(150, 60.0, clock=clock)
    window.acquire()
    clock.now += 59.603
    state = window.acquire()
    assert budget_headers(state) == {
        "X-Requests-Allocated": "150 times/60 s",
        "X-Requests-Remaining": "148 times",
        "X-Request-Window-Resets-After": "0.397 s",
    }


def test_remaining_counts_down_over_reads_and_writes(api: httpx.Client) -> None:
    remaining = [
        api.get("/users").headers["X-Requests-Remaining"],
        api.post("/users", json=new_user("g@acme.example")).headers[
            "X-Requests-Remaining"
        ],
        api.get("/companies").headers["X-Requests-Remaining"],
    ]
    assert remaining == ["149 times", "148 times", "147 times"]


def test_admin_requests_do_not_count(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    with httpx.Client() as admin:
        admin.get(sandbox.admin_url + "/stats")
    assert api.get("/users").headers["X-Requests-Remaining"] == "149 times"


def exhaust(
    sandbox_factory: Any, **options: Any
) -> tuple[RunningSandbox, httpx.Response]:
    sandbox = sandbox_factory(request_limit=2, window_seconds=30, **options)
    with api_client(sandbox) as client:
        client.get("/users")
        client.get("/users")
        rejected = client.post("/users", json=new_user("g@acme.example"))
    return sandbox, rejected


def test_limit_exhausted_is_429_and_creates_nothing(sandbox_factory: Any) -> None:
    sandbox, rejected = exhaust(sandbox_factory)
    assert rejected.status_code == 429
    assert rejected.json()["code"] == 429
    assert sandbox.created_counts() == {}
    assert sandbox.stats()["rateLimited"] == 1


def test_429_b2b_headers(sandbox_factory: Any) -> None:
    _, rejected = exhaust(sandbox_factory, rate_headers="b2b")
    headers = rejected.headers
    assert headers["X-Requests-Allocated"] == "2 times/30 s"
    assert headers["X-Requests-Remaining"] == "0 times"
    wait = float(headers["X-Request-Window-Resets-After"].removesuffix(" s"))
    assert 0 < wait <= 30
    assert "Retry-After" not in headers


def test_429_core_headers(sandbox_factory: Any) -> None:
    _, rejected = exhaust(sandbox_factory, rate_headers="core")
    headers = rejected.headers
    assert 0 < int(headers["X-Rate-Limit-Time-Reset-Ms"]) <= 30_000
    assert headers["X-Rate-Limit-Requests-Left"] == "0"
    assert 1 <= int(headers["X-Retry-After"]) <= 30
    assert "X-Requests-Remaining" not in headers


def test_429_retry_after_header(sandbox_factory: Any) -> None:
    _, rejected = exhaust(sandbox_factory, rate_headers="retry-after")
    assert 1 <= int(rejected.headers["Retry-After"]) <= 30
    assert "X-Request-Window-Resets-After" not in rejected.headers
    assert "X-Retry-After" not in rejected.headers


def test_429_without_hint(sandbox_factory: Any) -> None:
    _, rejected = exhaust(sandbox_factory, rate_headers="none")
    hints = {
        "Retry-After",
        "X-Retry-After",
        "X-Rate-Limit-Time-Reset-Ms",
        "X-Request-Window-Resets-After",
    }
    assert rejected.status_code == 429
    assert hints.isdisjoint(rejected.headers)


def test_raising_the_limit_at_runtime_lets_requests_through(
    sandbox_factory: Any,
) -> None:
    sandbox, rejected = exhaust(sandbox_factory)
    sandbox.set_options(request_limit=10)
    with api_client(sandbox) as client:
        allowed = client.get("/users")
    assert rejected.status_code == 429
    assert allowed.status_code == 200
    assert allowed.headers["X-Requests-Remaining"] == "7 times"


def test_concurrency_limit_rejects_above_maximum(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(max_concurrent=1, slow_after_create=1.0, slow_seconds=30)

    def slow_create() -> None:
        # Stopping the sandbox below cuts this request off before its response.
        with api_client(sandbox) as client, pytest.raises(httpx.TransportError):
            client.post("/users", json=new_user("slow@acme.example"))

    thread = threading.Thread(target=slow_create)
    thread.start()
    # The create is in progress once the user exists; the sandbox then waits
    # slow_seconds before it responds.
    while not sandbox.created_counts():
        threading.Event().wait(0.01)
    with api_client(sandbox) as client:
        rejected = client.get("/users")
    sandbox.stop()
    thread.join()
    assert rejected.status_code == 429
    assert sandbox.stats()["concurrencyLimited"] == 1


def test_concurrency_limit_off_by_default(sandbox: RunningSandbox) -> None:
    assert sandbox.options.max_concurrent is None
