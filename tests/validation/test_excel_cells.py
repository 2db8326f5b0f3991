"""Excel-typed cells read by the real loader: dates, decimals, formulas, links."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from provisioner.config import Defaults
from provisioner.loading import load_sheet
from provisioner.model import RowResult, Status
from provisioner.validate import OfflineCatalog, validate_sheet

HEADERS = ["email", "firstName", "lastName", "companyId", "role", "channelIds", "phone"]


@pytest.fixture
def results(tmp_path: Path) -> list[RowResult]:
    """Write a workbook as Excel users leave it, then load and validate it."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Users"
    sheet.append(HEADERS)
    # Row 2: Excel turned "MAR1" into a date and "1,2" into the decimal 1.2.
    sheet.append(["a@example.com", "Ann", "Lee", dt.datetime(2024, 3, 1), 0, 1.2, None])
    # Row 3: openpyxl writes formulas without a saved result.
    sheet.append(["=LOWER(B3)", "Bo", "Chen", 101, 0, 1, None])
    # Row 4: the cell shows a name and links to the address.
    sheet.append(["Cy Diaz", "Cy", "Diaz", 101.0, "Admin", "1;2", 10912345670])
    sheet["A4"].hyperlink = "mailto:cy.diaz@example.com"
    # Row 5: a time where a channel list belongs.
    sheet.append(["di@example.com", "Di", "Evans", 101, 1, dt.time(2, 0), None])
    path = tmp_path / "users.xlsx"
    workbook.save(path)

    loaded = load_sheet(path)
    return validate_sheet(loaded, OfflineCatalog(), defaults=Defaults())


def codes_by_cell(result: RowResult) -> dict[str | None, str]:
    return {issue.cell: issue.code for issue in result.issues}


def test_date_and_decimal_are_cell_errors(results: list[RowResult]) -> None:
    assert results[0].status is Status.INVALID
    assert codes_by_cell(results[0]) == {
        "Users!D2": "EXCEL_DATE",
        "Users!F2": "NOT_WHOLE_NUMBER",
    }


def test_formula_without_value_not_blank(results: list[RowResult]) -> None:
    assert results[1].status is Status.INVALID
    assert codes_by_cell(results[1]) == {"Users!A3": "FORMULA_WITHOUT_VALUE"}


def test_hyperlink_address_and_numbers(results: list[RowResult]) -> None:
    request = results[2].request
    assert request is not None
    assert request.email == "cy.diaz@example.com"
    assert request.company_id == 101
    assert request.body["phoneNumber"] == "10912345670"
    assert codes_by_cell(results[2]) == {
        "Users!A4": "EMAIL_FROM_HYPERLINK",
        "Users!G4": "PHONE_NUMERIC",
    }


def test_time_in_list_is_error(results: list[RowResult]) -> None:
    assert codes_by_cell(results[3]) == {"Users!F5": "EXCEL_DATE"}
