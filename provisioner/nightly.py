"""The unattended run: new sheets from the inbox, then retries of earlier jobs.

Each sheet in the inbox becomes a job (or is linked back to its job when it is a
corrected results workbook), and leaves the inbox. Afterwards the rows of earlier
jobs that failed for a passing reason (5xx, timeouts, rate limits, a stop by signal or
deadline) are sent again, oldest job first, while time remains.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from provisioner.api.types import B2BApi
from provisioner.config import Config
from provisioner.dispatch import StopToken
from provisioner.errors import StopBeforeSending
from provisioner.exitcodes import ExitCode
from provisioner.jobs import (
    Job,
    correction_seen,
    create_job,
    file_sha256,
    find_job,
    find_job_by_hash,
    list_jobs,
    make_private_dir,
    store_correction,
)
from provisioner.model import ATTENTION_STATUSES, RowOutcome, Status
from provisioner.report import read_job_marker
from provisioner.runner import RunResult, SheetOptions, exit_code_for, run_job

log = structlog.get_logger("provisioner.nightly")

#: Files in the inbox that are someone's work in progress, not sheets to process:
#: Excel's lock files, hidden files and partial uploads.
_IGNORED_PREFIXES = ("~$", ".")
_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")


@dataclass(slots=True)
class NightlyResult:
    runs: list[RunResult] = field(default_factory=list)
    run_index: dict[str, int] = field(default_factory=dict)
    """Position in ``runs`` of each job's latest run, so a job counts once."""
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def add_run(self, job_id: str, run: RunResult) -> None:
        """Record a run; a later run of the same job replaces its earlier one."""
        if job_id in self.run_index:
            earlier = self.runs[self.run_index[job_id]]
            run.stopped = run.stopped or earlier.stopped
            run.auth_failed = run.auth_failed or earlier.auth_failed
            self.runs[self.run_index[job_id]] = run
            return
        self.run_index[job_id] = len(self.runs)
        self.runs.append(run)

    @property
    def exit_code(self) -> ExitCode:
        code = exit_code_for(self.runs)
        if self.unreadable and code in (ExitCode.OK, ExitCode.ROWS_NEED_ATTENTION):
            return ExitCode.INPUT_OR_CONFIG
        return code

    def summary_line(self) -> str:
        counts: Counter[str] = Counter()
        for run in self.runs:
            counts.update(run.counts)
        attention = sum(counts[status] for status in ATTENTION_STATUSES)
        parts = [
            f"{len(self.runs)} job(s)",
            f"{counts[Status.CREATED]} created",
            f"{counts[Status.EXISTS]} existing",
            f"{attention} need attention",
            f"{counts[Status.FAILED] + counts[Status.PENDING]} pending",
        ]
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} unreadable file(s)")
        if any(run.stopped for run in self.runs):
            parts.append("stopped early")
        return "nightly: " + ", ".join(parts)


def inbox_files(inbox: Path) -> list[Path]:
    """Return the sheets waiting in the inbox, oldest first."""
    if not inbox.is_dir():
        return []
    files = [
        path
        for path in inbox.iterdir()
        if path.is_file()
        and not path.name.startswith(_IGNORED_PREFIXES)
        and not path.name.lower().endswith(_IGNORED_SUFFIXES)
    ]
    files.sort(key=lambda path: (path.stat().st_mtime, path.name))
    return files


def _linked_job(jobs_dir: Path, path: Path) -> Job | None:
    try:
        marker = read_job_marker(path)
    except (OSError, ValueError, StopBeforeSending):
        return None
    return find_job(jobs_dir, marker) if marker else None


async def run_nightly(
    api: B2BApi,
    config: Config,
    *,
    stop: StopToken,
    on_job: Callable[[Job], None] | None = None,
    on_outcome: Callable[[RowOutcome], None] | None = None,
    on_planned: Callable[[int], None] | None = None,
) -> NightlyResult:
    jobs_dir = config.jobs.jobs_dir
    make_private_dir(config.jobs.inbox)
    result = NightlyResult()
    done: set[str] = set()
    options = SheetOptions()

    for path in inbox_files(config.jobs.inbox):
        if stop.requested:
            break
        sha256 = file_sha256(path)
        linked = _linked_job(jobs_dir, path)
        correction: Path | None = None
        if linked is not None and linked.input_path.exists():
            if correction_seen(linked, sha256):
                log.info(
                    "correction_already_processed", job=linked.job_id, file=path.name
                )
                result.duplicates.append(path.name)
                path.unlink()
                continue
            job = linked
            correction = store_correction(job, path, move=True)
        else:
            existing = find_job_by_hash(jobs_dir, sha256)
            if existing is not None:
                log.info("sheet_already_received", job=existing.job_id, file=path.name)
                result.duplicates.append(path.name)
                path.unlink()
                job = existing
            else:
                job = create_job(jobs_dir, path, sha256=sha256, move=True)
        if on_job is not None:
            on_job(job)
        try:
            run = await run_job(
                api,
                job,
                config,
                options,
                stop=stop,
                correction=correction,
                on_outcome=on_outcome,
                on_planned=on_planned,
            )
        except StopBeforeSending as exc:
            if correction is None and job.meta.get("state") == "new":
                job.update(state="unreadable", error=str(exc))
            log.warning("sheet_unreadable", job=job.job_id, error=str(exc))
            result.unreadable.append(
                (job.meta.get("source_name", job.job_id), str(exc))
            )
            done.add(job.job_id)
            continue
        result.add_run(job.job_id, run)
        done.add(job.job_id)

    for job in list_jobs(jobs_dir):
        if stop.requested:
            break
        # "new" covers a job whose first run was killed before it could finish.
        if job.job_id in done or job.meta.get("state") not in ("open", "new"):
            continue
        if on_job is not None:
            on_job(job)
        log.info("retrying_job", job=job.job_id)
        try:
            run = await run_job(
                api,
                job,
                config,
                options,
                stop=stop,
                on_outcome=on_outcome,
                on_planned=on_planned,
            )
        except StopBeforeSending as exc:
            log.warning("job_unreadable", job=job.job_id, error=str(exc))
            result.unreadable.append((job.job_id, str(exc)))
            continue
        result.add_run(job.job_id, run)

    log.info(
        "nightly_finished",
        jobs=len(result.runs),
        unreadable=len(result.unreadable),
        at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    return result
