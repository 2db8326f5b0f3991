"""The committed sample sheets are what samples/make_samples.py writes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from openpyxl import load_workbook

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture(scope="module")
def make_samples() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_samples", SAMPLES / "make_samples.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module runs.
    sys.modules["make_samples"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["make_samples"]
    return module


def test_committed_sheets_are_up_to_date(
    make_samples: ModuleType, tmp_path: Path
) -> None:
    xlsx_path, csv_path = make_samples.write_samples(tmp_path)
    assert xlsx_path.read_bytes() == (SAMPLES / "new-buyers.xlsx").read_bytes()
    assert csv_path.read_bytes() == (SAMPLES / "new-buyers.csv").read_bytes()


def test_csv_is_excel_csv_utf8() -> None:
    data = (SAMPLES / "new-buyers.csv").read_bytes()
    lines = data.split(b"\r\n")
    assert data.startswith(b"\xef\xbb\xbfEmail Address,First Name,")
    assert len([line for line in lines if line]) == 251
    assert "Søren".encode() in data


def test_xlsx_has_users_sheet_with_300_rows() -> None:
    workbook = load_workbook(SAMPLES / "new-buyers.xlsx", read_only=True)
    sheet = workbook["Users"]
    rows = list(sheet.iter_rows(values_only=True))
    workbook.close()
    assert rows[0][:5] == (
        "Email Address",
        "First Name",
        "Last Name",
        "Phone",
        "Company",
    )
    assert len(rows) == 301
    last_names = {row[2] for row in rows}
    assert {"Martínez", "O’Neil"} <= last_names
