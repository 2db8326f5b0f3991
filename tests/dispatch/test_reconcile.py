"""Rows an earlier run left in flight are looked up before anything is sent."""

from __future__ import annotations

from provisioner.journal import IN_FLIGHT, Journal
from provisioner.rejections import EMAIL_TAKEN

from .conftest import make_request, run_dispatch, status_of, sync_requests
from .fake_api import TRANSIENT, FakeApi


def crash_after_send(
    journal: Journal, api: FakeApi, created: bool, row: int = 2
) -> None:
    """Leave ``row`` in flight as a killed run would, with or without its user."""
    request = make_request(row)
    journal.mark_in_flight([request])
    if created:
        api.add_user(request.email, request.company_id)


def test_in_flight_found_in_company_is_created(journal: Journal) -> None:
    api = FakeApi()
    crash_after_send(journal, api, created=True)

    run_dispatch([make_request(2)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "created"
    assert row.user_id == api.users_with("user2@example.com")[0].user_id
    assert api.calls["create_user"] + api.calls["create_users_bulk"] == 0
    assert api.created["user2@example.com"] == 1


def test_in_flight_found_elsewhere_is_rejected(journal: Journal) -> None:
    api = FakeApi()
    api.company_names[202] = "Globex Supply"
    journal.mark_in_flight([make_request(2)])
    api.add_user("user2@example.com", 202)

    run_dispatch([make_request(2)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "rejected"
    assert row.code == EMAIL_TAKEN
    assert row.message is not None
    assert "Globex Supply" in row.message
    assert "202" in row.message


def test_in_flight_not_found_is_sent_once(journal: Journal) -> None:
    api = FakeApi()
    crash_after_send(journal, api, created=False)

    run_dispatch([make_request(2)], api, journal)

    assert status_of(journal, 2) == "created"
    assert api.created["user2@example.com"] == 1


def test_reconciled_row_remembers_unknown(journal: Journal) -> None:
    api = FakeApi()
    crash_after_send(journal, api, created=False)
    api.auth_after_calls = 1  # the reconcile look-up, then credentials fail

    run_dispatch([make_request(2)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "pending"
    assert row.outcome_unknown


def test_in_flight_stays_when_lookup_fails(journal: Journal) -> None:
    api = FakeApi()
    crash_after_send(journal, api, created=False)
    api.fail_next("find_user_by_email", TRANSIENT)

    run_dispatch([make_request(2)], api, journal)

    assert status_of(journal, 2) == IN_FLIGHT
    assert api.created["user2@example.com"] == 0
    assert journal.outcomes()[2].code == "OUTCOME_UNKNOWN"


def test_row_with_same_email_waits_for_reconcile(journal: Journal) -> None:
    api = FakeApi()
    crash_after_send(journal, api, created=False, row=2)
    api.fail_next("find_user_by_email", TRANSIENT)
    requests = [make_request(2), make_request(3, email="user2@example.com")]
    sync_requests(journal, requests)

    run_dispatch(requests, api, journal)

    assert status_of(journal, 2) == IN_FLIGHT
    assert status_of(journal, 3) == "pending"
    assert api.created["user2@example.com"] == 0


def test_in_flight_created_then_pending_row_exists(journal: Journal) -> None:
    """After a crash the reconciled row counts as created, not as pre-existing."""
    api = FakeApi()
    crash_after_send(journal, api, created=True)

    summary = run_dispatch([make_request(2), make_request(3)], api, journal)

    assert summary.counts == {"created": 2}
    assert api.duplicates() == {}
