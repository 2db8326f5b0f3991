"""B2BClient against the sandbox B2B API on loopback: every method, 429s and faults.

The sandbox checks each request against BigCommerce's OpenAPI description, so these
tests also show that the client's requests are well-formed.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from provisioner.api.client import B2BClient, bulk_created_ids, bulk_item_errors
from provisioner.api.pacing import Pacer
from provisioner.api.types import CreatedIds, UserRecord
from provisioner.config import Secret
from provisioner.errors import AuthError, OutcomeUnknownError, RejectedError
from provisioner.sandbox import RunningSandbox
from provisioner.sandbox.options import DEFAULT_SEED_PATH

T = TypeVar("T")

SANDBOX_TOKEN = "sandbox-token"
SANDBOX_STORE = "sandbox1"
# A window far larger than the tests use, so the pacer never slows down for it.
ROOMY_LIMIT = 100_000


def new_user(email: str, **changes: Any) -> dict[str, Any]:
    body = {
        "companyId": 101,
        "email": email,
        "firstName": "Noor",
        "lastName": "Haddad",
        "role": 2,
        "channelIds": [1],
        "extraFields": [{"fieldName": "Cost Centre", "fieldValue": "ACME-OPS"}],
    }
    body.update(changes)
    return body


def sandbox_client(
    sandbox: RunningSandbox,
    *,
    read_timeout: float = 5.0,
    max_attempts: int = 4,
    token: str = SANDBOX_TOKEN,
) -> B2BClient:
    pacer = Pacer(
        requests_per_minute=60_000, store_limit_per_minute=60_000, max_concurrency=4
    )
    return B2BClient(
        base_url=sandbox.base_url,
        store_hash=SANDBOX_STORE,
        token=Secret(token),
        pacer=pacer,
        timeouts=httpx.Timeout(5.0, read=read_timeout),
        max_connections=4,
        max_attempts=max_attempts,
        user_agent="provisioner-tests/1.0",
        max_rate_wait_seconds=30.0,
        rng=random.Random(3),
        backoff_base_seconds=0.01,
    )


def run(
    sandbox: RunningSandbox,
    method: Callable[[B2BClient], Awaitable[T]],
    **options: Any,
) -> T:
    async def scenario() -> T:
        async with sandbox_client(sandbox, **options) as client:
            return await method(client)

    return asyncio.run(scenario())


@pytest.fixture
def roomy(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    return sandbox_factory(request_limit=ROOMY_LIMIT)


def test_sandbox_create_user(roomy: RunningSandbox) -> None:
    ids = run(roomy, lambda client: client.create_user(new_user("noor@acme.example")))
    created = roomy.created_users()
    assert len(created) == 1
    assert ids.user_id == created[0]["userId"]
    assert ids.bc_id == created[0]["bcId"]


def test_sandbox_created_user_readable(roomy: RunningSandbox) -> None:
    async def scenario(client: B2BClient) -> tuple[CreatedIds, UserRecord | None]:
        ids = await client.create_user(new_user("noor@acme.example", uuid="ERP-77"))
        return ids, await client.get_user(ids.user_id)

    ids, user = run(roomy, scenario)
    assert user is not None
    assert user.user_id == ids.user_id
    assert user.bc_id == ids.bc_id
    assert user.company_id == 101
    assert user.email == "noor@acme.example"
    assert user.uuid == "ERP-77"


def test_sandbox_duplicate_email_rejected(roomy: RunningSandbox) -> None:
    with pytest.raises(RejectedError) as caught:
        run(
            roomy,
            lambda client: client.create_user(
                new_user("Dana.Whitfield@acme-industrial.example")
            ),
        )
    assert caught.value.status == 422
    assert "Email already exists" in str(caught.value)


def test_sandbox_field_errors(roomy: RunningSandbox) -> None:
    body = new_user("noor@acme.example", companyId=99999, extraFields=[])
    with pytest.raises(RejectedError) as caught:
        run(roomy, lambda client: client.create_user(body))
    assert set(caught.value.field_errors) == {"companyId", "extraFields"}
    assert "companyId: " in str(caught.value)


def test_sandbox_bulk_create(roomy: RunningSandbox) -> None:
    bodies = [new_user(f"buyer{n}@acme.example") for n in range(3)]
    ids = run(roomy, lambda client: client.create_users_bulk(bodies))
    assert len(ids) == 3
    assert {item.user_id for item in ids} == {
        user["userId"] for user in roomy.created_users()
    }


def test_sandbox_bulk_over_ten_rejected(roomy: RunningSandbox) -> None:
    bodies = [new_user(f"buyer{n}@acme.example") for n in range(11)]
    with pytest.raises(RejectedError) as caught:
        run(roomy, lambda client: client.create_users_bulk(bodies))
    assert caught.value.status == 413
    assert roomy.created_users() == []


def test_sandbox_bulk_atomic_failure(roomy: RunningSandbox) -> None:
    bodies = [
        new_user("ok.one@acme.example"),
        new_user("dana.whitfield@acme-industrial.example"),
    ]
    with pytest.raises(RejectedError) as caught:
        run(roomy, lambda client: client.create_users_bulk(bodies))
    assert bulk_created_ids(caught.value) == []
    assert roomy.created_users() == []


def test_sandbox_bulk_partial_failure(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    sandbox = sandbox_factory(request_limit=ROOMY_LIMIT, bulk_failure_mode="partial")
    bodies = [
        new_user("ok.one@acme.example"),
        new_user("dana.whitfield@acme-industrial.example"),
        new_user("ok.two@acme.example", role=5),
    ]
    with pytest.raises(RejectedError) as caught:
        run(sandbox, lambda client: client.create_users_bulk(bodies))
    errors = bulk_item_errors(caught.value)
    assert [item.index for item in errors] == [1, 2]
    assert errors[0].email == "dana.whitfield@acme-industrial.example"
    assert "Email already exists" in errors[0].message
    created = bulk_created_ids(caught.value)
    assert [item.user_id for item in created] == [
        user["userId"] for user in sandbox.created_users()
    ]
    assert len(created) == 1


def test_sandbox_find_user_by_email(roomy: RunningSandbox) -> None:
    user = run(
        roomy,
        lambda client: client.find_user_by_email(
            "Dana.Whitfield@Acme-Industrial.example"
        ),
    )
    assert user is not None
    assert user.user_id == 5001
    assert user.bc_id == 9001


def test_sandbox_find_unknown_email(roomy: RunningSandbox) -> None:
    user = run(roomy, lambda client: client.find_user_by_email("nobody@acme.example"))
    assert user is None


def test_sandbox_get_user_unknown(roomy: RunningSandbox) -> None:
    assert run(roomy, lambda client: client.get_user(987654)) is None


def test_sandbox_list_users_by_company(roomy: RunningSandbox) -> None:
    page = run(roomy, lambda client: client.list_users(company_id=101, limit=50))
    assert page.total_count == len(page.items)
    assert {user.company_id for user in page.items} == {101}
    assert 5001 in {user.user_id for user in page.items}


def test_sandbox_companies(roomy: RunningSandbox) -> None:
    async def scenario(client: B2BClient) -> Any:
        return (
            await client.list_companies(q="northwind"),
            await client.get_company(101),
            await client.get_company(999999),
        )

    found, acme, missing = run(roomy, scenario)
    assert [company.company_id for company in found.items] == [105, 106]
    assert acme is not None
    assert acme.name == "Acme Industrial"
    assert acme.is_approved
    assert missing is None


def test_sandbox_roles(roomy: RunningSandbox) -> None:
    roles = run(roomy, lambda client: client.list_roles())
    names = {role.name: role for role in roles}
    assert names["Approver"].role_type == 2
    assert names["Admin"].role_type == 1
    assert len(run(roomy, lambda client: client.list_roles(q="buyer"))) == 2


def test_sandbox_channels(roomy: RunningSandbox) -> None:
    channels = run(roomy, lambda client: client.list_channels())
    assert channels is not None
    assert {channel.channel_id: channel.b2b_enabled for channel in channels} == {
        1: True,
        2: True,
        3: False,
    }


def test_sandbox_single_storefront_channels(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    seed = json.loads(DEFAULT_SEED_PATH.read_text(encoding="utf-8"))
    seed["multiStorefront"] = False
    seed_path = tmp_path / "seed.json"
    seed_path.write_text(json.dumps(seed), encoding="utf-8")
    sandbox = sandbox_factory(request_limit=ROOMY_LIMIT, seed=seed_path)
    assert run(sandbox, lambda client: client.list_channels()) is None


def test_sandbox_extra_fields(roomy: RunningSandbox) -> None:
    fields = {
        field.name: field for field in run(roomy, lambda c: c.list_extra_fields())
    }
    assert fields["Cost Centre"].is_required
    assert fields["Cost Centre"].maximum_length == 20
    assert fields["Region"].list_of_values == ("EMEA", "AMER", "APAC")
    assert fields["Approval Limit"].maximum_value == 100000


def test_sandbox_wrong_token(roomy: RunningSandbox) -> None:
    with pytest.raises(AuthError) as caught:
        run(roomy, lambda client: client.list_roles(), token="not-the-token")
    assert caught.value.status == 401
    assert roomy.stats()["requests"] == 1


def use_up_window(sandbox: RunningSandbox, count: int) -> None:
    """Send ``count`` requests as another integration on the store would."""
    headers = {"X-Auth-Token": SANDBOX_TOKEN, "X-Store-Hash": SANDBOX_STORE}
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as other:
        for _ in range(count):
            other.get("/companies/roles")


@pytest.mark.parametrize("mode", ["b2b", "core", "retry-after", "none"])
def test_sandbox_429_then_success(
    sandbox_factory: Callable[..., RunningSandbox], mode: str
) -> None:
    sandbox = sandbox_factory(request_limit=2, window_seconds=1.0, rate_headers=mode)
    use_up_window(sandbox, 2)

    async def scenario(client: B2BClient) -> tuple[CreatedIds, int]:
        ids = await client.create_user(new_user("noor@acme.example"))
        return ids, client.stats.rate_limited

    ids, rate_limited = run(sandbox, scenario)
    assert ids.user_id == sandbox.created_users()[0]["userId"]
    assert rate_limited >= 1
    assert sandbox.created_counts() == {"noor@acme.example": 1}


def test_sandbox_pacer_respects_small_window(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    sandbox = sandbox_factory(request_limit=4, window_seconds=0.5)

    async def scenario(client: B2BClient) -> int:
        for _ in range(10):
            await client.list_companies(limit=5)
        return client.stats.requests

    sent = run(sandbox, scenario)
    assert sent == 10
    assert sandbox.stats()["rateLimited"] == 0


def test_sandbox_5xx_create_outcome_unknown(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    sandbox = sandbox_factory(request_limit=ROOMY_LIMIT, error_5xx_before=1.0)
    with pytest.raises(OutcomeUnknownError):
        run(sandbox, lambda client: client.create_user(new_user("noor@acme.example")))
    assert sandbox.stats()["requests"] == 1
    assert sandbox.created_users() == []


def test_sandbox_reset_create_outcome_unknown(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    sandbox = sandbox_factory(request_limit=ROOMY_LIMIT, reset_before=1.0)
    with pytest.raises(OutcomeUnknownError):
        run(sandbox, lambda client: client.create_user(new_user("noor@acme.example")))
    assert sandbox.stats()["requests"] == 1


def test_sandbox_dropped_create_found_by_email(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    sandbox = sandbox_factory(request_limit=ROOMY_LIMIT, drop_after_create=1.0)

    async def scenario(client: B2BClient) -> UserRecord | None:
        with pytest.raises(OutcomeUnknownError):
            await client.create_user(new_user("noor@acme.example"))
        return await client.find_user_by_email("noor@acme.example")

    found = run(sandbox, scenario)
    assert found is not None
    assert found.user_id == sandbox.created_users()[0]["userId"]
    assert sandbox.created_counts() == {"noor@acme.example": 1}


def test_sandbox_slow_create_outcome_unknown(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    sandbox = sandbox_factory(
        request_limit=ROOMY_LIMIT, slow_after_create=1.0, slow_seconds=3.0
    )
    with pytest.raises(OutcomeUnknownError) as caught:
        run(
            sandbox,
            lambda client: client.create_user(new_user("noor@acme.example")),
            read_timeout=0.3,
        )
    assert "ReadTimeout" in str(caught.value)
    assert sandbox.created_counts() == {"noor@acme.example": 1}


def test_sandbox_read_faults_retried(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    sandbox = sandbox_factory(
        request_limit=ROOMY_LIMIT,
        error_5xx_before=0.3,
        reset_before=0.3,
        faults_on_reads=True,
        fault_seed=11,
    )

    async def scenario(client: B2BClient) -> tuple[int, int]:
        for _ in range(8):
            roles = await client.list_roles()
            assert len(roles) == 5
        return client.stats.requests, client.stats.retries

    requests, retries = run(sandbox, scenario, max_attempts=10)
    assert retries >= 1
    assert requests == 8 + retries
    assert sandbox.stats()["requests"] == requests
