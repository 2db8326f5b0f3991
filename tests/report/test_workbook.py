"""The results workbook: sheets, columns, values, highlights, summary and marker."""

from __future__ import annotations

import datetime as dt
import stat
import zipfile
from pathlib import Path

import openpyxl
import pytest

from provisioner.model import Cell, RowIssue, Status
from provisioner.report import (
    FAILED_SHEET,
    PROBLEMS_SHEET,
    RESULTS_SHEET,
    SUMMARY_SHEET,
    read_job_marker,
    write_results,
)
from provisioner.report import writer as report_writer

from .helpers import (
    cell,
    make_sheet,
    read_csv,
    report_row,
    sheet_rows,
    sheet_values,
)

HEADERS = ["Email Address", "First Name", "Last Name", "Phone", "Start date"]
LEADING = ["row", "status", "userId", "bcId", "error"]


def email_issue(row: int) -> RowIssue:
    return RowIssue(
        code="EMAIL_INVALID",
        message="The email 'ann@' has no domain.",
        fix="Type the full address, such as ann@example.com.",
        column="A",
        cell=f"Users!A{row}",
    )


@pytest.fixture
def three_rows() -> tuple:
    sheet = make_sheet(
        HEADERS,
        [
            ["ann@", "Ann", "Lee", "+1 555 0100", None],
            [
                "bo@example.com",
                "Bo",
                "Chen",
                10912345670,
                cell(dt.datetime(2024, 3, 1), "d-mmm-yy"),
            ],
            ["cy@example.com", "Cy", "Diaz", "00612", None],
        ],
    )
    first, second, third = sheet.rows
    rows = [
        report_row(third, Status.FAILED, error="The API timed out; run again."),
        report_row(first, Status.INVALID, issues=[email_issue(2)]),
        report_row(second, Status.CREATED, user_id=101, bc_id=9001),
    ]
    return sheet, rows


