"""Write the results workbook (Results, Failed, Summary, Problems) and its CSV copy."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from provisioner.model import Column, LoadedSheet, RowIssue, Status
from provisioner.report.marker import JOB_MARKER_PROPERTY
from provisioner.report.rows import (
    FAILED_SHEET,
    FAILED_STATUSES,
    PROBLEMS_SHEET,
    RESULTS_SHEET,
    SUMMARY_SHEET,
    ReportRow,
    ResultPaths,
    issues_by_column,
    source_cell,
    source_columns,
)
from provisioner.report.values import (
    display_width,
    format_csv_value,
    plain_cell,
    source_csv_text,
    source_xlsx_cell,
    text_cell,
)
from provisioner.safety import atomic_output, escape_csv_text
from provisioner.stats import format_places, summarize_problems

#: Columns in front of the original ones on the Results sheet and in the CSV.
LEADING_COLUMNS = ("row", "status", "userId", "bcId", "error")

#: Columns after the original ones on the Failed sheet.
FAILED_TRAILING_COLUMNS = ("row", "error")

#: Columns of the Problems sheet: one line per issue code.
PROBLEMS_COLUMNS = ("severity", "code", "rows", "cells or rows", "example")

#: Number of affected cells or rows the Problems sheet lists for each code.
PROBLEMS_PLACE_LIMIT = 10

MIN_COLUMN_WIDTH = 6
MAX_COLUMN_WIDTH = 60
COMMENT_AUTHOR = "provisioner"

# The fill colours of Excel's "Bad", "Neutral" and "Good" cell styles.
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
DONE_FILL = PatternFill("solid", fgColor="C6EFCE")
HEADER_FONT = Font(bold=True)
WRAPPED = Alignment(wrap_text=True, vertical="top")

_STATUS_FILLS = {
    Status.CREATED: DONE_FILL,
    Status.EXISTS: DONE_FILL,
    Status.INVALID: ERROR_FILL,
    Status.REJECTED: ERROR_FILL,
    Status.CONFLICT: ERROR_FILL,
    Status.FAILED: WARNING_FILL,
    Status.PENDING: WARNING_FILL,
}


def write_results(
    path: Path,
    sheet: LoadedSheet,
    rows: Sequence[ReportRow],
    *,
    summary: Mapping[str, object],
    highlight: bool = True,
) -> ResultPaths:
    """Write the results workbook at ``path`` and its CSV copy next to it.

    ``path`` must end in ``.xlsx``, and the CSV file gets the same stem. Rows are
    written in source order whatever order they come in. ``highlight`` False
    leaves out fills and comments. Both files are written atomically with mode
    0600: an existing report is replaced only by a complete new one. Raises
    ValueError for a path that does not end in ``.xlsx`` and OSError when a file
    cannot be written.
    """
    if path.suffix.lower() != ".xlsx":
        raise ValueError(
            f"The results path {path} must end in .xlsx. The CSV copy is written "
            "next to it with the same name."
        )
    csv_path = path.with_suffix(".csv")
    ordered = sorted(rows, key=lambda row: row.row_number)
    columns = source_columns(sheet)

    workbook = Workbook(write_only=True)
    workbook.properties.creator = COMMENT_AUTHOR
    _write_results_sheet(workbook, columns, ordered, highlight)
    _write_failed_sheet(workbook, columns, ordered, highlight)
    _write_summary_sheet(workbook, sheet, ordered, summary)
    _write_problems_sheet(workbook, ordered)
    job_id = summary.get("job_id")
    if job_id:
        workbook.custom_doc_props.append(
            StringProperty(name=JOB_MARKER_PROPERTY, value=str(job_id))
        )

    with (
        atomic_output(path) as xlsx_temporary,
        atomic_output(csv_path) as csv_temporary,
    ):
        workbook.save(xlsx_temporary)
        _write_csv(csv_temporary, columns, ordered)
    return ResultPaths(xlsx=path, csv=csv_path)


def _write_results_sheet(
    workbook: Workbook,
    columns: Sequence[Column],
    rows: Sequence[ReportRow],
    highlight: bool,
) -> None:
    worksheet = workbook.create_sheet(RESULTS_SHEET)
    headers = [*LEADING_COLUMNS, *(column.header for column in columns)]
    widths = _widths(headers, _results_values(columns, rows))
    _prepare(worksheet, widths, len(rows))
    worksheet.append(_header_cells(worksheet, headers))
    for row in rows:
        status_cell = text_cell(worksheet, str(row.status))
        if highlight and row.status in _STATUS_FILLS:
            status_cell.fill = _STATUS_FILLS[row.status]
        leading = [
            plain_cell(worksheet, row.row_number),
            status_cell,
            plain_cell(worksheet, row.user_id),
            plain_cell(worksheet, row.bc_id),
            _error_cell(worksheet, row.error),
        ]
        worksheet.append(leading + _original_cells(worksheet, columns, row, highlight))


def _write_failed_sheet(
    workbook: Workbook,
    columns: Sequence[Column],
    rows: Sequence[ReportRow],
    highlight: bool,
) -> None:
    worksheet = workbook.create_sheet(FAILED_SHEET)
    failed = [row for row in rows if row.status in FAILED_STATUSES]
    headers = [*(column.header for column in columns), *FAILED_TRAILING_COLUMNS]
    widths = _widths(headers, _failed_values(columns, failed))
    _prepare(worksheet, widths, len(failed))
    worksheet.append(_header_cells(worksheet, headers))
    for row in failed:
        trailing = [
            plain_cell(worksheet, row.row_number),
            _error_cell(worksheet, row.error),
        ]
        worksheet.append(_original_cells(worksheet, columns, row, highlight) + trailing)


def _original_cells(
    worksheet: WriteOnlyWorksheet,
    columns: Sequence[Column],
    row: ReportRow,
    highlight: bool,
) -> list[Any]:
    grouped = issues_by_column(row.issues, columns) if highlight else {}
    cells = []
    for column in columns:
        issues = grouped.get(column.index)
        source = source_cell(row.source, column)
        cell = source_xlsx_cell(worksheet, source, styled=bool(issues))
        if issues:
            _mark(cell, issues)
        cells.append(cell)
    return cells


def _error_cell(worksheet: WriteOnlyWorksheet, error: str | None) -> Any:
    """Return the error cell, wrapped when the error has several lines.

    Excel shows the line breaks between a row's issues only in a wrapped cell.
    """
    if error is None:
        return None
    cell = text_cell(worksheet, error)
    if "\n" in error:
        cell.alignment = WRAPPED
    return cell


def _mark(cell: WriteOnlyCell, issues: Sequence[RowIssue]) -> None:
    """Fill a cell by its worst issue and attach a comment listing every issue."""
    has_error = any(issue.severity == "error" for issue in issues)
    cell.fill = ERROR_FILL if has_error else WARNING_FILL
    lines = [f"{issue.message} {issue.fix}".strip() for issue in issues]
    text = "\n".join(lines)
    # An estimate: about 40 characters fit on a line of a 300-pixel comment box.
    line_count = sum(len(line) // 40 + 1 for line in lines)
    cell.comment = Comment(
        text, COMMENT_AUTHOR, width=300, height=min(400, 20 + 16 * line_count)
    )


def _header_cells(worksheet: WriteOnlyWorksheet, headers: Sequence[str]) -> list[Any]:
    cells = []
    for header in headers:
        cell = text_cell(worksheet, header)
        cell.font = HEADER_FONT
        cells.append(cell)
    return cells


def _prepare(
    worksheet: WriteOnlyWorksheet, widths: Sequence[int], row_count: int
) -> None:
    """Set column widths, the frozen header row and the filter.

    A write-only sheet writes its widths and panes before the first row, so this
    must run before anything is appended.
    """
    for index, width in enumerate(widths, start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = width
    worksheet.freeze_panes = "A2"
    last = get_column_letter(max(len(widths), 1))
    worksheet.auto_filter.ref = f"A1:{last}{row_count + 1}"


def _widths(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[int]:
    widest = [display_width(header) for header in headers]
    for values in rows:
        for index, value in enumerate(values):
            widest[index] = max(widest[index], display_width(value))
    # Two characters of padding leave room for the filter button.
    return [min(MAX_COLUMN_WIDTH, max(MIN_COLUMN_WIDTH, width + 2)) for width in widest]


def _results_values(
    columns: Sequence[Column], rows: Sequence[ReportRow]
) -> Iterator[list[object]]:
    for row in rows:
        yield [
            row.row_number,
            str(row.status),
            row.user_id,
            row.bc_id,
            row.error,
            *_original_values(columns, row),
        ]


def _failed_values(
    columns: Sequence[Column], rows: Sequence[ReportRow]
) -> Iterator[list[object]]:
    for row in rows:
        yield [*_original_values(columns, row), row.row_number, row.error]


def _original_values(columns: Sequence[Column], row: ReportRow) -> list[object]:
    values: list[object] = []
    for column in columns:
        cell = source_cell(row.source, column)
        values.append(cell.value if cell.value is not None else cell.text)
    return values


def _write_summary_sheet(
    workbook: Workbook,
    sheet: LoadedSheet,
    rows: Sequence[ReportRow],
    summary: Mapping[str, object],
) -> None:
    worksheet = workbook.create_sheet(SUMMARY_SHEET)
    lines = list(_summary_lines(sheet, rows, summary))
    key_width = max((display_width(key) for key, _ in lines), default=0)
    value_width = max((display_width(value) for _, value in lines), default=0)
    worksheet.column_dimensions["A"].width = min(MAX_COLUMN_WIDTH, key_width + 2)
    worksheet.column_dimensions["B"].width = min(
        2 * MAX_COLUMN_WIDTH, max(MIN_COLUMN_WIDTH, value_width + 2)
    )
    for key, value in lines:
        key_cell = text_cell(worksheet, key)
        key_cell.font = HEADER_FONT
        worksheet.append([key_cell, _summary_value_cell(worksheet, value)])


def _summary_lines(
    sheet: LoadedSheet, rows: Sequence[ReportRow], summary: Mapping[str, object]
) -> Iterator[tuple[str, object]]:
    """Yield the summary's own lines, then counts and notes it does not contain."""
    shown_values: set[str] = set()
    for key, value in summary.items():
        for line_key, line_value in _flatten(str(key), value):
            shown_values.add(str(line_value))
            yield line_key, line_value

    counts = Counter(row.status for row in rows)
    for status in Status:
        key = f"rows {status}"
        if counts[status] and key not in summary:
            yield key, counts[status]

    for issue in sheet.issues:
        yield "sheet problem", issue.render()
    for note in sheet.report.notes:
        if note not in shown_values:
            yield "load note", note


