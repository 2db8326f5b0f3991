"""Each failure the API can show, and the status the row gets for it."""

from __future__ import annotations

import time

from provisioner.api.types import UserRecord
from provisioner.dispatch import API_UNAVAILABLE, NO_ANSWER, NOT_SENT, StopToken
from provisioner.journal import IN_FLIGHT, Journal
from provisioner.model import RowOutcome, Status
from provisioner.rejections import COMPANY_NOT_FOUND, EMAIL_INVALID, EMAIL_TAKEN

from .conftest import make_request, run_dispatch, status_of, sync_requests
from .fake_api import (
    AUTH,
    TRANSIENT,
    UNKNOWN_AFTER,
    UNKNOWN_BEFORE,
    FakeApi,
)

# Rejected bulk batches


def test_bulk_rejected_all_or_nothing(journal: Journal) -> None:
    api = FakeApi(bulk_mode="all_or_nothing")
    api.invalid_emails.add("user4@example.com")

    run_dispatch([make_request(n) for n in range(2, 7)], api, journal)

    assert [status_of(journal, n) for n in range(2, 7)] == [
        "created",
        "created",
        "rejected",
        "created",
        "created",
    ]
    row = journal.row(4)
    assert row is not None
    assert row.code == EMAIL_INVALID
    assert api.duplicates() == {}


def test_bulk_rejected_partial_finds_created(journal: Journal) -> None:
    api = FakeApi(bulk_mode="partial")
    api.missing_companies.add(101)
    requests = [make_request(2, 101), make_request(3, 102), make_request(4, 102)]
    requests += [make_request(5, 101)]

    run_dispatch(requests, api, journal, order="input")

    assert status_of(journal, 3) == "created"
    assert status_of(journal, 4) == "created"
    assert status_of(journal, 2) == "rejected"
    row = journal.row(5)
    assert row is not None
    assert row.code == COMPANY_NOT_FOUND
    assert api.duplicates() == {}
    assert api.calls["create_user"] == 2  # only the two rejected rows, one by one


def test_bulk_rejected_lookup_fails_stays_in_flight(journal: Journal) -> None:
    api = FakeApi(bulk_mode="partial")
    api.invalid_emails.add("user2@example.com")
    api.fail_next("find_user_by_email", TRANSIENT)

    run_dispatch([make_request(2), make_request(3)], api, journal)

    assert status_of(journal, 2) == IN_FLIGHT
    assert status_of(journal, 3) == IN_FLIGHT
    assert api.created["user3@example.com"] == 1


# Unanswered creates


