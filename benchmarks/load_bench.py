"""Measure ``load_sheet`` on generated CSV and XLSX files of 10,000 and 100,000 rows.

Run with ``python -m benchmarks.load_bench``. Each file is written to a temporary
folder, then loaded and timed once in a fresh child process. The peak is the
child's maximum resident set size (``ru_maxrss``), which includes the interpreter
and the imported libraries. Prints a markdown table.
"""

from __future__ import annotations

import csv
import multiprocessing
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from provisioner.loading import load_sheet

ROW_COUNTS = (10_000, 100_000)
HEADER = ["email", "firstName", "lastName", "companyId", "role", "channelIds", "phone"]


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PACKAGE_NS = "http://schemas.openxmlformats.org/package/2006"
DOCUMENT_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SPREADSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    f'<Types xmlns="{PACKAGE_NS}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{SPREADSHEET_TYPE}'
    '.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SPREADSHEET_TYPE}'
    '.worksheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SPREADSHEET_TYPE}'
    '.sharedStrings+xml"/></Types>'
)
ROOT_RELS = (
    f'<Relationships xmlns="{PACKAGE_NS}/relationships"><Relationship Id="rId1" '
    f'Type="{DOCUMENT_RELS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'<workbook xmlns="{MAIN_NS}" xmlns:r="{DOCUMENT_RELS}"><sheets>'
    '<sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<Relationships xmlns="{PACKAGE_NS}/relationships">'
    f'<Relationship Id="rId1" Type="{DOCUMENT_RELS}/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{DOCUMENT_RELS}/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)


def _user(index: int) -> list[str | int]:
    return [
        f"user{index:06d}@example.com",
        f"First{index}",
        f"Last{index}",
        1000 + index % 50,
        "Junior Buyer",
        "1;2",
        f"+1 555 {index % 10_000:04d}",
    ]


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for index in range(rows):
            writer.writerow(_user(index))


def write_xlsx(path: Path, rows: int) -> None:
    """Write a workbook the way Excel does: shared strings and a dimension first.

    openpyxl writes inline strings, which take longer to read, so this writes
    the parts by hand.
    """
    strings: dict[str, int] = {}
    body = []
    for number, values in enumerate([HEADER, *map(_user, range(rows))], start=1):
        cells = []
        for column, value in enumerate(values):
            ref = f"{get_column_letter(column + 1)}{number}"
            if isinstance(value, int):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                index = strings.setdefault(value, len(strings))
                cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
        body.append(f'<row r="{number}">{"".join(cells)}</row>')
    last = f"{get_column_letter(len(HEADER))}{rows + 1}"
    sheet = (
        f'<worksheet xmlns="{MAIN_NS}"><dimension ref="A1:{last}"/>'
        f"<sheetData>{''.join(body)}</sheetData></worksheet>"
    )
    shared = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    parts = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": (
            f'<sst xmlns="{MAIN_NS}" uniqueCount="{len(strings)}">{shared}</sst>'
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)


def write_streamed_xlsx(path: Path, rows: int) -> None:
    """Write a workbook in openpyxl's write-only mode, as the results writer does.

    Such a file has inline strings and no dimension, so openpyxl reads the whole
    sheet once more when it opens the workbook.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Users")
    sheet.append(HEADER)
    for index in range(rows):
        sheet.append(_user(index))
    workbook.save(path)


WRITERS = (
    ("csv", ".csv", write_csv),
    ("xlsx, shared strings", ".xlsx", write_xlsx),
    ("xlsx, openpyxl write-only", ".xlsx", write_streamed_xlsx),
)


def _measure(path: Path, queue: multiprocessing.Queue[tuple[float, int, int]]) -> None:
    started = time.perf_counter()
    sheet = load_sheet(path)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((elapsed, peak_kib, len(sheet.rows)))


def measure(path: Path) -> tuple[float, int, int]:
    """Load ``path`` in a child process; return seconds, peak KiB and row count."""
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[tuple[float, int, int]] = context.Queue()
    child = context.Process(target=_measure, args=(path, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main() -> None:
    lines = [
        "| format | rows | file MB | load s | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for rows in ROW_COUNTS:
            for label, suffix, writer in WRITERS:
                path = Path(folder) / f"users-{rows}-{len(lines)}{suffix}"
                writer(path, rows)
                seconds, peak_kib, loaded = measure(path)
                if loaded != rows:
                    sys.exit(f"{path.name}: loaded {loaded} rows, expected {rows}")
                size_mb = path.stat().st_size / (1 << 20)
                lines.append(
                    f"| {label} | {rows:,} | {size_mb:.1f} | {seconds:.2f} | "
                    f"{peak_kib / 1024:.0f} |"
                )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
