"""Batching, the worker pool, and mapping bulk responses to rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from provisioner.api.types import UserRecord
from provisioner.config import SendSettings
from provisioner.dispatch import plan_batches
from provisioner.journal import IN_FLIGHT, Journal

from .conftest import assert_ids_match_store, make_request, run_dispatch, status_of
from .fake_api import SHORT_RESPONSE, TRANSIENT, FakeApi


def rows_of(batches: list[list[Any]]) -> list[list[int]]:
    return [[request.row_number for request in batch] for batch in batches]


def test_single_mode_one_row_per_batch() -> None:
    requests = [make_request(n) for n in (2, 3, 4)]

    batches = plan_batches(requests, SendSettings(mode="single"))

    assert rows_of(batches) == [[2], [3], [4]]


def test_bulk_batches_group_by_company() -> None:
    companies = {2: 101, 3: 102, 4: 101, 5: 102, 6: 101}
    requests = [make_request(n, c) for n, c in companies.items()]

    batches = plan_batches(requests, SendSettings(bulk_size=2))

    assert rows_of(batches) == [[2, 4], [3, 5], [6]]


@pytest.mark.parametrize("order", ["verify", "input"])
def test_short_batches_merged(order: str) -> None:
    companies = {2: 101, 3: 102, 4: 103, 5: 101, 6: 101}
    requests = [make_request(n, c) for n, c in companies.items()]

    settings = SendSettings(bulk_size=2, bulk_result_order=order)
    batches = plan_batches(requests, settings)

    assert rows_of(batches) == [[2, 5], [6, 3], [4]]


def test_bulk_batch_size_respected(journal: Journal) -> None:
    api = FakeApi()
    sizes: list[int] = []
    api.before_create = lambda bodies: sizes.append(len(bodies))

    run_dispatch([make_request(n) for n in range(2, 25)], api, journal, bulk_size=10)

    assert sorted(sizes) == [3, 10, 10]


def test_batch_of_one_uses_single_create(journal: Journal) -> None:
    api = FakeApi()

    run_dispatch([make_request(2)], api, journal)

    assert api.calls["create_user"] == 1
    assert api.calls["create_users_bulk"] == 0
    assert status_of(journal, 2) == "created"


def test_rows_in_flight_during_send(journal: Journal) -> None:
    api = FakeApi()
    seen: list[str] = []

    def check(bodies: Sequence[dict[str, Any]]) -> None:
        for body in bodies:
            row_number = int(body["email"].removeprefix("user").split("@")[0])
            seen.append(status_of(journal, row_number))

    api.before_create = check

    run_dispatch([make_request(n) for n in range(2, 8)], api, journal, bulk_size=3)

    assert seen == [IN_FLIGHT] * 6


def test_in_flight_mark_survives_reopen(journal: Journal) -> None:
    """The mark is committed before the send, so another connection reads it."""
    api = FakeApi()
    seen: list[str | None] = []

    def check(bodies: Sequence[dict[str, Any]]) -> None:
        with Journal.open(journal.path) as other:
            row = other.row(2)
            seen.append(None if row is None else row.status)

    api.before_create = check

    run_dispatch([make_request(2)], api, journal)

    assert seen == [IN_FLIGHT]


def test_workers_never_exceed_concurrency(journal: Journal) -> None:
    api = FakeApi()
    requests = [make_request(n, 100 + n % 7) for n in range(2, 60)]

    run_dispatch(requests, api, journal, mode="single", max_concurrency=3)

    assert api.max_active == 3
    assert api.duplicates() == {}


def test_verify_maps_shuffled_answer(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True, seed=7)
    api.add_user("someone.else@example.com", 101)

    run_dispatch([make_request(n) for n in range(2, 12)], api, journal)

    assert len(journal.rows({"created"})) == 10
    assert_ids_match_store(journal, api)


def test_verify_pages_large_company(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True, seed=3)
    for number in range(260):
        api.add_user(f"old{number}@example.com", 101)

    run_dispatch([make_request(n) for n in range(2, 12)], api, journal)

    assert len(journal.rows({"created"})) == 10
    assert_ids_match_store(journal, api)


def test_input_order_trusts_answer(journal: Journal) -> None:
    api = FakeApi()

    run_dispatch([make_request(n) for n in range(2, 7)], api, journal, order="input")

    assert api.calls["list_users"] == 1  # the pre-flight only
    assert api.calls["find_user_by_email"] == 0
    assert_ids_match_store(journal, api)


def test_shuffled_answer_would_mislead_input_order(journal: Journal) -> None:
    """Why verify is the default: trusting a shuffled response swaps ids."""
    api = FakeApi(shuffle_bulk=True, seed=1)

    run_dispatch([make_request(n) for n in range(2, 12)], api, journal, order="input")

    mismatched = [
        row.row_number
        for row in journal.rows({"created"})
        if row.email is not None and api.users_with(row.email)[0].user_id != row.user_id
    ]
    assert mismatched


def test_short_response_treated_as_unknown(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_users_bulk", SHORT_RESPONSE)

    run_dispatch([make_request(n) for n in range(2, 7)], api, journal)

    assert len(journal.rows({"created"})) == 5
    assert api.duplicates() == {}
    assert api.calls["create_users_bulk"] == 1
    assert_ids_match_store(journal, api)


def test_verify_listing_fails_looks_up_emails(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True, seed=2)
    api.fail_next("list_users", None, TRANSIENT)  # pre-flight, then verification

    run_dispatch([make_request(n) for n in range(2, 7)], api, journal)

    assert len(journal.rows({"created"})) == 5
    assert api.calls["find_user_by_email"] == 5
    assert_ids_match_store(journal, api)


def test_verify_user_missing_stays_in_flight(journal: Journal) -> None:
    api = FakeApi(shuffle_bulk=True)
    api.fail_next("list_users", None, TRANSIENT)
    real_find = api.find_user_by_email

    async def hide_row_three(email: str) -> UserRecord | None:
        found = await real_find(email)
        return None if email == "user3@example.com" else found

    api.find_user_by_email = hide_row_three  # type: ignore[method-assign]

    run_dispatch([make_request(n) for n in range(2, 7)], api, journal)

    assert status_of(journal, 3) == IN_FLIGHT
    assert len(journal.rows({"created"})) == 4
    assert api.created["user3@example.com"] == 1
