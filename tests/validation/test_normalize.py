"""Each normalisation rule, one table of cases per kind of field."""

from __future__ import annotations

import datetime as dt

import pytest

from provisioner.model import Cell, CellValue
from provisioner.normalize import (
    builtin_role,
    clean_text,
    parse_bool,
    parse_email,
    parse_external_id,
    parse_int,
    parse_name,
    parse_phone,
    parse_text,
    split_list,
)

from .helpers import cell


def codes(parsed: object) -> list[str]:
    return [finding.code for finding in parsed.findings]  # type: ignore[attr-defined]


# --- text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ann  ", "Ann"),
        ("\u00a0Ann\u3000", "Ann"),
        ("\u200bAnn\ufeff", "Ann"),
        ("\tAnn\r\n", "Ann"),
        ("\u200eAnn\u200f", "Ann"),
        ("Jose\u0301", "José"),
        ("Mary  Ann", "Mary  Ann"),
    ],
)
def test_clean_text_trims_ends_and_composes(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_text_keeps_inner_spacing_and_case() -> None:
    parsed = parse_text(cell("  ERP-0042 a  b "))
    assert parsed.value == "ERP-0042 a  b"
    assert parsed.findings == ()


def test_text_placeholder_is_blank_with_warning() -> None:
    parsed = parse_text(cell("N/A"))
    assert parsed.value is None
    assert codes(parsed) == ["PLACEHOLDER_BLANK"]
    assert parsed.ok


def test_text_newline_collapses_unless_multiline() -> None:
    one_line = parse_text(cell("Sales\nEMEA North"))
    multiline = parse_text(cell("Sales\nEMEA North"), multiline=True)
    assert one_line.value == "Sales EMEA North"
    assert codes(one_line) == ["TEXT_NEWLINE"]
    assert multiline.value == "Sales\nEMEA North"
    assert multiline.findings == ()


def test_text_too_long_is_error() -> None:
    parsed = parse_text(cell("x" * 11), max_length=10)
    assert parsed.value is None
    assert codes(parsed) == ["TOO_LONG"]


def test_text_with_replacement_character_is_error() -> None:
    parsed = parse_text(cell("Jos\ufffd"))
    assert codes(parsed) == ["REPLACEMENT_CHARACTER"]


def test_text_with_control_character_is_error() -> None:
    parsed = parse_text(cell("ERP\x000042"))
    assert codes(parsed) == ["CONTROL_CHARACTER"]


# --- cell types from Excel ---------------------------------------------------------


DATE_VALUES: list[CellValue] = [
    dt.datetime(2024, 3, 1),
    dt.date(2024, 9, 2),
    dt.time(2, 0),
]


@pytest.mark.parametrize("value", DATE_VALUES)
@pytest.mark.parametrize(
    "parse", [parse_int, parse_text, parse_name, parse_email, split_list, parse_phone]
)
def test_date_in_text_field_is_error(parse: object, value: CellValue) -> None:
    parsed = parse(cell(value))  # type: ignore[operator]
    assert parsed.value is None
    assert codes(parsed) == ["EXCEL_DATE"]
    assert "format the column as Text" in parsed.findings[0].fix


@pytest.mark.parametrize(
    "parse",
    [
        parse_int,
        parse_text,
        parse_name,
        parse_email,
        split_list,
        parse_phone,
        parse_bool,
    ],
)
def test_formula_without_value_is_error_not_blank(parse: object) -> None:
    formula = Cell(value=None, text="", formula_without_value=True)
    parsed = parse(formula)  # type: ignore[operator]
    assert parsed.value is None
    assert codes(parsed) == ["FORMULA_WITHOUT_VALUE"]
    assert "save it" in parsed.findings[0].fix


# --- integers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (101, 101),
        (101.0, 101),
        ("101", 101),
        (" 101 ", 101),
        ("101.0", 101),
        ("0101", 101),
        ("１０１", 101),
        (10912345670.0, 10912345670),
        (None, None),
        ("", None),
        ("N/A", None),
    ],
)
def test_int_accepts_whole_numbers(value: CellValue, expected: int | None) -> None:
    parsed = parse_int(cell(value))
    assert parsed.value == expected
    assert parsed.ok


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1.2, "NOT_WHOLE_NUMBER"),
        (102.00000000000001, "NOT_WHOLE_NUMBER"),
        ("1.5", "NOT_WHOLE_NUMBER"),
        ("1,2", "NOT_WHOLE_NUMBER"),
        (float("nan"), "NOT_WHOLE_NUMBER"),
        (1.2345678901234568e18, "TOO_MANY_DIGITS"),
        (1234567890123456, "TOO_MANY_DIGITS"),
        (2.0**53, "TOO_MANY_DIGITS"),
        ("1.23E+11", "SCIENTIFIC_NOTATION"),
        ("1e5", "SCIENTIFIC_NOTATION"),
        ("ACME-7", "NOT_AN_ID"),
        ("-5", "NOT_AN_ID"),
        (True, "NOT_AN_ID"),
    ],
)
def test_int_rejects_without_rounding(value: CellValue, code: str) -> None:
    parsed = parse_int(cell(value))
    assert parsed.value is None
    assert codes(parsed) == [code]


