"""CSV and TSV loading on files generated in each test: encodings, delimiters, rows."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.config import Limits
from provisioner.errors import InputFileError
from provisioner.loading import load_sheet
from provisioner.model import EMPTY_CELL

from .helpers import codes, fields, row_numbers, texts

WriteBytes = Callable[[str, bytes], Path]

USERS = (
    "email,firstName,lastName\r\nann@example.com,Ann,Lee\r\nbo@example.com,Bo,Chen\r\n"
)


# Encodings


@pytest.mark.parametrize(
    ("codec", "bom", "expected"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("utf-8", b"", "utf-8"),
        ("utf-16-le", b"", "utf-16-le"),
        ("utf-16-be", b"", "utf-16-be"),
    ],
)
def test_encoding_detected(
    write_bytes: WriteBytes, codec: str, bom: bytes, expected: str
) -> None:
    text = USERS.replace(",", "\t").replace("Ann", "Zoë")
    path = write_bytes("users.txt", bom + text.encode(codec))
    sheet = load_sheet(path)
    assert sheet.report.encoding == expected
    assert sheet.report.delimiter == "\t"
    assert texts(sheet)[0] == ["ann@example.com", "Zoë", "Lee"]
    assert fields(sheet) == ["email", "firstName", "lastName"]


def test_cp1252_curly_apostrophe(write_bytes: WriteBytes) -> None:
    data = "email,lastName\nzoe@example.com,O’Neil\n".encode("cp1252")
    sheet = load_sheet(write_bytes("users.csv", data))
    assert sheet.report.encoding == "cp1252"
    assert texts(sheet) == [["zoe@example.com", "O’Neil"]]
    assert sheet.rows[0].issues[0].cell == "users!B2"


def test_cp1252_ascii_rows_not_flagged(write_bytes: WriteBytes) -> None:
    data = "email,lastName\na@example.com,Lee\nb@example.com,Muñoz\n".encode("cp1252")
    sheet = load_sheet(write_bytes("users.csv", data))
    assert codes(sheet) == [[], ["ENCODING_GUESSED"]]


def test_bytes_invalid_in_utf8_and_cp1252(write_bytes: WriteBytes) -> None:
    path = write_bytes("users.csv", b"email,lastName\na@example.com,L\x81e\n")
    with pytest.raises(InputFileError, match=r"neither UTF-8 nor Windows-1252.*0x81"):
        load_sheet(path)


def test_encoding_override_used(write_bytes: WriteBytes) -> None:
    data = "email,lastName\na@example.com,Æbelø\n".encode("latin-1")
    sheet = load_sheet(write_bytes("users.csv", data), encoding="latin-1")
    assert sheet.report.encoding == "latin-1"
    assert texts(sheet) == [["a@example.com", "Æbelø"]]
    assert codes(sheet) == [[]]


def test_encoding_override_strict(write_bytes: WriteBytes) -> None:
    data = "email,lastName\na@example.com,Muñoz\n".encode("cp1252")
    with pytest.raises(InputFileError, match="not valid utf-8"):
        load_sheet(write_bytes("users.csv", data), encoding="utf-8")


def test_unknown_encoding_rejected(write_bytes: WriteBytes) -> None:
    with pytest.raises(InputFileError, match="Unknown encoding 'klingon'"):
        load_sheet(write_bytes("users.csv", USERS.encode()), encoding="klingon")


def test_replacement_character_is_row_error(write_bytes: WriteBytes) -> None:
    data = "email,firstName\na@example.com,Jos\ufffd\nb@example.com,Bo\n".encode()
    sheet = load_sheet(write_bytes("users.csv", data))
    assert codes(sheet) == [["REPLACEMENT_CHARACTER"], []]
    assert sheet.rows[0].issues[0].cell == "users!B2"
    assert sheet.rows[0].issues[0].severity == "error"


def test_nul_bytes_rejected(write_bytes: WriteBytes) -> None:
    data = b"email,firstName\na@example.com,A\x00nn\n" * 3
    with pytest.raises(InputFileError, match="NUL bytes"):
        load_sheet(write_bytes("users.csv", data))


# Delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_found_from_header(write_bytes: WriteBytes, delimiter: str) -> None:
    # Every data value contains the other delimiters, so only the header decides.
    others = "".join(mark for mark in ",;|" if mark != delimiter)
    lines = [
        delimiter.join(["email", "firstName", "channelIds"]),
        delimiter.join(["a@example.com", "Ann", f'"1{others}2"']),
    ]
    sheet = load_sheet(write_bytes("users.csv", "\n".join(lines).encode()))
    assert sheet.report.delimiter == delimiter
    assert fields(sheet) == ["email", "firstName", "channelIds"]
    assert texts(sheet) == [["a@example.com", "Ann", f"1{others}2"]]


def test_sep_line_honoured_and_dropped(write_bytes: WriteBytes) -> None:
    data = b"sep=;\r\nemail;firstName\r\na@example.com;Ann, Jr.\r\n"
    sheet = load_sheet(write_bytes("users.csv", data))
    assert sheet.report.delimiter == ";"
    assert texts(sheet) == [["a@example.com", "Ann, Jr."]]
    assert row_numbers(sheet) == [2]
    assert [row.line for row in sheet.rows] == [3]
    assert any("sep=;" in note for note in sheet.report.notes)


def test_quoted_sep_line_read(write_bytes: WriteBytes) -> None:
    data = b'"sep=,",,\nemail,firstName\na@example.com,Ann\n'
    sheet = load_sheet(write_bytes("users.csv", data))
    assert sheet.report.delimiter == ","
    assert texts(sheet) == [["a@example.com", "Ann"]]


def test_one_column_header_with_delimiter(write_bytes: WriteBytes) -> None:
    data = b'"email,firstName"\n"a@example.com,Ann"\n'
    with pytest.raises(InputFileError, match="reads as one column"):
        load_sheet(write_bytes("users.csv", data), header_row=1)


# Records and rows


def test_quoted_newlines_keep_lines(write_bytes: WriteBytes) -> None:
    data = (
        b'email,firstName,lastName\n"a@example.com","Ann\nMarie","Lee, Jr."\n'
        b'"b@example.com","Bo","Chen\n\nSr."\nc@example.com,Cy,Diaz\n'
    )
    sheet = load_sheet(write_bytes("users.csv", data))
    assert row_numbers(sheet) == [2, 3, 4]
    assert [row.line for row in sheet.rows] == [2, 4, 7]
    assert texts(sheet)[1][2] == "Chen\n\nSr."


def test_carriage_return_line_endings(write_bytes: WriteBytes) -> None:
    sheet = load_sheet(write_bytes("users.csv", USERS.replace("\r\n", "\r").encode()))
    assert row_numbers(sheet) == [2, 3]
    assert texts(sheet)[1] == ["bo@example.com", "Bo", "Chen"]


def test_unclosed_quote_at_end_rejected(write_bytes: WriteBytes) -> None:
    data = b'email,firstName\na@example.com,"Ann\nb@example.com,Bo\nc@example.com,Cy\n'
    with pytest.raises(InputFileError, match=r"record 2 \(line 2\).*never closed"):
        load_sheet(write_bytes("users.csv", data))


def test_lone_quote_in_unquoted_value_kept(write_bytes: WriteBytes) -> None:
    data = b'email,lastName\na@example.com,O"Neil\n'
    sheet = load_sheet(write_bytes("users.csv", data))
    assert texts(sheet) == [["a@example.com", 'O"Neil']]


def test_values_never_type_inferred(write_bytes: WriteBytes) -> None:
    data = b"email,companyId,phone\na@example.com,00123,2024-03-01\nb@x.com,1e5,TRUE\n"
    sheet = load_sheet(write_bytes("users.csv", data))
    assert [[cell.value for cell in row.cells] for row in sheet.rows] == [
        ["a@example.com", "00123", "2024-03-01"],
        ["b@x.com", "1e5", "TRUE"],
    ]


def test_short_rows_padded_with_blank_cells(write_bytes: WriteBytes) -> None:
    data = b"email,firstName,lastName\na@example.com\nb@example.com,Bo,\n"
    sheet = load_sheet(write_bytes("users.csv", data))
    assert sheet.rows[0].cells[1:] == (EMPTY_CELL, EMPTY_CELL)
    assert sheet.rows[1].cells[2] == EMPTY_CELL
    assert codes(sheet) == [[], []]


def test_extra_values_reported_not_truncated(write_bytes: WriteBytes) -> None:
    data = b"email,firstName\na@example.com,Ann,Lee,Sales\nb@example.com,Bo,,\n"
    sheet = load_sheet(write_bytes("users.csv", data))
    assert codes(sheet) == [["EXTRA_VALUES"], []]
    issue = sheet.rows[0].issues[0]
    assert issue.cell == "users!C2"
    assert "'Lee'" in issue.message
    assert "'Sales'" in issue.message


def test_blank_and_invisible_rows_skipped(write_bytes: WriteBytes) -> None:
    data = "email,firstName\n\n,\n \t, \u00a0\n\u200b,\na@example.com,Ann\n".encode()
    sheet = load_sheet(write_bytes("users.csv", data))
    assert row_numbers(sheet) == [6]
    assert sheet.report.blank_rows_skipped == 4


def test_note_rows_under_data_skipped(write_bytes: WriteBytes) -> None:
    data = (
        b"email,firstName,lastName\na@example.com,Ann,Lee\n\nTotal: 1,,\n"
        b"Prepared by Sales Ops\n"
    )
    sheet = load_sheet(write_bytes("users.csv", data))
    assert row_numbers(sheet) == [2]
    assert sheet.report.note_rows_skipped == 2
    assert sheet.report.blank_rows_skipped == 1


def test_note_like_rows_between_users_kept(write_bytes: WriteBytes) -> None:
    data = b"email,firstName\na@example.com,Ann\nBo\nc@example.com,Cy\n"
    sheet = load_sheet(write_bytes("users.csv", data))
    assert row_numbers(sheet) == [2, 3, 4]
    assert sheet.report.note_rows_skipped == 0


def test_trailing_row_with_address_kept(write_bytes: WriteBytes) -> None:
    data = b"email,firstName\na@example.com,Ann\nops@example.com\n"
    sheet = load_sheet(write_bytes("users.csv", data))
    assert row_numbers(sheet) == [2, 3]


def test_unnamed_column_with_values(write_bytes: WriteBytes) -> None:
    data = b"email,,firstName,\na@example.com,x,Ann,\nb@example.com,,Bo,\n"
    sheet = load_sheet(write_bytes("users.csv", data))
    assert [column.letter for column in sheet.columns] == ["A", "B", "C"]
    assert [issue.code for issue in sheet.issues] == ["UNNAMED_COLUMN"]
    assert "users!B2" in sheet.issues[0].message
    assert sheet.report.unknown_columns == []


def test_empty_unnamed_column_kept(write_bytes: WriteBytes) -> None:
    data = b"email,,firstName\na@example.com,,Ann\n"
    sheet = load_sheet(write_bytes("users.csv", data))
    assert fields(sheet) == ["email", None, "firstName"]
    assert sheet.issues == []
    assert texts(sheet) == [["a@example.com", "", "Ann"]]


# Headers


def test_title_rows_and_header_override(write_bytes: WriteBytes) -> None:
    data = b"Import,,\nMarch,,\nemail,firstName,lastName\na@example.com,Ann,Lee\n"
    path = write_bytes("users.csv", data)
    found = load_sheet(path)
    overridden = load_sheet(path, header_row=3)
    assert found.report.header_row == 3
    assert overridden.report.header_row == 3
    assert row_numbers(found) == row_numbers(overridden) == [4]


def test_header_override_without_email(write_bytes: WriteBytes) -> None:
    data = b"Name,Company\nAnn,ACME\n"
    sheet = load_sheet(write_bytes("users.csv", data), header_row=1)
    assert fields(sheet) == [None, "company"]
    assert sheet.report.unknown_columns == ["Name"]


def test_header_override_past_end(write_bytes: WriteBytes) -> None:
    with pytest.raises(InputFileError, match="no row 9"):
        load_sheet(write_bytes("users.csv", USERS.encode()), header_row=9)


def test_header_override_must_be_positive(write_bytes: WriteBytes) -> None:
    with pytest.raises(InputFileError, match="1 or more"):
        load_sheet(write_bytes("users.csv", USERS.encode()), header_row=0)


def test_no_header_row_found(write_bytes: WriteBytes) -> None:
    data = b"name,company\nAnn,ACME\n"
    with pytest.raises(InputFileError, match="--header-row"):
        load_sheet(write_bytes("users.csv", data))


def test_header_under_twenty_rows_not_found(write_bytes: WriteBytes) -> None:
    data = b"note\n" * 20 + b"email,firstName\na@example.com,Ann\n"
    path = write_bytes("users.csv", data)
    with pytest.raises(InputFileError, match="first 20 non-blank rows"):
        load_sheet(path)
    assert row_numbers(load_sheet(path, header_row=21)) == [22]


def test_header_names_normalised(write_bytes: WriteBytes) -> None:
    header = '"E-Mail Address"," First\u00a0Name ",\u200bLAST_NAME,Company ID'
    data = f"{header}\na@example.com,Ann,Lee,7\n".encode()
    sheet = load_sheet(write_bytes("users.csv", data))
    assert fields(sheet) == ["email", "firstName", "lastName", "companyId"]


def test_duplicate_mapping_is_sheet_issue(write_bytes: WriteBytes) -> None:
    data = b"email,First Name,E-mail\na@example.com,Ann,b@example.com\n"
    sheet = load_sheet(write_bytes("users.csv", data))
    assert fields(sheet) == ["email", "firstName", None]
    assert [issue.code for issue in sheet.issues] == ["DUPLICATE_COLUMN"]
    message = sheet.issues[0].message
    assert "Columns A ('email') and C ('E-mail')" in message
    assert sheet.report.unknown_columns == []


def test_unknown_columns_reported_once(write_bytes: WriteBytes) -> None:
    data = b"email,Notes,notes,Region\na@example.com,x,y,EU\n"
    sheet = load_sheet(write_bytes("users.csv", data))
    assert sheet.report.unknown_columns == ["Notes", "notes", "Region"]


def test_result_columns_ignored(write_bytes: WriteBytes) -> None:
    data = (
        b"row,status,userId,bcId,error,email,firstName\n"
        b"2,invalid,,,missing name,a@example.com,Ann\n"
    )
    sheet = load_sheet(write_bytes("failed.csv", data))
    assert fields(sheet) == [None, None, None, None, None, "email", "firstName"]
    assert sheet.report.unknown_columns == []


def test_extra_fields_and_aliases_matched(write_bytes: WriteBytes) -> None:
    data = b"Work Mail,Cost Centre,extra: Region\na@example.com,C-1,EU\n"
    sheet = load_sheet(
        write_bytes("users.csv", data),
        extra_field_names=("Cost Centre", "Region"),
        header_aliases={"email": ["work mail"]},
    )
    assert fields(sheet) == ["email", "extra:Cost Centre", "extra:Region"]


# Limits and files that are not sheets


def test_rows_over_limit_rejected(write_bytes: WriteBytes) -> None:
    data = b"email\n" + b"a@example.com\n" * 6
    path = write_bytes("users.csv", data)
    assert len(load_sheet(path, limits=Limits(max_rows=6)).rows) == 6
    with pytest.raises(InputFileError, match="more than 5 rows"):
        load_sheet(path, limits=Limits(max_rows=5))


def test_overlong_cell_is_row_error(write_bytes: WriteBytes) -> None:
    data = b"email,firstName\na@example.com," + b"x" * 101 + b"\n"
    sheet = load_sheet(
        write_bytes("users.csv", data), limits=Limits(max_cell_chars=100)
    )
    assert codes(sheet) == [["CELL_TOO_LONG"]]
    assert sheet.rows[0].issues[0].cell == "users!B2"


def test_file_over_size_limit_rejected(write_bytes: WriteBytes) -> None:
    path = write_bytes("users.csv", USERS.encode() * 20)
    with pytest.raises(InputFileError, match="more than the limit"):
        load_sheet(path, limits=Limits(max_file_mb=0.001))


def test_header_over_column_limit_rejected(write_bytes: WriteBytes) -> None:
    header = ",".join(["email"] + [f"c{i}" for i in range(10)])
    path = write_bytes("users.csv", f"{header}\na@example.com\n".encode())
    with pytest.raises(InputFileError, match="11 columns"):
        load_sheet(path, limits=Limits(max_columns=10))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"%PDF-1.7\n%\xe2\xe3\n", "PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"\x1f\x8b\x08\x00\x00\x00", "gzip archive"),
        (b"   \n\n", "header row"),
    ],
)
def test_not_a_sheet_rejected(
    write_bytes: WriteBytes, data: bytes, message: str
) -> None:
    with pytest.raises(InputFileError, match=message):
        load_sheet(write_bytes("users.csv", data))


def test_missing_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        load_sheet(tmp_path / "nope.csv")
    with pytest.raises(InputFileError, match="not a file"):
        load_sheet(tmp_path)


def test_csv_named_xlsx_read_as_text(write_bytes: WriteBytes) -> None:
    sheet = load_sheet(write_bytes("users.xlsx", USERS.encode()))
    assert sheet.report.file_format == "csv"
    assert len(sheet.rows) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<!DOCTYPE html><html><table><tr><td>email</td></tr>", "web page"),
        (b"\xef\xbb\xbf  <table><tr><td>email</td></tr></table>", "web page"),
        (
            b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
            "Excel 2003 XML",
        ),
    ],
)
def test_markup_saved_as_sheet_rejected(
    write_bytes: WriteBytes, data: bytes, message: str
) -> None:
    with pytest.raises(InputFileError, match=message):
        load_sheet(write_bytes("users.xls", data))


@pytest.mark.parametrize("sep_line", [b'sep="', b"sep=x", b"sep=;"])
def test_sep_line_naming_wrong_delimiter(
    write_bytes: WriteBytes, sep_line: bytes
) -> None:
    data = sep_line + b"\nemail,firstName\na@example.com,Ann\n"
    with pytest.raises(InputFileError, match="Correct or delete the sep= line"):
        load_sheet(write_bytes("users.csv", data))


def test_mixed_utf8_and_cp1252_rejected(write_bytes: WriteBytes) -> None:
    data = (
        "email,lastName\na@example.com,Muñoz\n".encode()
        + "b@example.com,Ødegård\n".encode("cp1252")
    )
    with pytest.raises(InputFileError, match=r"mostly UTF-8, but line 3.*0xD8"):
        load_sheet(write_bytes("users.csv", data))


def test_quote_open_across_rows_flagged(write_bytes: WriteBytes) -> None:
    data = (
        b"email,firstName,lastName\n"
        b'a@example.com,"Ann,Lee\n'
        b"b@example.com,Bo,Chen\n"
        b'c@example.com,Cy",Diaz\n'
        b"d@example.com,Di,Evans\n"
    )
    sheet = load_sheet(write_bytes("users.csv", data))
    assert row_numbers(sheet) == [2, 3]
    assert codes(sheet) == [["UNCLOSED_QUOTE"], []]
    issue = sheet.rows[0].issues[0]
    assert issue.cell == "users!B2"
    assert "line 2" in issue.fix


def test_line_break_in_cell_not_flagged(write_bytes: WriteBytes) -> None:
    data = b'email,firstName,lastName\na@example.com,"Ann\nMarie, Jr.",Lee\n'
    sheet = load_sheet(write_bytes("users.csv", data))
    assert codes(sheet) == [[]]
