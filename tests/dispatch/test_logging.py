"""The events dispatch logs: one per row outcome, one summary, no personal data."""

from __future__ import annotations

from structlog.testing import capture_logs

from provisioner.journal import Journal

from .conftest import make_request, run_dispatch
from .fake_api import UNKNOWN_AFTER, FakeApi


def test_one_event_per_row_outcome(journal: Journal) -> None:
    api = FakeApi()
    api.add_user("user3@example.com", 101)

    with capture_logs() as events:
        run_dispatch([make_request(n) for n in (2, 3, 4)], api, journal)

    outcomes = [event for event in events if event["event"] == "row_outcome"]
    assert sorted(event["row"] for event in outcomes) == [2, 3, 4]
    by_row = {event["row"]: event for event in outcomes}
    assert by_row[3]["status"] == "exists"
    assert by_row[2]["status"] == "created"
    assert by_row[2]["user_id"] == api.users_with("user2@example.com")[0].user_id


def test_summary_event_has_counts(journal: Journal) -> None:
    api = FakeApi()

    with capture_logs() as events:
        run_dispatch([make_request(2), make_request(3)], api, journal)

    (finished,) = [event for event in events if event["event"] == "dispatch_finished"]
    assert finished["counts"] == {"created": 2}
    assert finished["stopped"] is None


def test_events_carry_no_email_or_name(journal: Journal) -> None:
    api = FakeApi()
    api.fail_next("create_users_bulk", UNKNOWN_AFTER)
    api.add_user("user5@example.com", 303)

    with capture_logs() as events:
        run_dispatch([make_request(n) for n in range(2, 8)], api, journal)

    text = repr(events)
    assert "@example.com" not in text
    assert "Lee" not in text
