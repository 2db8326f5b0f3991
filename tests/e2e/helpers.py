"""Run the provisioner CLI as a user would: a subprocess, real files, a real sandbox."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import openpyxl

from provisioner.sandbox import RunningSandbox

# A recognisable token: tests grep every output for it.
SECRET_TOKEN = "tok-SECRET-9f8e7d6c5b4a"

HEADER = [
    "Email Address",
    "First Name",
    "Last Name",
    "Company",
    "Role",
    "Channels",
    "Cost Centre",
]

# Approved Companies in the sandbox's default seed, by name.
APPROVED_COMPANIES = [
    "Acme Industrial",
    "Globex Supply",
    "Initech Procurement",
    "Soylent Foods",
]


def user_rows(count: int, *, prefix: str = "user", start: int = 0) -> list[list[str]]:
    """Return valid rows for the default seed: distinct emails, approved Companies."""
    rows = []
    for number in range(start, start + count):
        company = APPROVED_COMPANIES[number % len(APPROVED_COMPANIES)]
        rows.append(
            [
                f"{prefix}{number:04d}@buyers.example",
                f"First{number}",
                f"Last{number}",
                company,
                "Junior Buyer",
                "1",
                f"CC-{number % 7}",
            ]
        )
    return rows


def write_csv(
    path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_config(path: Path, *, limit_per_minute: int, extra: str = "") -> Path:
    path.write_text(
        "[rate]\n"
        f"store_limit_per_minute = {limit_per_minute}\n"
        "share = 1.0\n"
        "max_concurrency = 4\n"
        "max_attempts = 6\n"
        "[api]\n"
        "read_timeout_seconds = 2.0\n"
        "connect_timeout_seconds = 2.0\n" + extra,
        encoding="utf-8",
    )
    return path


def cli_env(
    sandbox: RunningSandbox, jobs_dir: Path, token: str | None = None
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PROVISIONER_")
    }
    env.update(
        PROVISIONER_BASE_URL=sandbox.base_url,
        PROVISIONER_STORE_HASH=sandbox.options.store_hash,
        PROVISIONER_AUTH_TOKEN=token or sandbox.options.token,
        PROVISIONER_JOBS_DIR=str(jobs_dir),
    )
    return env


def run_cli(
    args: Sequence[str], *, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_cli(
    args: Sequence[str], *, env: dict[str, str], cwd: Path
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "provisioner", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_results(path: Path, sheet: str = "Results") -> list[dict[str, object]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(workbook[sheet].iter_rows(values_only=True))
    finally:
        workbook.close()
    header = [str(value) for value in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]
