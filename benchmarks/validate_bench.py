"""Measure offline validation on generated CSV and XLSX sheets.

Run with ``python -m benchmarks.validate_bench [ROWS ...]`` (default: 10,000 and
100,000 rows). Each sheet has the headers of ``samples/new-buyers.csv``, numeric
Company ids (so the offline catalog resolves them and no store is needed) and
about 4% bad rows. It is written to a temporary folder and measured in two ways,
each in a fresh child process:

* ``load_sheet`` then ``validate_sheet(sheet, OfflineCatalog(), defaults=Defaults())``,
  timed separately, in a child started with multiprocessing's ``spawn`` method;
* the whole ``provisioner validate SHEET`` command in a subprocess: interpreter
  start, imports, loading, validation and writing the results workbook and its
  CSV copy.

Peak memory is the child's maximum resident set size (``ru_maxrss``), which
includes the interpreter and the imported libraries. CPU seconds are user plus
system time of the child; unlike wall-clock seconds, they change little when
other processes share the machine. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from openpyxl import Workbook

from provisioner.config import Defaults
from provisioner.loading import load_sheet
from provisioner.validate import OfflineCatalog, validate_sheet

ROW_COUNTS = (10_000, 100_000)
SEED = 2025

HEADERS = (
    "Email Address",
    "First Name",
    "Last Name",
    "Phone",
    "Company",
    "Role",
    "Channels",
    "Welcome Email",
    "Cost Centre",
    "Region",
)
# Company ids with the domain and cost-centre prefix their people use.
COMPANIES = (
    (101, "acme-industrial.example", "ACME"),
    (102, "globex.example", "GLX"),
    (103, "initech.example", "INI"),
    (104, "umbrella.example", "UMB"),
    (110, "soylent.example", "SOY"),
)
ROLES: tuple[str | int, ...] = (
    "Junior Buyer",
    "Junior Buyer",
    "Senior Buyer",
    "Admin",
    1,
    "2",
)
CHANNELS: tuple[str | int, ...] = (1, "1", "1;2", "2", "1; 2")
REGIONS = ("EMEA", "AMER", "APAC", "")
FIRST_NAMES = (
    "Amelia", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Ines",
    "Jonas", "Kavya", "Liam", "Maya", "Noah", "Olga", "Pedro", "José", "Søren",
    "Zoë", "Łukasz",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hughes",
    "Ito", "Jensen", "Kowalski", "Lopez", "Murphy", "Novak", "Okafor", "Patel",
    "Martínez", "Østergaard", "O’Neil", "Müller",
)  # fmt: skip

# Exit code 1 means the run finished and some rows are invalid, as generated.
FINISHED_EXIT_CODES = (0, 1)

#: Share of rows that get one of the mistakes of ``_spoil``.
BAD_ROW_SHARE = 0.04

Value = str | int | None


def _ascii(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalpha())


def make_rows(count: int, *, seed: int = SEED) -> list[list[Value]]:
    """Return ``count`` rows in the sample sheet's columns, about 4% of them bad."""
    rng = random.Random(seed)
    rows: list[list[Value]] = []
    for index in range(count):
        company_id, domain, prefix = rng.choice(COMPANIES)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        phone = f"+44 20 7946 {rng.randrange(10_000):04d}" if rng.random() < 0.7 else ""
        row: list[Value] = [
            f"{_ascii(first)}.{_ascii(last)}{index}@{domain}",
            first,
            last,
            phone,
            company_id,
            rng.choice(ROLES),
            rng.choice(CHANNELS),
            rng.choice(("yes", "yes", "no")),
            f"{prefix}-{rng.randrange(1, 60):02d}",
            rng.choice(REGIONS),
        ]
        if rows and rng.random() < BAD_ROW_SHARE:
            row = _spoil(row, rng, rows)
        rows.append(row)
    return rows


def _spoil(
    row: list[Value], rng: random.Random, earlier: list[list[Value]]
) -> list[Value]:
    """Return ``row`` with one mistake that real sheets have."""
    kind = rng.randrange(9)
    email = str(row[0])
    spoiled = list(row)
    if kind == 0:
        spoiled[0] = email.partition("@")[0] + "@"
    elif kind == 1:
        spoiled[0] = email.replace(".", " ", 1)
    elif kind == 2:
        spoiled[0] = None
    elif kind == 3:
        spoiled[2] = None
    elif kind == 4:
        spoiled[4] = 0
    elif kind == 5:
        spoiled[6] = "0"
    elif kind == 6:
        spoiled[7] = "maybe"
    elif kind == 7:
        spoiled[5] = "#"
    else:
        # A copy of an earlier row: validation skips it with a warning.
        spoiled = list(rng.choice(earlier))
    return spoiled