def test_int_huge_number_is_error() -> None:
    parsed = parse_int(Cell(value=10**5000, text=""))
    assert parsed.value is None
    assert codes(parsed) == ["TOO_MANY_DIGITS"]


def test_int_fifteen_digits_are_kept() -> None:
    assert parse_int(cell(123456789012345)).value == 123456789012345
    assert parse_int(cell(1000000000000000000)).value == 10**18


# --- phone numbers -----------------------------------------------------------------


def test_phone_text_kept_exactly() -> None:
    parsed = parse_phone(cell("+44 (0)20 7946-0000"))
    assert parsed.value == "+44 (0)20 7946-0000"
    assert parsed.findings == ()


def test_phone_number_cell_becomes_digits_with_warning() -> None:
    parsed = parse_phone(cell(10912345670.0))
    assert parsed.value == "10912345670"
    assert codes(parsed) == ["PHONE_NUMERIC"]
    assert "leading 0 or +" in parsed.findings[0].message


def test_phone_number_cell_uses_displayed_leading_zero() -> None:
    parsed = parse_phone(Cell(value=612345000, text="0612345000"))
    assert parsed.value == "0612345000"
    assert codes(parsed) == ["PHONE_NUMERIC"]


@pytest.mark.parametrize(
    ("value", "code"),
    [("1.23457E+11", "SCIENTIFIC_NOTATION"), (5.5, "NOT_WHOLE_NUMBER")],
)
def test_phone_lost_digits_are_error(value: CellValue, code: str) -> None:
    parsed = parse_phone(cell(value))
    assert parsed.value is None
    assert codes(parsed) == [code]


def test_phone_placeholder_is_blank() -> None:
    parsed = parse_phone(cell("-"))
    assert parsed.value is None
    assert parsed.ok


# --- emails -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        " ann.lee@example.com",
        "ann.lee@example.com ",
        "ann.lee@example.com\u00a0",
        "\u200bann.lee@example.com",
        "\tann.lee@example.com",
        "ann.lee@example.com\u3000",
    ],
)
def test_email_trims_whitespace_and_invisibles(raw: str) -> None:
    parsed = parse_email(cell(raw))
    assert parsed.value == "ann.lee@example.com"
    assert parsed.ok


def test_email_invisible_trim_is_reported() -> None:
    parsed = parse_email(cell("\u200bann.lee@example.com"))
    assert codes(parsed) == ["EMAIL_CHANGED"]
    assert "invisible" in parsed.findings[0].message


def test_email_plain_space_trim_is_silent() -> None:
    assert parse_email(cell(" ann.lee@example.com ")).findings == ()


