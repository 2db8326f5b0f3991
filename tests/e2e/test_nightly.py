"""`provisioner nightly` end to end: an inbox of sheets, jobs, corrections and locks."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from provisioner.exitcodes import ExitCode
from provisioner.sandbox import RunningSandbox, SandboxOptions, start_sandbox
from tests.e2e.helpers import (
    cli_env,
    read_results,
    run_cli,
    start_cli,
    user_rows,
    write_config,
    write_csv,
)

LIMIT = 3000


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with start_sandbox(
        SandboxOptions(request_limit=LIMIT, window_seconds=60.0)
    ) as running:
        yield running


@pytest.fixture
def workplace(tmp_path: Path, sandbox: RunningSandbox) -> tuple[Path, dict[str, str]]:
    (tmp_path / "jobs" / "inbox").mkdir(parents=True)
    write_config(tmp_path / "config.toml", limit_per_minute=LIMIT)
    return tmp_path, cli_env(sandbox, tmp_path / "jobs")


def nightly(place: Path, env: dict[str, str], *extra: str) -> tuple[int, str, str]:
    done = run_cli(
        ["nightly", "--config", str(place / "config.toml"), *extra], env=env, cwd=place
    )
    return done.returncode, done.stdout, done.stderr


def job_folders(place: Path) -> list[Path]:
    return sorted(
        path
        for path in (place / "jobs").iterdir()
        if path.is_dir() and path.name != "inbox"
    )


def no_duplicates(sandbox: RunningSandbox) -> bool:
    return all(count == 1 for count in sandbox.created_counts().values())


def test_inbox_with_good_bad_and_broken_sheets(
    workplace: tuple[Path, dict[str, str]], sandbox: RunningSandbox
) -> None:
    place, env = workplace
    inbox = place / "jobs" / "inbox"
    write_csv(inbox / "good.csv", user_rows(10, prefix="good"))
    bad_rows = user_rows(6, prefix="bad")
    bad_rows[2][0] = "no-at-sign"
    write_csv(inbox / "some-bad.csv", bad_rows)
    (inbox / "broken.xlsx").write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    )
    (inbox / "~$good.xlsx").write_bytes(b"excel lock file")

    code, stdout, stderr = nightly(place, env)

    assert code == ExitCode.INPUT_OR_CONFIG, stderr
    assert stdout.startswith("nightly: 2 job(s), 15 created")
    assert "1 need attention" in stdout
    assert "1 unreadable file(s)" in stdout
    assert "broken.xlsx" in stderr
    assert sorted(path.name for path in inbox.iterdir()) == ["~$good.xlsx"]
    folders = job_folders(place)
    assert len(folders) == 3
    for folder in folders:
        assert (folder / "job.json").exists()
    done = [folder for folder in folders if (folder / "results.xlsx").exists()]
    assert len(done) == 2
    for folder in done:
        assert (folder / "journal.sqlite").exists()
        assert (folder / "results.csv").exists()
        assert (folder / "log.jsonl").stat().st_size > 0
    assert len(sandbox.created_counts()) == 15
    assert no_duplicates(sandbox)


def test_same_sheet_dropped_twice_creates_nobody_twice(
    workplace: tuple[Path, dict[str, str]], sandbox: RunningSandbox
) -> None:
    place, env = workplace
    inbox = place / "jobs" / "inbox"
    sheet = write_csv(place / "buyers.csv", user_rows(8))
    shutil.copyfile(sheet, inbox / "buyers.csv")
    first = nightly(place, env)
    shutil.copyfile(sheet, inbox / "buyers-again.csv")

    code, _, stderr = nightly(place, env)

    assert first[0] == ExitCode.OK, first[2]
    assert code == ExitCode.OK, stderr
    assert len(job_folders(place)) == 1
    assert list(inbox.iterdir()) == []
    assert len(sandbox.created_counts()) == 8
    assert no_duplicates(sandbox)


def test_corrected_failed_sheet_is_linked_to_its_job(
    workplace: tuple[Path, dict[str, str]], sandbox: RunningSandbox
) -> None:
    place, env = workplace
    inbox = place / "jobs" / "inbox"
    rows = user_rows(6, prefix="fix")
    rows[1][0] = "fix0001-at-buyers.example"
    rows[4][3] = "Unknown Company Ltd"
    write_csv(inbox / "week.csv", rows)
    nightly(place, env)
    (job,) = job_folders(place)

    # A person corrects the two red rows in the Failed sheet and drops it back.
    workbook = openpyxl.load_workbook(job / "results.xlsx")
    failed = workbook["Failed"]
    header = [cell.value for cell in failed[1]]
    email_col = header.index("Email Address") + 1
    company_col = header.index("Company") + 1
    for row in range(2, failed.max_row + 1):
        if failed.cell(row, email_col).value == "fix0001-at-buyers.example":
            failed.cell(row, email_col).value = "fix0001@buyers.example"
        if failed.cell(row, company_col).value == "Unknown Company Ltd":
            failed.cell(row, company_col).value = "Acme Industrial"
    workbook.save(inbox / "week-fixed.xlsx")
    shutil.copyfile(inbox / "week-fixed.xlsx", place / "week-fixed-copy.xlsx")

    code, _, stderr = nightly(place, env)

    assert code == ExitCode.OK, stderr
    assert job_folders(place) == [job]
    results = read_results(job / "results.xlsx")
    assert [row["status"] for row in results] == ["created"] * 6
    assert len(sandbox.created_counts()) == 6

    shutil.copyfile(place / "week-fixed-copy.xlsx", inbox / "week-fixed.xlsx")
    again = nightly(place, env)

    assert again[0] == ExitCode.OK, again[2]
    assert len(sandbox.created_counts()) == 6
    assert no_duplicates(sandbox)


@pytest.mark.slow
def test_deadline_stop_is_finished_by_next_run(tmp_path: Path) -> None:
    with start_sandbox(
        SandboxOptions(request_limit=60, window_seconds=60.0)
    ) as sandbox:
        inbox = tmp_path / "jobs" / "inbox"
        inbox.mkdir(parents=True)
        write_config(tmp_path / "config.toml", limit_per_minute=60)
        env = cli_env(sandbox, tmp_path / "jobs")
        write_csv(inbox / "big.csv", user_rows(300))
        config = ["--config", str(tmp_path / "config.toml")]

        # 0.15 minutes is 9 seconds: at one request a second, the store reads and
        # a few bulk creates, a fraction of 300 rows.
        stopped = run_cli(
            ["nightly", *config, "--max-minutes", "0.15"], env=env, cwd=tmp_path
        )

        assert stopped.returncode == ExitCode.INTERRUPTED, stopped.stderr[-2000:]
        assert "stopped early" in stopped.stdout
        assert 0 < len(sandbox.created_counts()) < 300
        sandbox.set_options(request_limit=6000)
        write_config(tmp_path / "config.toml", limit_per_minute=6000)

        finished = run_cli(["nightly", *config], env=env, cwd=tmp_path, timeout=300)

        assert finished.returncode == ExitCode.OK, finished.stderr[-2000:]
        assert "nightly: 1 job(s), 300 created" in finished.stdout
        (job,) = [
            p for p in (tmp_path / "jobs").iterdir() if p.is_dir() and p.name != "inbox"
        ]
        results = read_results(job / "results.xlsx")
        assert {row["status"] for row in results} == {"created"}
        assert len(sandbox.created_counts()) == 300
        assert no_duplicates(sandbox)


@pytest.mark.slow
def test_overlapping_runs_second_exits_locked(tmp_path: Path) -> None:
    with start_sandbox(
        SandboxOptions(request_limit=120, window_seconds=60.0)
    ) as sandbox:
        inbox = tmp_path / "jobs" / "inbox"
        inbox.mkdir(parents=True)
        write_config(tmp_path / "config.toml", limit_per_minute=120)
        env = cli_env(sandbox, tmp_path / "jobs")
        write_csv(inbox / "big.csv", user_rows(60))
        config = ["--config", str(tmp_path / "config.toml")]

        first = start_cli(["nightly", *config], env=env, cwd=tmp_path)
        give_up = time.monotonic() + 30
        while not sandbox.created_counts() and time.monotonic() < give_up:
            time.sleep(0.05)
        second = run_cli(["nightly", *config], env=env, cwd=tmp_path)
        first.terminate()
        first.communicate(timeout=60)

        assert second.returncode == ExitCode.LOCKED
        assert "already being processed" in second.stderr
        assert no_duplicates(sandbox)


def test_status_lists_jobs_and_rows_needing_attention(
    workplace: tuple[Path, dict[str, str]], sandbox: RunningSandbox
) -> None:
    place, env = workplace
    inbox = place / "jobs" / "inbox"
    rows = user_rows(4, prefix="st")
    rows[2][0] = "st0002-no-at"
    write_csv(inbox / "status-check.csv", rows)
    nightly(place, env)
    (job,) = job_folders(place)
    config = ["--config", str(place / "config.toml")]

    listing = run_cli(["status", *config], env=env, cwd=place)
    detail = run_cli(["status", job.name, *config], env=env, cwd=place)
    unknown = run_cli(["status", "no-such-job", *config], env=env, cwd=place)

    assert listing.returncode == 0, listing.stderr
    assert job.name in listing.stdout
    assert "3 created" in listing.stdout
    assert "1 invalid" in listing.stdout
    assert detail.returncode == 0, detail.stderr
    assert "row 4: invalid:" in detail.stdout
    assert "row 2:" not in detail.stdout
    assert unknown.returncode == ExitCode.INPUT_OR_CONFIG
    assert "provisioner status" in unknown.stderr
