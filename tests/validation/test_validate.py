"""validate_sheet: one result per row, every problem with its cell."""

from __future__ import annotations

import datetime as dt

import pytest

from provisioner.api.types import ExtraFieldDef
from provisioner.config import Defaults
from provisioner.model import Cell, CellValue, RowIssue, RowResult, Status
from provisioner.validate import (
    ERROR_CODES,
    OfflineCatalog,
    check_sheet,
    validate_sheet,
)

from .helpers import HEADERS, StoreCatalog, UncheckedCatalog, good_row, make_sheet

NO_DEFAULTS = Defaults()


def validate_rows(
    rows: list[list[CellValue | Cell]],
    *,
    headers: tuple[str, ...] = HEADERS,
    catalog: object | None = None,
    defaults: Defaults = NO_DEFAULTS,
) -> list[RowResult]:
    sheet = make_sheet(headers, rows)
    return validate_sheet(
        sheet,
        catalog or StoreCatalog(),  # type: ignore[arg-type]
        defaults=defaults,
    )


def only(results: list[RowResult]) -> RowResult:
    assert len(results) == 1
    return results[0]


def error_codes(result: RowResult) -> list[str]:
    return [issue.code for issue in result.errors]


def issue(result: RowResult, code: str) -> RowIssue:
    matches = [i for i in result.issues if i.code == code]
    assert matches, f"no {code} in {[i.code for i in result.issues]}"
    return matches[0]


# --- a valid row --------------------------------------------------------------------


def test_valid_row_builds_exact_body() -> None:
    result = only(validate_rows([good_row()]))
    assert result.status is None
    assert result.issues == []
    assert result.request is not None
    assert result.request.row_number == 2
    assert result.request.company_id == 101
    assert result.request.body == {
        "email": "ann.lee@example.com",
        "firstName": "Ann",
        "lastName": "Lee",
        "companyId": 101,
        "role": 0,
        "channelIds": [1],
        "acceptWelcomeEmail": False,
    }


def test_optional_fields_in_body() -> None:
    headers = (
        *HEADERS,
        "phone",
        "origin channel id",
        "welcome email",
        "external id",
    )
    row = [*good_row(channelIds="1;2"), "+1 555 0100", "2", "yes", "ERP-0042"]
    result = only(validate_rows([row], headers=headers))
    assert result.request is not None
    body = result.request.body
    assert body["phoneNumber"] == "+1 555 0100"
    assert body["originChannelId"] == 2
    assert body["channelIds"] == [1, 2]
    assert body["acceptWelcomeEmail"] is True
    assert body["uuid"] == "ERP-0042"


def test_uuid_in_scientific_notation_is_error() -> None:
    headers = (*HEADERS, "uuid")
    result = only(validate_rows([[*good_row(), "1.23457E+11"]], headers=headers))
    assert error_codes(result) == ["SCIENTIFIC_NOTATION"]
    assert issue(result, "SCIENTIFIC_NOTATION").cell == "Users!G2"


def test_results_keep_source_order() -> None:
    rows = [good_row(f"user{i}@example.com") for i in range(5)]
    rows[2] = good_row("bad@")
    results = validate_rows(rows)
    assert [r.row.row_number for r in results] == [2, 3, 4, 5, 6]
    assert [r.status for r in results] == [None, None, Status.INVALID, None, None]


# --- every problem, each with its cell ----------------------------------------------


def test_invalid_row_collects_every_problem_with_cells() -> None:
    row: list[CellValue | Cell] = ["bo@", "-", None, "x", None, "1.2"]
    result = only(validate_rows([row]))
    assert result.status is Status.INVALID
    assert result.request is None
    cells = {i.code: i.cell for i in result.issues}
    assert cells == {
        "EMAIL_INVALID": "Users!A2",
        "NAME_PLACEHOLDER": "Users!B2",
        "LAST_NAME_MISSING": "Users!C2",
        "NOT_AN_ID": "Users!D2",
        "ROLE_MISSING": "Users!E2",
        "LIST_INVALID": "Users!F2",
    }


def test_issue_render_names_cell_and_fix() -> None:
    result = only(validate_rows([good_row("bo@")]))
    rendered = issue(result, "EMAIL_INVALID").render()
    assert rendered.startswith("Users!A2: ")
    assert "'bo@'" in rendered
    assert "Correct the address." in rendered


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("email", "EMAIL_MISSING"),
        ("firstName", "FIRST_NAME_MISSING"),
        ("lastName", "LAST_NAME_MISSING"),
    ],
)
def test_required_field_blank(field: str, code: str) -> None:
    result = only(validate_rows([good_row(**{field: None})]))
    assert error_codes(result) == [code]


