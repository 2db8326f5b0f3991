"""plan_run against an in-memory store built from the sandbox's seed data."""

from __future__ import annotations

import asyncio

import pytest
from store.fake_api import FakeB2BApi

from provisioner.api.types import UserRecord
from provisioner.config import RateSettings, SendSettings
from provisioner.errors import AuthError, TransientApiError
from provisioner.model import (
    EMPTY_CELL,
    RowIssue,
    RowResult,
    SourceRow,
    Status,
    UserRequest,
)
from provisioner.plan import Plan, estimate_create_requests, plan_run

# Users the seed store already has: Dana in Company 101, Marco in Company 102.
DANA = "dana.whitfield@acme-industrial.example"
MARCO = "marco.bellini@globex.example"

BULK = SendSettings(mode="bulk", bulk_size=10, bulk_result_order="verify")
RATE = RateSettings(store_limit_per_minute=150, share=0.8)


def valid(row_number: int, email: str, company_id: int = 101) -> RowResult:
    body = {"email": email, "companyId": company_id, "role": 2, "channelIds": [1]}
    return RowResult(
        row=SourceRow(row_number, (EMPTY_CELL,)),
        request=UserRequest(row_number, email, company_id, body),
    )


def invalid(row_number: int) -> RowResult:
    issue = RowIssue(
        "EMAIL_INVALID",
        "The email has no @.",
        "Correct the email address.",
        cell=f"Users!A{row_number}",
    )
    return RowResult(
        row=SourceRow(row_number, (EMPTY_CELL,)),
        request=None,
        status=Status.INVALID,
        issues=[issue],
    )


def skipped(row_number: int, first_row: int) -> RowResult:
    issue = RowIssue(
        "DUPLICATE_ROW",
        f"Same as row {first_row}; this row was skipped.",
        "",
        severity="warning",
    )
    return RowResult(
        row=SourceRow(row_number, (EMPTY_CELL,)),
        request=None,
        status=Status.SKIPPED,
        issues=[issue],
    )


def plan(
    results: list[RowResult],
    api: FakeB2BApi | None = None,
    send: SendSettings = BULK,
    store_requests: int = 0,
) -> Plan:
    return asyncio.run(
        plan_run(
            results,
            api=api or FakeB2BApi.from_seed(),
            send=send,
            rate=RATE,
            store_requests=store_requests,
        )
    )


def new_users(count: int, company_id: int = 101, first_row: int = 2) -> list[RowResult]:
    return [
        valid(first_row + n, f"new{first_row + n}@example.com", company_id)
        for n in range(count)
    ]


# Row statuses


def test_plan_statuses_in_row_order() -> None:
    results = [
        valid(2, "new.person@example.com"),
        invalid(3),
        skipped(4, 2),
        valid(5, DANA, 101),
        valid(6, MARCO, 101),
    ]

    rows = plan(results).rows

    assert [row.row_number for row in rows] == [2, 3, 4, 5, 6]
    assert [row.status for row in rows] == [
        Status.WOULD_CREATE,
        Status.INVALID,
        Status.SKIPPED,
        Status.EXISTS,
        Status.CONFLICT,
    ]


def test_plan_exists_carries_ids() -> None:
    row = plan([valid(2, DANA, 101)]).rows[0]

    assert row.status == Status.EXISTS
    assert row.user_id == 5001
    assert row.bc_id == 9001


def test_plan_exists_ignores_email_case() -> None:
    row = plan([valid(2, DANA.upper(), 101)]).rows[0]

    assert row.status == Status.EXISTS


def test_plan_conflict_names_company() -> None:
    row = plan([valid(2, MARCO, 101)]).rows[0]

    assert row.status == Status.CONFLICT
    assert row.code == "EMAIL_TAKEN"
    assert row.message is not None
    assert '"Globex Supply"' in row.message
    assert "102" in row.message


def test_plan_conflict_without_company_name() -> None:
    api = FakeB2BApi.from_seed()
    api.fail_on["get_company"] = TransientApiError("503 after 5 attempts", status=503)

    row = plan([valid(2, MARCO, 101)], api).rows[0]

    assert row.status == Status.CONFLICT
    assert row.message is not None
    assert "Company 102." in row.message


