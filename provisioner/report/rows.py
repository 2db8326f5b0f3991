"""The rows of the report and how source columns and row issues map onto them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from provisioner.fields import RESULT_COLUMNS, normalise_header
from provisioner.model import (
    ATTENTION_STATUSES,
    EMPTY_CELL,
    RETRY_STATUSES,
    Cell,
    Column,
    LoadedSheet,
    RowIssue,
    SourceRow,
    Status,
)

RESULTS_SHEET = "Results"
FAILED_SHEET = "Failed"
SUMMARY_SHEET = "Summary"
PROBLEMS_SHEET = "Problems"

#: Statuses whose rows go to the ``Failed`` sheet: a person must correct them, or
#: a later run retries them.
FAILED_STATUSES = ATTENTION_STATUSES | RETRY_STATUSES

_RESULT_COLUMN_KEYS = frozenset(normalise_header(name) for name in RESULT_COLUMNS)

# The column part of a reference such as ``Users!C17``, ``'Q3 users'!$C$17`` or
# ``C17``: the letters after the last ``!``.
_REFERENCE_COLUMN = re.compile(r"\$?([A-Za-z]{1,3})\$?\d*$")


@dataclass(frozen=True)
class ReportRow:
    """One source row as the report shows it.

    ``error`` is every issue of the row rendered for a person, or the API's
    message. ``issues`` locate the cells to highlight, and ``source`` contains
    the original cells. ``code`` is the stable code of the row's outcome
    (``RowOutcome.code``) when it has one; the ``Problems`` sheet counts a
    rejected or failed row under it.
    """

    row_number: int
    status: Status
    user_id: int | None
    bc_id: int | None
    error: str | None
    issues: Sequence[RowIssue]
    source: SourceRow
    code: str | None = None


@dataclass(frozen=True)
class ResultPaths:
    """The files ``write_results`` wrote: the workbook and its CSV copy."""

    xlsx: Path
    csv: Path


def source_columns(sheet: LoadedSheet) -> list[Column]:
    """Return the sheet's columns that the report repeats.

    Result columns of an earlier report (``row``, ``status``, ``error`` ...) in a
    sheet fed back in are left out: the report writes fresh ones, and the loader
    ignores them anyway.
    """
    return [column for column in sheet.columns if not _is_result_column(column)]


def _is_result_column(column: Column) -> bool:
    return column.field is None and normalise_header(column.header) in (
        _RESULT_COLUMN_KEYS
    )


def source_cell(row: SourceRow, column: Column) -> Cell:
    """Return the cell of ``row`` in ``column``, blank past the end of a short row."""
    if column.index < len(row.cells):
        return row.cells[column.index]
    return EMPTY_CELL


def issues_by_column(
    issues: Sequence[RowIssue], columns: Sequence[Column]
) -> dict[int, list[RowIssue]]:
    """Group the issues that point at one cell by the column's index.

    An issue names its cell by reference (``Users!C17``) or its column by letter.
    A column given by header or field name is matched too. Issues about the whole
    row, or about a column the report does not repeat, are left out: the ``error``
    column shows them.
    """
    by_letter = {column.letter.upper(): column for column in columns}
    by_name: dict[str, Column] = {}
    for column in columns:
        if column.field:
            by_name.setdefault(column.field, column)
        by_name.setdefault(column.header, column)

    grouped: dict[int, list[RowIssue]] = {}
    for issue in issues:
        target = _column_of(issue, by_letter, by_name)
        if target is not None:
            grouped.setdefault(target.index, []).append(issue)
    return grouped


def _column_of(
    issue: RowIssue, by_letter: dict[str, Column], by_name: dict[str, Column]
) -> Column | None:
    if issue.cell:
        match = _REFERENCE_COLUMN.search(issue.cell.rpartition("!")[2])
        if match:
            return by_letter.get(match.group(1).upper())
    if issue.column:
        return by_letter.get(issue.column.upper()) or by_name.get(issue.column)
    return None
