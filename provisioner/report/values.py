"""Cell values for the workbook and the CSV copy, escaped against formula injection."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from provisioner.model import Cell, CellValue
from provisioner.safety import escape_csv_text, starts_like_formula

#: Maximum number of characters in an Excel cell. Longer text is cut and ends with
#: an ellipsis.
EXCEL_MAX_CELL_CHARS = 32_767

#: Number format that keeps a cell text when a person retypes it in Excel, so an
#: id such as ``0612`` or a phone such as ``+1 555 0100`` is not turned into a
#: number or a formula.
TEXT_FORMAT = "@"

# Control characters that XML 1.0, and so XLSX, cannot store (tab, line feed and
# carriage return are allowed). openpyxl raises IllegalCharacterError on them.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# Integers up to 2**53 survive a round trip through an Excel (IEEE double) number.
_MAX_EXACT_INTEGER = 2**53


def text_cell(sheet: WriteOnlyWorksheet, text: str) -> Any:
    """Build a cell that Excel shows as exactly ``text`` and never evaluates.

    openpyxl stores a string starting with ``=`` as a formula and a string such as
    ``#N/A`` as an error value, so the string type is forced for every text.
    ``quotePrefix`` keeps a formula-like text text when a person edits the cell.
    XML-illegal control characters become U+FFFD, which the loader rejects if the
    sheet is fed back, so the damage is visible instead of silent.
    """
    cleaned = _XML_ILLEGAL.sub("\ufffd", text)
    if len(cleaned) > EXCEL_MAX_CELL_CHARS:
        cleaned = cleaned[: EXCEL_MAX_CELL_CHARS - 1] + "…"
    cell = WriteOnlyCell(sheet, value=cleaned)
    cell.data_type = "s"
    cell.number_format = TEXT_FORMAT
    if starts_like_formula(cleaned):
        cell.quotePrefix = True
    return cell


def plain_cell(sheet: WriteOnlyWorksheet, value: CellValue) -> Any:
    """Return a cell for a value the provisioner produced: a number, text or blank.

    A number or blank is returned as the bare value: a write-only sheet writes
    bare values faster than cell objects.
    """
    if isinstance(value, str):
        return text_cell(sheet, value)
    return value


def source_xlsx_cell(
    sheet: WriteOnlyWorksheet, source: Cell, *, styled: bool = False
) -> Any:
    """Return the workbook cell for an original cell, keeping its type and format.

    ``styled`` True always returns a cell object, so the caller can add a fill or
    a comment. Otherwise an unformatted number or blank is returned bare.
    Hyperlinks are not copied, so a link planted in the input does not travel
    into the report.
    """
    value = source.value
    if value is None:
        # A formula without a saved result has no value, so its formula text is
        # written as text and stays visible.
        if source.formula_without_value and source.text:
            return text_cell(sheet, source.text)
        return WriteOnlyCell(sheet, value=None) if styled else None
    if isinstance(value, str):
        return text_cell(sheet, value)
    if isinstance(value, float) and not math.isfinite(value):
        return text_cell(sheet, str(value))
    if isinstance(value, dt.datetime | dt.time) and value.tzinfo is not None:
        # Excel has no time zones, so the text keeps the offset instead of dropping it.
        return text_cell(sheet, value.isoformat())
    number_format = None if isinstance(value, bool) else source.number_format
    if not styled and number_format in (None, "General"):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if number_format:
        cell.number_format = number_format
    return cell


def source_csv_text(source: Cell) -> str:
    """Return the CSV text of an original cell, escaping text but not numbers."""
    value = source.value
    if value is None:
        if source.formula_without_value and source.text:
            return escape_csv_text(source.text)
        return ""
    if isinstance(value, str):
        return escape_csv_text(value)
    return format_csv_value(value)


def format_csv_value(value: CellValue) -> str:
    """Format a number, boolean, date or time the way Excel reads it back from CSV.

    Whole floats below 2**53 lose their ``.0``. Dates are ISO 8601, with the time
    only when it is not midnight. Text is escaped against formula injection.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_csv_text(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _MAX_EXACT_INTEGER:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    return value.isoformat()


def display_width(value: object) -> int:
    """Return the length of the longest line of a value, for column widths."""
    if value is None:
        return 0
    if isinstance(value, str):
        return max((len(line) for line in value.splitlines()), default=0)
    if isinstance(value, dt.datetime):
        return 19
    if isinstance(value, dt.date | dt.time):
        return 10
    return len(str(value))
