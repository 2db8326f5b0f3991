"""Read a CSV or TSV sheet: decode, find the delimiter and header, parse records.

Records are parsed by the ``csv`` module from the decoded text, so a quoted value
may contain the delimiter and line breaks. The file is never split by physical
lines first. Every value stays text, and nothing is inferred as a number or date.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from provisioner.config import Limits
from provisioner.errors import InputFileError
from provisioner.loading.assemble import assemble_sheet
from provisioner.loading.encoding import decode_text
from provisioner.loading.headers import (
    HEADER_SCAN_ROWS,
    HeaderMatch,
    RawRow,
    find_header,
    header_width,
)
from provisioner.model import (
    EMPTY_CELL,
    Cell,
    Column,
    LoadedSheet,
    LoadReport,
    RowIssue,
)

#: Delimiters tried, in order of preference when two read the header equally well.
DELIMITERS = (",", ";", "\t", "|")

# Excel writes and honours a first line "sep=;" that names the delimiter. Excel
# itself may add trailing delimiters or quotes when such a file is saved again.
_SEP_LINE = re.compile(r'"?sep=(.)"?[,;\t| ]*(?:\r\n|\n|\r|$)', re.IGNORECASE)

#: Rows listed by number in the report when the encoding was guessed.
LISTED_ROWS = 20


@dataclass(slots=True)
class _LineRecorder:
    """An iterator over lines that remembers the lines of the current record."""

    source: Iterator[str]
    lines: list[str] = field(default_factory=list)

    def __iter__(self) -> _LineRecorder:
        return self

    def __next__(self) -> str:
        line = next(self.source)
        self.lines.append(line)
        return line

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


def load_text(
    path: Path,
    data: bytes,
    *,
    encoding: str | None,
    header_row: int | None,
    table: dict[str, str],
    limits: Limits,
) -> LoadedSheet:
    """Load a delimited text file whose bytes are ``data``."""
    decoded = decode_text(path, data, encoding)
    report = LoadReport(
        file_format="csv", encoding=decoded.encoding, sheet_name=path.stem
    )
    text = decoded.text
    first_line = 1
    delimiter: str | None = None
    sep = _SEP_LINE.match(text)
    if sep is not None:
        delimiter = sep.group(1)
        text = text[sep.end() :]
        first_line = 2
        report.notes.append(
            f"The first line sep={delimiter} set the delimiter and was skipped."
        )

    header, delimiter = _find_header(
        path, text, first_line, delimiter, header_row, table
    )
    report.delimiter = delimiter
    if header.row.number != 1:
        report.notes.append(f"Header found on row {header.row.number}.")

    swallowed: dict[int, int] = {}
    records = _records(path, text, delimiter, first_line, swallowed)
    below = (row for row in records if row.number > header.row.number)
    sheet = assemble_sheet(
        path=path,
        sheet_name=path.stem,
        header=header,
        rows=below,
        table=table,
        report=report,
        limits=limits,
    )
    if swallowed:
        _flag_swallowed_rows(sheet, swallowed)
    if decoded.guessed:
        _flag_guessed_encoding(sheet)
    return sheet


def _find_header(
    path: Path,
    text: str,
    first_line: int,
    delimiter: str | None,
    header_row: int | None,
    table: dict[str, str],
) -> tuple[HeaderMatch, str]:
    """Find the header row and, unless given, the delimiter that reads it best."""
    candidates = (delimiter,) if delimiter is not None else DELIMITERS
    best: tuple[tuple[int, int, int], HeaderMatch, str] | None = None
    for candidate in candidates:
        match = find_header(
            _records(path, text, candidate, first_line), table, header_row
        )
        if match is None:
            continue
        score = (
            int(match.has_email),
            len(match.fields),
            header_width(match.row.cells),
        )
        if best is None or score > best[0]:
            best = (score, match, candidate)
    if best is None or (header_row is None and not best[1].has_email):
        if delimiter is not None and header_row is None:
            raise InputFileError(
                f"{path.name}: the first line sep={delimiter} names the delimiter "
                f"{delimiter!r}, but split by it no row is a header row with an email "
                "column. Correct or delete the sep= line, then run again."
            )
        raise _no_header_error(path, header_row)
    _, match, chosen = best
    named = [cell.text for cell in match.row.cells if cell.text.strip()]
    if len(named) == 1 and any(mark in named[0] for mark in DELIMITERS):
        raise InputFileError(
            f"{path.name}: the header row {match.row.number} reads as one column "
            f"{named[0]!r}, so the delimiter could not be recognised. Save the file "
            "with commas, semicolons or tabs between the columns, or put "
            "sep=; as its first line."
        )
    return match, chosen


def _no_header_error(path: Path, header_row: int | None) -> InputFileError:
    if header_row is not None:
        return InputFileError(
            f"{path.name} has no row {header_row}; check --header-row."
        )
    return InputFileError(
        f"{path.name}: none of the first {HEADER_SCAN_ROWS} non-blank rows is a "
        "header row with an email column. Put a header row with a column named "
        "email (and firstName, lastName ...) above the users, or give the header's "
        "row number with --header-row."
    )


def _records(
    path: Path,
    text: str,
    delimiter: str,
    first_line: int,
    swallowed: dict[int, int] | None = None,
) -> Iterator[RawRow]:
    """Parse ``text`` into rows numbered by record, each with its first line.

    ``swallowed`` receives, by record number, the index of a value that seems to
    contain whole rows because a quote was left open.
    """
    recorder = _LineRecorder(iter(io.StringIO(text, newline="")))
    reader = csv.reader(recorder, delimiter=delimiter, quotechar='"', strict=False)
    number = 0
    line = first_line
    lines: list[str] = []
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputFileError(
                f"{path.name}: record {number + 1} (line {line}) cannot be read: "
                f"{exc}. A quote is probably never closed; check that line."
            ) from None
        number += 1
        lines = recorder.take()
        if swallowed is not None and len(lines) > 1:
            index = _swallowed_value(fields, delimiter)
            if index is not None:
                swallowed[number] = index
        yield RawRow(number, line, [Cell(v, v) if v else EMPTY_CELL for v in fields])
        line += len(lines)
    if _ends_inside_quotes(lines):
        raise InputFileError(
            f"{path.name}: record {number} (line {line - len(lines)}) opens a quote "
            "that is never closed, so the rest of the file reads as one value. Close "
            "the quote or remove it, then run again."
        )


def _swallowed_value(fields: list[str], delimiter: str) -> int | None:
    """Return the index of a value with a line break, a delimiter and an "@" after it.

    A person breaks a line inside a cell with Alt+Enter, but a later line that
    contains the delimiter and an address reads like another user's row.
    """
    for index, value in enumerate(fields):
        _, newline, rest = value.partition("\n")
        if newline and delimiter in rest and "@" in rest:
            return index
    return None


def _ends_inside_quotes(lines: list[str]) -> bool:
    """Return whether a multi-line last record swallowed the end of the file.

    The quote count of a record is odd only when a quote is unclosed or an
    unquoted value contains a lone quote. A record over several lines with an
    odd count is taken as an unclosed quote.
    """
    return len(lines) > 1 and sum(line.count('"') for line in lines) % 2 == 1


def _flag_swallowed_rows(sheet: LoadedSheet, swallowed: dict[int, int]) -> None:
    """Mark the rows whose value seems to contain other rows of the file."""
    for row in sheet.rows:
        index = swallowed.get(row.row_number)
        if index is None or index >= len(sheet.columns):
            continue
        column = sheet.columns[index]
        row.issues.append(
            RowIssue(
                code="UNCLOSED_QUOTE",
                message=(
                    f"The value starting on line {row.line} spans several lines that "
                    "look like other users' rows: a quote in it is probably not "
                    "closed."
                ),
                fix=(
                    "Open the file in a text editor, close or remove the quote on "
                    f"line {row.line}, then run again."
                ),
                column=column.letter,
                cell=sheet.cell_ref(column, row.row_number),
            )
        )


def _flag_guessed_encoding(sheet: LoadedSheet) -> None:
    """Warn on each row with non-ASCII text, since the encoding was a guess."""
    flagged: list[int] = []
    for row in sheet.rows:
        for column, cell in zip(sheet.columns, row.cells, strict=True):
            if not cell.text.isascii():
                row.issues.append(_guessed_issue(sheet, column, row.row_number))
                flagged.append(row.row_number)
                break
    if not flagged:
        return
    listed = ", ".join(str(number) for number in flagged[:LISTED_ROWS])
    more = (
        f" and {len(flagged) - LISTED_ROWS} more" if len(flagged) > LISTED_ROWS else ""
    )
    sheet.report.notes.append(
        "The file is not UTF-8, so it was read as Windows-1252. Check the accented "
        f"letters in rows {listed}{more}; if they look wrong, give the encoding "
        "with --encoding."
    )


def _guessed_issue(sheet: LoadedSheet, column: Column, row_number: int) -> RowIssue:
    return RowIssue(
        code="ENCODING_GUESSED",
        message=(
            "The file is not UTF-8 and was read as Windows-1252; this value has "
            "accented or special letters."
        ),
        fix="Check the letters; if they are wrong, save the sheet as CSV UTF-8.",
        column=column.letter,
        cell=sheet.cell_ref(column, row_number),
        severity="warning",
    )
