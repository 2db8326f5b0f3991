"""Build loaded sheets and report rows by hand, and reopen written reports."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from provisioner.fields import alias_table, normalise_header
from provisioner.model import (
    EMPTY_CELL,
    Cell,
    CellValue,
    Column,
    LoadedSheet,
    LoadReport,
    RowIssue,
    SourceRow,
    Status,
)
from provisioner.report import ReportRow

_ALIASES = alias_table()


def cell(value: CellValue, number_format: str | None = None) -> Cell:
    """Return a cell as the loader makes it: blank text for None, else the value."""
    if value is None:
        return EMPTY_CELL
    return Cell(value, str(value), number_format)


def make_sheet(
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell | CellValue]],
    *,
    first_row: int = 2,
    sheet_name: str = "Users",
    notes: Sequence[str] = (),
) -> LoadedSheet:
    """Build a loaded sheet; plain values in ``rows`` become cells."""
    columns = tuple(
        Column(
            index,
            get_column_letter(index + 1),
            header,
            _ALIASES.get(normalise_header(header)),
        )
        for index, header in enumerate(headers)
    )
    source_rows = []
    for offset, values in enumerate(rows):
        cells = tuple(v if isinstance(v, Cell) else cell(v) for v in values)
        source_rows.append(SourceRow(first_row + offset, cells))
    return LoadedSheet(
        path=Path("users.xlsx"),
        sheet_name=sheet_name,
        columns=columns,
        rows=source_rows,
        report=LoadReport("xlsx", sheet_name=sheet_name, notes=list(notes)),
    )


def report_row(
    source: SourceRow,
    status: Status,
    *,
    user_id: int | None = None,
    bc_id: int | None = None,
    error: str | None = None,
    issues: Sequence[RowIssue] = (),
) -> ReportRow:
    if error is None and issues:
        error = "\n".join(issue.render() for issue in issues)
    return ReportRow(
        source.row_number, status, user_id, bc_id, error, list(issues), source
    )


def sheet_rows(path: Path, title: str) -> list[list[Any]]:
    """Return the openpyxl cells of one sheet, row by row."""
    workbook = openpyxl.load_workbook(path)
    return [list(row) for row in workbook[title].iter_rows()]


def sheet_values(path: Path, title: str) -> list[list[Any]]:
    return [[c.value for c in row] for row in sheet_rows(path, title)]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))
