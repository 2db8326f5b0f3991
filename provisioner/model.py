"""Values that flow between the stages: load, validate, dispatch and report.

A sheet is loaded into ``LoadedSheet`` with one ``SourceRow`` per data row. The
validator turns each row into a ``RowResult``, which carries either a ``UserRequest``
(the JSON body for ``POST /users``) or the ``RowIssue`` list that explains why not.
Dispatch gives each sent row a ``RowOutcome``. The report writes them all, one line
per source row, in source order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | None


class Status(StrEnum):
    """The status of one source row in the results workbook."""

    CREATED = "created"
    EXISTS = "exists"
    INVALID = "invalid"
    REJECTED = "rejected"
    FAILED = "failed"
    PENDING = "pending"
    SKIPPED = "skipped"
    WOULD_CREATE = "would create"
    CONFLICT = "conflict"
    VALID = "valid"


#: Statuses that end a row for good: a re-run never sends these rows again.
FINAL_STATUSES = frozenset({Status.CREATED, Status.EXISTS, Status.SKIPPED})

#: Statuses that wait for a person to correct the row.
ATTENTION_STATUSES = frozenset({Status.INVALID, Status.REJECTED, Status.CONFLICT})

#: Statuses that a later run retries by itself (5xx, timeouts, a stop by signal).
RETRY_STATUSES = frozenset({Status.FAILED, Status.PENDING})


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as read from the file, before any normalisation.

    ``value`` is the raw value: always ``str`` (or None for an empty field) from CSV;
    from XLSX the type openpyxl reads from the cell XML. ``text`` is the text a person
    sees or typed; for CSV it equals ``value``.
    """

    value: CellValue
    text: str
    number_format: str | None = None
    formula_without_value: bool = False
    hyperlink: str | None = None

    @property
    def is_blank(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.text)


EMPTY_CELL = Cell(value=None, text="")


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the source sheet and the field it maps to.

    ``field`` is a canonical field name (see ``provisioner.fields``), ``extra:<name>``
    for a user extra field, or None when the header matched nothing.
    """

    index: int
    letter: str
    header: str
    field: str | None


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem of one row, written for the person who fixes the sheet.

    ``code`` is stable (``EMAIL_INVALID``) so scripts can count and filter;
    ``message`` states what is wrong with the value, and ``fix`` what to do.
    ``cell`` is the reference as Excel shows it (``Users!C17``), when one cell
    is at fault.
    """

    code: str
    message: str
    fix: str
    column: str | None = None
    cell: str | None = None
    severity: Literal["error", "warning"] = "error"

    def render(self) -> str:
        where = f"{self.cell}: " if self.cell else ""
        return f"{where}{self.message} {self.fix}".strip()


@dataclass(slots=True)
class SourceRow:
    """One data row of the sheet.

    ``row_number`` is the row as Excel shows it (1-based, counting the header and any
    title rows above it); for CSV it is the record number, and ``line`` the physical
    line where the record starts. ``cells`` has one entry per column of the sheet.
    """

    row_number: int
    cells: tuple[Cell, ...]
    line: int | None = None
    issues: list[RowIssue] = field(default_factory=list)


@dataclass(slots=True)
class LoadReport:
    """The loader's account of how it read the file, for the summary and workbook."""

    file_format: Literal["csv", "xlsx"]
    encoding: str | None = None
    delimiter: str | None = None
    sheet_name: str = ""
    header_row: int = 1
    blank_rows_skipped: int = 0
    note_rows_skipped: int = 0
    merged_cells_filled: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class LoadedSheet:
    """A sheet of users as read from one file."""

    path: Path
    sheet_name: str
    columns: tuple[Column, ...]
    rows: list[SourceRow]
    report: LoadReport
    issues: list[RowIssue] = field(default_factory=list)

    def cell_ref(self, column: Column, row_number: int) -> str:
        """Return the reference a person types in Excel's Name Box: ``Users!C17``."""
        name = self.sheet_name
        if not name.replace("_", "").isalnum():
            name = "'" + name.replace("'", "''") + "'"
        return f"{name}!{column.letter}{row_number}"

    def column_for(self, field_name: str) -> Column | None:
        for column in self.columns:
            if column.field == field_name:
                return column
        return None


@dataclass(frozen=True, slots=True)
class UserRequest:
    """A valid row, ready to send: ``body`` is the JSON object for ``POST /users``."""

    row_number: int
    email: str
    company_id: int
    body: dict[str, Any]

    @property
    def email_key(self) -> str:
        """The email as the store compares it: case-insensitively."""
        return self.email.casefold()


@dataclass(slots=True)
class RowResult:
    """The validator's verdict on one source row.

    Exactly one of these holds: ``request`` is set (the row can be sent), or
    ``status`` is INVALID or SKIPPED and ``issues`` explains why. Warnings may come with
    a request.
    """

    row: SourceRow
    request: UserRequest | None
    status: Status | None = None
    issues: list[RowIssue] = field(default_factory=list)

    @property
    def errors(self) -> list[RowIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]


@dataclass(slots=True)
class RowOutcome:
    """The outcome of one row: its status, the ids the API returned, or its error."""

    row_number: int
    status: Status
    user_id: int | None = None
    bc_id: int | None = None
    code: str | None = None
    message: str | None = None