def test_warning_keeps_row_valid() -> None:
    result = only(validate_rows([good_row("mailto:ann.lee@example.com")]))
    assert result.request is not None
    assert [i.code for i in result.issues] == ["EMAIL_CHANGED"]
    assert result.issues[0].severity == "warning"
    assert result.issues[0].cell == "Users!A2"


def test_loader_row_issues_carried_over() -> None:
    loader_issue = RowIssue(
        "EXTRA_VALUES", "Values right of the header.", "Delete them."
    )
    sheet = make_sheet(HEADERS, [good_row()], row_issues={2: [loader_issue]})
    result = only(validate_sheet(sheet, StoreCatalog(), defaults=NO_DEFAULTS))
    assert result.status is Status.INVALID
    assert result.issues[0] is loader_issue


def test_loader_warning_does_not_invalidate() -> None:
    note = RowIssue("MERGED", "Filled from a merged cell.", "", severity="warning")
    sheet = make_sheet(HEADERS, [good_row()], row_issues={2: [note]})
    result = only(validate_sheet(sheet, StoreCatalog(), defaults=NO_DEFAULTS))
    assert result.request is not None
    assert result.issues == [note]


# --- Company ------------------------------------------------------------------------


def test_company_by_name_resolves_to_id() -> None:
    headers = ("email", "first name", "last name", "company", "role", "channels")
    row = ["ann@example.com", "Ann", "Lee", "Acme Ltd", "Admin", "1"]
    result = only(validate_rows([row], headers=headers))
    assert result.request is not None
    assert result.request.company_id == 101
    assert result.request.body["companyId"] == 101


def test_company_column_digits_are_an_id() -> None:
    headers = ("email", "first name", "last name", "company", "role", "channels")
    catalog = StoreCatalog()
    row = ["ann@example.com", "Ann", "Lee", "202", "Admin", "1"]
    result = only(validate_rows([row], headers=headers, catalog=catalog))
    assert result.request is not None
    assert result.request.company_id == 202
    assert catalog.lookups == [("companyId", "202")]


def test_company_by_external_id() -> None:
    headers = ("email", "first name", "last name", "company external id", "role")
    row = ["ann@example.com", "Ann", "Lee", "ACME-001", "Admin"]
    result = only(validate_rows([row], headers=headers, defaults=Defaults((1,))))
    assert result.request is not None
    assert result.request.company_id == 101


def test_company_columns_agreeing_are_fine() -> None:
    headers = (*HEADERS, "company")
    result = only(validate_rows([[*good_row(), "acme ltd"]], headers=headers))
    assert result.request is not None
    assert result.request.company_id == 101


def test_company_columns_disagreeing_is_error() -> None:
    headers = (*HEADERS, "company")
    result = only(validate_rows([[*good_row(), "Globex"]], headers=headers))
    assert error_codes(result) == ["COMPANY_CONFLICT"]
    conflict = issue(result, "COMPANY_CONFLICT")
    assert conflict.cell == "Users!G2"
    assert "101 in Users!D2" in conflict.message
    assert "202 in Users!G2" in conflict.message


def test_company_missing() -> None:
    result = only(validate_rows([good_row(companyId=None)]))
    assert error_codes(result) == ["COMPANY_MISSING"]
    assert issue(result, "COMPANY_MISSING").cell == "Users!D2"


def test_company_not_found_comes_from_catalog() -> None:
    result = only(validate_rows([good_row(companyId="999")]))
    assert error_codes(result) == ["COMPANY_NOT_FOUND"]
    assert issue(result, "COMPANY_NOT_FOUND").cell == "Users!D2"


def test_company_id_float_from_excel() -> None:
    result = only(validate_rows([good_row(companyId=101.0)]))
    assert result.request is not None
    assert result.request.company_id == 101


def test_company_id_fraction_is_not_rounded() -> None:
    result = only(validate_rows([good_row(companyId=101.5)]))
    assert error_codes(result) == ["NOT_WHOLE_NUMBER"]


def test_company_name_unchecked_gives_valid_without_request() -> None:
    headers = ("email", "first name", "last name", "company", "role", "channels")
    row = ["ann@example.com", "Ann", "Lee", "Acme Ltd", "Admin", "1"]
    result = only(validate_rows([row], headers=headers, catalog=UncheckedCatalog()))
    assert result.status is Status.VALID
    assert result.request is None
    assert result.issues == []


