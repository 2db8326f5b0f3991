"""The problem summary: rows by status, issue codes by rows affected, and its text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from provisioner.config import Defaults
from provisioner.loading import load_sheet
from provisioner.model import RowIssue, SourceRow, Status
from provisioner.report import ReportRow
from provisioner.stats import (
    CodeCount,
    Severity,
    issue_frame,
    problems_text,
    summarize_problems,
)
from provisioner.validate import OfflineCatalog, validate_sheet


def issue(
    code: str,
    cell: str | None,
    *,
    severity: Severity = "error",
    message: str = "The value is wrong.",
) -> RowIssue:
    return RowIssue(
        code=code,
        message=message,
        fix="Correct it.",
        cell=cell,
        severity=severity,
    )


def row(
    number: int,
    status: Status,
    issues: Sequence[RowIssue] = (),
    *,
    error: str | None = None,
    code: str | None = None,
) -> ReportRow:
    if error is None and issues:
        error = "\n".join(item.render() for item in issues)
    return ReportRow(
        row_number=number,
        status=status,
        user_id=None,
        bc_id=None,
        error=error,
        issues=list(issues),
        source=SourceRow(number, ()),
        code=code,
    )


def codes(counts: Sequence[CodeCount]) -> list[tuple[str, int]]:
    return [(count.code, count.rows) for count in counts]


def test_statuses_sorted_by_count() -> None:
    rows = [
        row(2, Status.CREATED),
        row(3, Status.INVALID, [issue("EMAIL_INVALID", "Users!A3")]),
        row(4, Status.CREATED),
        row(5, Status.SKIPPED),
        row(6, Status.CREATED),
        row(7, Status.EXISTS),
    ]
    summary = summarize_problems(rows)
    assert summary.total_rows == 6
    # Ties keep the order of Status: exists, invalid, skipped.
    assert summary.statuses == (
        (Status.CREATED, 3),
        (Status.EXISTS, 1),
        (Status.INVALID, 1),
        (Status.SKIPPED, 1),
    )


def test_errors_sorted_by_rows_then_code() -> None:
    rows = [
        row(2, Status.INVALID, [issue("LAST_NAME_MISSING", "Users!C2")]),
        row(3, Status.INVALID, [issue("EMAIL_INVALID", "Users!A3")]),
        row(4, Status.INVALID, [issue("EMAIL_INVALID", "Users!A4")]),
        row(5, Status.INVALID, [issue("COMPANY_MISSING", None)]),
        row(6, Status.INVALID, [issue("EMAIL_INVALID", "Users!A6")]),
    ]
    summary = summarize_problems(rows)
    assert codes(summary.errors) == [
        ("EMAIL_INVALID", 3),
        ("COMPANY_MISSING", 1),
        ("LAST_NAME_MISSING", 1),
    ]
    assert summary.warnings == ()
    assert summary.error_rows == 5


def test_code_counts_rows_not_issues() -> None:
    # One row with two bad channel ids is one row affected, in two cells.
    rows = [
        row(
            2,
            Status.INVALID,
            [
                issue("CHANNEL_ID_INVALID", "Users!F2"),
                issue("CHANNEL_ID_INVALID", "Users!G2"),
            ],
        ),
        row(3, Status.INVALID, [issue("EMAIL_INVALID", "Users!A3")]),
        row(4, Status.INVALID, [issue("EMAIL_INVALID", "Users!A4")]),
    ]
    summary = summarize_problems(rows)
    assert codes(summary.errors) == [("EMAIL_INVALID", 2), ("CHANNEL_ID_INVALID", 1)]
    channels = summary.errors[1]
    assert channels.places == ("F2", "G2")
    assert channels.place_count == 2


def test_places_in_row_order() -> None:
    rows = [
        row(11, Status.INVALID, [issue("EMAIL_INVALID", "Users!A11")]),
        row(8, Status.INVALID, [issue("EMAIL_INVALID", "Users!A8")]),
        row(40, Status.INVALID, [issue("EMAIL_INVALID", "Users!A40")]),
        row(9, Status.INVALID, [issue("EMAIL_INVALID", "Users!A9")]),
    ]
    (email,) = summarize_problems(rows).errors
    assert email.places == ("A8", "A9", "A11", "A40")


def test_places_drop_sheet_name_and_dollars() -> None:
    rows = [
        row(3, Status.INVALID, [issue("EMAIL_INVALID", "'Q3 users!'!$A$3")]),
        row(4, Status.INVALID, [issue("EMAIL_INVALID", "B4")]),
    ]
    (email,) = summarize_problems(rows).errors
    assert email.places == ("A3", "B4")


def test_places_cut_at_limit() -> None:
    rows = [
        row(number, Status.INVALID, [issue("EMAIL_INVALID", f"Users!A{number}")])
        for number in range(2, 16)
    ]
    (email,) = summarize_problems(rows, place_limit=3).errors
    assert email.rows == 14
    assert email.places == ("A2", "A3", "A4")
    assert email.place_count == 14


def test_whole_row_issue_named_by_row() -> None:
    rows = [row(7, Status.INVALID, [issue("COMPANY_MISSING", None)])]
    (company,) = summarize_problems(rows).errors
    assert company.places == ("row 7",)


def test_warnings_apart_from_errors() -> None:
    rows = [
        row(
            2, Status.SKIPPED, [issue("DUPLICATE_ROW", "Users!A2", severity="warning")]
        ),
        row(
            3,
            Status.CREATED,
            [issue("PHONE_NUMERIC", "Users!D3", severity="warning")],
        ),
        row(
            4,
            Status.INVALID,
            [
                issue("EMAIL_INVALID", "Users!A4"),
                issue("PHONE_NUMERIC", "Users!D4", severity="warning"),
            ],
        ),
    ]
    summary = summarize_problems(rows)
    assert codes(summary.errors) == [("EMAIL_INVALID", 1)]
    assert codes(summary.warnings) == [("PHONE_NUMERIC", 2), ("DUPLICATE_ROW", 1)]
    assert summary.error_rows == 1
    assert summary.warning_rows == 3
    assert all(count.severity == "warning" for count in summary.warnings)


def test_example_is_first_row() -> None:
    rows = [
        row(
            9,
            Status.INVALID,
            [issue("EMAIL_INVALID", "Users!A9", message="The email 'b@' is bad.")],
        ),
        row(
            5,
            Status.INVALID,
            [issue("EMAIL_INVALID", "Users!A5", message="The email 'a@' is bad.")],
        ),
    ]
    (email,) = summarize_problems(rows).errors
    assert email.example == "The email 'a@' is bad. Correct it."


def test_rejected_row_counted_under_code() -> None:
    rows = [
        row(2, Status.REJECTED, error="The email is taken.", code="EMAIL_TAKEN"),
        row(3, Status.REJECTED, error="The email is taken.", code="EMAIL_TAKEN"),
        row(4, Status.CONFLICT, error="Another Company has this user."),
        row(5, Status.FAILED, error="The API timed out\n  after 5 attempts."),
        row(6, Status.PENDING, error="Not sent yet.", code="NOT_SENT"),
        row(7, Status.CREATED),
    ]
    summary = summarize_problems(rows)
    assert codes(summary.errors) == [
        ("EMAIL_TAKEN", 2),
        ("CONFLICT", 1),
        ("FAILED", 1),
    ]
    assert summary.errors[0].places == ("row 2", "row 3")
    assert summary.errors[2].example == "The API timed out after 5 attempts."
    assert summary.error_rows == 4


def test_rejected_row_with_warning_only() -> None:
    # A warning does not explain a rejection, so the row also counts as an error.
    rows = [
        row(
            2,
            Status.REJECTED,
            [issue("PHONE_NUMERIC", "Users!D2", severity="warning")],
            error="The phone number is too long.",
        )
    ]
    summary = summarize_problems(rows)
    assert codes(summary.errors) == [("REJECTED", 1)]
    assert summary.errors[0].example == "The phone number is too long."
    assert codes(summary.warnings) == [("PHONE_NUMERIC", 1)]


def test_issue_frame_one_line_per_issue() -> None:
    rows = [
        row(
            2,
            Status.INVALID,
            [issue("EMAIL_INVALID", "Users!A2"), issue("NOT_AN_ID", "Users!D2")],
        ),
        row(3, Status.CREATED),
        row(4, Status.REJECTED, error="Rejected.", code="EMAIL_TAKEN"),
    ]
    frame = issue_frame(rows)
    assert frame.columns == ["row", "status", "severity", "code", "cell", "message"]
    assert frame["row"].to_list() == [2, 2, 4]
    assert frame["code"].to_list() == ["EMAIL_INVALID", "NOT_AN_ID", "EMAIL_TAKEN"]
    assert frame["cell"].to_list() == ["Users!A2", "Users!D2", None]
    assert frame.schema["row"] == pl.Int64


def test_issue_frame_empty() -> None:
    frame = issue_frame([row(2, Status.CREATED)])
    assert frame.height == 0
    assert frame.columns == ["row", "status", "severity", "code", "cell", "message"]


def test_text_lists_codes() -> None:
    rows = [
        row(number, Status.INVALID, [issue("EMAIL_INVALID", f"Users!A{number}")])
        for number in (8, 11, 14, 20, 25, 31, 40)
    ]
    rows += [
        row(3, Status.CREATED),
        row(
            4, Status.SKIPPED, [issue("DUPLICATE_ROW", "Users!A4", severity="warning")]
        ),
    ]
    assert problems_text(rows) == [
        "9 rows: 7 invalid, 1 created, 1 skipped.",
        "Errors (7 rows):",
        "  EMAIL_INVALID: 7 rows (A8, A11, A14, A20, A25, ...). "
        "Example: The value is wrong. Correct it.",
        "Warnings (1 row):",
        "  DUPLICATE_ROW: 1 row (A4). Example: The value is wrong. Correct it.",
    ]


def test_text_without_problems() -> None:
    rows = [row(2, Status.CREATED), row(3, Status.EXISTS)]
    assert problems_text(rows) == ["2 rows: 1 created, 1 exists.", "No problems found."]


def test_text_without_rows() -> None:
    assert problems_text([]) == ["0 rows.", "No problems found."]


def test_text_groups_thousands() -> None:
    rows = [row(number, Status.CREATED) for number in range(2, 1_502)]
    assert problems_text(rows)[0] == "1,500 rows: 1,500 created."


def test_counts_from_validated_sheet(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text(
        "Email Address,First Name,Last Name,Company ID,Role,Channels\n"
        "ann@example.com,Ann,Lee,101,Admin,1\n"
        "jane.doe@,Jane,Doe,102,1,1\n"
        "bo@example.com,Bo,,103,Junior Buyer,1\n"
        "mark@,Mark,Hill,x,2,1\n"
        "ann@example.com,Ann,Lee,101,Admin,1\n",
        encoding="utf-8",
    )

    sheet = load_sheet(path)
    results = validate_sheet(sheet, OfflineCatalog(), defaults=Defaults())
    rows = [
        row(
            result.row.row_number,
            result.status or Status.PENDING,
            result.issues,
        )
        for result in results
    ]

    summary = summarize_problems(rows)
    assert summary.statuses == (
        (Status.INVALID, 3),
        (Status.PENDING, 1),
        (Status.SKIPPED, 1),
    )
    assert codes(summary.errors) == [
        ("EMAIL_INVALID", 2),
        ("LAST_NAME_MISSING", 1),
        ("NOT_AN_ID", 1),
    ]
    assert summary.errors[0].places == ("A3", "A5")
    assert summary.errors[1].places == ("C4",)
    assert summary.errors[2].places == ("D5",)

    assert codes(summary.warnings) == [("DUPLICATE_ROW", 1)]
    assert summary.warnings[0].places == ("A6",)
