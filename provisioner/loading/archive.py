"""Check a zip archive before anything in it is extracted.

A zip bomb is rejected from the sizes in the central directory. ``zipfile`` stops
reading a member at the size the directory declares and raises ``BadZipFile`` on a
CRC mismatch, so the check also bounds what is read later.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from provisioner.config import Limits
from provisioner.errors import InputFileError
from provisioner.loading.detect import SAVE_AS_HINT

MEBIBYTE = 1 << 20

#: Members smaller than this are exempt from the compression-ratio check: a few
#: hundred bytes of repeated XML compress far beyond any sane ratio.
RATIO_CHECK_MIN_BYTES = MEBIBYTE

CONTENT_TYPES = "[Content_Types].xml"

# Members that mark an OOXML package of another kind than a workbook.
_OTHER_PACKAGES = (
    ("word/", "a Word document"),
    ("ppt/", "a PowerPoint presentation"),
)


def check_archive(path: Path, archive: zipfile.ZipFile, limits: Limits) -> None:
    """Raise ``InputFileError`` unless ``archive`` is a workbook of sane size."""
    members = archive.infolist()
    names = {info.filename for info in members}
    total = sum(info.file_size for info in members)
    if total > limits.max_uncompressed_mb * MEBIBYTE:
        raise InputFileError(
            f"{path.name} would unpack to {total / MEBIBYTE:,.0f} MB, more than the "
            f"limit of {limits.max_uncompressed_mb:,.0f} MB. It may be damaged or "
            "hostile; export the users again into a new workbook."
        )
    for info in members:
        if info.file_size < RATIO_CHECK_MIN_BYTES:
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise InputFileError(
                f"{path.name}: the part {info.filename} is compressed {ratio:,.0f} "
                f"to 1, above the limit of {limits.max_compression_ratio:,.0f}. "
                "The file may be hostile (a zip bomb); export the users again "
                "into a new workbook."
            )
    if "xl/workbook.bin" in names:
        raise InputFileError(
            f"{path.name} is an Excel Binary Workbook (.xlsb), which is not "
            f"supported. {SAVE_AS_HINT}"
        )
    if CONTENT_TYPES in names and any(name.startswith("xl/") for name in names):
        return
    if "content.xml" in names and "META-INF/manifest.xml" in names:
        raise InputFileError(
            f"{path.name} is an OpenDocument file (.ods), which is not supported. "
            "Save it from LibreOffice or Excel as .xlsx or CSV UTF-8, then run again."
        )
    for prefix, description in _OTHER_PACKAGES:
        if any(name.startswith(prefix) for name in names):
            raise InputFileError(
                f"{path.name} is {description}, not a workbook. Give the .xlsx or "
                ".csv file that lists the users."
            )
    raise InputFileError(
        f"{path.name} is a zip archive without a workbook in it. {SAVE_AS_HINT}"
    )
