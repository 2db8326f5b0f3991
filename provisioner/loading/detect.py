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

#: Size of the chunks in which a compound file is searched for the directory entry
#: name that marks an encrypted OOXML package. The directory may sit anywhere in
#: the file, so the whole file is searched.
CFB_SCAN_CHUNK_BYTES = 1 << 20

#: Bytes of the start of a file searched for the marks of HTML and XML files.
MARKUP_SCAN_BYTES = 512

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

    ``head`` must contain at least the first ``MARKUP_SCAN_BYTES`` bytes when the
    file has that many.
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
    markup = _markup_kind(head)
    if markup is not None:
        raise InputFileError(f"{path.name} is {markup}, not a CSV file. {SAVE_AS_HINT}")
    return FileKind.TEXT


def _markup_kind(head: bytes) -> str | None:
    """Name the HTML or XML file that web apps and old Excel save as ``.xls``."""
    start = head[:MARKUP_SCAN_BYTES].removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html", b"<table")):
        return "a web page (HTML) saved with a spreadsheet name"
    if start.startswith(b"<?xml"):
        if b"excel.sheet" in start or b"urn:schemas-microsoft-com:office" in start:
            return "an Excel 2003 XML spreadsheet"
        return "an XML file"
    return None


def _file_contains(path: Path, needle: bytes) -> bool:
    """Search the file for ``needle`` in chunks that overlap by its length."""
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CFB_SCAN_CHUNK_BYTES):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def _compound_file_error(path: Path) -> InputFileError:
    """Build the error for an OLE2 compound file: legacy .xls or encrypted OOXML."""
    if _file_contains(path, ENCRYPTED_PACKAGE_NAME):
        return InputFileError(
            f"{path.name} is a password-protected workbook, which cannot be read. "
            "Open it in Excel, remove the password (File > Info > Protect Workbook > "
            "Encrypt with Password, clear the box), save it as .xlsx and run again."
        )
    return InputFileError(
        f"{path.name} is a legacy Excel 97-2003 (.xls) workbook or another "
        f"OLE2 compound file, which is not supported. {SAVE_AS_HINT}"
    )
