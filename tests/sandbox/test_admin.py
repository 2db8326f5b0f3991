"""Admin endpoints and the Python API that tests use to read and steer the sandbox."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provisioner.sandbox import RunningSandbox, SandboxOptions, start_sandbox
from provisioner.sandbox.messages import ApiRequest

from .helpers import api_client, new_user


@pytest.fixture
def admin(sandbox: RunningSandbox) -> Any:
    with httpx.Client(base_url=sandbox.admin_url) as client:
        yield client


def test_created_lists_users_and_counts(
    sandbox: RunningSandbox, api: httpx.Client, admin: httpx.Client
) -> None:
    ids = api.post("/users", json=new_user("Grace@Acme.example")).json()["data"]
    body = admin.get("/created").json()
    assert body["counts"] == {"grace@acme.example": 1}
    assert body["users"][0]["userId"] == ids["userId"]
    assert body["users"][0]["endpoint"] == "users"
    assert sandbox.created_users() == body["users"]


def test_created_is_empty_for_seed_users(admin: httpx.Client) -> None:
    assert admin.get("/created").json() == {"users": [], "counts": {}}


def test_stats_count_requests_and_statuses(
    api: httpx.Client, admin: httpx.Client
) -> None:
    api.get("/users")
    api.get("/users/1")
    stats = admin.get("/stats").json()
    assert stats["requests"] == 2
    assert stats["byStatus"] == {"200": 1, "404": 1}
    assert stats["rateLimited"] == 0


def test_revoke_token_makes_requests_401(
    sandbox: RunningSandbox, api: httpx.Client, admin: httpx.Client
) -> None:
    revoked = admin.post("/token", json={"revoke": True})
    rejected = api.get("/users")
    assert revoked.status_code == 200
    assert rejected.status_code == 401
    assert sandbox.token is None


def test_set_token_through_admin(api: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/token", json={"token": "rotated"})
    old = api.get("/users")
    new = api.get("/users", headers={"X-Auth-Token": "rotated"})
    assert old.status_code == 401
    assert new.status_code == 200


def test_token_body_must_say_what_to_do(admin: httpx.Client) -> None:
    response = admin.post("/token", json={"token": ""})
    assert response.status_code == 400
    assert "revoke" in response.json()["error"]


def test_revoke_and_set_token_from_python(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    sandbox.revoke_token()
    rejected = api.get("/users")
    sandbox.set_token("sandbox-token")
    allowed = api.get("/users")
    assert rejected.status_code == 401
    assert allowed.status_code == 200


def test_options_change_at_runtime(
    sandbox: RunningSandbox, admin: httpx.Client
) -> None:
    response = admin.post(
        "/options", json={"rate_headers": "core", "reset_before": 0.25}
    )
    assert response.status_code == 200
    assert response.json()["rate_headers"] == "core"
    assert sandbox.options.reset_before == 0.25


def test_options_do_not_show_the_token(admin: httpx.Client) -> None:
    options = admin.get("/options").json()
    assert "token" not in options
    assert "sandbox-token" not in str(options)
    assert options["request_limit"] == 150


def test_invalid_option_value_is_400_and_changes_nothing(
    sandbox: RunningSandbox, admin: httpx.Client
) -> None:
    response = admin.post("/options", json={"reset_before": 2, "rate_headers": "core"})
    assert response.status_code == 400
    assert (
        "reset_before = 2 must be a probability from 0 to 1."
        in response.json()["error"]
    )
    assert sandbox.options.rate_headers == "b2b"


def test_unknown_option_is_400(admin: httpx.Client) -> None:
    response = admin.post("/options", json={"resetBefore": 0.1})
    assert response.status_code == 400
    assert "Unknown sandbox option(s): resetBefore." in response.json()["error"]


def test_startup_options_cannot_change(sandbox: RunningSandbox) -> None:
    with pytest.raises(
        ValueError, match="port can only be set when the sandbox starts"
    ):
        sandbox.set_options(port=8080)


def test_reset_returns_to_seed(
    sandbox: RunningSandbox, api: httpx.Client, admin: httpx.Client
) -> None:
    api.post("/users", json=new_user("grace@acme.example"))
    admin.post("/reset")
    users = api.get("/users").json()["data"]
    assert sandbox.created_counts() == {}
    assert [user["id"] for user in users] == [5001, 5002, 5003]


def test_unknown_admin_endpoint_is_404(admin: httpx.Client) -> None:
    response = admin.get("/nothing")
    assert response.status_code == 404
    assert "created, stats, options, token, reset" in response.json()["error"]


def test_admin_refuses_non_loopback_clients(sandbox: RunningSandbox) -> None:
    request = ApiRequest(
        method="GET",
        path="/__sandbox/created",
        query="",
        headers={},
        body=b"",
        client_host="192.0.2.10",
    )
    reply = sandbox.app.handle(request)
    assert reply.status == 403


def test_options_reject_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        SandboxOptions(host="0.0.0.0")


def test_options_list_every_problem() -> None:
    with pytest.raises(ValueError) as raised:
        SandboxOptions(request_limit=0, rate_headers="x", bulk_failure_mode="some")  # type: ignore[arg-type]
    message = str(raised.value)
    assert "request_limit = 0" in message
    assert "rate_headers = 'x'" in message
    assert "bulk_failure_mode = 'some'" in message


def test_repr_hides_token() -> None:
    options = SandboxOptions(token="very-secret-value")
    assert "very-secret-value" not in repr(options)


def test_context_manager_stops_server() -> None:
    with start_sandbox() as running:
        url = running.base_url
    with httpx.Client() as client, pytest.raises(httpx.ConnectError):
        client.get(url + "/users", timeout=2)


def test_fixture_turns_strict_requests_on(sandbox: RunningSandbox) -> None:
    assert sandbox.options.strict_requests is True


def test_factory_takes_options_object(sandbox_factory: Any) -> None:
    running = sandbox_factory(SandboxOptions(request_limit=5))
    with api_client(running) as client:
        response = client.get("/users")
    assert response.headers["X-Requests-Allocated"] == "5 times/60 s"