def test_unknown_after_create_is_created(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_user", UNKNOWN_AFTER)

    run_dispatch([make_request(2)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "created"
    assert row.user_id == api.users_with("user2@example.com")[0].user_id
    assert api.calls["create_user"] == 1
    assert api.created["user2@example.com"] == 1


def test_unknown_before_create_is_resent(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_user", UNKNOWN_BEFORE)

    run_dispatch([make_request(2)], api, journal)

    assert status_of(journal, 2) == "created"
    assert api.calls["create_user"] == 2
    assert api.created["user2@example.com"] == 1


def test_looked_up_before_resend(journal: Journal) -> None:
    """Even a store that accepts a second user with the email gets only one."""
    api = FakeApi(unique_emails=False)
    api.fail_next("create_user", UNKNOWN_AFTER)

    run_dispatch([make_request(2)], api, journal)

    assert api.created["user2@example.com"] == 1


def test_unknown_every_time_fails(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_user", UNKNOWN_BEFORE, UNKNOWN_BEFORE, UNKNOWN_BEFORE)

    run_dispatch([make_request(2)], api, journal, max_attempts=3)

    row = journal.row(2)
    assert row is not None
    assert row.status == "failed"
    assert row.code == NO_ANSWER
    assert row.outcome_unknown
    assert api.calls["create_user"] == 3


def test_unknown_found_elsewhere_is_rejected(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_user", UNKNOWN_BEFORE)

    def someone_else_creates(bodies: object) -> None:
        if not api.users_with("user2@example.com"):
            api.add_user("user2@example.com", 303)

    api.before_create = someone_else_creates

    run_dispatch([make_request(2)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "rejected"
    assert row.code == EMAIL_TAKEN


def test_unknown_lookup_fails_stays_in_flight(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_user", UNKNOWN_AFTER)
    api.fail_next("find_user_by_email", None, TRANSIENT)  # pre-flight, then look-up

    run_dispatch([make_request(2)], api, journal)

    assert status_of(journal, 2) == IN_FLIGHT
    assert api.calls["create_user"] == 1


def test_bulk_unknown_after_create_no_resend(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_users_bulk", UNKNOWN_AFTER)

    run_dispatch([make_request(n) for n in range(2, 8)], api, journal)

    assert len(journal.rows({"created"})) == 6
    assert api.calls["create_users_bulk"] == 1
    assert api.duplicates() == {}


def test_bulk_unknown_before_create_resent(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_users_bulk", UNKNOWN_BEFORE)

    run_dispatch([make_request(n) for n in range(2, 8)], api, journal)

    assert len(journal.rows({"created"})) == 6
    assert api.calls["create_users_bulk"] == 2
    assert api.duplicates() == {}


# "Email already exists" on a single create


def user_appears_after_preflight(api: FakeApi, company_id: int) -> None:
    def create_first(bodies: object) -> None:
        if not api.users_with("user2@example.com"):
            api.add_user("user2@example.com", company_id)

    api.before_create = create_first


def test_email_exists_after_unknown_is_created(journal: Journal) -> None:
    """A create that went unanswered in an earlier run, then "already exists"."""
    api = FakeApi()
    request = make_request(2)
    journal.mark_in_flight([request])
    journal.mark_outcome_unknown([2])
    journal.record([RowOutcome(2, Status.FAILED, code=NO_ANSWER)])
    # The earlier create shows up only after the pre-flight looked.
    user_appears_after_preflight(api, request.company_id)

    run_dispatch([request], api, journal)

    assert status_of(journal, 2) == "created"
    assert api.calls["create_user"] == 1
    assert api.created["user2@example.com"] == 1


def test_email_exists_same_company_exists(journal: Journal) -> None:
    api = FakeApi()
    user_appears_after_preflight(api, 101)

    run_dispatch([make_request(2, 101)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "exists"
    assert row.user_id == api.users_with("user2@example.com")[0].user_id


def test_email_exists_in_same_run_after_unknown(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_user", UNKNOWN_AFTER)
    # The look-up right after the unanswered create does not see the user yet.
    real_find = api.find_user_by_email
    answers: list[str] = []

    async def find_late(email: str) -> UserRecord | None:
        found = await real_find(email)
        answers.append("missed" if len(answers) == 1 else "answered")
        return None if answers[-1] == "missed" else found

    api.find_user_by_email = find_late  # type: ignore[method-assign]

    run_dispatch([make_request(2)], api, journal)

    # Pre-flight, the missed look-up after the unanswered create, and the
    # look-up after "Email already exists".
    assert answers == ["answered", "missed", "answered"]
    assert status_of(journal, 2) == "created"
    assert api.calls["create_user"] == 2
    assert api.created["user2@example.com"] == 1


def test_email_exists_elsewhere_rejected(journal: Journal) -> None:
    api = FakeApi()
    api.company_names[404] = "Initech"
    user_appears_after_preflight(api, 404)

    run_dispatch([make_request(2, 101)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "rejected"
    assert row.code == EMAIL_TAKEN
    assert row.message is not None
    assert '"Initech" (id 404)' in row.message


def test_other_rejection_keeps_api_message(journal: Journal) -> None:
    api = FakeApi()
    api.missing_companies.add(101)

    run_dispatch([make_request(2, 101)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "rejected"
    assert row.code == COMPANY_NOT_FOUND
    assert row.message is not None
    assert "Company does not exist" in row.message


# Transient failures, credentials, stops


def test_transient_error_fails_row(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_user", TRANSIENT)

    run_dispatch([make_request(2)], api, journal)

    row = journal.row(2)
    assert row is not None
    assert row.status == "failed"
    assert row.code == API_UNAVAILABLE
    assert row.message is not None
    assert "503" in row.message


def test_failed_row_retried_next_run(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_user", TRANSIENT)
    requests = [make_request(2)]
    sync_requests(journal, requests)
    run_dispatch(requests, api, journal)

    sync_requests(journal, requests)
    run_dispatch(requests, api, journal)

    assert status_of(journal, 2) == "created"
    assert api.created["user2@example.com"] == 1


def test_auth_error_stops_dispatch(journal: Journal) -> None:
    api = FakeApi()
    requests = [make_request(n, 100 + n) for n in range(2, 12)]
    sync_requests(journal, requests)
    api.fail_next("create_user", None, None, AUTH)

    summary = run_dispatch(requests, api, journal, mode="single", max_concurrency=1)

    assert summary.auth_failed
    assert summary.stopped == "auth"
    assert [status_of(journal, n) for n in range(2, 12)] == ["created"] * 2 + [
        "pending"
    ] * 8
    row = journal.row(4)
    assert row is not None
    assert row.code == NOT_SENT
    assert api.calls["create_user"] == 3


def test_auth_error_during_preflight(journal: Journal) -> None:
    api = FakeApi()
    api.auth_after_calls = 0
    requests = [make_request(2), make_request(3)]
    sync_requests(journal, requests)

    summary = run_dispatch(requests, api, journal)

    assert summary.auth_failed
    assert summary.counts == {"pending": 2}
    assert api.calls["create_users_bulk"] == 0


def test_stop_takes_no_new_batch(journal: Journal) -> None:
    api = FakeApi()
    requests = [make_request(n, 100 + n) for n in range(2, 12)]
    sync_requests(journal, requests)
    stop = StopToken()

    def stop_after_first(outcome: RowOutcome) -> None:
        stop.request("signal SIGTERM")

    summary = run_dispatch(
        requests,
        api,
        journal,
        mode="single",
        max_concurrency=1,
        stop=stop,
        on_outcome=stop_after_first,
    )

    assert summary.stopped == "signal SIGTERM"
    assert summary.counts == {"created": 1, "pending": 9}
    assert api.calls["create_user"] == 1


def test_stop_lets_running_batches_finish(journal: Journal) -> None:
    api = FakeApi()
    requests = [make_request(n, 100 + n % 4) for n in range(2, 42)]
    sync_requests(journal, requests)
    stop = StopToken()
    api.before_create = lambda bodies: stop.request("signal SIGINT")

    summary = run_dispatch(requests, api, journal, max_concurrency=2, stop=stop)

    assert api.calls["create_users_bulk"] == 2
    assert summary.counts == {"created": 20, "pending": 20}


def test_stop_keeps_resend_pending(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_user", UNKNOWN_BEFORE)
    stop = StopToken()
    api.before_create = lambda bodies: stop.request("deadline")

    run_dispatch([make_request(2)], api, journal, stop=stop)

    row = journal.row(2)
    assert row is not None
    assert row.status == "pending"
    assert row.outcome_unknown
    assert api.calls["create_user"] == 1


def test_past_deadline_sends_nothing(journal: Journal) -> None:
    api = FakeApi()
    stop = StopToken(deadline=time.monotonic() - 1)

    summary = run_dispatch([make_request(2)], api, journal, stop=stop)

    assert summary.stopped == "deadline"
    assert api.calls["create_user"] == 0