# --- role ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "key", "expected"),
    [
        ("Admin", "role", 0),
        ("senior buyer", "role", 1),
        (1, "role", 1),
        (1.0, "role", 1),
        ("Regional Buyer", "companyRoleId", 9001),
    ],
)
def test_role_resolves(value: CellValue, key: str, expected: int) -> None:
    result = only(validate_rows([good_row(role=value)]))
    assert result.request is not None
    assert result.request.body[key] == expected
    other = "role" if key == "companyRoleId" else "companyRoleId"
    assert other not in result.request.body


def test_role_blank_uses_default() -> None:
    result = only(
        validate_rows([good_row(role=None)], defaults=Defaults(role="Junior Buyer"))
    )
    assert result.request is not None
    assert result.request.body["role"] == 2


def test_role_blank_without_default_is_error() -> None:
    result = only(validate_rows([good_row(role=None)]))
    assert error_codes(result) == ["ROLE_MISSING"]
    assert "User must have a role" in issue(result, "ROLE_MISSING").message


def test_role_invalid_default_names_configuration() -> None:
    result = only(validate_rows([good_row(role="")], defaults=Defaults(role="Boss")))
    problem = issue(result, "ROLE_NOT_FOUND")
    assert "default role" in problem.message
    assert "defaults.role" in problem.fix


def test_role_unknown_from_catalog() -> None:
    result = only(validate_rows([good_row(role="Boss")]))
    assert error_codes(result) == ["ROLE_NOT_FOUND"]
    assert issue(result, "ROLE_NOT_FOUND").cell == "Users!E2"


# --- channels -----------------------------------------------------------------------


def test_channels_by_name_and_id_deduplicated() -> None:
    result = only(validate_rows([good_row(channelIds="US Store; 1; eu")]))
    assert result.request is not None
    assert result.request.body["channelIds"] == [1, 2]


def test_channels_blank_uses_default() -> None:
    result = only(
        validate_rows([good_row(channelIds=None)], defaults=Defaults(channel_ids=(2,)))
    )
    assert result.request is not None
    assert result.request.body["channelIds"] == [2]


def test_channels_blank_without_default_is_error() -> None:
    result = only(validate_rows([good_row(channelIds="")]))
    assert error_codes(result) == ["CHANNELS_MISSING"]
    assert issue(result, "CHANNELS_MISSING").cell == "Users!F2"


def test_channels_unknown_name() -> None:
    result = only(validate_rows([good_row(channelIds="one")]))
    assert error_codes(result) == ["CHANNEL_NOT_FOUND"]


def test_channels_decimal_from_excel_locale() -> None:
    result = only(validate_rows([good_row(channelIds=1.2)]))
    assert error_codes(result) == ["NOT_WHOLE_NUMBER"]


def test_origin_channel_zero_warns() -> None:
    headers = (*HEADERS, "originChannelId")
    result = only(validate_rows([[*good_row(), "0"]], headers=headers))
    assert result.request is not None
    assert result.request.body["originChannelId"] == 0
    assert [i.code for i in result.issues] == ["ORIGIN_CHANNEL_ZERO"]


def test_origin_channel_outside_channels_warns() -> None:
    headers = (*HEADERS, "originChannelId")
    result = only(validate_rows([[*good_row(channelIds="1"), "2"]], headers=headers))
    assert result.request is not None
    assert [i.code for i in result.issues] == ["ORIGIN_CHANNEL_NOT_LISTED"]


# --- welcome email ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "default", "expected"),
    [(None, True, True), (None, False, False), ("no", True, False), ("✓", False, True)],
)
def test_welcome_email(value: CellValue, default: bool, expected: bool) -> None:
    headers = (*HEADERS, "send welcome email")
    defaults = Defaults(accept_welcome_email=default)
    result = only(
        validate_rows([[*good_row(), value]], headers=headers, defaults=defaults)
    )
    assert result.request is not None
    assert result.request.body["acceptWelcomeEmail"] is expected


def test_welcome_email_invalid() -> None:
    headers = (*HEADERS, "send welcome email")
    result = only(validate_rows([[*good_row(), "maybe"]], headers=headers))
    assert error_codes(result) == ["BOOL_INVALID"]
    assert issue(result, "BOOL_INVALID").cell == "Users!G2"


# --- duplicates ---------------------------------------------------------------------


def test_identical_duplicate_is_skipped() -> None:
    first = good_row("ann.lee@example.com")
    second = good_row(" ANN.LEE@example.com", role="admin", channelIds="[1]")
    results = validate_rows([first, second])
    assert results[0].request is not None
    assert results[1].status is Status.SKIPPED
    assert results[1].request is None
    note = issue(results[1], "DUPLICATE_ROW")
    assert "row 2" in note.message
    assert note.cell == "Users!A3"
    assert note.severity == "warning"


