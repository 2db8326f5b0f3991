"""The job journal: one SQLite file per job that records what happened to every row.

The journal is what makes a run safe to kill at any moment. Before a create is
sent, its rows are marked ``in_flight`` and the mark is committed to disk. When the
response arrives, the rows get their outcome in one transaction. A run killed in
between leaves rows ``in_flight``, and the next run looks those users up by email
before it sends anything, so no user is created twice.

A successful bulk response in ``verify`` mode is stored with its rows
(``record_bulk_response``) while they stay ``in_flight``, until dispatch has matched
the returned ids to emails.

Row statuses are the values of ``provisioner.model.Status`` plus the internal
``in_flight``. ``outcomes`` shows an ``in_flight`` row as ``pending`` with the code
``OUTCOME_UNKNOWN``: the next run settles it by itself, by looking the user up
before it sends anything.

The file and its ``-wal`` and ``-shm`` companions are readable by the owner only:
they hold the names and emails of the sheet, never the API token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from provisioner.api.types import CreatedIds
from provisioner.errors import JobLockedError, StopBeforeSending
from provisioner.model import FINAL_STATUSES, RowOutcome, RowResult, Status, UserRequest

IN_FLIGHT = "in_flight"
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
SCHEMA_VERSION = "1"
FILE_MODE = 0o600

_FINAL = frozenset(str(status) for status in FINAL_STATUSES)
_RETRYABLE = frozenset({str(Status.PENDING), str(Status.FAILED)})
_WAITING_FOR_PERSON = frozenset({str(Status.REJECTED), str(Status.CONFLICT)})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rows (
    row_number INTEGER PRIMARY KEY,
    email TEXT,
    email_key TEXT,
    company_id INTEGER,
    body_json TEXT,
    body_hash TEXT,
    status TEXT NOT NULL,
    user_id INTEGER,
    bc_id INTEGER,
    code TEXT,
    message TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    outcome_unknown INTEGER NOT NULL DEFAULT 0,
    deferred_json TEXT,
    sent_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rows_status ON rows (status);
CREATE INDEX IF NOT EXISTS rows_email_key ON rows (email_key);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    row_number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    result TEXT
);
CREATE INDEX IF NOT EXISTS attempts_row ON attempts (row_number);
CREATE TABLE IF NOT EXISTS bulk_responses (
    row_number INTEGER PRIMARY KEY,
    ids_json TEXT NOT NULL,
    received_at TEXT NOT NULL
);
"""


