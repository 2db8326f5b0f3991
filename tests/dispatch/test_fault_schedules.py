"""Random fault schedules over a few hundred rows never create an email twice.

Each example runs dispatch once under random faults, sometimes stopped as by a
signal or cancelled mid-send as by a crash. It checks what must hold after any
run, then runs again without faults until nothing is left to send, and checks
that every row got the status its data calls for.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner.config import SendSettings
from provisioner.dispatch import StopToken, dispatch
from provisioner.journal import IN_FLIGHT, Journal
from provisioner.model import RowOutcome, UserRequest
from provisioner.rejections import COMPANY_NOT_FOUND, EMAIL_INVALID, EMAIL_TAKEN

from .conftest import make_request, run_dispatch, sync_requests
from .fake_api import (
    AUTH,
    SHORT_RESPONSE,
    TRANSIENT,
    UNKNOWN_AFTER,
    UNKNOWN_BEFORE,
    FakeApi,
)

ROWS = 200
# A memory-backed folder where there is one: the journal syncs every commit to
# disk, and thousands of syncs per example would dominate the test's run time.
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None
AFTER_ANY_RUN = {"created", "exists", "rejected", "conflict", "pending", "failed"}


@dataclass(frozen=True)
class Scenario:
    seed: int
    mode: str
    order: str
    list_order: str
    bulk_mode: str
    unique_emails: bool
    create_fault_rate: float
    read_fault_rate: float
    max_concurrency: int
    cancel_after_creates: int | None
    stop_after_outcomes: int | None


scenarios = st.builds(
    Scenario,
    seed=st.integers(0, 2**32 - 1),
    mode=st.sampled_from(["bulk", "single"]),
    order=st.sampled_from(["verify", "input"]),
    list_order=st.sampled_from(["created", "newest_first", "random"]),
    bulk_mode=st.sampled_from(["all_or_nothing", "partial"]),
    unique_emails=st.booleans(),
    create_fault_rate=st.floats(0.0, 0.4),
    read_fault_rate=st.floats(0.0, 0.1),
    max_concurrency=st.integers(1, 4),
    cancel_after_creates=st.none() | st.integers(1, 30),
    stop_after_outcomes=st.none() | st.integers(1, 150),
)


@dataclass
class Sheet:
    requests: list[UserRequest]
    expected: dict[int, tuple[str, str | None]]


def build_sheet(api: FakeApi, rng: random.Random) -> Sheet:
    """Make rows of every kind, and the status and code each should end with."""
    requests: list[UserRequest] = []
    expected: dict[int, tuple[str, str | None]] = {}
    api.missing_companies.add(199)
    used: list[str] = []
    for row_number in range(2, ROWS + 2):
        company_id = rng.choice([101, 102, 103, 104, 199])
        kind = rng.choices(
            ["new", "exists", "elsewhere", "bad_email", "repeat"], [80, 6, 5, 5, 4]
        )[0]
        email = f"user{row_number}@example.com"
        if kind == "repeat" and used:
            email = rng.choice(used).upper()
        request = make_request(row_number, company_id, email)
        requests.append(request)
        if kind == "repeat" and used:
            expected[row_number] = ("conflict", "EMAIL_DUPLICATE")
            continue
        used.append(email)
        if kind == "exists":
            api.add_user(email, company_id)
            expected[row_number] = ("exists", None)
        elif kind == "elsewhere":
            api.add_user(email, 300)
            expected[row_number] = ("rejected", EMAIL_TAKEN)
        elif kind == "bad_email":
            api.invalid_emails.add(email.casefold())
            expected[row_number] = ("rejected", EMAIL_INVALID)
        elif company_id == 199:
            expected[row_number] = ("rejected", COMPANY_NOT_FOUND)
        else:
            expected[row_number] = ("created", None)
    return Sheet(requests, expected)


def check_after_run(journal: Journal, api: FakeApi, seeded: set[str]) -> None:
    """Check what must be true after any run, however faulty."""
    assert api.duplicates() == {}
    statuses = {row.row_number: row.status for row in journal.rows()}
    assert set(statuses.values()) <= AFTER_ANY_RUN | {IN_FLIGHT}
    # Every user dispatch created belongs to a row recorded as created, or to a
    # row whose outcome is still being reconciled, so none is lost.
    owners = {
        row.email_key: row.status
        for row in journal.rows()
        if row.email_key is not None and row.status in ("created", IN_FLIGHT)
    }
    for email in api.created:
        if email not in seeded:
            assert email in owners, f"{email} was created but no row records it"
    for row in journal.rows({"created"}):
        assert row.email is not None
        (user,) = api.users_with(row.email)
        assert row.user_id == user.user_id, f"row {row.row_number} has another's id"
        assert row.bc_id == user.bc_id


def run_with_faults(
    sheet: Sheet, api: FakeApi, journal: Journal, case: Scenario
) -> None:
    send = SendSettings(mode=case.mode, bulk_result_order=case.order)
    stop = StopToken()
    outcomes = 0

    def count_outcome(outcome: RowOutcome) -> None:
        nonlocal outcomes
        outcomes += 1
        if outcomes == case.stop_after_outcomes:
            stop.request("signal SIGTERM")

    async def run() -> None:
        task = asyncio.ensure_future(
            dispatch(
                sheet.requests,
                api=api,
                journal=journal,
                send=send,
                max_concurrency=case.max_concurrency,
                max_attempts=3,
                stop=stop,
                on_outcome=count_outcome,
            )
        )
        creates = 0

        def cancel_at_limit(bodies: object) -> None:
            nonlocal creates
            creates += 1
            if creates == case.cancel_after_creates:
                task.cancel()

        api.before_create = cancel_at_limit
        await asyncio.gather(task, return_exceptions=True)
        api.before_create = None

    asyncio.run(run())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=scenarios)
def test_fault_schedule_never_duplicates(case: Scenario) -> None:
    rng = random.Random(case.seed)
    api = FakeApi(
        bulk_mode=case.bulk_mode,
        # "input" is for a store known to keep input order, so only "verify"
        # gets responses in another order.
        shuffle_bulk=case.order == "verify",
        unique_emails=case.unique_emails,
        list_order=case.list_order,
        seed=case.seed,
    )
    sheet = build_sheet(api, rng)
    seeded = set(api.created)
    create_faults = {UNKNOWN_AFTER: 0.4, UNKNOWN_BEFORE: 0.2, TRANSIENT: 0.2}
    create_faults |= {SHORT_RESPONSE: 0.15, AUTH: 0.05}
    for method in ("create_user", "create_users_bulk"):
        api.random_faults[method] = {
            fault: share * case.create_fault_rate
            for fault, share in create_faults.items()
        }
    for method in ("find_user_by_email", "list_users"):
        api.random_faults[method] = {TRANSIENT: case.read_fault_rate}

    with (
        tempfile.TemporaryDirectory(dir=SCRATCH) as folder,
        Journal.open(Path(folder) / "journal.sqlite") as journal,
    ):
        sync_requests(journal, sheet.requests)
        run_with_faults(sheet, api, journal, case)
        check_after_run(journal, api, seeded)

        api.random_faults.clear()
        for _ in range(3):
            sync_requests(journal, sheet.requests)
            run_dispatch(sheet.requests, api, journal, mode=case.mode, order=case.order)
            check_after_run(journal, api, seeded)

        for row in journal.rows():
            status, code = sheet.expected[row.row_number]
            assert row.status == status, f"row {row.row_number}: {row.message}"
            if code is not None:
                assert row.code == code, f"row {row.row_number}: {row.message}"
