"""Job folders under ``jobs/``: one per sheet received, found again by its content.

Layout::

    jobs/
      inbox/                     sheets dropped by sales ops; nightly empties it
      nightly.lock               held while a nightly run works
      2026-12-04-new-buyers/     one job: <date received>-<file name>
        job.json                 what was received, when, its SHA-256, its state
        input/new-buyers.xlsx    the sheet exactly as received, under its own name
        journal.sqlite           every row's status; written before and after sends
        results.xlsx, results.csv
        log.jsonl                the JSON log of every run of this job
        corrections/             corrected sheets linked back to this job

A job is found again by the SHA-256 of its input, so running or dropping the same
file twice resumes the same job instead of starting another.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from provisioner.errors import InputFileError, JobLockedError

JOB_FILE = "job.json"
JOURNAL_FILE = "journal.sqlite"
LOG_FILE = "log.jsonl"
RESULTS_STEM = "results"
CORRECTIONS_DIR = "corrections"
INPUT_DIR = "input"
_HASH_CHUNK_BYTES = 1 << 20


@dataclass(slots=True)
class Job:
    """One job folder and its ``job.json``."""

    path: Path
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def job_id(self) -> str:
        return self.path.name

    @property
    def input_path(self) -> Path:
        return self.path / str(self.meta["input"])

    @property
    def journal_path(self) -> Path:
        return self.path / JOURNAL_FILE

    @property
    def log_path(self) -> Path:
        return self.path / LOG_FILE

    @property
    def results_path(self) -> Path:
        return self.path / f"{RESULTS_STEM}.xlsx"

    @property
    def created_at(self) -> str:
        return str(self.meta.get("created_at", ""))

    def save(self) -> None:
        _write_private_text(
            self.path / JOB_FILE, json.dumps(self.meta, indent=2, sort_keys=True)
        )

    def update(self, **changes: Any) -> None:
        self.meta.update(changes)
        self.save()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def safe_file_name(name: str) -> str:
    """Return ``name`` without path separators or control characters."""
    cleaned = "".join(ch for ch in name if ch.isprintable() and ch not in "/\\")
    return cleaned.strip(". ") or "sheet"


def slugify(name: str) -> str:
    """Turn a file name into a folder-safe name: letters, digits, dashes."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    return slug[:60] or "sheet"


def make_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def _write_private_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def load_job(path: Path) -> Job | None:
    try:
        meta = json.loads((path / JOB_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or "input" not in meta:
        return None
    return Job(path=path, meta=meta)


def list_jobs(jobs_dir: Path) -> list[Job]:
    """Return every job under ``jobs_dir``, oldest first."""
    if not jobs_dir.is_dir():
        return []
    jobs = [
        job
        for child in jobs_dir.iterdir()
        if child.is_dir() and (job := load_job(child)) is not None
    ]
    jobs.sort(key=lambda job: (job.created_at, job.job_id))
    return jobs


def find_job(jobs_dir: Path, job_id: str) -> Job | None:
    if not job_id or "/" in job_id or job_id.startswith("."):
        return None
    return load_job(jobs_dir / job_id)


def find_job_by_hash(jobs_dir: Path, sha256: str) -> Job | None:
    for job in list_jobs(jobs_dir):
        if job.meta.get("sha256") == sha256:
            return job
    return None


def create_job(
    jobs_dir: Path,
    source: Path,
    *,
    sha256: str,
    move: bool,
    today: dt.date | None = None,
) -> Job:
    """Make a job folder for ``source`` and copy (or move) the sheet into it."""
    day = (today or dt.date.today()).isoformat()
    base = f"{day}-{slugify(source.stem)}"
    make_private_dir(jobs_dir)
    folder = jobs_dir / base
    counter = 2
    while True:
        try:
            folder.mkdir(mode=0o700)
            break
        except FileExistsError:
            folder = jobs_dir / f"{base}-{counter}"
            counter += 1
    # The sheet keeps its own name inside input/, because a CSV's name is the sheet
    # name that error messages cite (``new-buyers!A7``), as Excel shows it.
    input_name = f"{INPUT_DIR}/{safe_file_name(source.name)}"
    (folder / INPUT_DIR).mkdir(mode=0o700)
    if move:
        shutil.move(str(source), folder / input_name)
    else:
        shutil.copyfile(source, folder / input_name)
    os.chmod(folder / input_name, 0o600)
    job = Job(
        path=folder,
        meta={
            "input": input_name,
            "source_name": source.name,
            "sha256": sha256,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "state": "new",
        },
    )
    job.save()
    return job


def resolve_job_for_sheet(
    jobs_dir: Path, source: Path, *, move: bool = False
) -> tuple[Job, bool]:
    """Return the job for this sheet, and whether it already existed.

    The same content always maps to the same job, wherever the file lies now.
    """
    try:
        sha256 = file_sha256(source)
    except FileNotFoundError:
        raise InputFileError(f"{source} does not exist. Check the path.") from None
    except IsADirectoryError:
        raise InputFileError(f"{source} is a folder, not a sheet.") from None
    except PermissionError:
        raise InputFileError(f"{source} cannot be read: permission denied.") from None
    existing = find_job_by_hash(jobs_dir, sha256)
    if existing is not None:
        if move:
            source.unlink(missing_ok=True)
        return existing, True
    return create_job(jobs_dir, source, sha256=sha256, move=move), False


def store_correction(job: Job, source: Path, *, move: bool) -> Path:
    """Keep a corrected sheet inside its job, named by arrival time and hash."""
    folder = job.path / CORRECTIONS_DIR
    make_private_dir(folder)
    sha256 = file_sha256(source)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    arrival = folder / f"{stamp}-{sha256[:12]}"
    arrival.mkdir(mode=0o700)
    target = arrival / safe_file_name(source.name)
    if move:
        shutil.move(str(source), target)
    else:
        shutil.copyfile(source, target)
    os.chmod(target, 0o600)
    seen = list(job.meta.get("corrections", []))
    relative = str(target.relative_to(folder))
    seen.append({"file": relative, "source_name": source.name, "sha256": sha256})
    job.update(corrections=seen)
    return target


def correction_seen(job: Job, sha256: str) -> bool:
    return any(
        entry.get("sha256") == sha256 for entry in job.meta.get("corrections", [])
    )


class FileLock:
    """An exclusive, non-blocking ``flock`` that records its holder in the file.

    The kernel drops the lock when the holding process dies, so a killed run never
    leaves a stale lock behind.
    """

    def __init__(self, path: Path, *, what: str) -> None:
        self.path = path
        self.what = what
        self._handle: TextIO | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(descriptor, "r+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read().strip() or "another process"
            handle.close()
            raise JobLockedError(
                f"{self.what} is already being processed ({holder}). Wait for that "
                "run to finish; the lock is released as soon as it exits."
            ) from None
        handle.seek(0)
        handle.truncate()
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()} since {started}")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def locked(path: Path, *, what: str) -> Iterator[FileLock]:
    lock = FileLock(path, what=what)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