@pytest.mark.parametrize(
    ("raw", "note"),
    [
        ("gus.hill＠example.com", "full-width"),
        ("mailto:ann.lee@example.com", "mailto:"),
        ("MAILTO:ann.lee@example.com?subject=Hi", "mailto:"),
        ("Ann Lee <ann.lee@example.com>", "took the address"),
        ("<ann.lee@example.com>", "took the address"),
        ("“ann.lee@example.com”", "quotes"),
        ('"Ann Lee" <ann.lee@example.com>', "took the address"),
        ('"Lee, Ann" <ann.lee@example.com>', "took the address"),
        ('"mailto:ann.lee@example.com"', "mailto:"),
    ],
)
def test_email_unwraps_with_warning(raw: str, note: str) -> None:
    parsed = parse_email(cell(raw))
    assert parsed.value is not None
    assert parsed.value.casefold() in ("ann.lee@example.com", "gus.hill@example.com")
    assert codes(parsed) == ["EMAIL_CHANGED"]
    assert parsed.findings[0].severity == "warning"
    assert note in parsed.findings[0].message


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("ed.fox@example.com; ed.fox@example.org", "EMAIL_MULTIPLE"),
        ("a@example.com, b@example.com", "EMAIL_MULTIPLE"),
        ("Ann <a@example.com>, Bo <b@example.com>", "EMAIL_MULTIPLE"),
        ("gus.hill@exa mple.com", "EMAIL_WHITESPACE"),
        ("gus\u00a0hill@example.com", "EMAIL_WHITESPACE"),
        ("gus\u200bhill@example.com", "EMAIL_WHITESPACE"),
        ("bo@", "EMAIL_INVALID"),
        ("bo.example.com", "EMAIL_INVALID"),
        ("bo@@example.com", "EMAIL_INVALID"),
        (12345, "EMAIL_INVALID"),
    ],
)
def test_email_rejects(raw: CellValue, code: str) -> None:
    parsed = parse_email(cell(raw))
    assert parsed.value is None
    assert codes(parsed) == [code]


def test_email_domain_lowercased_local_part_kept() -> None:
    assert parse_email(cell("Ann.Lee@EXAMPLE.com")).value == "Ann.Lee@example.com"


def test_email_from_mailto_hyperlink() -> None:
    linked = Cell(
        value="Ann Lee", text="Ann Lee", hyperlink="mailto:ann.lee@example.com"
    )
    parsed = parse_email(linked)
    assert parsed.value == "ann.lee@example.com"
    assert codes(parsed) == ["EMAIL_FROM_HYPERLINK"]


def test_email_address_text_wins_over_hyperlink() -> None:
    linked = Cell(
        value="ann@example.com",
        text="ann@example.com",
        hyperlink="mailto:other@example.com",
    )
    assert parse_email(linked).value == "ann@example.com"


def test_email_blank_is_none() -> None:
    parsed = parse_email(cell(None))
    assert parsed.is_blank


# --- names --------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["-", "--", "N/A", "n/a", "#N/A", "None", "null"])
def test_name_placeholder_is_error(raw: str) -> None:
    parsed = parse_name(cell(raw))
    assert parsed.value is None
    assert codes(parsed) == ["NAME_PLACEHOLDER"]


@pytest.mark.parametrize(
    "raw", ['=HYPERLINK("http://example.invalid","x")', "+Diaz", "-Cy", "@SUM(1+1)"]
)
def test_name_formula_start_is_error(raw: str) -> None:
    parsed = parse_name(cell(raw))
    assert parsed.value is None
    assert codes(parsed) == ["NAME_FORMULA"]


def test_name_newline_becomes_space_with_warning() -> None:
    parsed = parse_name(cell("Mary\nAnn"))
    assert parsed.value == "Mary Ann"
    assert codes(parsed) == ["NAME_NEWLINE"]


