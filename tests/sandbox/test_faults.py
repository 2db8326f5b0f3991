"""Injected faults seen through raw httpx calls: 5xx, resets, drops, slow responses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .helpers import api_client, new_user


def test_5xx_before_creates_nothing(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(error_5xx_before=1.0)
    with api_client(sandbox) as client:
        statuses = {
            client.post("/users", json=new_user(f"u{index}@acme.example")).status_code
            for index in range(12)
        }
    assert statuses <= {500, 502, 503, 504}
    assert len(statuses) > 1
    assert sandbox.created_counts() == {}


def test_5xx_gateway_responses_are_html(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(error_5xx_before=1.0)
    with api_client(sandbox) as client:
        responses = [
            client.post("/users/bulk", json=[new_user("a@acme.example")])
            for _ in range(12)
        ]
    gateway = [response for response in responses if response.status_code != 500]
    assert gateway
    assert all(r.headers["content-type"].startswith("text/html") for r in gateway)


def test_faults_skip_reads_by_default(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(error_5xx_before=1.0, reset_before=1.0)
    with api_client(sandbox) as client:
        response = client.get("/users")
    assert response.status_code == 200


def test_faults_on_reads_when_asked(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(error_5xx_before=1.0, faults_on_reads=True)
    with api_client(sandbox) as client:
        response = client.get("/users")
    assert response.status_code in {500, 502, 503, 504}


def test_reset_before_raises_and_creates_nothing(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(reset_before=1.0)
    # A TCP reset, so the client sees a read error rather than a clean close.
    with api_client(sandbox) as client, pytest.raises(httpx.ReadError):
        client.post("/users", json=new_user("grace@acme.example"))
    assert sandbox.created_counts() == {}
    assert sandbox.stats()["faults"] == {"reset_before": 1}


def test_reset_on_read_when_asked(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(reset_before=1.0, faults_on_reads=True)
    with api_client(sandbox) as client, pytest.raises(httpx.TransportError):
        client.get("/users", params={"email": "grace@acme.example"})


def test_drop_after_create_creates_then_closes(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(drop_after_create=1.0)
    with api_client(sandbox) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/users", json=new_user("grace@acme.example"))
        found = client.get("/users", params={"email": "grace@acme.example"})
    assert sandbox.created_counts() == {"grace@acme.example": 1}
    assert len(found.json()["data"]) == 1


def test_drop_after_bulk_create_creates_every_user(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(drop_after_create=1.0)
    bodies = [new_user(f"u{index}@acme.example") for index in range(4)]
    with api_client(sandbox) as client, pytest.raises(httpx.TransportError):
        client.post("/users/bulk", json=bodies)
    assert len(sandbox.created_counts()) == 4


def test_drop_after_create_skips_failed_creates(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(drop_after_create=1.0)
    with api_client(sandbox) as client:
        response = client.post("/users", json=new_user("bad-email"))
    assert response.status_code == 422


def test_slow_after_create_times_out_the_client(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(slow_after_create=1.0, slow_seconds=30)
    with api_client(sandbox, timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
        client.post("/users", json=new_user("grace@acme.example"))
    assert sandbox.created_counts() == {"grace@acme.example": 1}


def test_slow_after_create_responds_eventually(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(slow_after_create=1.0, slow_seconds=0.05)
    with api_client(sandbox) as client:
        response = client.post("/users", json=new_user("grace@acme.example"))
    assert response.status_code == 200


def test_faults_repeat_with_the_same_seed(sandbox_factory: Any) -> None:
    def outcomes(seed: int) -> list[str]:
        sandbox = sandbox_factory(
            error_5xx_before=0.3, reset_before=0.3, fault_seed=seed
        )
        results = []
        with api_client(sandbox) as client:
            for index in range(30):
                try:
                    body = new_user(f"u{index}@acme.example")
                    results.append(str(client.post("/users", json=body).status_code))
                except httpx.TransportError:
                    results.append("reset")
        return results

    first = outcomes(7)
    assert outcomes(7) == first
    assert {"200", "reset"} <= set(first)
    assert outcomes(8) != first


def test_faults_can_be_switched_off_at_runtime(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(error_5xx_before=1.0)
    sandbox.set_options(error_5xx_before=0.0)
    with api_client(sandbox) as client:
        response = client.post("/users", json=new_user("grace@acme.example"))
    assert response.status_code == 200


def test_drop_after_partial_bulk_create(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(drop_after_create=1.0, bulk_failure_mode="partial")
    bodies = [new_user("good@acme.example"), new_user("bad@acme.example", role=7)]
    with api_client(sandbox) as client, pytest.raises(httpx.RemoteProtocolError):
        client.post("/users/bulk", json=bodies)
    assert sandbox.created_counts() == {"good@acme.example": 1}


def test_stats_count_each_fault(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(error_5xx_before=1.0)
    with api_client(sandbox) as client:
        client.post("/users", json=new_user("a@acme.example"))
    sandbox.set_options(error_5xx_before=0.0, slow_after_create=1.0, slow_seconds=0.0)
    with api_client(sandbox) as client:
        client.post("/users", json=new_user("b@acme.example"))
    faults = sandbox.stats()["faults"]
    assert faults == {"error_5xx_before": 1, "slow_after_create": 1}