class JournalError(StopBeforeSending):
    """The journal file cannot be used by this version of the provisioner."""


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One row as the journal stores it.

    ``body`` is the row's last valid request body. A row that turned invalid
    keeps the body it had before, and a row never valid has None.
    ``outcome_unknown`` is set once any create of the row went unanswered, so a
    user found later in the row's Company was created by this job.
    """

    row_number: int
    status: str
    email: str | None
    email_key: str | None
    company_id: int | None
    body: dict[str, Any] | None
    body_hash: str | None
    user_id: int | None
    bc_id: int | None
    code: str | None
    message: str | None
    attempts: int
    outcome_unknown: bool
    sent_at: str | None
    updated_at: str

    @property
    def request(self) -> UserRequest | None:
        """Rebuild the request from the stored body, or None without one."""
        if self.body is None or self.email is None or self.company_id is None:
            return None
        return UserRequest(
            row_number=self.row_number,
            email=self.email,
            company_id=self.company_id,
            body=self.body,
        )

    def to_outcome(self) -> RowOutcome:
        """Return the row as the report shows it; ``in_flight`` shows as pending."""
        if self.status == IN_FLIGHT:
            return RowOutcome(
                row_number=self.row_number,
                status=Status.PENDING,
                code=OUTCOME_UNKNOWN,
                message=(
                    "The create was sent but its outcome is not known yet. The next "
                    "run looks the user up by email before sending anything again."
                ),
            )
        return RowOutcome(
            row_number=self.row_number,
            status=Status(self.status),
            user_id=self.user_id,
            bc_id=self.bc_id,
            code=self.code,
            message=self.message,
        )


def body_hash(body: dict[str, Any]) -> str:
    """Return a hash of a request body that ignores key order."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Journal:
    """The SQLite journal of one job; use ``Journal.open`` as a context manager."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self._lock_fd: int | None = None

    @classmethod
    def open(cls, path: Path) -> Journal:
        """Create the journal at ``path`` or open the existing one.

        The parent folder is created (owner-only) when missing. Every commit is
        flushed to disk (``synchronous=FULL``), see ``_connect``.
        """
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_private(path)
        connection = _connect(path)
        journal = cls(path, connection)
        journal._create_schema()
        for companion in (_wal_path(path), _shm_path(path)):
            if companion.exists():
                os.chmod(companion, FILE_MODE)
        return journal

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database and release the job lock, if this journal holds it."""
        self._db.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @property
    def lock_path(self) -> Path:
        return self.path.with_suffix(".lock")

    def acquire_lock(self) -> None:
        """Take the job's lock, or raise ``JobLockedError`` naming the holder.

        The lock is an exclusive ``flock`` on the ``.lock`` file beside the journal;
        the kernel releases it when the process ends, however it ends. The file
        stores the holder's process id and start time for the message.
        """
        if self._lock_fd is not None:
            return
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").split()
            os.close(fd)
            raise JobLockedError(_locked_message(self.path, holder)) from None
        os.ftruncate(fd, 0)
        stamp = f"{os.getpid()} {_now()}\n"
        os.pwrite(fd, stamp.encode("utf-8"), 0)
        self._lock_fd = fd

    def sync(
        self, results: Sequence[RowResult], *, retry_rejected: bool = False
    ) -> None:
        """Record this run's validation results, in one transaction.

        New rows are inserted. Rows already final (created, exists, skipped) never
        change. A row still ``in_flight`` stays so, because its earlier send must
        be reconciled first. Its new verdict is kept aside and applied once
        reconciliation finds that no user was created. A row whose body changed
        (a person corrected it) goes back to ``pending`` with the new body. A
        rejected row with an unchanged body stays rejected unless
        ``retry_rejected`` is set, for example after a person fixed the store
        rather than the sheet.
        """
        now = _now()
        with self._transaction():
            for result in results:
                verdict = _verdict(result)
                existing = self._select_row(verdict["row_number"])
                if existing is None:
                    self._insert(verdict, now)
                elif existing.status in _FINAL:
                    continue
                elif existing.status == IN_FLIGHT:
                    self._db.execute(
                        "UPDATE rows SET deferred_json = ? WHERE row_number = ?",
                        (json.dumps(verdict), verdict["row_number"]),
                    )
                elif _keeps_status(existing, verdict, retry_rejected):
                    continue
                else:
                    self._replace(existing, verdict, now)

    def mark_in_flight(
        self, requests: Sequence[UserRequest], *, kind: str = "create"
    ) -> None:
        """Mark rows as sent, committed to disk before the request goes out.

        The body stored is the one being sent, so reconciliation after a crash
        looks up exactly the email and Company of the request. ``kind`` names the
        endpoint for the attempts audit trail (``create`` or ``bulk``).
        """
        now = _now()
        with self._transaction():
            for request in requests:
                body_json = json.dumps(request.body, ensure_ascii=False)
                self._db.execute(
                    "INSERT INTO rows (row_number, status, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (row_number) DO NOTHING",
                    (request.row_number, IN_FLIGHT, now),
                )
                self._db.execute(
                    "UPDATE rows SET status = ?, email = ?, email_key = ?,"
                    " company_id = ?, body_json = ?, body_hash = ?,"
                    " attempts = attempts + 1, sent_at = ?, updated_at = ?"
                    " WHERE row_number = ?",
                    (
                        IN_FLIGHT,
                        request.email,
                        request.email_key,
                        request.company_id,
                        body_json,
                        body_hash(request.body),
                        now,
                        now,
                        request.row_number,
                    ),
                )
                self._db.execute(
                    "INSERT INTO attempts (row_number, kind, started_at)"
                    " VALUES (?, ?, ?)",
                    (request.row_number, kind, now),
                )
                self._drop_bulk_response(request.row_number)

    def record_bulk_response(
        self, row_numbers: Sequence[int], ids: Sequence[CreatedIds]
    ) -> None:
        """Store a bulk response with each of its rows, which stay ``in_flight``.

        The response lists the batch's ``(userId, bcId)`` pairs in an order the API
        does not promise, so every row keeps the whole list until its own ids are
        known. ``record`` and the next ``mark_in_flight`` of a row drop it.
        """
        now = _now()
        ids_json = json.dumps([[item.user_id, item.bc_id] for item in ids])
        with self._transaction():
            for row_number in row_numbers:
                self._db.execute(
                    "INSERT INTO bulk_responses (row_number, ids_json, received_at)"
                    " VALUES (?, ?, ?) ON CONFLICT (row_number) DO UPDATE SET"
                    " ids_json = excluded.ids_json, received_at = excluded.received_at",
                    (row_number, ids_json, now),
                )

    def bulk_responses(
        self, row_numbers: Collection[int]
    ) -> dict[int, list[CreatedIds]]:
        """Return the stored bulk response of each of these rows that has one."""
        responses: dict[int, list[CreatedIds]] = {}
        selected = set(row_numbers)
        cursor = self._db.execute("SELECT row_number, ids_json FROM bulk_responses")
        for row_number, ids_json in cursor.fetchall():
            if row_number in selected:
                responses[row_number] = [
                    CreatedIds(int(user_id), int(bc_id))
                    for user_id, bc_id in json.loads(ids_json)
                ]
        return responses

    def mark_outcome_unknown(self, row_numbers: Sequence[int]) -> None:
        """Note that a create of these rows went unanswered; they stay in flight."""
        now = _now()
        with self._transaction():
            for row_number in row_numbers:
                self._db.execute(
                    "UPDATE rows SET outcome_unknown = 1, updated_at = ?"
                    " WHERE row_number = ?",
                    (now, row_number),
                )
                self._finish_attempt(row_number, "outcome unknown", now)

    def record(self, outcomes: Sequence[RowOutcome]) -> None:
        """Store the outcome of each row, all in one transaction.

        A final row (created, exists, skipped) keeps its status: a later outcome
        cannot undo a user that exists. An ``in_flight`` row whose body a person
        corrected meanwhile (see ``sync``) takes the corrected body and its
        verdict instead of an outcome that is not final.
        """
        now = _now()
        with self._transaction():
            for outcome in outcomes:
                # A row the journal does not know yet starts as pending, so the
                # outcome below is stored like any other.
                self._db.execute(
                    "INSERT INTO rows (row_number, status, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (row_number) DO NOTHING",
                    (outcome.row_number, str(Status.PENDING), now),
                )
                self._drop_bulk_response(outcome.row_number)
                existing = self._select_row(outcome.row_number)
                assert existing is not None
                if existing.status in _FINAL:
                    continue
                deferred = self._deferred(outcome.row_number)
                # A body corrected while the row was in flight replaces an outcome
                # that is not final, because that outcome concerns the old body.
                if (
                    deferred is not None
                    and outcome.status not in FINAL_STATUSES
                    and deferred["body_hash"] != existing.body_hash
                ):
                    self._replace(existing, deferred, now)
                else:
                    self._update_outcome(outcome, now)
                self._finish_attempt(
                    outcome.row_number, outcome.code or str(outcome.status), now
                )

    def rows(self, statuses: Collection[str] | None = None) -> list[JournalRow]:
        """Return the stored rows in row order, or only those in ``statuses``."""
        if statuses is None:
            cursor = self._db.execute("SELECT * FROM rows ORDER BY row_number")
        else:
            wanted = sorted(str(status) for status in statuses)
            marks = ", ".join("?" for _ in wanted)
            cursor = self._db.execute(
                f"SELECT * FROM rows WHERE status IN ({marks}) ORDER BY row_number",
                wanted,
            )
        return [_row_from_record(record) for record in cursor.fetchall()]

    def row(self, row_number: int) -> JournalRow | None:
        return self._select_row(row_number)

    def outcomes(self) -> dict[int, RowOutcome]:
        """Return every row's outcome by row number, as the report shows it."""
        return {row.row_number: row.to_outcome() for row in self.rows()}

    def counts(self) -> dict[str, int]:
        """Return the number of rows per stored status, ``in_flight`` included."""
        cursor = self._db.execute("SELECT status, COUNT(*) FROM rows GROUP BY status")
        return {str(status): int(count) for status, count in cursor.fetchall()}

    def attempts(self, row_number: int) -> list[tuple[str, str | None]]:
        """Return the audit trail of a row: (kind, result) per send, oldest first."""
        cursor = self._db.execute(
            "SELECT kind, result FROM attempts WHERE row_number = ? ORDER BY id",
            (row_number,),
        )
        return [(str(kind), result) for kind, result in cursor.fetchall()]

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        cursor = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,))
        found = cursor.fetchone()
        return default if found is None else str(found[0])

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _create_schema(self) -> None:
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                " ON CONFLICT (key) DO NOTHING",
                (SCHEMA_VERSION,),
            )
        version = self.get_meta("schema_version")
        if version != SCHEMA_VERSION:
            raise JournalError(
                f"The journal {self.path} has schema version {version}, but this "
                f"provisioner reads version {SCHEMA_VERSION}; use a matching "
                "provisioner version or start a new job."
            )

    def _select_row(self, row_number: int) -> JournalRow | None:
        cursor = self._db.execute(
            "SELECT * FROM rows WHERE row_number = ?", (row_number,)
        )
        record = cursor.fetchone()
        return None if record is None else _row_from_record(record)

    def _deferred(self, row_number: int) -> dict[str, Any] | None:
        cursor = self._db.execute(
            "SELECT deferred_json FROM rows WHERE row_number = ?", (row_number,)
        )
        found = cursor.fetchone()
        if found is None or found[0] is None:
            return None
        deferred: dict[str, Any] = json.loads(found[0])
        return deferred

    def _insert(self, verdict: dict[str, Any], now: str) -> None:
        self._db.execute(
            "INSERT INTO rows (row_number, email, email_key, company_id, body_json,"
            " body_hash, status, code, message, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                verdict["row_number"],
                verdict["email"],
                verdict["email_key"],
                verdict["company_id"],
                verdict["body_json"],
                verdict["body_hash"],
                verdict["status"],
                verdict["code"],
                verdict["message"],
                now,
            ),
        )

    def _replace(self, existing: JournalRow, verdict: dict[str, Any], now: str) -> None:
        if verdict["email_key"] is None:
            # An invalid row keeps the last request it had, because a user may
            # exist from an unanswered create of that request.
            request_columns = (
                existing.email,
                existing.email_key,
                existing.company_id,
                None if existing.body is None else json.dumps(existing.body),
                existing.body_hash,
            )
            outcome_unknown = existing.outcome_unknown
        else:
            request_columns = (
                verdict["email"],
                verdict["email_key"],
                verdict["company_id"],
                verdict["body_json"],
                verdict["body_hash"],
            )
            # A new email starts a new history, because an unanswered create of
            # the old email is no evidence about the new one.
            same_email = existing.email_key == verdict["email_key"]
            outcome_unknown = existing.outcome_unknown and same_email
        self._db.execute(
            "UPDATE rows SET email = ?, email_key = ?, company_id = ?, body_json = ?,"
            " body_hash = ?, status = ?, user_id = NULL, bc_id = NULL, code = ?,"
            " message = ?, outcome_unknown = ?, deferred_json = NULL, updated_at = ?"
            " WHERE row_number = ?",
            (
                *request_columns,
                verdict["status"],
                verdict["code"],
                verdict["message"],
                int(outcome_unknown),
                now,
                verdict["row_number"],
            ),
        )

    def _update_outcome(self, outcome: RowOutcome, now: str) -> None:
        self._db.execute(
            "UPDATE rows SET status = ?, user_id = ?, bc_id = ?, code = ?,"
            " message = ?, deferred_json = NULL, updated_at = ?"
            " WHERE row_number = ?",
            (
                str(outcome.status),
                outcome.user_id,
                outcome.bc_id,
                outcome.code,
                outcome.message,
                now,
                outcome.row_number,
            ),
        )

    def _drop_bulk_response(self, row_number: int) -> None:
        self._db.execute(
            "DELETE FROM bulk_responses WHERE row_number = ?", (row_number,)
        )

    def _finish_attempt(self, row_number: int, result: str, now: str) -> None:
        self._db.execute(
            "UPDATE attempts SET finished_at = ?, result = ? WHERE id = ("
            " SELECT MAX(id) FROM attempts"
            " WHERE row_number = ? AND finished_at IS NULL)",
            (now, result, row_number),
        )


