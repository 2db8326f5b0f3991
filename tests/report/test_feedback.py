"""A Failed sheet fed back to the loader reads as the original rows did."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from provisioner.loading import load_sheet
from provisioner.model import LoadedSheet, RowIssue, Status
from provisioner.report import FAILED_SHEET, write_results

from .helpers import report_row

HEADERS = ["Email Address", "First Name", "Last Name", "Phone", "Company ID", "Start"]


def write_input(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = "Users"
    worksheet.append(HEADERS)
    worksheet.append(["ann@", "Ann", "Lee", "00612", 101, dt.datetime(2024, 3, 1)])
    worksheet.append(["bo@example.com", "Bo", "Chen", "+1 555 0100", 102, None])
    worksheet.append(["cy@example.com", "Zoë", "O’Neil", 612345, "ACME-7", None])
    worksheet["F2"].number_format = "d-mmm-yy"
    workbook.save(path)
    return path


@pytest.fixture
def original(tmp_path: Path) -> LoadedSheet:
    return load_sheet(write_input(tmp_path / "users.xlsx"))


@pytest.fixture
def fed_back(tmp_path: Path, original: LoadedSheet) -> LoadedSheet:
    first, second, third = original.rows
    issue = RowIssue(
        "EMAIL_INVALID", "The email has no domain.", "Type it in full.", "A", "Users!A2"
    )
    rows = [
        report_row(first, Status.INVALID, issues=[issue]),
        report_row(second, Status.CREATED, user_id=1, bc_id=2),
        report_row(third, Status.FAILED, error="The API timed out."),
    ]
    paths = write_results(tmp_path / "results.xlsx", original, rows, summary={})
    return load_sheet(paths.xlsx, sheet=FAILED_SHEET)


def test_failed_headers_map_like_original(
    original: LoadedSheet, fed_back: LoadedSheet
) -> None:
    fields = [column.field for column in fed_back.columns]
    assert fields[: len(HEADERS)] == [column.field for column in original.columns]
    assert [column.header for column in fed_back.columns] == [*HEADERS, "row", "error"]
    assert fed_back.report.unknown_columns == original.report.unknown_columns


def test_failed_values_read_back_unchanged(
    original: LoadedSheet, fed_back: LoadedSheet
) -> None:
    failed_sources = [original.rows[0], original.rows[2]]
    assert len(fed_back.rows) == len(failed_sources)
    for before, after in zip(failed_sources, fed_back.rows, strict=True):
        for index in range(len(HEADERS)):
            assert after.cells[index].value == before.cells[index].value, index
            assert type(after.cells[index].value) is type(before.cells[index].value)


def test_failed_date_keeps_format(fed_back: LoadedSheet) -> None:
    start = fed_back.rows[0].cells[5]
    assert start.value == dt.datetime(2024, 3, 1)
    assert start.number_format == "d-mmm-yy"
