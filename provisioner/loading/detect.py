"""Decide what kind of file a sheet is from its first bytes, never its extension.

Sales ops rename files freely: a CSV saved as ``users.xlsx``, a legacy ``.xls``
renamed to ``.xlsx``, a password-protected workbook. Each kind that cannot be read
raises ``InputFileError`` with a message that explains how to save the file instead.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from provisioner.errors import InputFileError

ZIP_SIGNATURE = b"PK\x03\x04"
EMPTY_ZIP_SIGNATURE = b"PK\x05\x06"
CFB_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

#: How many bytes of a compound file are searched for the directory entry name
#: that marks an encrypted OOXML package. Encrypted workbooks keep their directory
#: in the first sectors; the name is searched in all of it for files up to this size.
CFB_SCAN_BYTES = 1 << 20

ENCRYPTED_PACKAGE_NAME = "EncryptedPackage".encode("utf-16-le")

SAVE_AS_HINT = (
    "Open it in Excel and use File > Save As > Excel Workbook (.xlsx) or "
    "CSV UTF-8 (.csv), then run again with the new file."
)

# Signatures of common files that are not sheets, so the message can name them.
_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"{\\rtf", "a Rich Text document"),
    (b"SQLite format 3\x00", "an SQLite database"),
)


class FileKind(Enum):
    """The two kinds of file the loader reads."""

    OOXML = "xlsx"
    TEXT = "csv"


def detect_kind(path: Path, head: bytes) -> FileKind:
    """Classify a file from its first bytes, or raise ``InputFileError``.

    ``head`` must contain at least the first 8 bytes when the file has that many.
    """
    if not head:
        raise InputFileError(
            f"{path.name} is empty (0 bytes). Export the sheet of users again."
        )
    if head.startswith(ZIP_SIGNATURE):
        return FileKind.OOXML
    if head.startswith(EMPTY_ZIP_SIGNATURE):
        raise InputFileError(
            f"{path.name} is an empty zip archive, not a workbook. {SAVE_AS_HINT}"
        )
    if head.startswith(CFB_SIGNATURE):
        raise _compound_file_error(path)
    for signature, description in _OTHER_SIGNATURES:
        if head.startswith(signature):
            raise InputFileError(
                f"{path.name} is {description}, not a spreadsheet. Give the .xlsx or "
                ".csv file that lists the users."
            )
    return FileKind.TEXT


def _compound_file_error(path: Path) -> InputFileError:
    """Build the error for an OLE2 compound file: legacy .xls or encrypted OOXML."""
    with path.open("rb") as handle:
        start = handle.read(CFB_SCAN_BYTES)
    if ENCRYPTED_PACKAGE_NAME in start:
        return InputFileError(
            f"{path.name} is a password-protected workbook, which cannot be read. "
            "Open it in Excel, remove the password (File > Info > Protect Workbook > "
            "Encrypt with Password, clear the box), save it as .xlsx and run again."
        )
    return InputFileError(
        f"{path.name} is a legacy Excel 97-2003 (.xls) workbook or another "
        f"OLE2 compound file, which is not supported. {SAVE_AS_HINT}"
    )