def test_paths_share_stem(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    assert paths.xlsx == tmp_path / "out.xlsx"
    assert paths.csv == tmp_path / "out.csv"
    assert paths.xlsx.is_file()
    assert paths.csv.is_file()


def test_sheets_in_order(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    workbook = openpyxl.load_workbook(paths.xlsx)
    assert workbook.sheetnames == [
        RESULTS_SHEET,
        FAILED_SHEET,
        SUMMARY_SHEET,
        PROBLEMS_SHEET,
    ]


def test_results_rows_in_source_order(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    values = sheet_values(paths.xlsx, RESULTS_SHEET)
    assert values[0] == LEADING + HEADERS
    assert [row[0] for row in values[1:]] == [2, 3, 4]
    assert [row[1] for row in values[1:]] == ["invalid", "created", "failed"]


def test_results_ids_are_numbers(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    created = sheet_rows(paths.xlsx, RESULTS_SHEET)[2]
    assert created[0].data_type == "n"
    assert created[2].value == 101
    assert created[2].data_type == "n"
    assert created[3].value == 9001
    assert created[3].data_type == "n"


def test_results_keep_original_values(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    results = sheet_rows(paths.xlsx, RESULTS_SHEET)
    ann, bo, cy = results[1], results[2], results[3]
    assert ann[5].value == "ann@"
    assert ann[8].value == "+1 555 0100"
    assert ann[8].data_type == "s"
    assert bo[8].value == 10912345670
    assert bo[8].data_type == "n"
    assert bo[9].value == dt.datetime(2024, 3, 1)
    assert bo[9].number_format == "d-mmm-yy"
    assert cy[8].value == "00612"
    assert cy[8].data_type == "s"


def test_results_error_column(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    values = sheet_values(paths.xlsx, RESULTS_SHEET)
    assert values[1][4] == (
        "Users!A2: The email 'ann@' has no domain. "
        "Type the full address, such as ann@example.com."
    )
    assert values[2][4] is None
    assert values[3][4] == "The API timed out; run again."


def test_headers_written_exactly(tmp_path: Path) -> None:
    headers = ["E-Mail  Address", "Prénom", "=cmd", "2024", "Cost Centre "]
    sheet = make_sheet(headers, [["a@example.com", "Zoë", "x", "y", "z"]])
    rows = [report_row(sheet.rows[0], Status.INVALID, error="bad")]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    results = sheet_rows(paths.xlsx, RESULTS_SHEET)[0]
    failed = sheet_rows(paths.xlsx, FAILED_SHEET)[0]
    assert [c.value for c in results[5:]] == headers
    assert [c.value for c in failed[:5]] == headers
    assert all(c.data_type == "s" for c in results + failed)
    assert read_csv(paths.csv)[0][5:] == [
        "E-Mail  Address",
        "Prénom",
        "'=cmd",
        "2024",
        "Cost Centre ",
    ]


def test_failed_sheet_rows(tmp_path: Path) -> None:
    sheet = make_sheet(["email"], [[f"u{n}@example.com"] for n in range(9)])
    statuses = [
        Status.CREATED,
        Status.EXISTS,
        Status.INVALID,
        Status.REJECTED,
        Status.FAILED,
        Status.PENDING,
        Status.SKIPPED,
        Status.CONFLICT,
        Status.WOULD_CREATE,
    ]
    rows = [
        report_row(source, status, error=f"error {source.row_number}")
        for source, status in zip(sheet.rows, statuses, strict=True)
    ]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    values = sheet_values(paths.xlsx, FAILED_SHEET)
    assert values[0] == ["email", "row", "error"]
    assert values[1:] == [
        ["u2@example.com", 4, "error 4"],
        ["u3@example.com", 5, "error 5"],
        ["u4@example.com", 6, "error 6"],
        ["u5@example.com", 7, "error 7"],
        ["u7@example.com", 9, "error 9"],
    ]


def test_failed_sheet_empty_has_headers(tmp_path: Path) -> None:
    sheet = make_sheet(["email"], [["a@example.com"]])
    rows = [report_row(sheet.rows[0], Status.CREATED, user_id=1, bc_id=2)]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    assert sheet_values(paths.xlsx, FAILED_SHEET) == [["email", "row", "error"]]


def test_earlier_result_columns_dropped(tmp_path: Path) -> None:
    headers = ["email", "First Name", "row", "status", "error", "userId", "bcId"]
    sheet = make_sheet(headers, [["a@example.com", "Ann", 7, "invalid", "old", 1, 2]])
    rows = [report_row(sheet.rows[0], Status.INVALID, error="new")]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    assert sheet_values(paths.xlsx, RESULTS_SHEET) == [
        [*LEADING, "email", "First Name"],
        [2, "invalid", None, None, "new", "a@example.com", "Ann"],
    ]
    assert sheet_values(paths.xlsx, FAILED_SHEET) == [
        ["email", "First Name", "row", "error"],
        ["a@example.com", "Ann", 2, "new"],
    ]


def test_ragged_row_reads_blank(tmp_path: Path) -> None:
    sheet = make_sheet(["email", "First Name", "Last Name"], [["a@example.com"]])
    rows = [report_row(sheet.rows[0], Status.INVALID, error="missing names")]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    assert sheet_values(paths.xlsx, RESULTS_SHEET)[1][5:] == [
        "a@example.com",
        None,
        None,
    ]
    assert read_csv(paths.csv)[1][5:] == ["a@example.com", "", ""]


def test_highlight_by_cell_reference(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    email = sheet_rows(paths.xlsx, RESULTS_SHEET)[1][5]
    assert email.fill.fgColor.rgb.endswith("FFC7CE")
    assert email.comment is not None
    assert "has no domain" in email.comment.text
    assert "ann@example.com" in email.comment.text
    failed_email = sheet_rows(paths.xlsx, FAILED_SHEET)[1][0]
    assert failed_email.fill.fgColor.rgb.endswith("FFC7CE")
    assert failed_email.comment is not None


def test_no_highlight_on_clean_cells(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    first_name = sheet_rows(paths.xlsx, RESULTS_SHEET)[1][6]
    assert first_name.comment is None
    assert first_name.fill.fill_type is None


def test_highlight_by_column_letter(tmp_path: Path) -> None:
    sheet = make_sheet(["email", "First Name"], [["a@example.com", "=1+1"]])
    issue = RowIssue(
        "NAME_FORMULA", "The name starts with '='.", "Type the name.", column="B"
    )
    rows = [report_row(sheet.rows[0], Status.INVALID, issues=[issue])]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    name = sheet_rows(paths.xlsx, RESULTS_SHEET)[1][6]
    assert name.comment is not None
    assert name.comment.text == "The name starts with '='. Type the name."


def test_highlight_blank_cell(tmp_path: Path) -> None:
    sheet = make_sheet(["email", "First Name"], [[None, "Ann"]])
    issue = RowIssue(
        "EMAIL_MISSING", "The email is blank.", "Type the email.", "A", "Users!A2"
    )
    rows = [report_row(sheet.rows[0], Status.INVALID, issues=[issue])]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    email = sheet_rows(paths.xlsx, RESULTS_SHEET)[1][5]
    assert email.value is None
    assert email.fill.fgColor.rgb.endswith("FFC7CE")
    assert email.comment is not None


def test_warning_fill_is_yellow(tmp_path: Path) -> None:
    sheet = make_sheet(["email", "Phone"], [["a@example.com", 612345]])
    warning = RowIssue(
        "PHONE_NUMERIC",
        "The phone was stored as a number; a leading 0 may be lost.",
        "Format the column as Text and retype it.",
        cell="Users!$B$2",
        severity="warning",
    )
    rows = [
        report_row(sheet.rows[0], Status.CREATED, user_id=1, bc_id=2, issues=[warning])
    ]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    phone = sheet_rows(paths.xlsx, RESULTS_SHEET)[1][6]
    assert phone.fill.fgColor.rgb.endswith("FFEB9C")
    assert phone.comment is not None


def test_many_issues_one_comment(tmp_path: Path) -> None:
    sheet = make_sheet(["email"], [["Ann@@example"]])
    issues = [
        RowIssue("A", "First problem.", "First fix.", cell="Users!A2"),
        RowIssue("B", "Second problem.", "Second fix.", cell="Users!A2"),
    ]
    rows = [report_row(sheet.rows[0], Status.INVALID, issues=issues)]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    email = sheet_rows(paths.xlsx, RESULTS_SHEET)[1][5]
    assert (
        email.comment.text == "First problem. First fix.\nSecond problem. Second fix."
    )


def test_highlight_off(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(
        tmp_path / "out.xlsx", sheet, rows, summary={}, highlight=False
    )
    for row in sheet_rows(paths.xlsx, RESULTS_SHEET):
        for c in row:
            assert c.comment is None
            assert c.fill.fill_type is None


def test_status_cells_coloured(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    statuses = [row[1] for row in sheet_rows(paths.xlsx, RESULTS_SHEET)[1:]]
    assert statuses[0].fill.fgColor.rgb.endswith("FFC7CE")
    assert statuses[1].fill.fgColor.rgb.endswith("C6EFCE")
    assert statuses[2].fill.fgColor.rgb.endswith("FFEB9C")


def test_layout_frozen_filtered_sized(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    workbook = openpyxl.load_workbook(paths.xlsx)
    for title in (RESULTS_SHEET, FAILED_SHEET):
        worksheet = workbook[title]
        assert worksheet.freeze_panes == "A2"
        assert worksheet.auto_filter.ref is not None
    results = workbook[RESULTS_SHEET]
    assert results.auto_filter.ref == "A1:J4"
    error_width = results.column_dimensions["E"].width
    row_width = results.column_dimensions["A"].width
    assert error_width > row_width
    assert error_width <= report_writer.MAX_COLUMN_WIDTH
    assert all(c.font.bold for c in next(results.iter_rows()))


def test_summary_lines(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    sheet.report.notes.append("Sheet used: Users.")
    sheet.issues.append(
        RowIssue(
            "DUPLICATE_COLUMN", "Columns B and F both map to firstName.", "Rename one."
        )
    )
    summary = {
        "file": "users.xlsx",
        "header row": 1,
        "started at": dt.datetime(2024, 5, 6, 7, 8, 9),
        "rows created": 1,
        "retries": {"429": 2, "5xx": 1},
        "job_id": "20240506-070809-abc",
    }
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary=summary)
    values = sheet_values(paths.xlsx, SUMMARY_SHEET)
    assert values == [
        ["file", "users.xlsx"],
        ["header row", 1],
        ["started at", dt.datetime(2024, 5, 6, 7, 8, 9)],
        ["rows created", 1],
        ["retries 429", 2],
        ["retries 5xx", 1],
        ["job_id", "20240506-070809-abc"],
        ["rows invalid", 1],
        ["rows failed", 1],
        ["sheet problem", "Columns B and F both map to firstName. Rename one."],
        ["load note", "Sheet used: Users."],
    ]


def test_summary_skips_notes_already_shown(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    sheet.report.notes.append("Header found on row 4.")
    summary = {"note 1": "Header found on row 4."}
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary=summary)
    values = sheet_values(paths.xlsx, SUMMARY_SHEET)
    assert values.count(["note 1", "Header found on row 4."]) == 1
    assert ["load note", "Header found on row 4."] not in values


def test_summary_text_is_escaped(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(
        tmp_path / "out.xlsx", sheet, rows, summary={"file": "=evil().csv"}
    )
    file_cell = sheet_rows(paths.xlsx, SUMMARY_SHEET)[0][1]
    assert file_cell.value == "=evil().csv"
    assert file_cell.data_type == "s"


def test_job_marker_round_trip(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(
        tmp_path / "out.xlsx", sheet, rows, summary={"job_id": "job-42"}
    )
    assert read_job_marker(paths.xlsx) == "job-42"
    assert read_job_marker(paths.csv) is None


def test_job_marker_absent(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    assert read_job_marker(paths.xlsx) is None


def test_job_marker_survives_resave(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(
        tmp_path / "out.xlsx", sheet, rows, summary={"job_id": "job-42"}
    )
    workbook = openpyxl.load_workbook(paths.xlsx)
    del workbook[RESULTS_SHEET]
    resaved = tmp_path / "fixed.xlsx"
    workbook.save(resaved)
    assert read_job_marker(resaved) == "job-42"


def test_job_marker_unreadable_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(b"PK\x03\x04not really a zip")
    plain = tmp_path / "plain.xlsx"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    broken_xml = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken_xml, "w") as archive:
        archive.writestr("docProps/custom.xml", "<Properties><unclosed>")
    for path in (empty, truncated, plain, broken_xml):
        assert read_job_marker(path) is None, path.name


def test_job_marker_rejects_entity_expansion(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    custom = (
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<Properties>&b;</Properties>"
    )
    with zipfile.ZipFile(bomb, "w") as archive:
        archive.writestr("docProps/custom.xml", custom)
    assert read_job_marker(bomb) is None


def test_files_are_owner_only(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    assert stat.S_IMODE(paths.xlsx.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.csv.stat().st_mode) == 0o600


def test_failed_write_keeps_old_report(
    tmp_path: Path, three_rows: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet, rows = three_rows
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={"job_id": "old"})
    old_xlsx = paths.xlsx.read_bytes()
    old_csv = paths.csv.read_bytes()

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(report_writer, "_write_csv", fail)
    with pytest.raises(OSError, match="disk full"):
        write_results(tmp_path / "out.xlsx", sheet, rows, summary={"job_id": "new"})
    assert paths.xlsx.read_bytes() == old_xlsx
    assert paths.csv.read_bytes() == old_csv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.xlsx"]


def test_rejects_non_xlsx_path(tmp_path: Path, three_rows: tuple) -> None:
    sheet, rows = three_rows
    with pytest.raises(ValueError, match=r"must end in \.xlsx"):
        write_results(tmp_path / "out.csv", sheet, rows, summary={})
    assert list(tmp_path.iterdir()) == []


def test_formula_without_value_shown_as_text(tmp_path: Path) -> None:
    formula = Cell(None, "=LOWER(D2)", formula_without_value=True)
    sheet = make_sheet(["email", "First Name"], [[formula, "Ann"]])
    rows = [report_row(sheet.rows[0], Status.INVALID, error="formula has no result")]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    email = sheet_rows(paths.xlsx, RESULTS_SHEET)[1][5]
    assert email.value == "=LOWER(D2)"
    assert email.data_type == "s"
    assert read_csv(paths.csv)[1][5] == "'=LOWER(D2)"


def test_control_characters_in_text(tmp_path: Path) -> None:
    sheet = make_sheet(["email", "First Name"], [["a@example.com", "An\x0bn"]])
    rows = [report_row(sheet.rows[0], Status.INVALID, error="bad name")]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    assert sheet_values(paths.xlsx, RESULTS_SHEET)[1][6] == "An\ufffdn"
    assert read_csv(paths.csv)[1][6] == "An\x0bn"


def test_long_error_is_cut_to_excel_limit(tmp_path: Path) -> None:
    sheet = make_sheet(["email"], [["a@example.com"]])
    rows = [report_row(sheet.rows[0], Status.REJECTED, error="x" * 40_000)]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    error = sheet_values(paths.xlsx, RESULTS_SHEET)[1][4]
    assert len(error) == 32_767
    assert error.endswith("…")
    assert len(read_csv(paths.csv)[1][4]) == 40_000


def test_special_numbers_and_types(tmp_path: Path) -> None:
    sheet = make_sheet(
        ["email", "Active", "Ratio", "Big", "At", "Zoned"],
        [
            [
                "a@example.com",
                True,
                cell(0.25, "0%"),
                float("inf"),
                cell(dt.time(14, 30), "h:mm"),
                dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC),
            ]
        ],
    )
    rows = [report_row(sheet.rows[0], Status.INVALID, error="bad")]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    values = sheet_rows(paths.xlsx, RESULTS_SHEET)[1][5:]
    assert values[1].value is True
    assert values[2].value == 0.25
    assert values[2].number_format == "0%"
    assert values[3].value == "inf"
    assert values[4].value == dt.time(14, 30)
    assert values[5].value == "2024-01-02T03:04:00+00:00"
    assert read_csv(paths.csv)[1][5:] == [
        "a@example.com",
        "TRUE",
        "0.25",
        "inf",
        "14:30:00",
        "2024-01-02 03:04:00+00:00",
    ]


def test_multiline_error_wrapped(tmp_path: Path) -> None:
    sheet = make_sheet(
        ["email", "First Name"], [["ann@", None], ["b@example.com", "Bo"]]
    )
    issues = [
        email_issue(2),
        RowIssue(
            "NAME_MISSING", "The first name is blank.", "Type it.", "B", "Users!B2"
        ),
    ]
    rows = [
        report_row(sheet.rows[0], Status.INVALID, issues=issues),
        report_row(sheet.rows[1], Status.REJECTED, error="One line."),
    ]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    results = sheet_rows(paths.xlsx, RESULTS_SHEET)
    assert results[1][4].value.count("\n") == 1
    assert results[1][4].alignment.wrap_text
    assert not results[2][4].alignment.wrap_text


def test_csv_quotes_special_text(tmp_path: Path) -> None:
    values = ["a@example.com", "Lee, Jr.", 'Say "hi"', "Sales\nEMEA North"]
    sheet = make_sheet(["email", "Last Name", "Nickname", "Team"], [values])
    rows = [report_row(sheet.rows[0], Status.INVALID, error="bad")]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    assert read_csv(paths.csv)[1][5:] == values
    raw = paths.csv.read_bytes().decode("utf-8-sig")
    assert '"Lee, Jr."' in raw
    assert '"Say ""hi"""' in raw
    assert '"Sales\nEMEA North"' in raw


def test_text_kept_exactly(tmp_path: Path) -> None:
    values = ["a@example.com", " Ann ", "00123", "1.50", "TRUE", "#N/A", "2024-03-01"]
    headers = ["email", "First Name", "Code", "Amount", "Flag", "Lookup", "Date"]
    sheet = make_sheet(headers, [values])
    rows = [report_row(sheet.rows[0], Status.INVALID, error="bad")]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    cells = sheet_rows(paths.xlsx, RESULTS_SHEET)[1][5:]
    assert [c.value for c in cells] == values
    assert all(c.data_type == "s" for c in cells)
    assert all(c.number_format == "@" for c in cells)
    assert read_csv(paths.csv)[1][5:] == values


def test_source_hyperlink_not_copied(tmp_path: Path) -> None:
    linked = Cell("Click me", "Click me", hyperlink="http://example.invalid/x")
    sheet = make_sheet(["email", "Website"], [["a@example.com", linked]])
    rows = [report_row(sheet.rows[0], Status.INVALID, error="bad")]
    paths = write_results(tmp_path / "out.xlsx", sheet, rows, summary={})
    website = sheet_rows(paths.xlsx, RESULTS_SHEET)[1][6]
    assert website.value == "Click me"
    assert website.hyperlink is None
