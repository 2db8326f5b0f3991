"""Read what openpyxl's read-only mode leaves out, straight from the sheet XML.

Read-only worksheets have no merged-cell ranges and no hyperlinks, and with
``data_only=True`` a formula without a saved result reads as an empty cell. One
streamed pass over the worksheet part collects all three. It parses through
defusedxml, so entity declarations are rejected, and it is skipped when a byte
scan finds none of their elements.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from defusedxml import ElementTree
from openpyxl.formula.tokenizer import TokenizerError
from openpyxl.formula.translate import Translator, TranslatorError
from openpyxl.utils.cell import (
    column_index_from_string,
    get_column_letter,
    range_boundaries,
)

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

#: Size of the chunks in which the worksheet part is scanned for element names.
SCAN_CHUNK_BYTES = 1 << 20

# Element names whose presence makes the full pass worth its time. A formula is
# <f>, <f t="shared" .../> or the same with a namespace prefix.
_MARKERS = (b"<mergeCell ", b":mergeCell ", b"<hyperlink ", b":hyperlink ")
_FORMULA_MARKERS = (b"<f>", b"<f ", b"<f/", b":f>", b":f ", b":f/")

_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


@dataclass(frozen=True, slots=True)
class CellRange:
    """A rectangle of cells, 1-based and inclusive, with what it carries."""

    min_row: int
    min_col: int
    max_row: int
    max_col: int
    payload: str = ""


@dataclass(slots=True)
class SheetExtras:
    """Merged ranges, hyperlink targets and formula cells without a saved value."""

    merges: list[CellRange] = field(default_factory=list)
    hyperlinks: list[CellRange] = field(default_factory=list)
    formulas_without_value: dict[tuple[int, int], str] = field(default_factory=dict)
    """The formula text (``=LOWER(D2)``, or "" when unknown) by (row, column)."""


def read_sheet_extras(archive: zipfile.ZipFile, sheet_path: str) -> SheetExtras:
    """Collect the extras of the worksheet part ``sheet_path`` in ``archive``."""
    extras = SheetExtras()
    if not _mentions_extras(archive, sheet_path):
        return extras
    links: list[tuple[str, str]] = []
    shared: dict[str, tuple[str, str]] = {}
    row_number = 0
    column = 0
    with archive.open(sheet_path) as source:
        for event, element in ElementTree.iterparse(source, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if event == "start":
                if tag == "row":
                    row_number = _row_number(element.get("r"), row_number)
                    column = 0
                continue
            if tag == "c":
                column = _cell_column(element.get("r"), column)
                coordinate = f"{get_column_letter(column)}{row_number}"
                formula = _formula_without_value(element, coordinate, shared)
                if formula is not None:
                    extras.formulas_without_value[(row_number, column)] = formula
                element.clear()
            elif tag == "row":
                element.clear()
            elif tag == "mergeCell":
                merge = _parse_range(element.get("ref"))
                if merge is not None:
                    extras.merges.append(merge)
            elif tag == "hyperlink":
                relation = element.get(f"{{{REL_NS}}}id")
                if relation:
                    links.append((element.get("ref") or "", relation))
    if links:
        extras.hyperlinks = _resolve_links(archive, sheet_path, links)
    return extras


def _mentions_extras(archive: zipfile.ZipFile, sheet_path: str) -> bool:
    markers = _MARKERS + _FORMULA_MARKERS
    tail = b""
    with archive.open(sheet_path) as source:
        while chunk := source.read(SCAN_CHUNK_BYTES):
            window = tail + chunk
            if any(marker in window for marker in markers):
                return True
            tail = chunk[-16:]
    return False


def _row_number(ref: str | None, previous: int) -> int:
    """Return a row's number from its r attribute, or the next one when missing."""
    if ref and ref.isdigit():
        return int(ref)
    return previous + 1


def _cell_column(ref: str | None, previous: int) -> int:
    if ref:
        match = _CELL_REF.match(ref)
        if match:
            return int(column_index_from_string(match.group(1).upper()))
    return previous + 1


def _formula_without_value(
    element: ElementTree.Element, coordinate: str, shared: dict[str, tuple[str, str]]
) -> str | None:
    """Return the formula text of a cell without a saved value, else None.

    A shared formula is written out only in its first cell, so that cell's text
    and coordinate are kept in ``shared`` to translate it for the cells after it.
    """
    formula: ElementTree.Element | None = None
    has_value = False
    for child in element:
        tag = child.tag.rpartition("}")[2]
        if tag == "f":
            formula = child
        elif tag in ("v", "is") and (child.text or len(child)):
            has_value = True
    if formula is None:
        return None
    text = formula.text or ""
    index = formula.get("si")
    if formula.get("t") == "shared" and index is not None:
        if text:
            shared[index] = (text, coordinate)
        elif index in shared:
            text = _translate(shared[index], coordinate)
    if has_value:
        return None
    return "=" + text if text else ""


def _translate(master: tuple[str, str], coordinate: str) -> str:
    text, origin = master
    try:
        translated = Translator("=" + text, origin=origin).translate_formula(coordinate)
    except (TokenizerError, TranslatorError, ValueError):
        return ""
    return str(translated).removeprefix("=")


def _parse_range(ref: str | None) -> CellRange | None:
    if not ref:
        return None
    try:
        min_col, min_row, max_col, max_row = range_boundaries(ref.split()[0])
    except (ValueError, TypeError):
        return None
    if None in (min_col, min_row, max_col, max_row):
        return None
    return CellRange(min_row, min_col, max_row, max_col)


def _resolve_links(
    archive: zipfile.ZipFile, sheet_path: str, links: list[tuple[str, str]]
) -> list[CellRange]:
    """Turn (ref, relationship id) pairs into ranges carrying the link target."""
    folder, name = posixpath.split(sheet_path)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    try:
        root = ElementTree.fromstring(archive.read(rels_path))
    except KeyError:
        return []
    targets = {
        rel.get("Id"): rel.get("Target") or ""
        for rel in root
        if rel.tag.rpartition("}")[2] == "Relationship"
    }
    ranges: list[CellRange] = []
    for ref, relation in links:
        target = targets.get(relation)
        cells = _parse_range(ref)
        if target and cells is not None:
            ranges.append(
                CellRange(
                    cells.min_row, cells.min_col, cells.max_row, cells.max_col, target
                )
            )
    return ranges
