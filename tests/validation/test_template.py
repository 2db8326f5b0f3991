"""The XLSX template: headers, formats, dropdowns, instructions, and a round trip."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from provisioner.api.types import ExtraFieldDef
from provisioner.config import Defaults
from provisioner.errors import ConfigError
from provisioner.fields import FIELDS, alias_table, normalise_header
from provisioner.loading import load_sheet
from provisioner.template import write_template
from provisioner.validate import OfflineCatalog, validate_sheet

EXTRAS = (
    ExtraFieldDef("Cost centre", 0, True, maximum_length=20),
    ExtraFieldDef("Region", 3, False, list_of_values=("North", "South")),
    ExtraFieldDef("Phone", 0, False),
    ExtraFieldDef(
        "Branch", 3, False, list_of_values=tuple(f"Branch, no. {i}" for i in range(40))
    ),
)


@pytest.fixture
def template_path(tmp_path: Path) -> Path:
    path = tmp_path / "template.xlsx"
    write_template(path, extra_fields=EXTRAS)
    return path


def validations(path: Path) -> dict[str, tuple[str, str]]:
    """Map each dropdown's column letter to its source formula and error style."""
    sheet = openpyxl.load_workbook(path)["Users"]
    found = {}
    for validation in sheet.data_validations.dataValidation:
        letter = str(validation.sqref).split(":")[0].rstrip("0123456789")
        found[letter] = (validation.formula1, validation.errorStyle)
    return found


def test_users_sheet_first_and_active(template_path: Path) -> None:
    workbook = openpyxl.load_workbook(template_path)
    assert workbook.sheetnames[:2] == ["Users", "Instructions"]
    assert workbook.active.title == "Users"
    assert workbook["Lists"].sheet_state == "hidden"


def test_headers_are_canonical_then_extras(template_path: Path) -> None:
    sheet = openpyxl.load_workbook(template_path)["Users"]
    headers = [cell.value for cell in sheet[1]]
    canonical = [spec.name for spec in FIELDS]
    assert headers == [*canonical, "Cost centre", "Region", "extra: Phone", "Branch"]


def test_headers_match_their_fields(template_path: Path) -> None:
    sheet = openpyxl.load_workbook(template_path)["Users"]
    table = alias_table()
    for cell, spec in zip(sheet[1], FIELDS, strict=False):
        assert table[normalise_header(str(cell.value))] == spec.name


def test_columns_formatted_as_text(template_path: Path) -> None:
    sheet = openpyxl.load_workbook(template_path)["Users"]
    for index in range(1, len(FIELDS) + len(EXTRAS) + 1):
        letter = openpyxl.utils.get_column_letter(index)
        assert sheet.column_dimensions[letter].number_format == "@", letter
        assert sheet.column_dimensions[letter].width >= 12


def test_header_row_frozen(template_path: Path) -> None:
    sheet = openpyxl.load_workbook(template_path)["Users"]
    assert sheet.freeze_panes == "A2"


def test_dropdowns(template_path: Path) -> None:
    found = validations(template_path)
    assert found["H"] == ('"Admin,Senior Buyer,Junior Buyer"', "warning")
    assert found["K"] == ('"yes,no"', "stop")
    assert found["N"] == ('"North,South"', "stop")
    assert set(found) == {"H", "K", "N", "P"}


def test_long_dropdown_on_hidden_sheet(template_path: Path) -> None:
    formula, _ = validations(template_path)["P"]
    assert formula == "'Lists'!$A$2:$A$41"
    lists = openpyxl.load_workbook(template_path)["Lists"]
    assert lists["A1"].value == "Branch"
    assert lists["A2"].value == "Branch, no. 0"


def test_custom_roles_in_dropdown(tmp_path: Path) -> None:
    path = tmp_path / "roles.xlsx"
    write_template(path, roles=("Admin", "Regional Buyer"))
    assert validations(path)["H"][0] == '"Admin,Regional Buyer"'


def test_instructions_one_row_per_column(template_path: Path) -> None:
    sheet = openpyxl.load_workbook(template_path)["Instructions"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Column", "Required", "What to enter", "Example")
    assert len(rows) == 1 + len(FIELDS) + len(EXTRAS)
    by_name = {str(row[0]).split(" (")[0]: row for row in rows[1:]}
    assert by_name["email"][1] == "Required"
    assert by_name["email"][3] == "ann.lee@example.com"
    assert by_name["phoneNumber"][1] == "Optional"
    assert by_name["channelIds"][3] == "1;2"
    assert by_name["Cost centre"][1] == "Required"
    assert "At most 20 characters" in str(by_name["Cost centre"][2])
    assert "North, South" in str(by_name["Region"][2])
    assert by_name["email"][0] == "email (column A)"


def test_filled_template_loads_and_validates(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path, extra_fields=EXTRAS[:2])
    workbook = openpyxl.load_workbook(path)
    row = ["ann@example.com", "Ann", "Lee", "0612 345", "1234", None, None]
    row += ["Admin", "1;2", None, "yes", "ERP-1", "CC-1", "South"]
    workbook["Users"].append(row)
    workbook.save(path)

    sheet = load_sheet(path, extra_field_names=["Cost centre", "Region"])
    assert sheet.sheet_name == "Users"
    results = validate_sheet(sheet, OfflineCatalog(), defaults=Defaults())

    assert len(results) == 1
    request = results[0].request
    assert request is not None
    assert request.body["phoneNumber"] == "0612 345"
    assert request.body["extraFields"] == [
        {"fieldName": "Cost centre", "fieldValue": "CC-1"},
        {"fieldName": "Region", "fieldValue": "South"},
    ]


def test_unwritable_path_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot write the template"):
        write_template(tmp_path / "missing" / "template.xlsx")
