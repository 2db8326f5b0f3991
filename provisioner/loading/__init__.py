"""Load a sheet of users from a CSV, TSV or Excel workbook, keeping every cell raw.

``load_sheet`` decides the format from the file's first bytes, finds the header row
and maps its columns to fields. It never normalises values, because that is the
validator's job. A file that cannot be read raises ``InputFileError`` with a
message a person can act on, and a problem of one row is a ``RowIssue`` on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from provisioner.config import Limits
from provisioner.errors import InputFileError
from provisioner.fields import alias_table
from provisioner.loading.archive import MEBIBYTE
from provisioner.loading.detect import MARKUP_SCAN_BYTES, FileKind, detect_kind
from provisioner.loading.text import load_text
from provisioner.loading.xlsx import load_xlsx
from provisioner.model import LoadedSheet

__all__ = ["load_sheet"]

#: The limits used when the caller gives none; ``Limits`` is frozen, so one is shared.
DEFAULT_LIMITS = Limits()


def load_sheet(
    path: Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    extra_field_names: Sequence[str] = (),
    header_aliases: dict[str, list[str]] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> LoadedSheet:
    """Load the sheet of users in ``path``.

    ``sheet`` names the workbook sheet (ignored for CSV); ``header_row`` is the
    header's row number as Excel shows it; ``encoding`` overrides the detected
    text encoding. Extra fields are matched by their names, and ``header_aliases``
    maps a field name to more header names.
    """
    path = Path(path)
    if header_row is not None and header_row < 1:
        raise InputFileError(f"The header row must be 1 or more, not {header_row}.")
    size = _file_size(path)
    if size > limits.max_file_mb * MEBIBYTE:
        raise InputFileError(
            f"{path.name} is {size / MEBIBYTE:,.1f} MB, more than the limit of "
            f"{limits.max_file_mb:,.0f} MB. Split it into smaller files, or raise "
            "limits.max_file_mb in the configuration."
        )
    with path.open("rb") as handle:
        head = handle.read(MARKUP_SCAN_BYTES)
    kind = detect_kind(path, head)
    table = alias_table(header_aliases, tuple(extra_field_names))
    if kind is FileKind.OOXML:
        return load_xlsx(
            path, sheet=sheet, header_row=header_row, table=table, limits=limits
        )
    return load_text(
        path,
        path.read_bytes(),
        encoding=encoding,
        header_row=header_row,
        table=table,
        limits=limits,
    )


def _file_size(path: Path) -> int:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputFileError(f"{path} not found. Check the path.") from None
    except PermissionError:
        raise InputFileError(
            f"{path} cannot be read: permission denied. Check the file's permissions."
        ) from None
    if not path.is_file():
        raise InputFileError(f"{path} is not a file. Give the path of the sheet.")
    return info.st_size
