"""Apply what ``sheetxml`` read to the rows of a sheet, row by row in order."""

from __future__ import annotations

from provisioner.loading.sheetxml import CellRange
from provisioner.model import Cell


class RangeSweep:
    """Ranges handed out row by row, for rows visited in increasing order.

    ``top_left`` keeps the cell of each merged range found in its first row.
    """

    def __init__(self, ranges: list[CellRange]) -> None:
        self._pending = sorted(ranges, key=lambda cells: cells.min_row, reverse=True)
        self._active: list[CellRange] = []
        self.top_left: dict[CellRange, Cell] = {}

    def covering(self, row_number: int) -> list[CellRange]:
        """Return the ranges whose rows include ``row_number``."""
        while self._pending and self._pending[-1].min_row <= row_number:
            self._active.append(self._pending.pop())
        if self._active:
            self._active = [
                cells for cells in self._active if cells.max_row >= row_number
            ]
        return self._active


def mark_formulas(
    row: list[Cell], number: int, formulas: dict[tuple[int, int], str]
) -> None:
    """Flag formula cells without a saved value, with the formula as their text."""
    for index, cell in enumerate(row):
        formula = formulas.get((number, index + 1))
        if formula is not None and cell.value is None:
            row[index] = Cell(
                value=None,
                text=formula,
                number_format=cell.number_format,
                formula_without_value=True,
            )


def apply_link(row: list[Cell], link: CellRange) -> None:
    last = min(link.max_col, len(row))
    for index in range(link.min_col - 1, last):
        cell = row[index]
        row[index] = Cell(
            cell.value,
            cell.text,
            cell.number_format,
            cell.formula_without_value,
            link.payload,
        )


def fill_merge(
    row: list[Cell], number: int, merge: CellRange, sweep: RangeSweep
) -> int:
    """Copy a merged range's top-left cell into this row's part of the range.

    Returns how many cells were filled. A range whose first row is above the rows
    read (the header or a title) is left alone.
    """
    if number == merge.min_row:
        if merge.min_col > len(row):
            return 0
        sweep.top_left[merge] = row[merge.min_col - 1]
    source = sweep.top_left.get(merge)
    if source is None or source.is_blank:
        return 0
    filled = 0
    for index in range(merge.min_col - 1, min(merge.max_col, len(row))):
        if row[index] is not source and row[index].is_blank:
            row[index] = source
            filled += 1
    return filled
