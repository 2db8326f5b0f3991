"""The Problems sheet: issue codes by rows affected, as a reopened workbook shows."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from provisioner.errors import InputFileError
from provisioner.loading import load_sheet
from provisioner.model import LoadedSheet, RowIssue, Status
from provisioner.report import (
    FAILED_SHEET,
    PROBLEMS_SHEET,
    RESULTS_SHEET,
    SUMMARY_SHEET,
    ReportRow,
    write_results,
)

from .helpers import make_sheet, report_row, sheet_rows, sheet_values

HEADERS = ["Email Address", "First Name", "Last Name", "Phone"]
PROBLEM_HEADERS = ["severity", "code", "rows", "cells or rows", "example"]


def email_issue(row: int, local: str) -> RowIssue:
    return RowIssue(
        code="EMAIL_INVALID",
        message=f"The email '{local}@' has no domain.",
        fix="Type the full address.",
        column="A",
        cell=f"Users!A{row}",
    )


def name_issue(row: int) -> RowIssue:
    return RowIssue(
        code="LAST_NAME_MISSING",
        message="The last name is blank.",
        fix="Enter the last name.",
        column="C",
        cell=f"Users!C{row}",
    )


def phone_warning(row: int) -> RowIssue:
    return RowIssue(
        code="PHONE_NUMERIC",
        message="The phone number is stored as a number.",
        fix="Format the column as text.",
        column="D",
        cell=f"Users!D{row}",
        severity="warning",
    )


@pytest.fixture
def mixed() -> tuple[LoadedSheet, list[ReportRow]]:
    """Fourteen rows: twelve bad emails, a missing name, a rejection, warnings."""
    values = [[f"user{n}@", f"First{n}", f"Last{n}", "555 0100"] for n in range(12)]
    values.append(["cy@example.com", "Cy", "", "555 0101"])
    values.append(["dee@example.com", "Dee", "Diaz", 5550102])
    sheet = make_sheet(HEADERS, values)
    rows = [
        report_row(source, Status.INVALID, issues=[email_issue(source.row_number, "u")])
        for source in sheet.rows[:12]
    ]
    cy, dee = sheet.rows[12], sheet.rows[13]
    rows.append(
        report_row(
            cy,
            Status.INVALID,
            issues=[name_issue(cy.row_number), phone_warning(cy.row_number)],
        )
    )
    rows.append(
        ReportRow(
            dee.row_number,
            Status.REJECTED,
            None,
            None,
            "The email is taken.",
            [phone_warning(dee.row_number)],
            dee,
            code="EMAIL_TAKEN",
        )
    )
    return sheet, rows


def test_problems_sheet_values(tmp_path: Path, mixed: tuple) -> None:
    sheet, rows = mixed
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    values = sheet_values(paths.xlsx, PROBLEMS_SHEET)
    assert values == [
        PROBLEM_HEADERS,
        [
            "error",
            "EMAIL_INVALID",
            12,
            "A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, ...",
            "The email 'u@' has no domain. Type the full address.",
        ],
        ["error", "EMAIL_TAKEN", 1, "row 15", "The email is taken."],
        [
            "error",
            "LAST_NAME_MISSING",
            1,
            "C14",
            "The last name is blank. Enter the last name.",
        ],
        [
            "warning",
            "PHONE_NUMERIC",
            2,
            "D14, D15",
            "The phone number is stored as a number. Format the column as text.",
        ],
    ]


def test_problems_cell_types(tmp_path: Path, mixed: tuple) -> None:
    sheet, rows = mixed
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    header, first = sheet_rows(paths.xlsx, PROBLEMS_SHEET)[:2]
    assert all(cell.font.b for cell in header)
    assert first[2].data_type == "n"
    for index in (0, 1, 3, 4):
        assert first[index].data_type == "s"


def test_problems_sheet_has_filter(tmp_path: Path, mixed: tuple) -> None:
    sheet, rows = mixed
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    problems = openpyxl.load_workbook(paths.xlsx)[PROBLEMS_SHEET]
    assert problems.auto_filter.ref == "A1:E5"
    assert problems.freeze_panes == "A2"


def test_problems_header_only_when_clean(tmp_path: Path) -> None:
    sheet = make_sheet(HEADERS, [["ann@example.com", "Ann", "Lee", None]])
    rows = [report_row(sheet.rows[0], Status.CREATED, user_id=1, bc_id=2)]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    assert sheet_values(paths.xlsx, PROBLEMS_SHEET) == [PROBLEM_HEADERS]


def test_problems_example_escaped(tmp_path: Path) -> None:
    sheet = make_sheet(HEADERS, [["ann@example.com", "Ann", "Lee", None]])
    error = '=HYPERLINK("http://evil.example/","Click")'
    rows = [report_row(sheet.rows[0], Status.REJECTED, error=error)]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    example = sheet_rows(paths.xlsx, PROBLEMS_SHEET)[1][4]
    assert example.value == error
    assert example.data_type == "s"
    assert example.quotePrefix


def test_problems_code_escaped(tmp_path: Path) -> None:
    sheet = make_sheet(HEADERS, [["ann@example.com", "Ann", "Lee", None]])
    source = sheet.rows[0]
    rows = [
        ReportRow(
            source.row_number,
            Status.REJECTED,
            None,
            None,
            "Rejected.",
            [],
            source,
            code="=1+1",
        )
    ]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    code = sheet_rows(paths.xlsx, PROBLEMS_SHEET)[1][1]
    assert code.value == "=1+1"
    assert code.data_type == "s"
    assert code.quotePrefix


def test_other_sheets_unchanged(tmp_path: Path, mixed: tuple) -> None:
    sheet, rows = mixed
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    results = sheet_values(paths.xlsx, RESULTS_SHEET)
    assert results[0] == ["row", "status", "userId", "bcId", "error", *HEADERS]
    assert len(results) == 15
    failed = sheet_values(paths.xlsx, FAILED_SHEET)
    assert failed[0] == [*HEADERS, "row", "error"]
    assert len(failed) == 15
    summary = sheet_values(paths.xlsx, SUMMARY_SHEET)
    assert summary == [["rows invalid", 13], ["rows rejected", 1]]


def test_loader_never_picks_problems(tmp_path: Path, mixed: tuple) -> None:
    sheet, rows = mixed
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    with pytest.raises(InputFileError, match="email"):
        load_sheet(paths.xlsx, sheet=PROBLEMS_SHEET)
