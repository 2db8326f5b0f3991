"""Users that exist before the run, and rows that share an email."""

from __future__ import annotations

from provisioner.dispatch import EMAIL_DUPLICATE, LOOKUP_FAILED
from provisioner.journal import Journal
from provisioner.model import RowOutcome, Status
from provisioner.rejections import EMAIL_TAKEN

from .conftest import make_request, run_dispatch, status_of, sync_requests
from .fake_api import TRANSIENT, FakeApi


def test_user_in_same_company_exists(journal: Journal) -> None:
    api = FakeApi()
    user = api.add_user("user2@example.com", 101)

    run_dispatch([make_request(2, 101)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "exists"
    assert row.user_id == user.user_id
    assert row.bc_id == user.bc_id
    assert api.created["user2@example.com"] == 1


def test_user_in_other_company_is_rejected(journal: Journal) -> None:
    api = FakeApi()
    api.add_user("user2@example.com", 202)

    run_dispatch([make_request(2, 101)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "rejected"
    assert row.code == EMAIL_TAKEN
    assert row.message is not None
    assert "Company 202" in row.message
    assert api.calls["create_user"] == 0


def test_email_compared_without_case(journal: Journal) -> None:
    api = FakeApi()
    api.add_user("User2@Example.com", 101)

    run_dispatch([make_request(2, 101, email="user2@EXAMPLE.com")], api, journal)

    assert status_of(journal, 2) == "exists"
    assert api.calls["create_user"] == 0


def test_created_rows_are_not_sent_again(journal: Journal) -> None:
    api = FakeApi()
    requests = [make_request(2), make_request(3)]
    sync_requests(journal, requests)
    run_dispatch(requests, api, journal)
    calls_after_first_run = sum(api.calls.values())

    summary = run_dispatch(requests, api, journal)

    assert summary.counts == {"created": 2}
    assert summary.requests_used == 0
    assert sum(api.calls.values()) == calls_after_first_run


def test_earlier_unanswered_create_found_is_created(journal: Journal) -> None:
    """A failed row whose create went unanswered in an earlier run was created."""
    api = FakeApi()
    request = make_request(2)
    journal.mark_in_flight([request])
    journal.mark_outcome_unknown([2])
    journal.record([RowOutcome(2, Status.FAILED, code="NO_ANSWER")])
    api.add_user(request.email, request.company_id)

    run_dispatch([request], api, journal)

    assert status_of(journal, 2) == "created"


def test_preflight_failure_sends_nothing(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("list_users", TRANSIENT)
    requests = [make_request(2), make_request(3)]

    summary = run_dispatch(requests, api, journal)

    assert summary.counts == {"failed": 2}
    row = journal.row(2)
    assert row is not None
    assert row.code == LOOKUP_FAILED
    assert api.calls["create_users_bulk"] == 0


def test_two_rows_one_email_conflict(journal: Journal) -> None:
    api = FakeApi()
    requests = [make_request(2), make_request(3, email="USER2@example.com")]
    sync_requests(journal, requests)

    run_dispatch(requests, api, journal)

    row = journal.row(3)
    assert row is not None
    assert row.status == "conflict"
    assert row.code == EMAIL_DUPLICATE
    assert row.message is not None
    assert "Row 2" in row.message
    assert status_of(journal, 2) == "created"
    assert api.created["user2@example.com"] == 1


def test_conflict_row_stays_on_rerun(journal: Journal) -> None:
    api = FakeApi()
    requests = [make_request(2), make_request(3, email="user2@example.com")]
    sync_requests(journal, requests)
    run_dispatch(requests, api, journal)

    sync_requests(journal, requests)
    run_dispatch(requests, api, journal)

    assert status_of(journal, 3) == "conflict"
    assert api.created["user2@example.com"] == 1
