"""Bulk responses in verify mode, matched to rows by listing many batches at once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from provisioner.api.types import CreatedIds, Page, UserRecord
from provisioner.config import SendSettings
from provisioner.dispatch import StopToken, dispatch
from provisioner.journal import IN_FLIGHT, Journal
from provisioner.plan import estimate_create_requests

from .conftest import (
    assert_ids_match_store,
    make_request,
    run_dispatch,
    status_of,
    sync_requests,
)
from .fake_api import (
    AUTH,
    SHORT_RESPONSE,
    TRANSIENT,
    UNKNOWN_AFTER,
    WRONG_ID,
    FakeApi,
)


def test_one_listing_page_per_250_rows(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True, seed=4)
    requests = [make_request(n) for n in range(2, 302)]

    summary = run_dispatch(requests, api, journal)

    assert summary.counts == {"created": 300}
    assert api.calls["create_users_bulk"] == 30
    # The pre-flight's page of the store, then one page per 250 new users.
    assert api.calls["list_users"] == 3
    assert api.calls["find_user_by_email"] == 0
    assert_ids_match_store(journal, api)


def test_companies_share_listing_pages(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True, seed=5)
    requests = [make_request(n, 101 + n % 100) for n in range(2, 502)]

    summary = run_dispatch(requests, api, journal, max_concurrency=4)

    assert summary.counts == {"created": 500}
    # The pre-flight's page, then one page of the store per 250 new users,
    # however many Companies they belong to.
    assert api.calls["list_users"] == 1 + 2
    assert api.calls["find_user_by_email"] == 0
    assert_ids_match_store(journal, api)


def test_known_store_size_skips_old_users(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True)
    for number in range(600):
        api.add_user(f"old{number}@example.com", 101)

    run_dispatch([make_request(n) for n in range(2, 22)], api, journal)

    # Three pre-flight pages list the store; one page from position 600 on
    # lists the 20 new users.
    assert api.calls["list_users"] == 3 + 1
    assert_ids_match_store(journal, api)


def test_unknown_store_size_reads_from_end(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True)
    for number in range(5000):
        api.add_user(f"old{number}@example.com", 101)

    summary = run_dispatch([make_request(n) for n in range(2, 14)], api, journal)

    assert summary.counts == {"created": 12}
    # A store this large is checked by email, so its size is unknown: the first
    # page gives the size, and the next page, the last, lists the new users.
    assert api.calls["find_user_by_email"] == 12
    assert api.calls["list_users"] == 1 + 2
    assert_ids_match_store(journal, api)


def test_plan_estimate_matches_requests(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True, seed=10)
    for number in range(40):
        api.add_user(f"old{number}@example.com", 101 + number % 3)
    companies = [101] * 7 + [102] * 2 + [103]
    requests = [make_request(n, companies[n % 10]) for n in range(2, 702)]
    estimate = estimate_create_requests(requests, SendSettings())

    run_dispatch(requests, api, journal, max_concurrency=4)

    creates = api.calls["create_users_bulk"] + api.calls["create_user"]
    assert creates == estimate.creates
    # The first listing is the pre-flight's page of the store.
    assert api.calls["list_users"] - 1 == estimate.verifications
    assert api.calls["find_user_by_email"] == 0


@pytest.mark.parametrize("list_order", ["newest_first", "random"])
def test_listing_order_not_assumed(journal: Journal, list_order: str) -> None:
    api = FakeApi(shuffle_bulk=True, list_order=list_order, seed=8)
    api.add_user("old@example.com", 101)
    requests = [make_request(n) for n in range(2, 402)]

    summary = run_dispatch(requests, api, journal, max_concurrency=3)

    assert summary.counts == {"created": 400}
    assert api.duplicates() == {}
    assert api.calls["create_users_bulk"] == 40
    assert_ids_match_store(journal, api)


def test_response_contradicted_by_listing(journal: Journal) -> None:
    api = FakeApi()
    api.add_user("old@example.com", 101)
    api.fail_next("create_users_bulk", WRONG_ID)
    requests = [make_request(n) for n in range(2, 12)]

    summary = run_dispatch(requests, api, journal)

    # The response gave row 2 the id of another user, so every row of the batch
    # is looked up by email, as after a create that went unanswered.
    assert summary.counts == {"created": 10}
    assert api.calls["create_users_bulk"] == 1
    assert api.calls["find_user_by_email"] == 10
    assert api.duplicates() == {}
    row = journal.row(2)
    assert row is not None
    assert row.outcome_unknown
    assert_ids_match_store(journal, api)


def test_killed_before_verification_reconciled(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True, seed=6)
    requests = [make_request(n) for n in range(2, 32)]
    sync_requests(journal, requests)
    list_users = api.list_users

    async def run_until_verification() -> None:
        task = asyncio.ensure_future(
            dispatch(
                requests,
                api=api,
                journal=journal,
                send=SendSettings(),
                max_concurrency=2,
                max_attempts=3,
                stop=StopToken(),
            )
        )

        async def cancel_at_verification(**query: Any) -> Page[UserRecord]:
            # The first listing is the pre-flight; the next one verifies.
            if api.calls["list_users"] >= 1:
                task.cancel()
            return await list_users(**query)

        api.list_users = cancel_at_verification  # type: ignore[method-assign]
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run_until_verification())
    assert journal.counts() == {IN_FLIGHT: 30}
    assert len(journal.bulk_responses(range(2, 32))) == 30

    api.list_users = list_users  # type: ignore[method-assign]
    summary = run_dispatch(requests, api, journal)

    assert summary.counts == {"created": 30}
    assert api.calls["create_users_bulk"] == 3
    assert api.duplicates() == {}
    assert journal.bulk_responses(range(2, 32)) == {}
    assert_ids_match_store(journal, api)


def test_reconcile_takes_bc_id_from_response(journal: Journal) -> None:
    api = FakeApi()
    # A user whose listing record lacks the customer id.
    api.users.append(UserRecord(7001, None, 101, "user2@example.com"))
    sync_requests(journal, [make_request(2)])
    journal.mark_in_flight([make_request(2)], kind="bulk")
    journal.record_bulk_response([2], [CreatedIds(7001, 9701)])

    run_dispatch([make_request(2)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "created"
    assert row.user_id == 7001
    assert row.bc_id == 9701


def test_auth_error_in_verification_keeps_rows(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True, seed=2)
    requests = [make_request(n) for n in range(2, 22)]
    sync_requests(journal, requests)
    api.fail_next("list_users", None, AUTH)  # pre-flight, then verification

    summary = run_dispatch(requests, api, journal)

    assert summary.auth_failed
    assert summary.counts == {IN_FLIGHT: 20}

    summary = run_dispatch(requests, api, journal)

    assert summary.counts == {"created": 20}
    assert api.calls["create_users_bulk"] == 2
    assert api.duplicates() == {}
    assert_ids_match_store(journal, api)


def test_stop_verifies_sent_batches(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True, seed=3)
    requests = [make_request(n) for n in range(2, 42)]
    sync_requests(journal, requests)
    stop = StopToken()
    api.before_create = lambda bodies: stop.request("signal SIGTERM")

    summary = run_dispatch(requests, api, journal, stop=stop)

    assert api.calls["create_users_bulk"] == 2
    assert summary.counts == {"created": 20, "pending": 20}
    assert summary.stopped == "signal SIGTERM"
    assert_ids_match_store(journal, api)


def test_listing_fails_rows_looked_up(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True, seed=9)
    requests = [make_request(n) for n in range(2, 32)]
    api.fail_next("list_users", None, TRANSIENT)

    summary = run_dispatch(requests, api, journal, max_concurrency=1)

    assert summary.counts == {"created": 30}
    assert api.calls["find_user_by_email"] == 30
    assert_ids_match_store(journal, api)


def test_user_missing_after_response_stays(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True, seed=1)
    requests = [make_request(n) for n in range(2, 12)]
    list_users = api.list_users

    async def hide_row_four(**query: Any) -> Page[UserRecord]:
        page = await list_users(**query)
        visible = [user for user in page.items if user.email != "user4@example.com"]
        return Page(visible, page.total_count - 1, page.offset, page.limit)

    api.list_users = hide_row_four  # type: ignore[method-assign]
    find_user_by_email = api.find_user_by_email

    async def hide_row_four_by_email(email: str) -> UserRecord | None:
        found = await find_user_by_email(email)
        return None if email == "user4@example.com" else found

    api.find_user_by_email = hide_row_four_by_email  # type: ignore[method-assign]

    run_dispatch(requests, api, journal)

    assert status_of(journal, 4) == IN_FLIGHT
    assert len(journal.rows({"created"})) == 9
    assert api.created["user4@example.com"] == 1


@pytest.mark.parametrize("list_order", ["created", "newest_first", "random"])
@pytest.mark.parametrize("seed", [11, 12])
def test_faults_in_verification_never_duplicate(
    tmp_path: Path, list_order: str, seed: int
) -> None:
    api = FakeApi(shuffle_bulk=True, list_order=list_order, seed=seed)
    # Users whose ids a wrong response returns.
    api.add_user("old101@example.com", 101)
    api.add_user("old102@example.com", 102)
    seeded = set(api.created)
    requests = [make_request(n, 101 + n % 2) for n in range(2, 602)]
    api.random_faults["create_users_bulk"] = {
        UNKNOWN_AFTER: 0.05,
        WRONG_ID: 0.05,
        SHORT_RESPONSE: 0.05,
    }
    api.random_faults["list_users"] = {TRANSIENT: 0.1}
    api.random_faults["find_user_by_email"] = {TRANSIENT: 0.02}

    with Journal.open(tmp_path / "journal.sqlite") as journal:
        sync_requests(journal, requests)
        run_dispatch(requests, api, journal, max_concurrency=3)
        assert api.duplicates() == {}
        assert set(journal.counts()) <= {"created", "failed", IN_FLIGHT}

        api.random_faults.clear()
        for _ in range(2):
            sync_requests(journal, requests)
            run_dispatch(requests, api, journal, max_concurrency=3)

        assert journal.counts() == {"created": 600}
        assert api.duplicates() == {}
        assert set(api.created) - seeded == {r.email_key for r in requests}
        assert_ids_match_store(journal, api)