def test_conflicting_duplicate_names_earlier_row_and_columns() -> None:
    first = good_row("ann.lee@example.com")
    second = good_row("Ann.Lee@example.com", firstName="Anne", role="Senior Buyer")
    results = validate_rows([first, second])
    assert results[0].request is not None
    assert results[1].status is Status.INVALID
    conflict = issue(results[1], "DUPLICATE_EMAIL")
    assert "Row 2" in conflict.message
    assert "firstName" in conflict.message
    assert "role" in conflict.message
    assert "lastName" not in conflict.message


def test_duplicates_never_matched_on_uuid() -> None:
    headers = (*HEADERS, "uuid")
    rows = [
        [*good_row("a@example.com"), "ERP-1"],
        [*good_row("b@example.com"), "ERP-1"],
    ]
    results = validate_rows(rows, headers=headers)
    assert all(r.request is not None for r in results)


def test_duplicate_compares_resolved_role_and_channels() -> None:
    first = good_row(role="Admin", channelIds="US Store; eu")
    second = good_row(role="0", channelIds="2;1")
    results = validate_rows([first, second])
    assert results[1].status is Status.SKIPPED


def test_third_duplicate_compared_with_first() -> None:
    rows = [good_row(), good_row(), good_row(lastName="Leigh")]
    results = validate_rows(rows)
    assert results[1].status is Status.SKIPPED
    assert "Row 2" in issue(results[2], "DUPLICATE_EMAIL").message


# --- extra fields -------------------------------------------------------------------


EXTRAS = (
    ExtraFieldDef("Cost centre", 0, True, maximum_length=6),
    ExtraFieldDef("Region", 3, False, list_of_values=("North", "South")),
    ExtraFieldDef("Seats", 2, False, maximum_value=50),
    ExtraFieldDef("Notes", 1, False),
    ExtraFieldDef("Badge", 0, False, is_unique=True),
)


def validate_extras(
    extra_headers: tuple[str, ...],
    rows: list[list[CellValue]],
    extras: tuple[ExtraFieldDef, ...] | None = EXTRAS,
) -> tuple[list[RowResult], list[RowIssue]]:
    names = [d.name for d in extras or ()] or [h for h in extra_headers]
    sheet = make_sheet(
        (*HEADERS, *extra_headers),
        [[*good_row(f"u{i}@example.com"), *row] for i, row in enumerate(rows)],
        extra_field_names=names,
    )
    catalog = StoreCatalog(extras=extras)
    return validate_sheet(sheet, catalog, defaults=NO_DEFAULTS), sheet.issues


def test_extra_fields_sent_with_store_spelling() -> None:
    results, issues = validate_extras(
        ("cost centre", "region", "seats", "notes"),
        [["CC-1", "north", 12.0, "line 1\nline 2"]],
    )
    assert issues == []
    request = only(results).request
    assert request is not None
    assert request.body["extraFields"] == [
        {"fieldName": "Cost centre", "fieldValue": "CC-1"},
        {"fieldName": "Region", "fieldValue": "North"},
        {"fieldName": "Seats", "fieldValue": "12"},
        {"fieldName": "Notes", "fieldValue": "line 1\nline 2"},
    ]


@pytest.mark.parametrize(
    ("values", "code", "cell"),
    [
        ([None, "North", None], "EXTRA_FIELD_REQUIRED", "Users!G2"),
        (["CC-1234", "North", None], "TOO_LONG", "Users!G2"),
        (["CC-1", "West", None], "EXTRA_FIELD_NOT_IN_LIST", "Users!H2"),
        (["CC-1", None, "many"], "EXTRA_FIELD_NOT_NUMBER", "Users!I2"),
        (["CC-1", None, "51"], "EXTRA_FIELD_TOO_LARGE", "Users!I2"),
        (["CC-1", None, 50.5], "EXTRA_FIELD_TOO_LARGE", "Users!I2"),
        (["CC-1", None, float("nan")], "EXTRA_FIELD_NOT_NUMBER", "Users!I2"),
        (["CC-1", None, dt.date(2024, 3, 1)], "EXCEL_DATE", "Users!I2"),
    ],
)
def test_extra_field_rules(values: list[CellValue], code: str, cell: str) -> None:
    results, _ = validate_extras(("Cost centre", "Region", "Seats"), [values])
    result = only(results)
    assert error_codes(result) == [code]
    assert issue(result, code).cell == cell


