"""`provisioner run` end to end: the CLI in a subprocess against the sandbox server."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from provisioner.exitcodes import ExitCode
from provisioner.sandbox import RunningSandbox, SandboxOptions, start_sandbox
from tests.e2e.helpers import (
    SECRET_TOKEN,
    cli_env,
    read_results,
    run_cli,
    user_rows,
    write_config,
    write_csv,
)

FAST_LIMIT = 3000  # requests a minute: fast enough for tests, still paced


@pytest.fixture
def fast_sandbox() -> Iterator[RunningSandbox]:
    with start_sandbox(
        SandboxOptions(
            request_limit=FAST_LIMIT, window_seconds=60.0, token=SECRET_TOKEN
        )
    ) as sandbox:
        yield sandbox


def test_run_creates_every_valid_row(
    fast_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = write_csv(tmp_path / "buyers.csv", user_rows(40))
    config = write_config(tmp_path / "config.toml", limit_per_minute=FAST_LIMIT)
    env = cli_env(fast_sandbox, tmp_path / "jobs")

    done = run_cli(["run", str(sheet), "--config", str(config)], env=env, cwd=tmp_path)

    assert done.returncode == ExitCode.OK, done.stderr
    assert "40 created" in done.stdout
    jobs = list((tmp_path / "jobs").iterdir())
    assert len(jobs) == 1
    results = read_results(jobs[0] / "results.xlsx")
    assert [row["row"] for row in results] == list(range(2, 42))
    assert all(row["status"] == "created" for row in results)
    assert all(isinstance(row["userId"], int) for row in results)
    assert all(isinstance(row["bcId"], int) for row in results)
    counts = fast_sandbox.created_counts()
    assert len(counts) == 40
    assert set(counts.values()) == {1}


def test_rerun_creates_nobody_twice(
    fast_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = write_csv(tmp_path / "buyers.csv", user_rows(25))
    config = write_config(tmp_path / "config.toml", limit_per_minute=FAST_LIMIT)
    env = cli_env(fast_sandbox, tmp_path / "jobs")

    first = run_cli(["run", str(sheet), "--config", str(config)], env=env, cwd=tmp_path)
    second = run_cli(
        ["run", str(sheet), "--config", str(config)], env=env, cwd=tmp_path
    )

    assert first.returncode == ExitCode.OK, first.stderr
    assert second.returncode == ExitCode.OK, second.stderr
    assert "Resuming" in second.stderr
    assert set(fast_sandbox.created_counts().values()) == {1}
    assert len(fast_sandbox.created_counts()) == 25


def test_same_users_in_new_sheet_are_exists(
    fast_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    rows = user_rows(12)
    first_sheet = write_csv(tmp_path / "monday.csv", rows)
    # The same users with a changed cost centre: new content, so a new job.
    changed = [[*row[:6], "CC-NEW"] for row in rows]
    second_sheet = write_csv(tmp_path / "tuesday.csv", changed)
    config = write_config(tmp_path / "config.toml", limit_per_minute=FAST_LIMIT)
    env = cli_env(fast_sandbox, tmp_path / "jobs")

    run_cli(["run", str(first_sheet), "--config", str(config)], env=env, cwd=tmp_path)
    second = run_cli(
        ["run", str(second_sheet), "--config", str(config)], env=env, cwd=tmp_path
    )

    assert second.returncode == ExitCode.OK, second.stderr
    assert "12 exists" in second.stdout
    job = next(path for path in (tmp_path / "jobs").iterdir() if "tuesday" in path.name)
    results = read_results(job / "results.xlsx")
    assert all(row["status"] == "exists" for row in results)
    assert all(isinstance(row["userId"], int) for row in results)
    assert set(fast_sandbox.created_counts().values()) == {1}


def test_bad_rows_get_cell_errors_and_exit_one(
    fast_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    rows = user_rows(5)
    rows[1][0] = "not-an-email"
    rows[3][3] = "No Such Company Ltd"
    sheet = write_csv(tmp_path / "buyers.csv", rows)
    config = write_config(tmp_path / "config.toml", limit_per_minute=FAST_LIMIT)
    env = cli_env(fast_sandbox, tmp_path / "jobs")

    done = run_cli(["run", str(sheet), "--config", str(config)], env=env, cwd=tmp_path)

    assert done.returncode == ExitCode.ROWS_NEED_ATTENTION, done.stderr
    job = next((tmp_path / "jobs").iterdir())
    results = read_results(job / "results.xlsx")
    by_row = {row["row"]: row for row in results}
    assert by_row[3]["status"] == "invalid"
    assert "A3" in str(by_row[3]["error"])
    assert by_row[5]["status"] == "invalid"
    assert "D5" in str(by_row[5]["error"])
    assert [by_row[n]["status"] for n in (2, 4, 6)] == ["created"] * 3
    failed = read_results(job / "results.xlsx", sheet="Failed")
    assert sorted(int(str(row["row"])) for row in failed) == [3, 5]


def test_unreadable_sheet_exits_two_before_sending(
    fast_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = tmp_path / "buyers.xlsx"
    sheet.write_bytes(b"%PDF-1.7 not a spreadsheet")
    env = cli_env(fast_sandbox, tmp_path / "jobs")

    done = run_cli(["run", str(sheet)], env=env, cwd=tmp_path)

    assert done.returncode == ExitCode.INPUT_OR_CONFIG
    assert "Traceback" not in done.stderr
    assert fast_sandbox.created_counts() == {}


def test_missing_token_exits_two(fast_sandbox: RunningSandbox, tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "buyers.csv", user_rows(2))
    env = cli_env(fast_sandbox, tmp_path / "jobs")
    del env["PROVISIONER_AUTH_TOKEN"]

    done = run_cli(["run", str(sheet)], env=env, cwd=tmp_path)

    assert done.returncode == ExitCode.INPUT_OR_CONFIG
    assert "PROVISIONER_AUTH_TOKEN" in done.stderr


def test_token_leaves_no_trace(fast_sandbox: RunningSandbox, tmp_path: Path) -> None:
    rows = user_rows(15)
    rows[2][0] = "broken@"
    sheet = write_csv(tmp_path / "buyers.csv", rows)
    config = write_config(tmp_path / "config.toml", limit_per_minute=FAST_LIMIT)
    env = cli_env(fast_sandbox, tmp_path / "jobs")

    done = run_cli(
        ["run", str(sheet), "--config", str(config), "--log-level", "debug"],
        env=env,
        cwd=tmp_path,
    )

    assert done.returncode == ExitCode.ROWS_NEED_ATTENTION, done.stderr
    assert SECRET_TOKEN not in done.stdout
    assert SECRET_TOKEN not in done.stderr
    job = next((tmp_path / "jobs").iterdir())
    for path in job.rglob("*"):
        if path.is_file():
            assert SECRET_TOKEN.encode() not in path.read_bytes(), path.name
    with sqlite3.connect(job / "journal.sqlite") as connection:
        dump = "\n".join(connection.iterdump())
    assert SECRET_TOKEN not in dump


def test_output_files_are_owner_only(
    fast_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = write_csv(tmp_path / "buyers.csv", user_rows(3))
    config = write_config(tmp_path / "config.toml", limit_per_minute=FAST_LIMIT)
    env = cli_env(fast_sandbox, tmp_path / "jobs")

    run_cli(["run", str(sheet), "--config", str(config)], env=env, cwd=tmp_path)

    job = next((tmp_path / "jobs").iterdir())
    for name in (
        "results.xlsx",
        "results.csv",
        "journal.sqlite",
        "log.jsonl",
        "job.json",
    ):
        mode = (job / name).stat().st_mode & 0o777
        assert mode == 0o600, f"{name} has mode {oct(mode)}"


def test_logs_name_rows_not_emails(
    fast_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    rows = user_rows(6)
    rows[1][0] = "dana.whitfield@acme-industrial.example"  # exists in the seed
    rows[2][0] = "marco.bellini@globex.example"  # belongs to another Company
    sheet = write_csv(tmp_path / "buyers.csv", rows)
    config = write_config(tmp_path / "config.toml", limit_per_minute=FAST_LIMIT)
    env = cli_env(fast_sandbox, tmp_path / "jobs")

    quiet = run_cli(
        ["run", str(sheet), "--config", str(config), "--log-level", "debug"],
        env=env,
        cwd=tmp_path,
    )

    job = next((tmp_path / "jobs").iterdir())
    log_text = (job / "log.jsonl").read_text(encoding="utf-8")
    assert '"row_outcome"' in log_text
    for email in [row[0] for row in rows]:
        assert email not in quiet.stderr
        assert email not in log_text


def test_log_personal_data_flag_keeps_emails(
    fast_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    rows = user_rows(3)
    rows[0][0] = "marco.bellini@globex.example"  # belongs to another Company
    sheet = write_csv(tmp_path / "buyers.csv", rows)
    config = write_config(tmp_path / "config.toml", limit_per_minute=FAST_LIMIT)
    env = cli_env(fast_sandbox, tmp_path / "jobs")

    done = run_cli(
        [
            "run",
            str(sheet),
            "--config",
            str(config),
            "--log-personal-data",
            "--log-level",
            "debug",
        ],
        env=env,
        cwd=tmp_path,
    )

    assert done.returncode == ExitCode.ROWS_NEED_ATTENTION, done.stderr[-2000:]
    job = next((tmp_path / "jobs").iterdir())
    log_text = (job / "log.jsonl").read_text(encoding="utf-8")
    assert '"email": "marco.bellini@globex.example"' in log_text
    assert rows[1][0] in done.stderr


def test_csv_errors_cite_the_sheet_by_file_name(
    fast_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    rows = user_rows(3)
    rows[1][0] = "broken@"
    sheet = write_csv(tmp_path / "march-buyers.csv", rows)
    config = write_config(tmp_path / "config.toml", limit_per_minute=FAST_LIMIT)
    env = cli_env(fast_sandbox, tmp_path / "jobs")

    run_cli(["run", str(sheet), "--config", str(config)], env=env, cwd=tmp_path)

    job = next((tmp_path / "jobs").iterdir())
    by_row = {row["row"]: row for row in read_results(job / "results.xlsx")}
    # Excel quotes a sheet name with a dash in a reference.
    assert str(by_row[3]["error"]).startswith("'march-buyers'!A3")


def test_duplicate_email_stays_invalid_when_fed_back(
    fast_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    rows = user_rows(3)
    rows[1] = [rows[0][0], "Anne", *rows[0][2:]]  # same email, another first name
    sheet = write_csv(tmp_path / "dup.csv", rows)
    config = write_config(tmp_path / "config.toml", limit_per_minute=FAST_LIMIT)
    env = cli_env(fast_sandbox, tmp_path / "jobs")
    first = run_cli(["run", str(sheet), "--config", str(config)], env=env, cwd=tmp_path)
    job = next((tmp_path / "jobs").iterdir())

    again = run_cli(
        ["run", str(job / "results.xlsx"), "--config", str(config)],
        env=env,
        cwd=tmp_path,
    )

    assert first.returncode == ExitCode.ROWS_NEED_ATTENTION, first.stderr[-2000:]
    assert again.returncode == ExitCode.ROWS_NEED_ATTENTION, again.stderr[-2000:]
    by_row = {row["row"]: row for row in read_results(job / "results.xlsx")}
    assert by_row[2]["status"] == "created"
    assert by_row[3]["status"] == "invalid"
    assert "Row 2" in str(by_row[3]["error"])
    assert len(fast_sandbox.created_counts()) == 2


def test_correction_with_foreign_rows_is_refused(
    fast_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    rows = user_rows(3)
    rows[1][0] = "broken@"
    sheet = write_csv(tmp_path / "few.csv", rows)
    config = write_config(tmp_path / "config.toml", limit_per_minute=FAST_LIMIT)
    env = cli_env(fast_sandbox, tmp_path / "jobs")
    run_cli(["run", str(sheet), "--config", str(config)], env=env, cwd=tmp_path)
    job = next((tmp_path / "jobs").iterdir())
    workbook = openpyxl.load_workbook(job / "results.xlsx")
    failed = workbook["Failed"]
    header = [cell.value for cell in failed[1]]
    failed.cell(2, header.index("Email Address") + 1).value = "fixed@buyers.example"
    extra = [f"other{n}@buyers.example" for n in range(2)]
    # A second line for the same row, and a line for a row the job does not have.
    failed.append([extra[0], *rows[0][1:], 3, None])
    failed.append([extra[1], *rows[0][1:], 9999, None])
    workbook.save(tmp_path / "few-fixed.xlsx")
    created_before = dict(fast_sandbox.created_counts())

    done = run_cli(
        ["run", str(tmp_path / "few-fixed.xlsx"), "--config", str(config)],
        env=env,
        cwd=tmp_path,
    )

    assert done.returncode == ExitCode.INPUT_OR_CONFIG, done.stderr[-2000:]
    assert "row 9999" in done.stderr
    assert "row 3, as line" in done.stderr
    assert fast_sandbox.created_counts() == created_before
