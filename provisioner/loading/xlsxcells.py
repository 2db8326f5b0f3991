"""Convert openpyxl's read-only cells into ``Cell`` values, keeping them raw."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openpyxl.cell.read_only import EMPTY_CELL as OPENPYXL_EMPTY_CELL

from provisioner.model import EMPTY_CELL, Cell, CellValue

SECONDS_PER_DAY = 86_400

# Floats with an integral value below this print without a decimal point.
_INTEGRAL_TEXT_LIMIT = 1e15


def to_cell(cell: Any) -> Cell:
    """Convert an openpyxl read-only cell, keeping its type and number format."""
    if cell is OPENPYXL_EMPTY_CELL:
        return EMPTY_CELL
    value = cell.value
    if value is None:
        return EMPTY_CELL
    if type(value) is str:
        return Cell(value, value, cell.number_format)
    converted = _convert_value(value)
    return Cell(converted, _display_text(converted), cell.number_format)


def _convert_value(value: Any) -> CellValue:
    # openpyxl reads durations ([h]:mm) as timedelta, which Cell cannot carry.
    # One under a day becomes the time of day Excel shows, and a longer one text.
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        if 0 <= seconds < SECONDS_PER_DAY:
            return (dt.datetime.min + value).time()
        return str(value)
    if isinstance(value, str | int | float | bool | dt.datetime | dt.date | dt.time):
        return value
    return str(value)


def _display_text(value: CellValue) -> str:
    """Return the text of a value roughly as Excel's General format shows it.

    NOTE: the cell's number format is not applied; a number formatted as
    ``00000`` shows its leading zeros in Excel but not here.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _INTEGRAL_TEXT_LIMIT:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)
