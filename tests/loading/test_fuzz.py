"""Fuzz tests: whatever the bytes, ``load_sheet`` returns a sheet or raises
``InputFileError``, never another exception."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from provisioner.errors import InputFileError
from provisioner.loading import load_sheet
from provisioner.model import LoadedSheet

FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

HEADERS = ["email", "E-mail", "firstName", "last name", "company", "", "status", "x"]

FIELD_TEXT = st.text(
    alphabet=st.sampled_from(
        [*'abc@.,;\t|"\n\r 0123456789', "\u00a0", "\u200b", "é", "\ufffd", "="]
    ),
    max_size=12,
)


def load_bytes(data: bytes, name: str) -> LoadedSheet | None:
    """Load ``data`` from a file; return None when it raised ``InputFileError``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return load_sheet(path)
        except InputFileError:
            return None


def check_sheet(sheet: LoadedSheet | None) -> None:
    """Check the invariants every loaded sheet keeps."""
    if sheet is None:
        return
    width = len(sheet.columns)
    assert [column.index for column in sheet.columns] == list(range(width))
    numbers = [row.row_number for row in sheet.rows]
    assert numbers == sorted(set(numbers))
    for row in sheet.rows:
        assert len(row.cells) == width
        assert row.row_number > sheet.report.header_row


@FUZZ_SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    check_sheet(load_bytes(data, "upload.csv"))


@FUZZ_SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_after_signatures(tail: bytes) -> None:
    for head in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xff\xfe"):
        check_sheet(load_bytes(head + tail, "upload.xlsx"))


@FUZZ_SETTINGS
@given(
    header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6),
    rows=st.lists(st.lists(FIELD_TEXT, max_size=7), max_size=8),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    codec=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    sep_line=st.booleans(),
)
def test_random_delimited_text(
    header: list[str],
    rows: list[list[str]],
    delimiter: str,
    codec: str,
    sep_line: bool,
) -> None:
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    if sep_line:
        lines.insert(0, f"sep={delimiter}")
    text = "\r\n".join(lines)
    data = text.encode(codec, errors="replace")
    check_sheet(load_bytes(data, "users.csv"))


CELL_VALUES = st.one_of(
    st.none(),
    FIELD_TEXT,
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
)


def _clean(value: object) -> object:
    # openpyxl rejects control characters in strings it writes.
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch == "\t")
    return value


@FUZZ_SETTINGS
@given(
    sheets=st.lists(
        st.tuples(
            st.lists(st.sampled_from(HEADERS), min_size=1, max_size=5),
            st.lists(st.lists(CELL_VALUES, max_size=6), max_size=6),
            st.sampled_from(["visible", "hidden", "veryHidden"]),
        ),
        min_size=1,
        max_size=3,
    ),
    merge=st.booleans(),
)
def test_random_small_workbooks(
    sheets: list[tuple[list[str], list[list[object]], str]], merge: bool
) -> None:
    workbook = Workbook()
    default = workbook.active
    assert default is not None
    workbook.remove(default)
    for number, (header, rows, state) in enumerate(sheets):
        sheet = workbook.create_sheet(f"S{number}")
        sheet.append(header)
        for row in rows:
            sheet.append([_clean(value) for value in row])
        if merge and rows:
            sheet.merge_cells("A2:B3")
        sheet.sheet_state = state
    # Excel needs one visible sheet; openpyxl refuses to save without one.
    workbook.worksheets[0].sheet_state = "visible"
    buffer = io.BytesIO()
    workbook.save(buffer)
    check_sheet(load_bytes(buffer.getvalue(), "users.xlsx"))


def _valid_workbook() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["email", "firstName", "lastName"])
    sheet.append(["a@example.com", "Ann", "Lee"])
    sheet["A2"].hyperlink = "mailto:a@example.com"
    sheet.merge_cells("B2:C2")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


VALID_WORKBOOK = _valid_workbook()


@FUZZ_SETTINGS
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(VALID_WORKBOOK) - 1),
            st.integers(min_value=0, max_value=255),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_damaged_workbook_bytes(changes: list[tuple[int, int]]) -> None:
    data = bytearray(VALID_WORKBOOK)
    for offset, value in changes:
        data[offset] = value
    check_sheet(load_bytes(bytes(data), "users.xlsx"))
