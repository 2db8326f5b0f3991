"""Fit the rows under a header into a ``LoadedSheet``, for CSV and XLSX alike.

Blank rows and the note rows under the data ("Total: 42") are skipped and counted.
A value to the right of the header is a row issue rather than dropped in silence.
Cells are kept raw.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from openpyxl.utils import get_column_letter

from provisioner.config import Limits
from provisioner.errors import InputFileError
from provisioner.loading.headers import (
    HeaderMatch,
    RawRow,
    duplicate_issue,
    has_content,
    header_width,
    is_blank_row,
    map_columns,
)
from provisioner.model import (
    EMPTY_CELL,
    Cell,
    Column,
    LoadedSheet,
    LoadReport,
    RowIssue,
    SourceRow,
)

REPLACEMENT_CHARACTER = "\ufffd"


def assemble_sheet(
    *,
    path: Path,
    sheet_name: str,
    header: HeaderMatch,
    rows: Iterable[RawRow],
    table: dict[str, str],
    report: LoadReport,
    limits: Limits,
) -> LoadedSheet:
    """Build the sheet from its header and the rows below it (in order)."""
    width = header_width(header.row.cells)
    if width > limits.max_columns:
        raise InputFileError(
            f"{path.name}: the header row {header.row.number} has {width} columns; "
            f"at most {limits.max_columns} are read. Delete the unused columns."
        )
    mapping = map_columns(header.row.cells, table, width)
    report.header_row = header.row.number
    report.unknown_columns = list(dict.fromkeys(mapping.unknown))
    sheet = LoadedSheet(
        path=path,
        sheet_name=sheet_name,
        columns=tuple(mapping.columns),
        rows=[],
        report=report,
    )
    for first, second in mapping.duplicates:
        sheet.issues.append(duplicate_issue(first, second, str(first.field)))

    note_like: list[bool] = []
    for raw in rows:
        if is_blank_row(raw.cells):
            report.blank_rows_skipped += 1
            continue
        if len(sheet.rows) >= limits.max_rows:
            raise InputFileError(
                f"{path.name} has more than {limits.max_rows:,} rows of users "
                f"(row {raw.number} is past the limit). Split it into smaller files, "
                "or raise limits.max_rows in the configuration."
            )
        sheet.rows.append(_fit_row(sheet, raw, width, limits))
        note_like.append(_is_note_row(raw.cells))

    _drop_note_rows(sheet, note_like)
    _check_unnamed_columns(sheet)
    return sheet


def _fit_row(sheet: LoadedSheet, raw: RawRow, width: int, limits: Limits) -> SourceRow:
    cells = raw.cells
    issues: list[RowIssue] = []
    if len(cells) > width:
        extra = [i for i in range(width, len(cells)) if has_content(cells[i])]
        if extra:
            issues.append(_extra_values_issue(sheet, raw, extra, width))
        cells = cells[:width]
    elif len(cells) < width:
        cells = cells + [EMPTY_CELL] * (width - len(cells))
    for column, cell in zip(sheet.columns, cells, strict=True):
        if REPLACEMENT_CHARACTER in cell.text:
            issues.append(_replacement_issue(sheet, column, raw.number))
        if len(cell.text) > limits.max_cell_chars:
            issues.append(_too_long_issue(sheet, column, raw.number, cell, limits))
    return SourceRow(
        row_number=raw.number, cells=tuple(cells), line=raw.line, issues=issues
    )


def _is_note_row(cells: list[Cell]) -> bool:
    """Return whether a row contains one value and no address: a note, not a user."""
    filled: Cell | None = None
    for cell in cells:
        if has_content(cell):
            if filled is not None:
                return False
            filled = cell
    return (
        filled is not None
        and not filled.formula_without_value
        and "@" not in filled.text
    )


def _drop_note_rows(sheet: LoadedSheet, note_like: list[bool]) -> None:
    """Drop the note rows that follow the last row that looks like a user.

    A one-value row between users stays, so the validator reports it as a user with
    missing fields rather than the loader dropping it.
    """
    while sheet.rows and note_like[len(sheet.rows) - 1]:
        sheet.rows.pop()
        sheet.report.note_rows_skipped += 1


def _check_unnamed_columns(sheet: LoadedSheet) -> None:
    """Drop trailing columns without a header and values; report unnamed data."""
    columns = list(sheet.columns)
    filled = {
        column.index
        for column in columns
        if not column.header
        and any(has_content(row.cells[column.index]) for row in sheet.rows)
    }
    keep = len(columns)
    while (
        keep and not columns[keep - 1].header and columns[keep - 1].index not in filled
    ):
        keep -= 1
    if keep < len(columns):
        sheet.columns = tuple(columns[:keep])
        for row in sheet.rows:
            row.cells = row.cells[:keep]
    for column in columns[:keep]:
        if column.index in filled:
            first = next(
                row for row in sheet.rows if has_content(row.cells[column.index])
            )
            sheet.issues.append(
                RowIssue(
                    code="UNNAMED_COLUMN",
                    message=(
                        f"Column {column.letter} has no header but contains values "
                        f"(first at {sheet.cell_ref(column, first.row_number)})."
                    ),
                    fix=(
                        "Give the column a header, or delete its values if they "
                        "are not meant to be imported."
                    ),
                    column=column.letter,
                )
            )


def _extra_values_issue(
    sheet: LoadedSheet, raw: RawRow, extra: list[int], width: int
) -> RowIssue:
    index = extra[0]
    column = Column(index, get_column_letter(index + 1), "", None)
    values = ", ".join(repr(raw.cells[i].text) for i in extra[:3])
    return RowIssue(
        code="EXTRA_VALUES",
        message=(
            f"This row has {len(extra)} value(s) to the right of the last header "
            f"column ({values}); the header has {width} columns."
        ),
        fix=(
            "Delete the extra values or give their column a header. In a CSV file, "
            "a value that contains the delimiter must be quoted."
        ),
        column=column.letter,
        cell=sheet.cell_ref(column, raw.number),
    )


def _replacement_issue(sheet: LoadedSheet, column: Column, row_number: int) -> RowIssue:
    return RowIssue(
        code="REPLACEMENT_CHARACTER",
        message=(
            "The value contains the replacement character '\ufffd': letters were "
            "lost when the file was converted to this encoding."
        ),
        fix="Retype the value, or export the sheet again as CSV UTF-8 or .xlsx.",
        column=column.letter,
        cell=sheet.cell_ref(column, row_number),
    )


def _too_long_issue(
    sheet: LoadedSheet, column: Column, row_number: int, cell: Cell, limits: Limits
) -> RowIssue:
    return RowIssue(
        code="CELL_TOO_LONG",
        message=(
            f"The value has {len(cell.text):,} characters; at most "
            f"{limits.max_cell_chars:,} are allowed in one cell."
        ),
        fix="Shorten the value; a missing closing quote in a CSV file can cause this.",
        column=column.letter,
        cell=sheet.cell_ref(column, row_number),
    )
