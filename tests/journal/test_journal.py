"""The job journal: file safety, the job lock, and how rows change status."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.api.types import CreatedIds
from provisioner.errors import JobLockedError
from provisioner.journal import IN_FLIGHT, OUTCOME_UNKNOWN, Journal, JournalError
from provisioner.model import (
    RowIssue,
    RowOutcome,
    RowResult,
    SourceRow,
    Status,
    UserRequest,
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "jobs" / "job-1" / "journal.sqlite"


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    with Journal.open(path) as opened:
        yield opened


def request(row_number: int, email: str = "", first_name: str = "Ann") -> UserRequest:
    address = email or f"user{row_number}@example.com"
    body = {"companyId": 101, "email": address, "firstName": first_name, "role": 2}
    return UserRequest(row_number=row_number, email=address, company_id=101, body=body)


def valid(row_number: int, email: str = "", first_name: str = "Ann") -> RowResult:
    return RowResult(
        row=SourceRow(row_number=row_number, cells=()),
        request=request(row_number, email, first_name),
    )


def invalid(row_number: int) -> RowResult:
    issue = RowIssue(
        code="EMAIL_INVALID",
        message="'ann@' is not an email address.",
        fix="Correct the address.",
        cell=f"Users!A{row_number}",
    )
    return RowResult(
        row=SourceRow(row_number=row_number, cells=()),
        request=None,
        status=Status.INVALID,
        issues=[issue],
    )


def mode_of(file: Path) -> int:
    return stat.S_IMODE(file.stat().st_mode)


# The file


def test_wal_mode_on(journal: Journal, path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    finally:
        connection.close()
    assert mode == "wal"


def test_files_owner_only(journal: Journal, path: Path) -> None:
    journal.sync([valid(2)])
    journal.mark_in_flight([request(2)])

    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    assert mode_of(path) == 0o600
    assert wal.exists()
    assert mode_of(wal) == 0o600
    assert shm.exists()
    assert mode_of(shm) == 0o600


def test_loose_existing_file_tightened(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.touch(mode=0o644)
    os.chmod(path, 0o644)

    with Journal.open(path):
        assert mode_of(path) == 0o600


def test_reopen_keeps_rows(path: Path) -> None:
    with Journal.open(path) as journal:
        journal.sync([valid(2), invalid(3)])

    with Journal.open(path) as reopened:
        assert reopened.counts() == {"pending": 1, "invalid": 1}


def test_newer_schema_rejected(path: Path) -> None:
    with Journal.open(path) as journal:
        journal.set_meta("schema_version", "99")

    with pytest.raises(JournalError, match="schema version 99"):
        Journal.open(path)


def test_meta_round_trip(journal: Journal) -> None:
    journal.set_meta("source", "users.xlsx")
    journal.set_meta("source", "users-2.xlsx")

    assert journal.get_meta("source") == "users-2.xlsx"
    assert journal.get_meta("missing", "none") == "none"


# The lock


def test_second_lock_names_holder(journal: Journal, path: Path) -> None:
    journal.acquire_lock()

    with Journal.open(path) as other, pytest.raises(JobLockedError) as caught:
        other.acquire_lock()

    message = str(caught.value)
    assert "Job job-1 is being processed by process" in message
    assert str(os.getpid()) in message
    assert "wait for it to finish" in message


def test_lock_released_on_close(path: Path) -> None:
    with Journal.open(path) as first:
        first.acquire_lock()

    with Journal.open(path) as second:
        second.acquire_lock()
        assert second.lock_path.exists()


def test_lock_held_by_other_process(path: Path) -> None:
    path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys
                from pathlib import Path
                from provisioner.journal import Journal
                journal = Journal.open(Path({str(path)!r}))
                journal.acquire_lock()
                print("locked", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with Journal.open(path) as journal, pytest.raises(JobLockedError) as caught:
            journal.acquire_lock()
        assert f"process {holder.pid} since" in str(caught.value)
    finally:
        holder.communicate("")
    assert holder.returncode == 0


# sync


def test_sync_inserts_new_rows(journal: Journal) -> None:
    journal.sync([valid(2), invalid(3)])

    row = journal.row(2)
    assert row is not None
    assert row.status == "pending"
    assert row.email_key == "user2@example.com"
    assert row.body is not None
    assert row.body["firstName"] == "Ann"
    bad = journal.row(3)
    assert bad is not None
    assert bad.status == "invalid"
    assert bad.code == "EMAIL_INVALID"
    assert bad.message is not None
    assert "Users!A3" in bad.message


def test_sync_never_changes_final_rows(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.mark_in_flight([request(2)])
    journal.record([RowOutcome(2, Status.CREATED, user_id=7, bc_id=8)])

    journal.sync([valid(2, first_name="Anne")])
    journal.sync([invalid(2)])

    row = journal.row(2)
    assert row is not None
    assert row.status == "created"
    assert row.user_id == 7
    assert row.body is not None
    assert row.body["firstName"] == "Ann"


def test_sync_corrected_row_back_to_pending(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.record([RowOutcome(2, Status.REJECTED, code="ROLE_INVALID", message="x")])

    journal.sync([valid(2, first_name="Anne")])

    row = journal.row(2)
    assert row is not None
    assert row.status == "pending"
    assert row.code is None
    assert row.body is not None
    assert row.body["firstName"] == "Anne"


def test_sync_unchanged_rejected_stays(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.record([RowOutcome(2, Status.REJECTED, code="ROLE_INVALID", message="x")])

    journal.sync([valid(2)])

    row = journal.row(2)
    assert row is not None
    assert row.status == "rejected"
    assert row.code == "ROLE_INVALID"


def test_sync_retry_rejected_on_request(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.record([RowOutcome(2, Status.REJECTED, code="COMPANY_NOT_APPROVED")])

    journal.sync([valid(2)], retry_rejected=True)

    assert journal.counts() == {"pending": 1}


def test_sync_failed_stays_failed(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.record([RowOutcome(2, Status.FAILED, code="API_UNAVAILABLE")])

    journal.sync([valid(2)])

    assert journal.counts() == {"failed": 1}


def test_sync_invalid_row_corrected(journal: Journal) -> None:
    journal.sync([invalid(2)])

    journal.sync([valid(2)])

    row = journal.row(2)
    assert row is not None
    assert row.status == "pending"
    assert row.code is None


def test_sync_keeps_in_flight(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.mark_in_flight([request(2)])

    journal.sync([valid(2, first_name="Anne")])

    row = journal.row(2)
    assert row is not None
    assert row.status == IN_FLIGHT
    assert row.body is not None
    assert row.body["firstName"] == "Ann"


def test_deferred_correction_applies_when_not_created(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.mark_in_flight([request(2)])
    journal.sync([valid(2, email="fixed@example.com")])

    journal.record([RowOutcome(2, Status.PENDING)])

    row = journal.row(2)
    assert row is not None
    assert row.status == "pending"
    assert row.email == "fixed@example.com"


def test_deferred_correction_dropped_when_created(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.mark_in_flight([request(2)])
    journal.sync([valid(2, email="fixed@example.com")])

    journal.record([RowOutcome(2, Status.CREATED, user_id=5, bc_id=6)])

    row = journal.row(2)
    assert row is not None
    assert row.status == "created"
    assert row.email == "user2@example.com"


def test_deferred_invalid_applies(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.mark_in_flight([request(2)])
    journal.sync([invalid(2)])

    journal.record([RowOutcome(2, Status.PENDING)])

    assert journal.counts() == {"invalid": 1}


def test_new_email_forgets_unknown_outcome(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.mark_in_flight([request(2)])
    journal.mark_outcome_unknown([2])
    journal.record([RowOutcome(2, Status.FAILED)])

    journal.sync([valid(2, email="other@example.com")])

    row = journal.row(2)
    assert row is not None
    assert not row.outcome_unknown


# record, outcomes, counts


def test_record_never_undoes_created(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.record([RowOutcome(2, Status.CREATED, user_id=7, bc_id=8)])

    journal.record([RowOutcome(2, Status.FAILED, code="API_UNAVAILABLE")])

    row = journal.row(2)
    assert row is not None
    assert row.status == "created"
    assert row.user_id == 7


def test_in_flight_outcome_shows_pending(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.mark_in_flight([request(2)])

    outcome = journal.outcomes()[2]

    assert outcome.status == Status.PENDING
    assert outcome.code == OUTCOME_UNKNOWN
    assert journal.counts() == {IN_FLIGHT: 1}


def test_attempts_audit_trail(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.mark_in_flight([request(2)], kind="bulk")
    journal.mark_outcome_unknown([2])
    journal.mark_in_flight([request(2)], kind="create")
    journal.record([RowOutcome(2, Status.CREATED, user_id=1, bc_id=2)])

    assert journal.attempts(2) == [("bulk", "outcome unknown"), ("create", "created")]
    row = journal.row(2)
    assert row is not None
    assert row.attempts == 2


def test_rows_filtered_by_status(journal: Journal) -> None:
    journal.sync([valid(2), invalid(3), valid(4)])

    pending = journal.rows({Status.PENDING})

    assert [row.row_number for row in pending] == [2, 4]


def test_invalid_again_updates_message(journal: Journal) -> None:
    journal.sync([invalid(2)])
    changed = invalid(2)
    changed.issues[0] = RowIssue(code="ROLE_INVALID", message="Role 'x'.", fix="Fix.")

    journal.sync([changed])

    row = journal.row(2)
    assert row is not None
    assert row.code == "ROLE_INVALID"


def test_invalid_row_keeps_unknown_outcome(journal: Journal) -> None:
    journal.sync([valid(2)])
    journal.mark_in_flight([request(2)])
    journal.mark_outcome_unknown([2])
    journal.record([RowOutcome(2, Status.FAILED)])
    journal.sync([invalid(2)])

    journal.sync([valid(2)])

    row = journal.row(2)
    assert row is not None
    assert row.status == "pending"
    assert row.outcome_unknown


def test_bulk_response_kept_with_rows(journal: Journal, path: Path) -> None:
    journal.mark_in_flight([request(2), request(3)], kind="bulk")
    response = [CreatedIds(501, 901), CreatedIds(502, 902)]

    journal.record_bulk_response([2, 3], response)

    with Journal.open(path) as reopened:
        assert reopened.bulk_responses([2, 3, 4]) == {2: response, 3: response}
        assert reopened.counts() == {IN_FLIGHT: 2}


def test_bulk_response_dropped_on_outcome(journal: Journal) -> None:
    journal.mark_in_flight([request(2), request(3)], kind="bulk")
    journal.record_bulk_response([2, 3], [CreatedIds(501, 901), CreatedIds(502, 902)])

    journal.record(
        [RowOutcome(row_number=2, status=Status.CREATED, user_id=502, bc_id=902)]
    )

    assert list(journal.bulk_responses([2, 3])) == [3]


def test_bulk_response_dropped_on_resend(journal: Journal) -> None:
    journal.mark_in_flight([request(2)], kind="bulk")
    journal.record_bulk_response([2], [CreatedIds(501, 901)])

    journal.mark_in_flight([request(2)], kind="create")

    assert journal.bulk_responses([2]) == {}
