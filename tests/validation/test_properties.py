"""Property tests: normalisation never raises, and typed text survives it."""

from __future__ import annotations

import datetime as dt
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.config import Defaults
from provisioner.model import Cell, CellValue
from provisioner.normalize import (
    PLACEHOLDERS,
    clean_text,
    parse_bool,
    parse_email,
    parse_external_id,
    parse_int,
    parse_name,
    parse_phone,
    parse_text,
    split_list,
    strip_edges,
)
from provisioner.validate import ERROR_CODES, OfflineCatalog, validate_sheet

from .helpers import HEADERS, make_sheet

PARSERS = (
    parse_int,
    parse_external_id,
    parse_text,
    parse_name,
    parse_email,
    parse_phone,
    split_list,
    parse_bool,
)

cell_values: st.SearchStrategy[CellValue] = st.one_of(
    st.none(),
    st.text(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(),
    st.dates(),
    st.times(),
)

cells = st.builds(
    Cell,
    value=cell_values,
    text=st.text(),
    number_format=st.none() | st.sampled_from(["General", "@", "0.00"]),
    formula_without_value=st.booleans(),
    hyperlink=st.none() | st.text() | st.text().map(lambda t: "mailto:" + t),
)


@settings(max_examples=300, deadline=None)
@given(cells)
def test_parsers_never_raise_on_any_cell(cell: Cell) -> None:
    for parse in PARSERS:
        parsed = parse(cell)  # type: ignore[operator]
        for finding in parsed.findings:
            assert finding.code in ERROR_CODES
            assert finding.message


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_clean_text_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
    assert once == strip_edges(once)


def _is_typed_text(text: str) -> bool:
    """Text a person could type into one cell: no line breaks or control codes."""
    if text != clean_text(text) or not text:
        return False
    if text.casefold() in PLACEHOLDERS or "\ufffd" in text:
        return False
    return not any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in text)


typed_text = st.text(min_size=1, max_size=80).filter(_is_typed_text)


@settings(max_examples=300, deadline=None)
@given(typed_text)
def test_free_text_round_trips(text: str) -> None:
    parsed = parse_text(Cell(value=text, text=text), max_length=255)
    assert parsed.value == text
    assert parsed.findings == ()


@settings(max_examples=300, deadline=None)
@given(typed_text.filter(lambda t: not t.startswith(("=", "+", "-", "@"))))
def test_names_round_trip(text: str) -> None:
    parsed = parse_name(Cell(value=text, text=text), max_length=150)
    assert parsed.value == text
    assert parsed.findings == ()


@settings(max_examples=200, deadline=None)
@given(typed_text, st.sampled_from([" ", "\u00a0", "\u200b", "\t", "\ufeff"]))
def test_text_trimming_is_the_only_change(text: str, padding: str) -> None:
    padded = padding + text + padding
    parsed = parse_text(Cell(value=padded, text=padded), max_length=255)
    assert parsed.value == text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_int_round_trips_through_text_and_number(number: int) -> None:
    assert parse_int(Cell(value=str(number), text=str(number))).value == number
    assert parse_int(Cell(value=number, text=str(number))).value == number
    assert parse_int(Cell(value=float(number), text=str(number))).value == number


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=6),
    st.sampled_from([";", ",", "|", " ", "; ", " , "]),
)
def test_list_round_trips_ids(ids: list[int], separator: str) -> None:
    text = separator.join(str(i) for i in ids)
    parsed = split_list(Cell(value=text, text=text))
    assert parsed.value == list(dict.fromkeys(str(i) for i in ids))


@settings(max_examples=100, deadline=None)
@given(st.datetimes() | st.dates() | st.times())
def test_dates_never_become_ids(value: dt.date | dt.time) -> None:
    parsed = parse_int(Cell(value=value, text=str(value)))
    assert parsed.value is None
    assert [f.code for f in parsed.findings] == ["EXCEL_DATE"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(cells, min_size=9, max_size=9), min_size=1, max_size=6))
def test_validate_sheet_never_raises(rows: list[list[Cell]]) -> None:
    headers = (*HEADERS, "phone", "welcome email", "uuid")
    sheet = make_sheet(headers, rows)
    results = validate_sheet(sheet, OfflineCatalog(), defaults=Defaults())
    assert [r.row.row_number for r in results] == list(range(2, len(rows) + 2))
    for result in results:
        assert (result.request is None) == (result.status is not None)
        for issue in result.issues:
            assert issue.code in ERROR_CODES
