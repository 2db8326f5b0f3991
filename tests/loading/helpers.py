"""Shared helpers for the loader tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

from provisioner.model import LoadedSheet

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "loading"


def fixture(name: str) -> Path:
    path = FIXTURES / name
    assert path.is_file(), f"missing fixture {path}"
    return path


def texts(sheet: LoadedSheet) -> list[list[str]]:
    """Return the text of every cell of every row, for compact asserts."""
    return [[cell.text for cell in row.cells] for row in sheet.rows]


def fields(sheet: LoadedSheet) -> list[str | None]:
    return [column.field for column in sheet.columns]


def row_numbers(sheet: LoadedSheet) -> list[int]:
    return [row.row_number for row in sheet.rows]


def codes(sheet: LoadedSheet) -> list[list[str]]:
    return [[issue.code for issue in row.issues] for row in sheet.rows]


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}</Types>"
)
SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
SHARED_STRINGS_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
SHEET_NS = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)


def sheet_xml(rows: list[list[str]], *, dimension: str = "", after: str = "") -> str:
    """Build a worksheet part with inline strings; ``after`` follows sheetData."""
    body = []
    for number, values in enumerate(rows, start=1):
        cells = "".join(
            f'<c r="{letter}{number}" t="inlineStr"><is><t>{value}</t></is></c>'
            for letter, value in zip("ABCDEFGHIJ", values, strict=False)
            if value
        )
        body.append(f'<row r="{number}">{cells}</row>')
    dimension_xml = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f"<worksheet {SHEET_NS}>{dimension_xml}<sheetData>{''.join(body)}"
        f"</sheetData>{after}</worksheet>"
    )


def write_workbook_xml(
    path: Path,
    sheets: list[tuple[str, str]],
    *,
    states: dict[str, str] | None = None,
    extra_members: dict[str, str | bytes] | None = None,
) -> Path:
    """Write a workbook from hand-made worksheet parts: (name, sheet XML) pairs.

    For cases openpyxl cannot write: formulas without values, a wrong dimension,
    hostile XML.
    """
    states = states or {}
    entries = "".join(
        f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"'
        + (f' state="{states[name]}"' if name in states else "")
        + "/>"
        for n, (name, _) in enumerate(sheets, start=1)
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook {SHEET_NS}>'
        f"<sheets>{entries}</sheets></workbook>"
    )
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/'
        f'officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(sheets) + 1)
    )
    overrides = "".join(SHEET_TYPE.format(n=n) for n in range(1, len(sheets) + 1))
    if "xl/sharedStrings.xml" in (extra_members or {}):
        overrides += SHARED_STRINGS_TYPE
    members: dict[str, str | bytes] = {
        "[Content_Types].xml": CONTENT_TYPES.format(sheets=overrides),
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships">{rels}</Relationships>'
        ),
    }
    for n, (_, xml) in enumerate(sheets, start=1):
        members[f"xl/worksheets/sheet{n}.xml"] = xml
    members.update(extra_members or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path