def _verdict(result: RowResult) -> dict[str, Any]:
    """Reduce a validation result to the columns ``sync`` stores."""
    request = result.request
    if request is not None:
        return {
            "row_number": result.row.row_number,
            "email": request.email,
            "email_key": request.email_key,
            "company_id": request.company_id,
            "body_json": json.dumps(request.body, ensure_ascii=False),
            "body_hash": body_hash(request.body),
            "status": str(Status.PENDING),
            "code": None,
            "message": None,
        }
    status = result.status if result.status is not None else Status.INVALID
    errors = result.errors or result.issues
    return {
        "row_number": result.row.row_number,
        "email": None,
        "email_key": None,
        "company_id": None,
        "body_json": None,
        "body_hash": None,
        "status": str(status),
        "code": errors[0].code if errors else None,
        "message": " ".join(issue.render() for issue in errors) or None,
    }


def _keeps_status(
    existing: JournalRow, verdict: dict[str, Any], retry_rejected: bool
) -> bool:
    """Tell whether a re-validated row keeps its stored status and body."""
    if verdict["body_hash"] is None:
        # Rewritten every time, so the message lists the row's current problems.
        return False
    if existing.body_hash != verdict["body_hash"]:
        return False
    if existing.status in _RETRYABLE:
        return True
    return existing.status in _WAITING_FOR_PERSON and not retry_rejected


