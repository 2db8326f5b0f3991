"""Find the header row of a sheet and map its columns to fields."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from provisioner.fields import INVISIBLE_CHARACTERS, RESULT_COLUMNS, normalise_header
from provisioner.model import Cell, Column, RowIssue

#: Non-blank rows searched for the header row when no header row is given.
HEADER_SCAN_ROWS = 20

#: Last row searched for the header row, however many rows above it are blank.
HEADER_SCAN_LAST_ROW = 200

_RESULT_COLUMN_KEYS = frozenset(normalise_header(name) for name in RESULT_COLUMNS)


@dataclass(slots=True)
class RawRow:
    """One row as read from the file, before it is fitted to the header.

    ``number`` is the row as Excel shows it (for CSV the record number); ``line``
    is the physical line where a CSV record starts.
    """

    number: int
    line: int | None
    cells: list[Cell]


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """A row that reads as a header, and the fields its cells name."""

    row: RawRow
    fields: frozenset[str]

    @property
    def has_email(self) -> bool:
        return "email" in self.fields


@dataclass(slots=True)
class ColumnMap:
    """The columns of a header row, and what was wrong with them."""

    columns: list[Column]
    unknown: list[str] = field(default_factory=list)
    duplicates: list[tuple[Column, Column]] = field(default_factory=list)


def is_blank_text(text: str) -> bool:
    """Return whether ``text`` shows nothing: empty, whitespace or invisible marks."""
    if not text:
        return True
    return not text.strip().strip(INVISIBLE_CHARACTERS).strip()


def has_content(cell: Cell) -> bool:
    """Return whether a cell shows something or contains a formula."""
    return cell.formula_without_value or not is_blank_text(cell.text)


def is_blank_row(cells: Sequence[Cell]) -> bool:
    return not any(has_content(cell) for cell in cells)


def match_header(row: RawRow, table: dict[str, str]) -> HeaderMatch:
    """Return which known fields the cells of ``row`` name."""
    fields = set()
    for cell in row.cells:
        if not cell.text:
            continue
        name = table.get(normalise_header(cell.text))
        if name is not None:
            fields.add(name)
    return HeaderMatch(row, frozenset(fields))


def find_header(
    rows: Iterable[RawRow], table: dict[str, str], header_row: int | None
) -> HeaderMatch | None:
    """Pick the header row among the first rows.

    With ``header_row`` the row of that number is the header, whatever it contains.
    Otherwise the header is the row that names the most known fields and includes
    an email column. Only the first ``HEADER_SCAN_ROWS`` non-blank rows up to row
    ``HEADER_SCAN_LAST_ROW`` are searched, and the earliest row wins a tie.
    Returns None when no row qualifies.
    """
    best: HeaderMatch | None = None
    scanned = 0
    for row in rows:
        if header_row is not None:
            if row.number == header_row:
                return match_header(row, table)
            if row.number > header_row:
                return None
            continue
        if row.number > HEADER_SCAN_LAST_ROW:
            break
        if is_blank_row(row.cells):
            continue
        match = match_header(row, table)
        if match.has_email and (best is None or len(match.fields) > len(best.fields)):
            best = match
        scanned += 1
        if scanned >= HEADER_SCAN_ROWS:
            break
    return best


def header_width(cells: Sequence[Cell]) -> int:
    """Return the number of columns up to the last non-blank header cell."""
    width = len(cells)
    while width and is_blank_text(cells[width - 1].text):
        width -= 1
    return width


def map_columns(cells: Sequence[Cell], table: dict[str, str], width: int) -> ColumnMap:
    """Map the first ``width`` header cells to fields.

    A header that names a field already taken by an earlier column maps to nothing
    and is listed in ``duplicates`` with the column that kept the field. Result
    workbook columns (``status``, ``error`` ...) map to nothing and are not unknown.
    """
    mapped = ColumnMap(columns=[])
    owners: dict[str, Column] = {}
    for index in range(width):
        header = cells[index].text.strip() if index < len(cells) else ""
        key = normalise_header(header)
        name = table.get(key) if key else None
        column = Column(
            index=index, letter=get_column_letter(index + 1), header=header, field=name
        )
        if name is not None and name in owners:
            mapped.duplicates.append((owners[name], column))
            column = Column(index, column.letter, header, None)
        elif name is not None:
            owners[name] = column
        elif key and key not in _RESULT_COLUMN_KEYS:
            mapped.unknown.append(header)
        mapped.columns.append(column)
    return mapped


def duplicate_issue(first: Column, second: Column, field_name: str) -> RowIssue:
    """Describe two columns whose headers name the same field."""
    return RowIssue(
        code="DUPLICATE_COLUMN",
        message=(
            f"Columns {first.letter} ({first.header!r}) and {second.letter} "
            f"({second.header!r}) both map to the field {field_name}."
        ),
        fix="Delete one of the two columns or rename its header, then run again.",
        column=second.letter,
    )