def test_extra_dropdown_error_lists_choices() -> None:
    results, _ = validate_extras(("Cost centre", "Region"), [["CC-1", "West"]])
    assert "North, South" in issue(only(results), "EXTRA_FIELD_NOT_IN_LIST").fix


def test_extra_required_default_used_with_warning() -> None:
    extras = (ExtraFieldDef("Tier", 0, True, default_value="Standard"),)
    results, _ = validate_extras(("Tier",), [[None]], extras=extras)
    request = only(results).request
    assert request is not None
    assert request.body["extraFields"] == [
        {"fieldName": "Tier", "fieldValue": "Standard"}
    ]
    assert [i.code for i in only(results).issues] == ["EXTRA_FIELD_DEFAULT_USED"]


def test_extra_required_column_missing_reported_once() -> None:
    results, issues = validate_extras((), [[], []])
    assert [i.code for i in issues] == ["EXTRA_FIELD_COLUMN_MISSING"]
    assert all(error_codes(r) == ["EXTRA_FIELD_REQUIRED"] for r in results)


def test_extra_unknown_column_reported_once_not_sent() -> None:
    sheet = make_sheet(
        (*HEADERS, "Hobby"),
        [[*good_row("a@example.com"), "chess"], [*good_row("b@example.com"), "go"]],
        extra_field_names=["Hobby"],
    )
    catalog = StoreCatalog(extras=())
    results = validate_sheet(sheet, catalog, defaults=NO_DEFAULTS)
    assert [i.code for i in sheet.issues] == ["EXTRA_FIELD_UNKNOWN"]
    assert sheet.issues[0].cell == "Users!G1"
    assert all(r.request is not None for r in results)
    assert all("extraFields" not in r.request.body for r in results if r.request)


def test_extra_unique_value_repeated_in_file() -> None:
    results, _ = validate_extras(
        ("Cost centre", "Badge"), [["CC-1", "B7"], ["CC-1", "B8"], ["CC-2", "b7"]]
    )
    assert results[0].request is not None
    assert results[1].request is not None
    assert error_codes(results[2]) == ["EXTRA_FIELD_DUPLICATE"]
    assert "row 2" in issue(results[2], "EXTRA_FIELD_DUPLICATE").message


def test_extra_fields_pass_through_offline() -> None:
    sheet = make_sheet(
        (*HEADERS, "Hobby"),
        [[*good_row(), "chess\nand go"]],
        extra_field_names=["Hobby"],
    )
    result = only(validate_sheet(sheet, OfflineCatalog(), defaults=NO_DEFAULTS))
    assert sheet.issues == []
    assert result.request is not None
    assert result.request.body["extraFields"] == [
        {"fieldName": "Hobby", "fieldValue": "chess\nand go"}
    ]


# --- the sheet as a whole -----------------------------------------------------------


def test_missing_columns_reported_once() -> None:
    sheet = make_sheet(("email", "role"), [["a@example.com", "Admin"]] * 3)
    issues = check_sheet(sheet, StoreCatalog())
    messages = [i.message for i in issues]
    assert [i.code for i in issues] == ["COLUMN_MISSING"] * 3
    assert any("firstName" in m for m in messages)
    assert any("Company" in m for m in messages)


def test_sheet_issues_added_once_across_calls() -> None:
    sheet = make_sheet(("email", "role"), [["a@example.com", "Admin"]])
    validate_sheet(sheet, StoreCatalog(), defaults=NO_DEFAULTS)
    validate_sheet(sheet, StoreCatalog(), defaults=NO_DEFAULTS)
    assert len(sheet.issues) == 3


def test_two_columns_for_one_field() -> None:
    sheet = make_sheet(
        (*HEADERS, "e-mail"),
        [
            [*good_row("a@example.com"), "a@example.com"],
            [*good_row("b@example.com"), "c@example.com"],
            [*good_row("d@example.com"), None],
        ],
    )
    # make_sheet maps both headers to email, as a loader that keeps both would.
    results = validate_sheet(sheet, StoreCatalog(), defaults=NO_DEFAULTS)
    assert [i.code for i in sheet.issues] == ["COLUMN_DUPLICATE"]
    assert results[0].request is not None
    assert error_codes(results[1]) == ["COLUMN_CONFLICT"]
    assert "Users!G3" in issue(results[1], "COLUMN_CONFLICT").message
    assert results[2].request is not None


# --- codes --------------------------------------------------------------------------


def test_error_codes_are_upper_snake_with_meaning() -> None:
    for code, meaning in ERROR_CODES.items():
        assert code == code.upper()
        assert code.replace("_", "").isalpha()
        assert meaning
