"""Workbook loading on files written in each test, with openpyxl or by hand."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook

from provisioner.config import Limits
from provisioner.errors import InputFileError
from provisioner.loading import load_sheet
from provisioner.loading.detect import CFB_SIGNATURE

from .helpers import (
    codes,
    fields,
    row_numbers,
    sheet_xml,
    texts,
    write_workbook_xml,
)

HEADER = ["email", "firstName", "lastName"]


def save(workbook: Workbook, path: Path) -> Path:
    workbook.save(path)
    return path


def users_workbook(*rows: list[object], title: str = "Users") -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    return workbook


# Sheets


def test_title_rows_above_header(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Users"
    sheet.append(["New buyers, March"])
    sheet.append([])
    sheet.append(HEADER)
    sheet.append(["a@example.com", "Ann", "Lee"])
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    assert loaded.report.header_row == 3
    assert "Header found on row 3." in loaded.report.notes
    assert row_numbers(loaded) == [4]


def test_first_visible_matching_sheet_chosen(tmp_path: Path) -> None:
    workbook = users_workbook(["a@example.com", "Ann", "Lee"])
    notes = workbook.create_sheet("Instructions", 0)
    notes.append(["Fill in the Users sheet."])
    hidden = workbook.create_sheet("Archive", 0)
    hidden.append(HEADER)
    hidden.sheet_state = "hidden"
    workbook.active = 1
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    assert loaded.sheet_name == "Users"
    assert loaded.rows[0].cells[0].value == "a@example.com"


def test_two_matching_sheets_rejected(tmp_path: Path) -> None:
    workbook = users_workbook(["a@example.com", "Ann", "Lee"])
    workbook.create_sheet("More users").append(["E-mail", "Surname"])
    path = save(workbook, tmp_path / "users.xlsx")
    with pytest.raises(InputFileError, match=r"Users, More users.*--sheet"):
        load_sheet(path)
    assert load_sheet(path, sheet="More users").sheet_name == "More users"


def test_sheet_name_matched_ignoring_case(tmp_path: Path) -> None:
    path = save(users_workbook(["a@example.com"]), tmp_path / "users.xlsx")
    assert load_sheet(path, sheet=" users ").sheet_name == "Users"


def test_unknown_sheet_name_lists_sheets(tmp_path: Path) -> None:
    path = save(users_workbook(["a@example.com"]), tmp_path / "users.xlsx")
    with pytest.raises(InputFileError, match=r"no sheet named 'Buyers'.*Users"):
        load_sheet(path, sheet="Buyers")


def test_no_sheet_with_header_rejected(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["name", "company"])
    path = save(workbook, tmp_path / "users.xlsx")
    with pytest.raises(InputFileError, match="no visible sheet"):
        load_sheet(path)


def test_named_sheet_without_header_rejected(tmp_path: Path) -> None:
    workbook = users_workbook(["a@example.com"])
    workbook.create_sheet("Notes").append(["nothing here"])
    path = save(workbook, tmp_path / "users.xlsx")
    with pytest.raises(InputFileError, match="sheet Notes has no header row"):
        load_sheet(path, sheet="Notes")


def test_empty_workbook_rejected(tmp_path: Path) -> None:
    path = save(Workbook(), tmp_path / "users.xlsx")
    with pytest.raises(InputFileError, match="no visible sheet"):
        load_sheet(path)


def test_very_hidden_only_match_not_chosen(tmp_path: Path) -> None:
    path = write_workbook_xml(
        tmp_path / "users.xlsx",
        [("Old", sheet_xml([HEADER, ["a@example.com", "Ann", "Lee"]]))],
        states={"Old": "veryHidden"},
    )
    with pytest.raises(InputFileError, match=r"visible sheets: none"):
        load_sheet(path)


# Cells


def test_cell_types_and_formats_kept(tmp_path: Path) -> None:
    workbook = users_workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["a@example.com", 7, 1.5, True, dt.date(2024, 3, 1), dt.time(2, 0)])
    sheet["B2"].number_format = "00000"
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    cells = loaded.rows[0].cells
    assert [cell.value for cell in cells[:3]] == ["a@example.com", 7, 1.5]
    assert cells[1].number_format == "00000"
    assert cells[1].text == "7"
    assert codes(loaded) == [["EXTRA_VALUES"]]


def test_float_text_never_rounded(tmp_path: Path) -> None:
    workbook = users_workbook(["a@example.com", 101.0, 1.5, 1e16])
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    assert texts(loaded) == [["a@example.com", "101", "1.5"]]
    assert loaded.rows[0].cells[1].value == 101
    assert loaded.rows[0].issues[0].message.count("'1e+16'") == 1


def test_formula_without_value_flagged(tmp_path: Path) -> None:
    workbook = users_workbook(["=LOWER(D2)", "Ann", "Lee", "A@EXAMPLE.COM"])
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    email = loaded.rows[0].cells[0]
    assert email.formula_without_value
    assert email.value is None
    assert email.text == "=LOWER(D2)"
    assert not loaded.rows[0].cells[1].formula_without_value


def test_formula_only_row_not_blank(tmp_path: Path) -> None:
    workbook = users_workbook(["a@example.com", "Ann"], ["=B2"])
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    assert row_numbers(loaded) == [2, 3]
    assert loaded.report.blank_rows_skipped == 0


def test_formula_with_cached_value_read(tmp_path: Path) -> None:
    xml = sheet_xml(
        [HEADER],
        after="",
    ).replace(
        "</sheetData>",
        '<row r="2"><c r="A2" t="str"><f t="shared" si="0" ref="A2:B2">LOWER(D2)'
        '</f><v>a@example.com</v></c><c r="B2" t="str"><f t="shared" si="0"/></c>'
        '<c r="C2"><f t="shared" si="9"/></c></row></sheetData>',
    )
    path = write_workbook_xml(tmp_path / "users.xlsx", [("Users", xml)])
    loaded = load_sheet(path)
    first, second, third = loaded.rows[0].cells
    assert first.value == "a@example.com"
    assert not first.formula_without_value
    assert second.formula_without_value
    assert second.text == "=LOWER(E2)"
    assert third.formula_without_value
    assert third.text == ""


def test_hyperlink_target_kept(tmp_path: Path) -> None:
    workbook = users_workbook(["Ann Lee", "Ann", "Lee"])
    sheet = workbook.active
    assert sheet is not None
    sheet["A2"].hyperlink = "mailto:ann.lee@example.com"
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    email = loaded.rows[0].cells[0]
    assert email.value == "Ann Lee"
    assert email.hyperlink == "mailto:ann.lee@example.com"
    assert loaded.rows[0].cells[1].hyperlink is None


def test_merged_cells_filled_from_top_left(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Users"
    sheet.append(["email", "company", "firstName", "lastName"])
    sheet.append(["a@example.com", "ACME", "Ann", "Lee"])
    sheet.append(["b@example.com", None, "Bo", "Chen"])
    sheet.append(["c@example.com", None, "Cy", None])
    sheet.merge_cells("B2:B4")
    sheet["C4"] = "Cy Diaz"
    sheet.merge_cells("C4:D4")
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    assert [row[1] for row in texts(loaded)] == ["ACME", "ACME", "ACME"]
    assert texts(loaded)[2][2:] == ["Cy Diaz", "Cy Diaz"]
    assert loaded.report.merged_cells_filled == 3


def test_merge_from_header_not_filled(tmp_path: Path) -> None:
    workbook = users_workbook(["a@example.com", None, "Lee"])
    sheet = workbook.active
    assert sheet is not None
    sheet.merge_cells("B1:B2")
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    assert texts(loaded) == [["a@example.com", "", "Lee"]]
    assert loaded.report.merged_cells_filled == 0


def test_extra_value_right_of_header(tmp_path: Path) -> None:
    workbook = users_workbook(["a@example.com", "Ann", "Lee", None, "stray"])
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    assert codes(loaded) == [["EXTRA_VALUES"]]
    assert loaded.rows[0].issues[0].cell == "Users!E2"


def test_blank_rows_and_gaps_keep_row_numbers(tmp_path: Path) -> None:
    workbook = users_workbook(["a@example.com"], [], [" "], ["d@example.com"])
    sheet = workbook.active
    assert sheet is not None
    sheet["A9"] = "i@example.com"
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    assert row_numbers(loaded) == [2, 5, 9]
    assert loaded.report.blank_rows_skipped == 5


def test_cell_ref_quotes_sheet_name(tmp_path: Path) -> None:
    workbook = users_workbook(["a@example.com", "Ann", "Lee", "x"], title="New users")
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    assert loaded.rows[0].issues[0].cell == "'New users'!D2"


def test_results_workbook_accepted_as_input(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Failed"
    sheet.append(["row", "status", "error", "email", "firstName", "lastName"])
    sheet.append([2, "invalid", "Users!D2: bad", "a@example.com", "Ann", "Lee"])
    loaded = load_sheet(save(workbook, tmp_path / "results.xlsx"))
    assert fields(loaded) == [None, None, None, "email", "firstName", "lastName"]
    assert loaded.report.unknown_columns == []


def test_wrong_dimension_and_styled_far_cells(tmp_path: Path) -> None:
    rows = [HEADER, ["a@example.com", "Ann", "Lee"], ["b@example.com", "Bo", "Chen"]]
    xml = sheet_xml(rows, dimension="A1:XFD1048576").replace(
        '</row><row r="3">', '<c r="XFD2" s="0"/></row><row r="3">'
    )
    xml = xml.replace(
        "</sheetData>", '<row r="1048576"><c r="A1048576" s="0"/></row></sheetData>'
    )
    path = write_workbook_xml(tmp_path / "users.xlsx", [("Users", xml)])
    loaded = load_sheet(path)
    assert fields(loaded) == ["email", "firstName", "lastName"]
    assert row_numbers(loaded) == [2, 3]
    assert all(len(row.cells) == 3 for row in loaded.rows)
    assert loaded.report.blank_rows_skipped == 1048576 - 3


def test_cells_without_references(tmp_path: Path) -> None:
    xml = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData><row>"
        + "".join(f'<c t="inlineStr"><is><t>{name}</t></is></c>' for name in HEADER)
        + '</row><row><c t="inlineStr"><is><t>a@example.com</t></is></c>'
        "<c><f>1+1</f></c></row></sheetData></worksheet>"
    )
    loaded = load_sheet(write_workbook_xml(tmp_path / "users.xlsx", [("Users", xml)]))
    assert texts(loaded)[0][0] == "a@example.com"
    assert loaded.rows[0].cells[1].formula_without_value


def test_rows_over_limit_rejected(tmp_path: Path) -> None:
    workbook = users_workbook(*[[f"u{i}@example.com"] for i in range(4)])
    path = save(workbook, tmp_path / "users.xlsx")
    with pytest.raises(InputFileError, match="more than 3 rows"):
        load_sheet(path, limits=Limits(max_rows=3))


def test_xlsx_named_csv_read_as_workbook(tmp_path: Path) -> None:
    path = save(users_workbook(["a@example.com"]), tmp_path / "users.csv")
    loaded = load_sheet(path)
    assert loaded.report.file_format == "xlsx"


def test_xlsm_macro_workbook_read(tmp_path: Path) -> None:
    workbook = users_workbook(["a@example.com"])
    path = save(workbook, tmp_path / "users.xlsx").rename(tmp_path / "users.xlsm")
    assert load_sheet(path).rows[0].cells[0].value == "a@example.com"


# Files that are not workbooks, and hostile ones


def test_encrypted_workbook_needs_password_removed(tmp_path: Path) -> None:
    data = CFB_SIGNATURE + b"\x00" * 1000 + "EncryptedPackage".encode("utf-16-le")
    path = tmp_path / "users.xlsx"
    path.write_bytes(data + b"\x00" * 512)
    with pytest.raises(InputFileError, match="password"):
        load_sheet(path)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"notes.txt": b"hello"}, "zip archive without a workbook"),
        ({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}, "Word"),
    ],
)
def test_zip_that_is_not_a_workbook(
    tmp_path: Path, members: dict[str, bytes], message: str
) -> None:
    path = tmp_path / "users.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(InputFileError, match=message):
        load_sheet(path)


def test_truncated_workbook_rejected(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    users_workbook(["a@example.com"]).save(buffer)
    path = tmp_path / "users.xlsx"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(InputFileError, match="cannot be read as a workbook"):
        load_sheet(path)


def test_damaged_sheet_xml_rejected(tmp_path: Path) -> None:
    path = write_workbook_xml(
        tmp_path / "users.xlsx", [("Users", sheet_xml([HEADER])[:-20])]
    )
    with pytest.raises(InputFileError, match="cannot be read as a workbook"):
        load_sheet(path)


def test_openpyxl_uses_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML is True


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    + "]>"
)


@pytest.mark.parametrize("part", ["sheet", "shared strings"])
def test_entity_expansion_refused(tmp_path: Path, part: str) -> None:
    extra: dict[str, str | bytes] = {}
    xml = sheet_xml([HEADER, ["a@example.com", "&lol9;"]])
    if part == "sheet":
        xml = BILLION_LAUGHS + xml
    else:
        extra["xl/sharedStrings.xml"] = (
            BILLION_LAUGHS + '<sst xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
        )
        xml = sheet_xml([HEADER, ["a@example.com"]])
    path = write_workbook_xml(
        tmp_path / "users.xlsx", [("Users", xml)], extra_members=extra
    )
    with pytest.raises(InputFileError, match="entity"):
        load_sheet(path)


def test_zip_bomb_refused_by_ratio(tmp_path: Path) -> None:
    padding = b" " * (20 << 20)
    xml = (
        sheet_xml([HEADER, ["a@example.com"]])
        .encode()
        .replace(b"<sheetData>", b"<sheetData>" + padding)
    )
    path = write_workbook_xml(tmp_path / "users.xlsx", [("Users", xml.decode())])
    assert path.stat().st_size < (1 << 20)
    with pytest.raises(InputFileError, match="zip bomb"):
        load_sheet(path)


def test_zip_bomb_refused_by_total_size(tmp_path: Path) -> None:
    path = save(users_workbook(["a@example.com"]), tmp_path / "users.xlsx")
    with pytest.raises(InputFileError, match="would unpack to"):
        load_sheet(path, limits=Limits(max_uncompressed_mb=0.001))


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x00"}, ".xlsb"),
        (
            {
                "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                "content.xml": b"<office/>",
                "META-INF/manifest.xml": b"<manifest/>",
            },
            ".ods",
        ),
    ],
)
def test_other_spreadsheet_packages_rejected(
    tmp_path: Path, members: dict[str, bytes], message: str
) -> None:
    path = tmp_path / "users.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(InputFileError, match=message):
        load_sheet(path)


def test_encrypted_package_found_past_first_megabyte(tmp_path: Path) -> None:
    path = tmp_path / "users.xlsx"
    name = "EncryptedPackage".encode("utf-16-le")
    path.write_bytes(CFB_SIGNATURE + b"\x00" * ((1 << 20) - 12) + name + b"\x00" * 64)
    with pytest.raises(InputFileError, match="password"):
        load_sheet(path)


def test_merged_title_and_note_rows(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Users"
    sheet.append(["New buyers"])
    sheet.merge_cells("A1:C1")
    sheet.append(HEADER)
    sheet.append(["a@example.com", "Ann", "Lee"])
    sheet.append([])
    sheet.append(["Total: 1"])
    sheet.append([None, "Prepared by Sales Ops"])
    loaded = load_sheet(save(workbook, tmp_path / "users.xlsx"))
    assert loaded.report.header_row == 2
    assert row_numbers(loaded) == [3]
    assert loaded.report.note_rows_skipped == 2
    assert loaded.report.blank_rows_skipped == 1
    assert loaded.report.merged_cells_filled == 0
