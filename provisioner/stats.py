"""Problem summary of a run: rows by status, and issue codes by the rows they affect.

``issue_frame`` puts one line per problem into a polars DataFrame; the summary is
a few group-by aggregations over it. ``summarize_problems`` returns the counts,
``problems_text`` formats them as plain-text lines for the terminal, and the
results workbook shows the same table on its ``Problems`` sheet.

A problem is a ``RowIssue`` of a row (an error or a warning). Some rows need
attention or failed without an error issue of their own: the API rejected them,
they conflict with an existing user, or a request kept failing. Each such row
counts as one error under the row's ``code``, or under its status in capitals
(``REJECTED``) when it has no code. Pending rows are not problems, because the
next run sends them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import polars as pl

from provisioner.model import ATTENTION_STATUSES, Status

if TYPE_CHECKING:
    # Imported for annotations only: provisioner.report imports this module.
    from provisioner.report.rows import ReportRow

Severity = Literal["error", "warning"]

#: Statuses that make a row an error even when it carries no error issue.
PROBLEM_STATUSES = ATTENTION_STATUSES | {Status.FAILED}

#: Number of affected cells or rows listed for each code, in row order.
DEFAULT_PLACE_LIMIT = 5

# A line break and the spaces around it, in a multi-line API error.
_LINE_BREAK = re.compile(r"\s*\n\s*")

_STATUS_TYPE = pl.Enum([status.value for status in Status])
_SEVERITY_TYPE = pl.Enum(["error", "warning"])
_ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "status": _STATUS_TYPE,
    "severity": _SEVERITY_TYPE,
    "code": pl.String(),
    "cell": pl.String(),
    "message": pl.String(),
}


@dataclass(frozen=True, slots=True)
class CodeCount:
    """How often one issue code occurs, and where.

    ``places`` lists the first affected cells in row order, as Excel shows them
    without the sheet name (``A8``), or ``row 9`` for an issue about a whole row.
    ``place_count`` is the number of distinct places, so ``place_count >
    len(places)`` means the list is cut. ``example`` is the message and fix of
    the first occurrence.
    """

    code: str
    severity: Severity
    rows: int
    places: tuple[str, ...]
    place_count: int
    example: str


@dataclass(frozen=True, slots=True)
class ProblemSummary:
    """Row counts by status and issue counts by code, errors and warnings separately.

    ``statuses`` is sorted by count, largest first, and ties in the order of
    ``Status``. ``errors`` and ``warnings`` are sorted by rows affected, largest
    first, and ties by code. ``error_rows`` and ``warning_rows`` count the distinct
    rows with at least one problem of that severity.
    """

    total_rows: int
    statuses: tuple[tuple[Status, int], ...]
    errors: tuple[CodeCount, ...]
    warnings: tuple[CodeCount, ...]
    error_rows: int
    warning_rows: int

    @property
    def has_problems(self) -> bool:
        return bool(self.errors or self.warnings)


def issue_frame(rows: Iterable[ReportRow]) -> pl.DataFrame:
    """Build a DataFrame with one line per problem of the report rows.

    Columns: ``row`` (the row number), ``status``, ``severity`` (error or
    warning), ``code``, ``cell`` (``Users!A8``, or null for the whole row) and
    ``message`` (the issue's message and fix on one line).
    """
    lines: list[tuple[int, str, str, str, str | None, str]] = []
    for row in rows:
        status = row.status.value
        has_error = False
        for issue in row.issues:
            has_error = has_error or issue.severity == "error"
            message = _one_line(f"{issue.message} {issue.fix}")
            lines.append(
                (
                    row.row_number,
                    status,
                    issue.severity,
                    issue.code,
                    issue.cell,
                    message,
                )
            )
        if row.status in PROBLEM_STATUSES and not has_error:
            code = row.code or status.upper().replace(" ", "_")
            message = _one_line(row.error or f"The row is {status}.")
            lines.append((row.row_number, status, "error", code, None, message))
    return pl.DataFrame(lines, schema=_ISSUE_SCHEMA, orient="row")


def summarize_problems(
    rows: Sequence[ReportRow], *, place_limit: int = DEFAULT_PLACE_LIMIT
) -> ProblemSummary:
    """Count the rows by status, and the errors and the warnings by code.

    ``place_limit`` is the number of affected places kept for each code.
    """
    statuses = pl.DataFrame(
        {"status": [row.status.value for row in rows]},
        schema={"status": _STATUS_TYPE},
    )
    status_counts = (
        statuses.group_by("status")
        .len()
        .sort(["len", "status"], descending=[True, False])
    )
    frame = issue_frame(rows)
    codes = _code_counts(frame, place_limit)
    errors = tuple(code for code in codes if code.severity == "error")
    warnings = tuple(code for code in codes if code.severity == "warning")
    rows_by_severity = dict(
        frame.group_by("severity").agg(pl.col("row").n_unique()).iter_rows()
    )
    return ProblemSummary(
        total_rows=len(rows),
        statuses=tuple(
            (Status(status), count) for status, count in status_counts.iter_rows()
        ),
        errors=errors,
        warnings=warnings,
        error_rows=rows_by_severity.get("error", 0),
        warning_rows=rows_by_severity.get("warning", 0),
    )


def _code_counts(frame: pl.DataFrame, place_limit: int) -> list[CodeCount]:
    # The place is the cell without its sheet name and dollar signs, or "row N"
    # for an issue about the whole row.
    place = pl.coalesce(
        pl.col("cell")
        .str.split("!")
        .list.last()
        .str.replace_all("$", "", literal=True),
        pl.format("row {}", pl.col("row")),
    )
    grouped = (
        frame.sort("row", maintain_order=True)
        .with_columns(place.alias("place"))
        .group_by("severity", "code")
        .agg(
            pl.col("row").n_unique().alias("rows"),
            pl.col("place").unique(maintain_order=True).alias("places"),
            pl.col("message").first().alias("example"),
        )
        .sort(["severity", "rows", "code"], descending=[False, True, False])
    )
    counts = []
    for line in grouped.iter_rows(named=True):
        places: list[str] = line["places"]
        counts.append(
            CodeCount(
                code=line["code"],
                severity=line["severity"],
                rows=line["rows"],
                places=tuple(places[:place_limit]),
                place_count=len(places),
                example=line["example"],
            )
        )
    return counts


def problems_text(
    rows: Sequence[ReportRow], *, place_limit: int = DEFAULT_PLACE_LIMIT
) -> list[str]:
    """Format the problem summary as plain-text lines, without line endings.

    The first line counts the rows by status. Then come the errors and the
    warnings, one line per code: ``EMAIL_INVALID: 14 rows (A8, A11, ...). Example:
    The email ...``.
    """
    summary = summarize_problems(rows, place_limit=place_limit)
    by_status = ", ".join(f"{count:,} {status}" for status, count in summary.statuses)
    lines = [f"{_rows(summary.total_rows)}: {by_status}." if by_status else "0 rows."]
    if not summary.has_problems:
        lines.append("No problems found.")
        return lines
    if summary.errors:
        lines.append(f"Errors ({_rows(summary.error_rows)}):")
        lines.extend(_code_line(code) for code in summary.errors)
    if summary.warnings:
        lines.append(f"Warnings ({_rows(summary.warning_rows)}):")
        lines.extend(_code_line(code) for code in summary.warnings)
    return lines


def format_places(code: CodeCount) -> str:
    """Return the affected places as ``A8, A11, ...``, with ``...`` when cut."""
    text = ", ".join(code.places)
    if code.place_count > len(code.places):
        text += ", ..."
    return text


def _code_line(code: CodeCount) -> str:
    return (
        f"  {code.code}: {_rows(code.rows)} ({format_places(code)}). "
        f"Example: {code.example}"
    )


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def _one_line(text: str) -> str:
    return _LINE_BREAK.sub(" ", text).strip()
