"""The job id stored in a results workbook, so a workbook fed back finds its job."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

#: Name of the custom document property that contains the job id.
JOB_MARKER_PROPERTY = "provisioner_job_id"

_CUSTOM_PROPERTIES_PART = "docProps/custom.xml"
_CUSTOM_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"

# The custom properties part of a workbook is a few hundred bytes. A larger part
# is not read, so a crafted file cannot make the reader use much memory.
_MAX_PART_BYTES = 1_000_000


def read_job_marker(path: Path) -> str | None:
    """Return the job id stored in the workbook at ``path``, or None.

    None means no marker: the file is not an XLSX workbook (a CSV file has no
    place for one), it has no custom properties, or they are unreadable. Only
    the small properties part is read, never the sheets. Raises OSError when the
    file cannot be opened.
    """
    with path.open("rb") as handle:
        if handle.read(4) != b"PK\x03\x04":
            return None
        try:
            with zipfile.ZipFile(handle) as archive:
                info = archive.getinfo(_CUSTOM_PROPERTIES_PART)
                if info.file_size > _MAX_PART_BYTES:
                    return None
                data = archive.read(info)
        except (zipfile.BadZipFile, KeyError, RuntimeError, ValueError):
            return None
    try:
        root: Element = ElementTree.fromstring(data)
    except (ElementTree.ParseError, ValueError):
        return None
    for prop in root.iter(f"{_CUSTOM_NS}property"):
        if prop.get("name") == JOB_MARKER_PROPERTY:
            text = "".join(child.text or "" for child in prop)
            return text.strip() or None
    return None
