"""Dispatch through the real HTTP client against the sandbox, with every fault.

A few hundred rows are sent with each sandbox fault injected into 5 to 10
percent of the requests, under both bulk failure modes. A run may end with rows
``failed`` or in flight; the job is then run again, as cron would, until nothing
is left. The sandbox's ``created_counts`` proves that no email was created twice,
and every row must end with the status its data calls for.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioner.api.client import B2BClient
from provisioner.api.pacing import Pacer
from provisioner.config import Secret, SendSettings
from provisioner.dispatch import DispatchSummary, StopToken, dispatch
from provisioner.journal import Journal
from provisioner.model import UserRequest
from provisioner.rejections import COMPANY_NOT_APPROVED, EMAIL_TAKEN
from provisioner.sandbox import RunningSandbox

from .conftest import sync_requests

pytestmark = pytest.mark.slow

ROWS = 240
APPROVED_COMPANIES = (101, 102, 103, 104, 105, 106, 110)
PENDING_COMPANY = 107
# Seeded users: one in Company 101 and one in Company 102.
SEEDED_IN_ACME = "dana.whitfield@acme-industrial.example"
SEEDED_IN_GLOBEX = "marco.bellini@globex.example"
MAX_RUNS = 6

FAULTS = [
    {"error_5xx_before": 0.1},
    {"reset_before": 0.1},
    {"drop_after_create": 0.1},
    {"slow_after_create": 0.1},
    {
        "error_5xx_before": 0.05,
        "reset_before": 0.05,
        "drop_after_create": 0.05,
        "slow_after_create": 0.05,
        "faults_on_reads": True,
    },
]


def body(email: str, company_id: int) -> dict[str, Any]:
    return {
        "companyId": company_id,
        "email": email,
        "firstName": "Noor",
        "lastName": "Haddad",
        "role": 2,
        "channelIds": [1],
        "extraFields": [{"fieldName": "Cost Centre", "fieldValue": "OPS-1"}],
    }


def build_rows(
    seed: int,
) -> tuple[list[UserRequest], dict[int, tuple[str, str | None]]]:
    """Make new users plus a few that exist, are taken, or cannot be created."""
    rng = random.Random(seed)
    requests: list[UserRequest] = []
    expected: dict[int, tuple[str, str | None]] = {}
    for row_number in range(2, ROWS + 2):
        company_id = rng.choice(APPROVED_COMPANIES)
        email = f"new.user{row_number}@example.com"
        status: tuple[str, str | None] = ("created", None)
        if row_number == 10:
            email, company_id, status = SEEDED_IN_ACME, 101, ("exists", None)
        elif row_number == 11:
            email, company_id, status = SEEDED_IN_GLOBEX, 101, ("rejected", EMAIL_TAKEN)
        elif row_number % 50 == 0:
            company_id = PENDING_COMPANY
            status = ("rejected", COMPANY_NOT_APPROVED)
        requests.append(
            UserRequest(row_number, email, company_id, body(email, company_id))
        )
        expected[row_number] = status
    return requests, expected


def sandbox_client(sandbox: RunningSandbox, max_concurrency: int) -> B2BClient:
    pacer = Pacer(
        requests_per_minute=60_000,
        store_limit_per_minute=60_000,
        max_concurrency=max_concurrency,
    )
    return B2BClient(
        base_url=sandbox.base_url,
        store_hash=sandbox.options.store_hash,
        token=Secret(sandbox.options.token),
        pacer=pacer,
        # The read timeout is shorter than the sandbox's slow responses, so a slow
        # create reaches the client as an unknown outcome.
        timeouts=httpx.Timeout(5.0, read=0.5),
        max_connections=max_concurrency,
        max_attempts=3,
        user_agent="provisioner-tests/1.0",
        max_rate_wait_seconds=30.0,
        rng=random.Random(5),
        backoff_base_seconds=0.01,
    )


def run_once(
    sandbox: RunningSandbox,
    journal: Journal,
    requests: list[UserRequest],
    send: SendSettings,
) -> DispatchSummary:
    async def scenario() -> DispatchSummary:
        async with sandbox_client(sandbox, max_concurrency=4) as api:
            return await dispatch(
                requests,
                api=api,
                journal=journal,
                send=send,
                max_concurrency=4,
                max_attempts=3,
                stop=StopToken(),
            )

    return asyncio.run(scenario())


@pytest.mark.parametrize("bulk_failure_mode", ["atomic", "partial"])
@pytest.mark.parametrize("faults", FAULTS, ids=lambda faults: "+".join(faults))
def test_faults_never_duplicate(
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    bulk_failure_mode: str,
    faults: dict[str, Any],
) -> None:
    sandbox = sandbox_factory(
        request_limit=100_000,
        bulk_failure_mode=bulk_failure_mode,
        bulk_result_order="shuffled",
        slow_seconds=1.0,
        fault_seed=17,
        **faults,
    )
    requests, expected = build_rows(seed=len(faults))
    # Batches of five make about fifty bulk creates, so each fault is drawn
    # for some of them.
    send = SendSettings(mode="bulk", bulk_size=5, bulk_result_order="verify")

    with Journal.open(tmp_path / "job" / "journal.sqlite") as journal:
        for _ in range(MAX_RUNS):
            sync_requests(journal, requests)
            run_once(sandbox, journal, requests, send)
            assert max(sandbox.created_counts().values(), default=0) == 1
            counts = journal.counts()
            if not (
                counts.get("pending") or counts.get("failed") or counts.get("in_flight")
            ):
                break

        rows = {row.row_number: row for row in journal.rows()}

    injected = sandbox.stats()["faults"]
    if len(faults) == 1:
        (name,) = faults
        assert injected.get(name, 0) > 0, f"the sandbox injected no {name}"
    assert len(injected) >= min(len(faults), 3), f"too few kinds of fault: {injected}"
    created = {user["email"].casefold(): user for user in sandbox.created_users()}
    for row_number, (status, code) in expected.items():
        row = rows[row_number]
        assert row.status == status, f"row {row_number}: {row.code} {row.message}"
        if code is not None:
            assert row.code == code, f"row {row_number}: {row.message}"
        if status == "created":
            user = created[row.email_key or ""]
            assert row.user_id == user["userId"], f"row {row_number} has another's id"
            assert row.bc_id == user["bcId"], f"row {row_number} has another's bcId"
    assert len(created) == sum(
        1 for status, _ in expected.values() if status == "created"
    )


def test_single_mode_with_faults(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(
        request_limit=100_000,
        error_5xx_before=0.05,
        reset_before=0.05,
        drop_after_create=0.05,
        slow_after_create=0.05,
        slow_seconds=1.0,
        fault_seed=3,
    )
    requests, expected = build_rows(seed=9)
    requests = requests[:80]
    send = SendSettings(mode="single")

    with Journal.open(tmp_path / "job" / "journal.sqlite") as journal:
        for _ in range(MAX_RUNS):
            sync_requests(journal, requests)
            run_once(sandbox, journal, requests, send)
        statuses = {row.row_number: row.status for row in journal.rows()}

    assert max(sandbox.created_counts().values()) == 1
    assert statuses == {r.row_number: expected[r.row_number][0] for r in requests}
    assert sum(sandbox.stats()["faults"].values()) > 0


def test_journal_never_stores_token(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(request_limit=100_000, token="tok-5f1c9e0a7b")
    requests, _ = build_rows(seed=2)
    job = tmp_path / "job"

    with Journal.open(job / "journal.sqlite") as journal:
        journal.acquire_lock()
        sync_requests(journal, requests[:30])
        run_once(sandbox, journal, requests[:30], SendSettings())
        assert journal.counts()["created"] > 0

    for file in job.iterdir():
        assert b"tok-5f1c9e0a7b" not in file.read_bytes(), file.name


def test_revoked_token_stops_dispatch(
    sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    sandbox: RunningSandbox = sandbox_factory(request_limit=100_000)
    requests, _ = build_rows(seed=1)
    send = SendSettings()

    with Journal.open(tmp_path / "job" / "journal.sqlite") as journal:
        sync_requests(journal, requests)
        sandbox.revoke_token()
        summary = run_once(sandbox, journal, requests, send)

        assert summary.auth_failed
        assert journal.counts() == {"pending": ROWS}
    assert sandbox.created_counts() == {}
