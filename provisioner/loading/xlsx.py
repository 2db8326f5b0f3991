"""Read a sheet of users from an OOXML workbook (.xlsx, .xlsm) with openpyxl.

The workbook is streamed in read-only mode. The stored dimension is ignored
(producers write ``A1:XFD1048576`` for three rows), so the width of each row read
comes from the header row. Merged ranges, hyperlinks and formulas without a saved
result come from the sheet XML (see ``sheetxml``).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException
from openpyxl.cell.read_only import EMPTY_CELL as OPENPYXL_EMPTY_CELL

from provisioner.config import Limits
from provisioner.errors import InputFileError
from provisioner.loading.archive import check_archive
from provisioner.loading.assemble import assemble_sheet
from provisioner.loading.headers import (
    HEADER_SCAN_ROWS,
    HeaderMatch,
    RawRow,
    find_header,
    header_width,
)
from provisioner.loading.ranges import (
    RangeSweep,
    apply_link,
    fill_merge,
    mark_formulas,
)
from provisioner.loading.sheetxml import SheetExtras, read_sheet_extras
from provisioner.loading.xlsxcells import to_cell
from provisioner.model import LoadedSheet, LoadReport

#: Columns read to the right of the header, to find values that have no header.
#: NOTE: a value further right than this is not seen and not reported.
RAGGED_SCAN_COLUMNS = 32

_EMPTY_CELL_TYPES = {type(OPENPYXL_EMPTY_CELL)}


def load_xlsx(
    path: Path,
    *,
    sheet: str | None,
    header_row: int | None,
    table: dict[str, str],
    limits: Limits,
) -> LoadedSheet:
    """Load the sheet of users from the workbook at ``path``."""
    try:
        with zipfile.ZipFile(path) as archive:
            check_archive(path, archive, limits)
    except zipfile.BadZipFile as exc:
        raise _damaged(path, exc) from exc
    # openpyxl checks the file name's extension unless it is given a file object,
    # and the format was already decided by content.
    with path.open("rb") as handle:
        try:
            workbook = openpyxl.load_workbook(
                handle, read_only=True, data_only=True, keep_links=False
            )
        except DefusedXmlException as exc:
            raise _hostile(path, exc) from exc
        except Exception as exc:  # openpyxl raises many types for damaged parts
            raise _damaged(path, exc) from exc
        try:
            return _load_from_workbook(
                path,
                workbook,
                sheet=sheet,
                header_row=header_row,
                table=table,
                limits=limits,
            )
        finally:
            workbook.close()


def _load_from_workbook(
    path: Path,
    workbook: Any,
    *,
    sheet: str | None,
    header_row: int | None,
    table: dict[str, str],
    limits: Limits,
) -> LoadedSheet:
    worksheet, header = _choose_sheet(path, workbook, sheet, header_row, table, limits)
    report = LoadReport(file_format="xlsx", sheet_name=worksheet.title)
    if header.row.number != 1:
        report.notes.append(f"Header found on row {header.row.number}.")
    if worksheet.sheet_state != "visible":
        report.notes.append(f"The sheet {worksheet.title} is {worksheet.sheet_state}.")

    extras = _read_extras(path, worksheet)
    width = header_width(header.row.cells)
    rows = _data_rows(path, worksheet, header.row.number, width, extras, report)
    return assemble_sheet(
        path=path,
        sheet_name=worksheet.title,
        header=header,
        rows=rows,
        table=table,
        report=report,
        limits=limits,
    )


def _choose_sheet(
    path: Path,
    workbook: Any,
    name: str | None,
    header_row: int | None,
    table: dict[str, str],
    limits: Limits,
) -> tuple[Any, HeaderMatch]:
    """Pick the sheet by ``name``, else the one visible sheet with a header row."""
    worksheets = list(workbook.worksheets)
    if name is not None:
        worksheet = _sheet_by_name(path, worksheets, name)
        header = _scan_header(path, worksheet, header_row, table, limits)
        if header is None:
            raise _no_header_error(path, worksheet.title, header_row)
        return worksheet, header

    visible = [ws for ws in worksheets if ws.sheet_state == "visible"]
    matches: list[tuple[Any, HeaderMatch]] = []
    for worksheet in visible:
        header = _scan_header(path, worksheet, header_row, table, limits)
        if header is not None and header.has_email:
            matches.append((worksheet, header))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        checked = ", ".join(ws.title for ws in visible) or "none"
        raise InputFileError(
            f"{path.name}: no visible sheet has a header row with an email column "
            f"in its first {HEADER_SCAN_ROWS} non-blank rows (visible sheets: "
            f"{checked}). Add a header row with a column named email, or choose "
            "the sheet with --sheet and the header row with --header-row."
        )
    found = ", ".join(ws.title for ws, _ in matches)
    raise InputFileError(
        f"{path.name}: more than one sheet looks like a list of users ({found}). "
        "Choose one with --sheet NAME."
    )


def _sheet_by_name(path: Path, worksheets: list[Any], name: str) -> Any:
    for worksheet in worksheets:
        if worksheet.title == name:
            return worksheet
    folded = name.strip().casefold()
    for worksheet in worksheets:
        if worksheet.title.strip().casefold() == folded:
            return worksheet
    names = ", ".join(ws.title for ws in worksheets)
    raise InputFileError(
        f"{path.name} has no sheet named {name!r}. Its sheets are: {names}."
    )


def _scan_header(
    path: Path,
    worksheet: Any,
    header_row: int | None,
    table: dict[str, str],
    limits: Limits,
) -> HeaderMatch | None:
    worksheet.reset_dimensions()
    # One column past the limit, so a header wider than the limit can be reported.
    rows = worksheet.iter_rows(max_col=limits.max_columns + 1)
    return find_header(_raw_rows(path, rows, 1), table, header_row)


def _raw_rows(
    path: Path, rows: Iterator[Any], first: int, width: int | None = None
) -> Iterator[RawRow]:
    """Number and convert rows; rows without values become rows without cells.

    openpyxl fills a gap in the rows with one shared tuple of empty cells, so a
    gap of a million rows (one styled cell in row 1048576) costs little here.
    With ``width``, the columns past it are cut from rows that have nothing there.
    """
    gap: object = None
    for number, cells in enumerate(_guarded(path, rows), start=first):
        if cells is gap or not cells:
            yield RawRow(number, None, [])
            continue
        # The sets are built in C, so checking every cell of a wide row is cheap.
        if set(map(type, cells)) <= _EMPTY_CELL_TYPES:
            gap = cells
            yield RawRow(number, None, [])
            continue
        if (
            width is not None
            and len(cells) > width
            and set(map(type, cells[width:])) <= _EMPTY_CELL_TYPES
        ):
            cells = cells[:width]
        yield RawRow(number, None, [to_cell(cell) for cell in cells])


def _no_header_error(path: Path, title: str, header_row: int | None) -> InputFileError:
    if header_row is not None:
        return InputFileError(
            f"{path.name}: the sheet {title} has no row {header_row}; check "
            "--header-row."
        )
    return InputFileError(
        f"{path.name}: the sheet {title} has no header row with an email column in "
        f"its first {HEADER_SCAN_ROWS} non-blank rows. Add one, or give its row "
        "number with --header-row."
    )


def _read_extras(path: Path, worksheet: Any) -> SheetExtras:
    sheet_path = getattr(worksheet, "_worksheet_path", None)
    if not isinstance(sheet_path, str):
        raise InputFileError(
            f"{path.name}: the XML part of sheet {worksheet.title} was not found. "
            "Save the workbook again in Excel and run again."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            return read_sheet_extras(archive, sheet_path)
    except DefusedXmlException as exc:
        raise _hostile(path, exc) from exc
    except Exception as exc:  # damaged XML, a missing part, a bad zip member
        raise _damaged(path, exc) from exc


def _data_rows(
    path: Path,
    worksheet: Any,
    header_number: int,
    width: int,
    extras: SheetExtras,
    report: LoadReport,
) -> Iterator[RawRow]:
    """Yield the rows below the header, with merged ranges filled in."""
    worksheet.reset_dimensions()
    first = header_number + 1
    rows = worksheet.iter_rows(min_row=first, max_col=width + RAGGED_SCAN_COLUMNS)
    merges = RangeSweep(extras.merges)
    links = RangeSweep(extras.hyperlinks)
    formulas = extras.formulas_without_value
    for raw in _raw_rows(path, rows, first, width):
        row = raw.cells
        if not row:
            yield raw
            continue
        if formulas:
            mark_formulas(row, raw.number, formulas)
        for link in links.covering(raw.number):
            apply_link(row, link)
        for merge in merges.covering(raw.number):
            report.merged_cells_filled += fill_merge(row, raw.number, merge, merges)
        yield raw


def _guarded(path: Path, rows: Iterator[Any]) -> Iterator[Any]:
    """Pass rows through, turning openpyxl's errors on damaged XML into ours."""
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except DefusedXmlException as exc:
            raise _hostile(path, exc) from exc
        except Exception as exc:  # openpyxl raises many types for damaged parts
            raise _damaged(path, exc) from exc
        yield row


def _damaged(path: Path, exc: Exception) -> InputFileError:
    reason = str(exc) or type(exc).__name__
    return InputFileError(
        f"{path.name} cannot be read as a workbook ({reason}). It may be damaged; "
        "open it in Excel, save it again as .xlsx and run again."
    )


def _hostile(path: Path, exc: Exception) -> InputFileError:
    return InputFileError(
        f"{path.name} contains XML entity or DTD declarations ({type(exc).__name__}), "
        "which Excel never writes; the file may be hostile and was not read. Export "
        "the users again into a new workbook."
    )