def _row_from_record(record: sqlite3.Row) -> JournalRow:
    body_json = record["body_json"]
    return JournalRow(
        row_number=record["row_number"],
        status=record["status"],
        email=record["email"],
        email_key=record["email_key"],
        company_id=record["company_id"],
        body=None if body_json is None else json.loads(body_json),
        body_hash=record["body_hash"],
        user_id=record["user_id"],
        bc_id=record["bc_id"],
        code=record["code"],
        message=record["message"],
        attempts=record["attempts"],
        outcome_unknown=bool(record["outcome_unknown"]),
        sent_at=record["sent_at"],
        updated_at=record["updated_at"],
    )


def _connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode, with explicit BEGIN IMMEDIATE ... COMMIT around each change.
    connection = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    connection.row_factory = sqlite3.Row
    mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        connection.close()
        raise OSError(f"SQLite could not switch {path} to WAL mode (got {mode}).")
    # FULL syncs the WAL on every commit. NORMAL can lose the last commits on a
    # power failure, and a lost in-flight mark means a sent create that the next
    # run does not know to reconcile. One fsync per commit costs little next to
    # the 150 requests a minute the store allows.
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def _create_private(path: Path) -> None:
    """Create the file owner-only before SQLite opens it.

    SQLite gives the ``-wal`` and ``-shm`` files the permissions of the database
    file, so they are owner-only as well.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)


def _wal_path(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _shm_path(path: Path) -> Path:
    return path.with_name(path.name + "-shm")


def _locked_message(path: Path, holder: list[str]) -> str:
    job = path.parent.name or str(path)
    pid = holder[0] if holder else "unknown"
    since = holder[1] if len(holder) > 1 else "an unknown time"
    return (
        f"Job {job} is being processed by process {pid} since {since}; wait for it "
        f"to finish, or stop that process (kill {pid}) and run again."
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
