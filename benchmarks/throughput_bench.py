"""Measure how close a run comes to the rate limit's ceiling, against the sandbox.

Run with ``python -m benchmarks.throughput_bench [ROWS]``. The sandbox allows
``LIMIT`` requests a minute; the ceiling is that limit times ten users a request (a
full ``/users/bulk`` batch). The CLI runs in a subprocess with ``rate.share = 1.0``
and ``send.bulk_result_order`` set to each of its values, and the script prints a
markdown table: users a minute over the whole run (start-up, store reads,
pre-flight and writing the workbook included) and over the dispatch phase alone
(``dispatch_started`` to ``dispatch_finished`` in the job's log), each as a share
of the ceiling, and the share of requests the sandbox answered with 429.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from provisioner.sandbox import SandboxOptions, start_sandbox

LIMIT = 600  # requests a minute
USERS_PER_REQUEST = 10
COMPANIES = ["Acme Industrial", "Globex Supply", "Initech Procurement", "Soylent Foods"]


def write_sheet(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "Email",
                "First Name",
                "Last Name",
                "Company",
                "Role",
                "Channels",
                "Cost Centre",
            ]
        )
        for number in range(rows):
            writer.writerow(
                [
                    f"bench{number:06d}@buyers.example",
                    f"First{number}",
                    f"Last{number}",
                    COMPANIES[number % len(COMPANIES)],
                    "Junior Buyer",
                    "1",
                    "CC-1",
                ]
            )


def dispatch_phase_seconds(jobs_dir: Path) -> float:
    """Return the time from dispatch_started to dispatch_finished in the job log."""
    (log_path,) = jobs_dir.glob("*/log.jsonl")
    stamps: dict[str, datetime] = {}
    for line in log_path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("logger") == "provisioner.dispatch" and event.get("event") in (
            "dispatch_started",
            "dispatch_finished",
        ):
            stamps[event["event"]] = datetime.fromisoformat(event["timestamp"])
    return (stamps["dispatch_finished"] - stamps["dispatch_started"]).total_seconds()


def measure(rows: int, order: str, folder: Path) -> dict[str, float]:
    sheet = folder / f"bench-{order}.csv"
    write_sheet(sheet, rows)
    config = folder / f"config-{order}.toml"
    config.write_text(
        f"[rate]\nstore_limit_per_minute = {LIMIT}\nshare = 1.0\nmax_concurrency = 4\n"
        f'[send]\nbulk_result_order = "{order}"\n',
        encoding="utf-8",
    )
    with start_sandbox(
        SandboxOptions(request_limit=LIMIT, window_seconds=60.0)
    ) as sandbox:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROVISIONER_")}
        env.update(
            PROVISIONER_BASE_URL=sandbox.base_url,
            PROVISIONER_STORE_HASH=sandbox.options.store_hash,
            PROVISIONER_AUTH_TOKEN=sandbox.options.token,
            PROVISIONER_JOBS_DIR=str(folder / f"jobs-{order}"),
        )
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "provisioner",
                "run",
                str(sheet),
                "--config",
                str(config),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
        dispatch_seconds = dispatch_phase_seconds(folder / f"jobs-{order}")
        stats = sandbox.stats()
        created = len(sandbox.created_counts())
    if done.returncode != 0:
        raise SystemExit(f"run failed with {done.returncode}: {done.stderr[-2000:]}")
    per_minute = created / elapsed * 60
    ceiling = LIMIT * USERS_PER_REQUEST
    return {
        "dispatch_seconds": dispatch_seconds,
        "dispatch_share": created / dispatch_seconds * 60 / ceiling,
        "seconds": elapsed,
        "created": created,
        "per_minute": per_minute,
        "share": per_minute / ceiling,
        "requests": stats["requests"],
        "rate_limited": stats["rateLimited"],
    }


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
    print(
        f"Sandbox limit {LIMIT} requests/min; ceiling {LIMIT * USERS_PER_REQUEST} "
        f"users/min; {rows} rows.\n"
    )
    print(
        "| bulk_result_order | whole run s | users/min | share of ceiling "
        "| dispatch s | dispatch share | requests | 429 answers |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as temporary:
        for order in ("input", "verify"):
            result = measure(rows, order, Path(temporary))
            rate_limited = result["rate_limited"] / max(result["requests"], 1)
            print(
                f"| {order} | {result['seconds']:.1f} | {result['per_minute']:.0f} "
                f"| {result['share']:.1%} | {result['dispatch_seconds']:.1f} "
                f"| {result['dispatch_share']:.1%} | {result['requests']:.0f} "
                f"| {result['rate_limited']:.0f} ({rate_limited:.1%}) |"
            )


if __name__ == "__main__":
    main()