def test_plan_invalid_message_has_cell() -> None:
    row = plan([invalid(7)]).rows[0]

    assert row.status == Status.INVALID
    assert row.code == "EMAIL_INVALID"
    assert row.message is not None
    assert row.message.startswith("Users!A7: The email has no @.")


def test_plan_repeated_email_conflicts() -> None:
    results = [valid(2, "same@example.com"), valid(3, "SAME@example.com", 102)]

    rows = plan(results).rows

    assert rows[0].status == Status.WOULD_CREATE
    assert rows[1].status == Status.CONFLICT
    assert rows[1].code == "EMAIL_DUPLICATE"
    assert rows[1].message is not None
    assert "Row 2" in rows[1].message


def test_plan_creates_nothing() -> None:
    api = FakeB2BApi.from_seed()

    plan(new_users(12), api)

    created = [name for name, _ in api.calls if name.startswith("create")]
    assert created == []
    assert len(api.users) == 3


def test_plan_auth_error_propagates() -> None:
    api = FakeB2BApi.from_seed()
    api.fail_on["list_users"] = AuthError("Invalid token header.", status=401)
    api.fail_on["find_user_by_email"] = AuthError("Invalid token header.", status=401)

    with pytest.raises(AuthError):
        plan(new_users(3), api)


# Estimate


def test_estimate_bulk_verify() -> None:
    # Company 101: batches of 10, 10 and 5; Company 102: one batch of 3, which
    # is merged with the batch of 5.
    results = new_users(25, 101) + new_users(3, 102, first_row=100)

    result = plan(results)

    # The store has 3 users, so the pre-flight reads them with one listing page.
    # The 28 new users then fit one listing page.
    assert result.creates == 3
    assert result.lookups == 1 + 1
    assert result.requests == 5
    assert result.minutes == pytest.approx(5 / 120)


def test_estimate_one_listing_per_page() -> None:
    requests = [r.request for r in new_users(600) if r.request is not None]

    estimate = estimate_create_requests(requests, BULK)

    assert estimate.creates == 60
    assert estimate.verifications == 3


def test_estimate_single_mode() -> None:
    send = SendSettings(mode="single", bulk_size=10, bulk_result_order="verify")

    result = plan(new_users(7), send=send)

    assert result.creates == 7
    assert result.lookups == 1
    assert result.requests == 8


def test_estimate_input_order_merges_batches() -> None:
    send = SendSettings(mode="bulk", bulk_size=10, bulk_result_order="input")
    results = new_users(4, 101) + new_users(4, 102, first_row=50)

    result = plan(results, send=send)

    assert result.creates == 1
    assert result.lookups == 1
    assert result.requests == 2


def test_estimate_counts_store_requests() -> None:
    result = plan(new_users(2), store_requests=6)

    # 6 for the store's settings, 1 pre-flight page, 1 create, 1 verification.
    assert result.lookups == 6 + 1 + 1
    assert result.requests == 9


def test_estimate_skips_settled_rows() -> None:
    results = [valid(2, DANA, 101), valid(3, MARCO, 101), invalid(4)]

    result = plan(results)

    assert result.creates == 0
    assert result.requests == result.lookups


def test_estimate_per_email_preflight() -> None:
    # 1,000 users in the store take 4 listing pages, more than looking up 2 emails
    # one by one after the first page.
    api = FakeB2BApi.from_seed()
    api.users += [
        UserRecord(
            user_id=7000 + n, bc_id=None, company_id=104, email=f"u{n}@x.example"
        )
        for n in range(1000)
    ]

    result = plan(new_users(2), api)

    assert api.stats.by_endpoint == {"list_users": 1, "find_user_by_email": 2}
    assert result.lookups == 3 + 1


def test_estimate_batch_of_one_needs_no_lookup() -> None:
    estimate = estimate_create_requests(
        [request for r in new_users(11) if (request := r.request) is not None], BULK
    )

    assert estimate.creates == 2
    assert estimate.verifications == 1


def test_plan_requests_counts_own_lookups() -> None:
    api = FakeB2BApi.from_seed()

    result = plan([valid(2, MARCO, 101)], api)

    # One pre-flight page and the conflicting Company's name.
    assert result.plan_requests == 2
    assert api.stats.requests == 2
