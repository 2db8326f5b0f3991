"""`provisioner validate` on the kinds of broken sheets people report, one per kind.

Each test runs the CLI on a reproducer kept under tests/fixtures/loading/ (or a
variant written by the test) and checks the behaviour a person needs: which rows
pass, which cell is blamed, what the summary reports about how the file was read.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from provisioner.exitcodes import ExitCode

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "loading"

# Defaults fill role and channels, so the rows of these small reproducers can pass
# when the case itself is handled right.
CONFIG = """
[defaults]
role = "Junior Buyer"
channel_ids = [1]
"""


def validate(
    tmp_path: Path, sheet: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[int, dict[str, object]]]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    results = tmp_path / "results.xlsx"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "provisioner",
            "validate",
            str(sheet),
            "--config",
            str(config),
            "--results",
            str(results),
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    rows: dict[int, dict[str, object]] = {}
    if results.exists():
        workbook = openpyxl.load_workbook(results)
        table = list(workbook["Results"].iter_rows(values_only=True))
        header = [str(value) for value in table[0]]
        for line in table[1:]:
            record = dict(zip(header, line, strict=False))
            rows[int(str(record["row"]))] = record
    return done, rows


def summary(tmp_path: Path) -> dict[str, object]:
    workbook = openpyxl.load_workbook(tmp_path / "results.xlsx")
    return {
        str(key): value
        for key, value, *_ in workbook["Summary"].iter_rows(values_only=True)
        if key is not None
    }


def error_of(row: dict[str, object]) -> str:
    return str(row["error"] or "")


def test_utf8_bom_header_still_maps_email(tmp_path: Path) -> None:
    done, rows = validate(tmp_path, FIXTURES / "utf8_bom.csv")

    assert done.returncode == ExitCode.OK, done.stdout + done.stderr
    assert [row["status"] for row in rows.values()] == ["valid", "valid"]
    assert rows[2]["email"] == "ann.lee@example.com"


def test_cp1252_names_decoded_exactly_and_flagged(tmp_path: Path) -> None:
    done, rows = validate(tmp_path, FIXTURES / "cp1252_names.csv")

    assert "encoding cp1252" in done.stderr
    assert [rows[n]["firstName"] for n in (2, 3, 4)] == ["José", "Søren", "Zoë"]
    assert rows[4]["lastName"] == "O’Neil"
    assert all("Windows-1252" in error_of(row) for row in rows.values())
    assert all(row["status"] == "valid" for row in rows.values())


def test_utf16_unicode_text_reads_tab_separated(tmp_path: Path) -> None:
    done, rows = validate(tmp_path, FIXTURES / "utf16le_unicode_text.txt")

    assert done.returncode == ExitCode.OK, done.stdout + done.stderr
    assert "delimiter tab" in done.stderr
    assert rows[3]["lastName"] == "Muñoz"


def test_ascii_utf16_without_bom_is_not_garbage(tmp_path: Path) -> None:
    sheet = tmp_path / "export.txt"
    text = (
        "email\tfirstName\tlastName\tcompanyId\r\n"
        "ann.lee@example.com\tAnn\tLee\t101\r\n"
    )
    sheet.write_bytes(text.encode("utf-16-le"))

    done, rows = validate(tmp_path, sheet)

    assert done.returncode == ExitCode.OK, done.stdout + done.stderr
    assert rows[2]["email"] == "ann.lee@example.com"


def test_semicolon_file_keeps_comma_lists(tmp_path: Path) -> None:
    sheet = tmp_path / "euro.csv"
    sheet.write_text(
        "email;firstName;lastName;companyId;channelIds\r\n"
        "ann.lee@example.com;Ann;Lee;101;1,2\r\n",
        encoding="utf-8",
    )

    done, rows = validate(tmp_path, sheet)

    assert done.returncode == ExitCode.OK, done.stdout + done.stderr
    assert "delimiter ';'" in done.stderr
    assert rows[2]["channelIds"] == "1,2"


def test_sep_line_is_honoured_and_dropped(tmp_path: Path) -> None:
    sheet = tmp_path / "sep.csv"
    sheet.write_text(
        "sep=;\r\nemail;firstName;lastName;companyId\r\nann.lee@example.com;Ann;Lee;101\r\n",
        encoding="utf-8",
    )

    done, rows = validate(tmp_path, sheet)

    assert done.returncode == ExitCode.OK, done.stdout + done.stderr
    assert list(rows) == [2]
    assert rows[2]["email"] == "ann.lee@example.com"


def test_embedded_newline_stays_one_record(tmp_path: Path) -> None:
    sheet = tmp_path / "multiline.csv"
    sheet.write_text(
        "email,firstName,lastName,companyId,Cost Centre\n"
        'ann.lee@example.com,Ann,"Lee, Jr.",101,"Sales\nEMEA North"\n'
        "bo.chen@example.com,Bo,Chen,101,Support\n",
        encoding="utf-8",
    )

    _, rows = validate(tmp_path, sheet)

    assert sorted(rows) == [2, 3]
    assert rows[2]["lastName"] == "Lee, Jr."
    assert rows[3]["email"] == "bo.chen@example.com"


def test_ragged_row_is_an_error_never_truncated(tmp_path: Path) -> None:
    sheet = tmp_path / "ragged.csv"
    sheet.write_text(
        "email,firstName,lastName,companyId,\n"
        "ann.lee@example.com,Ann,Lee,101,\n"
        ",,,,\n"
        "\n"
        "   ,  ,  ,  ,\n"
        "bo.chen@example.com,Bo,Chen,101,,UNEXPECTED\n"
        "cy.diaz@example.com,Cy,Diaz,101,\n",
        encoding="utf-8",
    )

    done, rows = validate(tmp_path, sheet)

    assert done.returncode == ExitCode.ROWS_NEED_ATTENTION
    assert sorted(rows) == [2, 6, 7]
    assert rows[6]["status"] == "invalid"
    assert "UNEXPECTED" in error_of(rows[6])
    assert rows[2]["status"] == "valid"
    assert rows[7]["status"] == "valid"
    assert summary(tmp_path)["blank rows skipped"] == 3


def test_title_rows_above_header_are_skipped(tmp_path: Path) -> None:
    done, rows = validate(
        tmp_path,
        FIXTURES / "title_rows_above_header.csv",
    )

    assert "header on row 4" in done.stderr
    assert list(rows) == [5]
    assert rows[5]["email"] == "ann.lee@example.com"


def test_late_text_fails_one_row_and_keeps_zeros(tmp_path: Path) -> None:
    sheet = tmp_path / "late.csv"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["companyId", "email", "firstName", "lastName", "phone"])
        for number in range(150):
            company = "ACME-7" if number == 139 else str(100 + number % 5)
            writer.writerow(
                [
                    company,
                    f"user{number:03d}@example.com",
                    "F",
                    "L",
                    f"0612345{number:03d}",
                ]
            )

    _, rows = validate(tmp_path, sheet)

    bad = [number for number, row in rows.items() if row["status"] == "invalid"]
    assert len(rows) == 150
    assert bad == [141]
    assert "late!A141" in error_of(rows[141])
    assert rows[2]["phone"] == "0612345000"


def test_excel_floats_rounding_and_lost_digits(tmp_path: Path) -> None:
    _, rows = validate(tmp_path, FIXTURES / "numbers_as_floats.xlsx")

    # Row 2: a 19-digit external id already lost digits in the file; the phone
    # was stored as a number. Row 3: 102.00000000000001 is never rounded to 102.
    assert "Users!D2" in error_of(rows[2])
    assert "Text" in error_of(rows[2])
    assert "Users!C2" in error_of(rows[2])
    assert rows[2]["status"] == "invalid"
    assert "Users!A3" in error_of(rows[3])
    assert "102.00000000000001" in error_of(rows[3])
    assert rows[3]["status"] == "invalid"


def test_autoconverted_dates_and_decimals_flagged(tmp_path: Path) -> None:
    done, rows = validate(tmp_path, FIXTURES / "autoconverted_dates_and_decimals.xlsx")

    assert done.returncode == ExitCode.ROWS_NEED_ATTENTION
    texts = " ".join(error_of(row) for row in rows.values())
    assert "date" in texts
    assert "1.2" in texts


def test_formula_without_saved_result_is_not_blank(tmp_path: Path) -> None:
    _, rows = validate(tmp_path, FIXTURES / "formula_without_cached_value.xlsx")

    assert all(row["status"] == "invalid" for row in rows.values())
    assert all("formula" in error_of(row) for row in rows.values())
    assert "blank" not in error_of(rows[2]).split("formula")[0]


def test_hidden_sheets_and_active_sheet_ignored(tmp_path: Path) -> None:
    done, rows = validate(tmp_path, FIXTURES / "hidden_and_active_sheets.xlsx")

    assert "sheet 'Users'" in done.stderr
    assert len(rows) == 1


def test_bad_dimension_reads_only_real_rows(tmp_path: Path) -> None:
    _, rows = validate(tmp_path, FIXTURES / "bad_dimension.xlsx")

    assert sorted(rows) == [2, 3]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, ".xlsx"),
        (b"", "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "not a spreadsheet"),
    ],
    ids=["legacy-xls", "empty", "pdf"],
)
def test_not_a_sheet_exits_two_with_advice(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    sheet = tmp_path / "users.xlsx"
    sheet.write_bytes(content)

    done, rows = validate(tmp_path, sheet)

    assert done.returncode == ExitCode.INPUT_OR_CONFIG
    assert expected.lower() in done.stderr.lower()
    assert "Traceback" not in done.stderr
    assert rows == {}


def test_email_whitespace_cleaned_or_rejected(tmp_path: Path) -> None:
    sheet = tmp_path / "spaces.csv"
    sheet.write_text(
        "email,firstName,lastName,companyId\n"
        " ann.lee@example.com,Ann,Lee,101\n"
        "cy.diaz@example.com\u00a0,Cy,Diaz,101\n"
        "\u200bdi.evans@example.com,Di,Evans,101\n"
        "gus.hill\uff20example.com,Gus,Hill,101\n"
        "mark.hill at example.com,Mark,Hill,101\n",
        encoding="utf-8",
    )

    _, rows = validate(tmp_path, sheet)

    assert [rows[n]["status"] for n in (2, 3, 4, 5)] == ["valid"] * 4
    assert rows[6]["status"] == "invalid"
    assert "spaces!A6" in error_of(rows[6])
    # The typed value is kept in the results; the error text names what was cleaned.
    assert rows[3]["email"] == "cy.diaz@example.com\u00a0"
    assert "cy.diaz@example.com" in error_of(rows[3])


def test_email_wrappers_unwrapped_and_two_addresses_rejected(tmp_path: Path) -> None:
    sheet = tmp_path / "wrappers.csv"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "firstName", "lastName", "companyId"])
        writer.writerow(["mailto:ann.lee@example.com?subject=hi", "Ann", "Lee", "101"])
        writer.writerow(["Cy Diaz <cy.diaz@example.com>", "Cy", "Diaz", "101"])
        writer.writerow(["ed.fox@example.com; ed.fox@example.org", "Ed", "Fox", "101"])
        writer.writerow(["\u201cfay.gray@example.com\u201d", "Fay", "Gray", "101"])

    _, rows = validate(tmp_path, sheet)

    assert [rows[n]["status"] for n in (2, 3, 5)] == ["valid"] * 3
    assert rows[4]["status"] == "invalid"
    assert "more than one" in error_of(rows[4])


def test_channel_lists_every_spelling(tmp_path: Path) -> None:
    sheet = tmp_path / "channels.csv"
    spellings = [
        "1",
        "1;2",
        "1, 2",
        "[1,2]",
        "1|2",
        "1 2",
        "1;;2;",
        "1.0",
        "1,2,2",
        "",
        "one",
        "1\u00a0;\u00a02",
        "1.2",
    ]
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "firstName", "lastName", "companyId", "channelIds"])
        for number, spelling in enumerate(spellings):
            writer.writerow([f"a{number}@example.com", "A", "B", "101", spelling])

    _, rows = validate(tmp_path, sheet)

    statuses = [rows[n + 2]["status"] for n in range(len(spellings))]
    # Blank takes the configured default channel; "one" is a name the offline
    # check cannot resolve, so it stays unchecked; 1.2 is never rounded.
    assert statuses[:10] == ["valid"] * 10
    assert statuses[11] == "valid"
    assert statuses[12] == "invalid"
    assert "1.2" in error_of(rows[14])


def test_formula_injection_names_rejected_and_outputs_inert(tmp_path: Path) -> None:
    _, rows = validate(tmp_path, FIXTURES / "formula_injection_values.csv")

    assert all(row["status"] == "invalid" for row in rows.values())
    workbook = openpyxl.load_workbook(tmp_path / "results.xlsx")
    for sheet in workbook.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}"
    text = (tmp_path / "results.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(" in text
    assert "'@SUM(1+1)" in text
    assert ",=1+1" not in text