def write_csv(path: Path, rows: list[list[Value]]) -> None:
    """Write rows as Excel's "CSV UTF-8" does: a byte-order mark and CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))


def write_xlsx(path: Path, rows: list[list[Value]]) -> None:
    """Write a workbook the way Excel does: shared strings and a dimension."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Users"
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


WRITERS: tuple[tuple[str, Callable[[Path, list[list[Value]]], None]], ...] = (
    ("csv", write_csv),
    ("xlsx", write_xlsx),
)


@dataclass(frozen=True)
class ValidateRun:
    load_seconds: float
    validate_seconds: float
    cpu_seconds: float
    peak_kib: int
    rows: int
    statuses: dict[str, int]


@dataclass(frozen=True)
class CommandRun:
    seconds: float
    cpu_seconds: float
    peak_kib: int
    exit_code: int


def _validate_child(path: Path, queue: multiprocessing.Queue[ValidateRun]) -> None:
    cpu_started = time.process_time()
    started = time.perf_counter()
    sheet = load_sheet(path)
    loaded = time.perf_counter()
    results = validate_sheet(sheet, OfflineCatalog(), defaults=Defaults())
    validated = time.perf_counter()
    cpu_seconds = time.process_time() - cpu_started
    statuses = Counter(
        str(result.status) if result.status else "ready" for result in results
    )
    queue.put(
        ValidateRun(
            load_seconds=loaded - started,
            validate_seconds=validated - loaded,
            cpu_seconds=cpu_seconds,
            peak_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            rows=len(results),
            statuses=dict(statuses),
        )
    )


def measure_validate(path: Path) -> ValidateRun:
    """Load and validate ``path`` in a spawned child process."""
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[ValidateRun] = context.Queue()
    child = context.Process(target=_validate_child, args=(path, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def measure_command(path: Path, folder: Path) -> CommandRun:
    """Run ``provisioner validate`` on ``path`` in a subprocess.

    ``os.wait4`` returns the resource usage of that one child, so the peak is
    its own and not the largest of all children so far.
    """
    results = folder / f"{path.stem}-validation.xlsx"
    command = [sys.executable, "-m", "provisioner", "validate", str(path)]
    command += ["--results", str(results)]
    # Settings from the environment must not change what is measured.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PROVISIONER_")
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=folder,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode not in FINISHED_EXIT_CODES or not results.is_file():
        sys.exit(
            f"provisioner validate {path.name} failed with exit code "
            f"{process.returncode}:\n{errors.decode(errors='replace')}"
        )
    cpu_seconds = usage.ru_utime + usage.ru_stime
    return CommandRun(seconds, cpu_seconds, usage.ru_maxrss, process.returncode)


def _versions() -> str:
    names = ("polars", "openpyxl", "httpx")
    packages = ", ".join(f"{name} {metadata.version(name)}" for name in names)
    return f"Python {sys.version.split()[0]}, {packages}, {os.cpu_count()} CPUs"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "rows",
        nargs="*",
        type=int,
        default=list(ROW_COUNTS),
        help="row counts to generate (default: 10000 100000)",
    )
    arguments = parser.parse_args(argv)
    print(_versions(), file=sys.stderr)
    lines = [
        "| format | rows | file MB | invalid rows | load s | validate s | CPU s "
        "| peak RSS MB | `provisioner validate` s | CPU s | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for count in arguments.rows:
            rows = make_rows(count)
            for label, writer in WRITERS:
                path = folder / f"users-{count}.{label}"
                writer(path, rows)
                validated = measure_validate(path)
                if validated.rows != count:
                    sys.exit(
                        f"{path.name}: validated {validated.rows} rows, not {count}"
                    )
                command = measure_command(path, folder)
                invalid = validated.statuses.get("invalid", 0)
                size_mb = path.stat().st_size / (1 << 20)
                lines.append(
                    f"| {label} | {count:,} | {size_mb:.1f} | {invalid:,} "
                    f"| {validated.load_seconds:.2f} "
                    f"| {validated.validate_seconds:.2f} "
                    f"| {validated.cpu_seconds:.2f} "
                    f"| {validated.peak_kib / 1024:.0f} | {command.seconds:.2f} "
                    f"| {command.cpu_seconds:.2f} "
                    f"| {command.peak_kib / 1024:.0f} |"
                )
                # Progress goes to stderr, so stdout contains only the table.
                print(
                    f"measured {path.name}: exit code {command.exit_code}",
                    file=sys.stderr,
                    flush=True,
                )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
