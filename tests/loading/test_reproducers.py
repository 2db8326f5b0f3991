"""The loader on the real broken files that people hand over, one test per kind."""

from __future__ import annotations

import datetime as dt

import pytest

from provisioner.errors import InputFileError
from provisioner.loading import load_sheet

from .helpers import codes, fields, fixture, row_numbers, texts


def test_utf8_bom_stripped_from_first_header() -> None:
    sheet = load_sheet(fixture("utf8_bom.csv"))
    assert fields(sheet) == ["email", "firstName", "lastName", "companyId"]
    assert sheet.report.encoding == "utf-8-sig"
    assert texts(sheet)[0] == ["ann.lee@example.com", "Ann", "Lee", "101"]


def test_cp1252_names_decoded_and_flagged() -> None:
    sheet = load_sheet(fixture("cp1252_names.csv"))
    assert sheet.report.encoding == "cp1252"
    assert [row[1:3] for row in texts(sheet)] == [
        ["José", "Muñoz"],
        ["Søren", "Ødegård"],
        ["Zoë", "O’Neil"],
    ]
    assert codes(sheet) == [["ENCODING_GUESSED"]] * 3
    assert all(
        issue.severity == "warning" for row in sheet.rows for issue in row.issues
    )
    assert any("rows 2, 3, 4" in note for note in sheet.report.notes)


def test_utf16le_unicode_text_export() -> None:
    sheet = load_sheet(fixture("utf16le_unicode_text.txt"))
    assert sheet.report.encoding == "utf-16-le"
    assert sheet.report.delimiter == "\t"
    assert fields(sheet) == ["email", "firstName", "lastName", "companyId"]
    assert texts(sheet)[1][1:3] == ["José", "Muñoz"]


def test_semicolon_separator_keeps_comma_lists() -> None:
    sheet = load_sheet(fixture("semicolon_separator.csv"))
    assert sheet.report.delimiter == ";"
    assert fields(sheet) == ["email", "firstName", "lastName", "channelIds"]
    assert texts(sheet)[0][3] == "1,2"


def test_embedded_newline_is_one_record() -> None:
    sheet = load_sheet(fixture("embedded_newline.csv"))
    assert texts(sheet) == [
        ["ann.lee@example.com", "Ann", "Lee, Jr.", "Sales\nEMEA North"],
        ["bo.chen@example.com", "Bo", "Chen", "Support"],
    ]
    assert row_numbers(sheet) == [2, 3]
    assert [row.line for row in sheet.rows] == [2, 4]
    assert sheet.report.unknown_columns == ["department"]


def test_trailing_delimiters_and_ragged_rows() -> None:
    sheet = load_sheet(fixture("trailing_delims_blank_rows.csv"))
    assert fields(sheet) == ["email", "firstName", "lastName"]
    assert row_numbers(sheet) == [2, 6, 7]
    assert sheet.report.blank_rows_skipped == 3
    assert codes(sheet) == [[], ["EXTRA_VALUES"], []]
    extra = sheet.rows[1].issues[0]
    assert extra.cell == "trailing_delims_blank_rows!E6"
    assert "UNEXPECTED" in extra.message
    assert sheet.issues == []


def test_title_rows_above_header() -> None:
    sheet = load_sheet(fixture("title_rows_above_header.csv"))
    assert sheet.report.header_row == 4
    assert "Header found on row 4." in sheet.report.notes
    assert row_numbers(sheet) == [5]


def test_late_text_and_leading_zeros_stay_text() -> None:
    sheet = load_sheet(fixture("type_inference_late_text.csv"))
    assert len(sheet.rows) == 150
    assert sheet.rows[0].cells[2].value == "0612345000"
    assert sheet.rows[0].cells[3].value == "02100"
    late = sheet.rows[140]
    assert late.row_number == 142
    assert late.cells[0].value == "ACME-7"
    assert all(isinstance(cell.value, str) for row in sheet.rows for cell in row.cells)


def test_numbers_as_floats_keep_their_type() -> None:
    sheet = load_sheet(fixture("numbers_as_floats.xlsx"))
    first, second = sheet.rows
    assert first.cells[0].value == 101
    assert isinstance(first.cells[0].value, int)
    assert first.cells[2].value == 10912345670.0
    assert isinstance(first.cells[2].value, float)
    assert second.cells[0].value == 102.00000000000001
    assert second.cells[0].text == "102.00000000000001"


def test_autoconverted_dates_and_decimals_kept_raw() -> None:
    sheet = load_sheet(fixture("autoconverted_dates_and_decimals.xlsx"))
    first, second = sheet.rows
    assert first.cells[1].value == 1.2
    assert first.cells[2].value == dt.datetime(2024, 3, 1)
    assert second.cells[3].value == dt.time(2, 0)
    assert second.cells[3].number_format is not None


def test_formula_without_cached_value_flagged() -> None:
    sheet = load_sheet(fixture("formula_without_cached_value.xlsx"))
    assert len(sheet.rows) == 2
    for row in sheet.rows:
        assert row.cells[0].formula_without_value
        assert row.cells[0].value is None
        assert row.cells[0].text.startswith("=")
        assert not row.cells[1].formula_without_value


def test_hidden_and_active_sheets_ignored() -> None:
    sheet = load_sheet(fixture("hidden_and_active_sheets.xlsx"))
    assert sheet.sheet_name == "Users"
    assert sheet.report.sheet_name == "Users"


def test_hidden_sheet_chosen_by_name() -> None:
    sheet = load_sheet(fixture("hidden_and_active_sheets.xlsx"), sheet="Users (old)")
    assert sheet.sheet_name == "Users (old)"
    assert any("veryHidden" in note for note in sheet.report.notes)


def test_bad_dimension_reads_real_width() -> None:
    sheet = load_sheet(fixture("bad_dimension.xlsx"))
    assert fields(sheet) == ["email", "firstName", "lastName"]
    assert row_numbers(sheet) == [2, 3]


def test_legacy_xls_rejected_with_advice() -> None:
    with pytest.raises(InputFileError, match=r"\.xls.*Save As"):
        load_sheet(fixture("legacy_binary.xls"))


def test_email_whitespace_left_raw() -> None:
    sheet = load_sheet(fixture("email_whitespace.csv"))
    assert [row[0] for row in texts(sheet)][:6] == [
        " ann.lee@example.com",
        "bo.chen@example.com ",
        "cy.diaz@example.com\u00a0",
        "\u200bdi.evans@example.com",
        "\ted.fox@example.com",
        "fay.gray@example.com\u3000",
    ]


def test_email_wrappers_left_raw() -> None:
    sheet = load_sheet(fixture("email_wrappers.csv"))
    assert [row[0] for row in texts(sheet)] == [
        "mailto:ann.lee@example.com",
        "MAILTO:bo.chen@example.com",
        "Cy Diaz <cy.diaz@example.com>",
        "<di.evans@example.com>",
        "ed.fox@example.com; ed.fox@example.org",
        "\u201cfay.gray@example.com\u201d",
    ]