@pytest.mark.parametrize("raw", ["O’Neil", "Lee, Jr.", "Søren", "d'Arc", "李"])
def test_name_kept_as_typed(raw: str) -> None:
    parsed = parse_name(cell(raw))
    assert parsed.value == raw
    assert parsed.findings == ()


def test_name_length_limit() -> None:
    assert codes(parse_name(cell("x" * 151), max_length=150)) == ["TOO_LONG"]
    assert parse_name(cell("x" * 150), max_length=150).value == "x" * 150


# --- lists --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", ["1"]),
        ("1;2", ["1", "2"]),
        ("1, 2", ["1", "2"]),
        ("[1,2]", ["1", "2"]),
        ("(1|2)", ["1", "2"]),
        ("1|2", ["1", "2"]),
        ("1 2", ["1", "2"]),
        ("1;;2;", ["1", "2"]),
        ("1.0", ["1"]),
        ("1,2,2", ["1", "2"]),
        ("1\u00a0;\u00a02", ["1", "2"]),
        ('"1","2"', ["1", "2"]),
        ("US Store; 2", ["US Store", "2"]),
        ("one", ["one"]),
        (3, ["3"]),
        (3.0, ["3"]),
    ],
)
def test_list_grammar(raw: CellValue, expected: list[str]) -> None:
    parsed = split_list(cell(raw))
    assert parsed.value == expected
    assert parsed.ok


@pytest.mark.parametrize(
    ("raw", "code"),
    [("1.2", "LIST_INVALID"), ("1;2.5", "LIST_INVALID"), (1.2, "NOT_WHOLE_NUMBER")],
)
def test_list_rejects_fractions(raw: CellValue, code: str) -> None:
    parsed = split_list(cell(raw))
    assert parsed.value is None
    assert codes(parsed) == [code]


@pytest.mark.parametrize("raw", [None, "", " ; ", "[]", "N/A"])
def test_list_blank(raw: CellValue) -> None:
    assert split_list(cell(raw)).is_blank


# --- booleans -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", True),
        ("Y", True),
        ("TRUE", True),
        ("1", True),
        ("x", True),
        ("On", True),
        ("ja", True),
        ("oui", True),
        ("sí", True),
        ("✓", True),
        ("✔", True),
        (True, True),
        (1, True),
        ("no", False),
        ("N", False),
        ("false", False),
        ("0", False),
        ("off", False),
        ("Nein", False),
        ("non", False),
        ("✗", False),
        (False, False),
        (0, False),
        (None, None),
        ("", None),
    ],
)
def test_bool_words(raw: CellValue, expected: bool | None) -> None:
    parsed = parse_bool(cell(raw))
    assert parsed.value is expected
    assert parsed.ok


@pytest.mark.parametrize("raw", ["maybe", "2", 2, "yes please"])
def test_bool_rejects_other_values(raw: CellValue) -> None:
    parsed = parse_bool(cell(raw))
    assert parsed.value is None
    assert codes(parsed) == ["BOOL_INVALID"]


# --- built-in roles -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("Admin", 0),
        ("ADMIN", 0),
        ("senior buyer", 1),
        ("Senior_Buyer", 1),
        ("SENIOR-BUYER", 1),
        (" Junior  Buyer ", 2),
        ("2", 2),
        ("3", None),
        ("Regional Buyer", None),
    ],
)
def test_builtin_role(raw: str, expected: int | None) -> None:
    assert builtin_role(raw) == expected


# --- external ids -------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1.23457E+11", "9.8E-05", "1,5E+12"])
def test_external_id_scientific_is_error(raw: str) -> None:
    parsed = parse_external_id(cell(raw))
    assert parsed.value is None
    assert codes(parsed) == ["SCIENTIFIC_NOTATION"]


@pytest.mark.parametrize("raw", ["219E01BE", "ERP-0042", "1E5X", "00123"])
def test_external_id_kept_as_typed(raw: str) -> None:
    parsed = parse_external_id(cell(raw))
    assert parsed.value == raw
    assert parsed.findings == ()