def _flatten(key: str, value: object) -> Iterator[tuple[str, object]]:
    if isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            yield from _flatten(f"{key} {sub_key}", sub_value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield key, item
    elif value is None or isinstance(
        value, str | int | float | bool | dt.date | dt.time
    ):
        yield key, value
    else:
        yield key, str(value)


def _summary_value_cell(worksheet: WriteOnlyWorksheet, value: object) -> Any:
    if isinstance(value, dt.datetime | dt.time) and value.tzinfo is not None:
        return text_cell(worksheet, value.isoformat())
    if isinstance(value, str | int | float | bool | dt.date | dt.time) or value is None:
        return plain_cell(worksheet, value)
    return text_cell(worksheet, str(value))


def _write_problems_sheet(workbook: Workbook, rows: Sequence[ReportRow]) -> None:
    worksheet = workbook.create_sheet(PROBLEMS_SHEET)
    problems = summarize_problems(rows, place_limit=PROBLEMS_PLACE_LIMIT)
    lines: list[tuple[str, str, int, str, str]] = [
        (code.severity, code.code, code.rows, format_places(code), code.example)
        for code in (*problems.errors, *problems.warnings)
    ]
    _prepare(worksheet, _widths(PROBLEMS_COLUMNS, lines), len(lines))
    worksheet.append(_header_cells(worksheet, PROBLEMS_COLUMNS))
    for severity, code, row_count, places, example in lines:
        worksheet.append(
            [
                text_cell(worksheet, severity),
                text_cell(worksheet, code),
                row_count,
                text_cell(worksheet, places),
                text_cell(worksheet, example),
            ]
        )


def _write_csv(
    path: Path, columns: Sequence[Column], rows: Sequence[ReportRow]
) -> None:
    # utf-8-sig writes the byte-order mark Excel needs to read UTF-8 accents.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(
            [
                *LEADING_COLUMNS,
                *(escape_csv_text(column.header) for column in columns),
            ]
        )
        for row in rows:
            writer.writerow(
                [
                    str(row.row_number),
                    str(row.status),
                    format_csv_value(row.user_id),
                    format_csv_value(row.bc_id),
                    format_csv_value(row.error),
                    *(
                        source_csv_text(source_cell(row.source, column))
                        for column in columns
                    ),
                ]
            )
