"""Measure ``load_sheet`` on generated CSV and XLSX files of 10,000 and 100,000 rows.

Run with ``python -m benchmarks.load_bench``. Each file is written to a temporary
folder, loaded once in a fresh child process, and timed; the peak is the child's
maximum resident set size (``ru_maxrss``), which includes the interpreter and the
imported libraries. Prints a markdown table.
"""

from __future__ import annotations

import csv
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

from provisioner.loading import load_sheet

ROW_COUNTS = (10_000, 100_000)
HEADER = ["email", "firstName", "lastName", "companyId", "role", "channelIds", "phone"]


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
    """Write a workbook the way Excel does: shared strings and a dimension."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Users"
    sheet.append(HEADER)
    for index in range(rows):
        sheet.append(_user(index))
    workbook.save(path)


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
    ("xlsx", ".xlsx", write_xlsx),
    ("xlsx, write-only", ".xlsx", write_streamed_xlsx),
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
