"""Killed runs, revoked tokens, a shared budget: no row lost, no user created twice."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
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

ROWS = 300
LIMIT = 900  # requests a minute: a 300-row run takes several seconds, room to kill it


@pytest.fixture
def paced_sandbox() -> Iterator[RunningSandbox]:
    with start_sandbox(
        SandboxOptions(request_limit=LIMIT, window_seconds=60.0)
    ) as sandbox:
        yield sandbox


def wait_for_created(sandbox: RunningSandbox, count: int, timeout: float = 60) -> None:
    give_up = time.monotonic() + timeout
    while len(sandbox.created_counts()) < count:
        if time.monotonic() > give_up:
            raise AssertionError(f"fewer than {count} users created after {timeout} s")
        time.sleep(0.05)


def assert_all_created_once(
    sandbox: RunningSandbox, results_path: Path, rows: int
) -> None:
    results = read_results(results_path)
    assert len(results) == rows
    statuses = {str(row["status"]) for row in results}
    assert statuses == {"created"}, statuses
    assert all(isinstance(row["userId"], int) for row in results)
    counts = sandbox.created_counts()
    assert len(counts) == rows
    duplicates = {email: n for email, n in counts.items() if n > 1}
    assert duplicates == {}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["bulk", "single"])
def test_sigkill_at_several_points_then_rerun(
    paced_sandbox: RunningSandbox, tmp_path: Path, mode: str
) -> None:
    sheet = write_csv(tmp_path / "buyers.csv", user_rows(ROWS))
    config = write_config(tmp_path / "config.toml", limit_per_minute=LIMIT)
    env = cli_env(paced_sandbox, tmp_path / "jobs")
    args = ["run", str(sheet), "--config", str(config), "--mode", mode]
    # In single mode each request creates one user, so kill points come sooner.
    kill_points = [20, 60, 110] if mode == "single" else [40, 120, 200]

    for kill_at in kill_points:
        process = start_cli(args, env=env, cwd=tmp_path)
        try:
            wait_for_created(paced_sandbox, kill_at)
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=30)

    finished = run_cli(args, env=env, cwd=tmp_path, timeout=300)

    assert finished.returncode == ExitCode.OK, finished.stderr[-3000:]
    job = next((tmp_path / "jobs").iterdir())
    assert_all_created_once(paced_sandbox, job / "results.xlsx", ROWS)


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_next_run_finishes(
    paced_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = write_csv(tmp_path / "buyers.csv", user_rows(ROWS))
    config = write_config(tmp_path / "config.toml", limit_per_minute=LIMIT)
    env = cli_env(paced_sandbox, tmp_path / "jobs")
    args = ["run", str(sheet), "--config", str(config)]

    process = start_cli(args, env=env, cwd=tmp_path)
    wait_for_created(paced_sandbox, 50)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == ExitCode.INTERRUPTED, stderr[-3000:]
    assert "stopped early" in stdout
    job = next((tmp_path / "jobs").iterdir())
    interrupted = read_results(job / "results.xlsx")
    assert len(interrupted) == ROWS
    assert {str(row["status"]) for row in interrupted} <= {"created", "pending"}
    assert any(row["status"] == "pending" for row in interrupted)

    finished = run_cli(args, env=env, cwd=tmp_path, timeout=300)

    assert finished.returncode == ExitCode.OK, finished.stderr[-3000:]
    assert_all_created_once(paced_sandbox, job / "results.xlsx", ROWS)


@pytest.mark.slow
def test_max_minutes_stops_and_next_run_carries_on(tmp_path: Path) -> None:
    with start_sandbox(
        SandboxOptions(request_limit=120, window_seconds=60.0)
    ) as sandbox:
        sheet = write_csv(tmp_path / "buyers.csv", user_rows(120))
        config = write_config(tmp_path / "config.toml", limit_per_minute=120)
        env = cli_env(sandbox, tmp_path / "jobs")
        args = ["run", str(sheet), "--config", str(config), "--mode", "single"]

        # 0.1 minutes is 6 seconds: at 2 requests a second, the store reads and a
        # few single creates, a fraction of 120 rows.
        stopped = run_cli([*args, "--max-minutes", "0.1"], env=env, cwd=tmp_path)

        assert stopped.returncode == ExitCode.INTERRUPTED, stopped.stderr[-3000:]
        created_first = len(sandbox.created_counts())
        assert 0 < created_first < 120
        sandbox.set_options(request_limit=6000)
        write_config(tmp_path / "config.toml", limit_per_minute=6000)

        finished = run_cli(args, env=env, cwd=tmp_path, timeout=300)

        assert finished.returncode == ExitCode.OK, finished.stderr[-3000:]
        job = next((tmp_path / "jobs").iterdir())
        assert_all_created_once(sandbox, job / "results.xlsx", 120)


@pytest.mark.slow
def test_revoked_token_stops_dispatch_and_keeps_rows_pending(
    paced_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = write_csv(tmp_path / "buyers.csv", user_rows(ROWS))
    config = write_config(tmp_path / "config.toml", limit_per_minute=LIMIT)
    env = cli_env(paced_sandbox, tmp_path / "jobs")
    args = ["run", str(sheet), "--config", str(config)]

    process = start_cli(args, env=env, cwd=tmp_path)
    wait_for_created(paced_sandbox, 60)
    paced_sandbox.revoke_token()
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == ExitCode.API_UNAVAILABLE, stderr[-3000:]
    job = next((tmp_path / "jobs").iterdir())
    halted = read_results(job / "results.xlsx")
    statuses = [str(row["status"]) for row in halted]
    assert "pending" in statuses
    assert set(statuses) <= {"created", "pending"}

    paced_sandbox.set_token(paced_sandbox.options.token)
    finished = run_cli(args, env=env, cwd=tmp_path, timeout=300)

    assert finished.returncode == ExitCode.OK, finished.stderr[-3000:]
    assert_all_created_once(paced_sandbox, job / "results.xlsx", ROWS)


@pytest.mark.slow
def test_second_client_using_half_the_budget(tmp_path: Path) -> None:
    limit = 600
    with start_sandbox(
        SandboxOptions(request_limit=limit, window_seconds=60.0)
    ) as sandbox:
        sheet = write_csv(tmp_path / "buyers.csv", user_rows(200))
        config = write_config(tmp_path / "config.toml", limit_per_minute=limit)
        env = cli_env(sandbox, tmp_path / "jobs")
        stop_other = threading.Event()

        def other_integration() -> None:
            # Another app on the same store: steady reads at half the store's limit.
            headers = {
                "X-Auth-Token": sandbox.options.token,
                "X-Store-Hash": sandbox.options.store_hash,
            }
            with httpx.Client(base_url=sandbox.base_url, headers=headers) as client:
                while not stop_other.wait(60 / (limit / 2)):
                    client.get("/companies", params={"limit": 1})

        neighbour = threading.Thread(target=other_integration, daemon=True)
        neighbour.start()
        try:
            done = run_cli(
                ["run", str(sheet), "--config", str(config)],
                env=env,
                cwd=tmp_path,
                timeout=300,
            )
        finally:
            stop_other.set()
            neighbour.join(timeout=10)

        assert done.returncode == ExitCode.OK, done.stderr[-3000:]
        job = next((tmp_path / "jobs").iterdir())
        assert_all_created_once(sandbox, job / "results.xlsx", 200)


@pytest.mark.slow
def test_second_run_of_same_job_exits_locked(tmp_path: Path) -> None:
    # Two requests a second keep the first run busy while the second one starts.
    with start_sandbox(
        SandboxOptions(request_limit=120, window_seconds=60.0)
    ) as sandbox:
        sheet = write_csv(tmp_path / "buyers.csv", user_rows(ROWS))
        config = write_config(tmp_path / "config.toml", limit_per_minute=120)
        env = cli_env(sandbox, tmp_path / "jobs")
        args = ["run", str(sheet), "--config", str(config)]

        first = start_cli(args, env=env, cwd=tmp_path)
        wait_for_created(sandbox, 10)
        second = run_cli(args, env=env, cwd=tmp_path)
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
        counts = sandbox.created_counts()

    assert second.returncode == ExitCode.LOCKED, second.stderr[-2000:]
    assert "being processed" in second.stderr
    assert "Traceback" not in second.stderr
    assert all(count == 1 for count in counts.values())


@pytest.mark.slow
def test_nightly_finishes_a_run_killed_early(
    paced_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet = write_csv(tmp_path / "buyers.csv", user_rows(ROWS))
    config = write_config(tmp_path / "config.toml", limit_per_minute=LIMIT)
    env = cli_env(paced_sandbox, tmp_path / "jobs")

    process = start_cli(
        ["run", str(sheet), "--config", str(config)], env=env, cwd=tmp_path
    )
    wait_for_created(paced_sandbox, 30)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    finished = run_cli(
        ["nightly", "--config", str(config)], env=env, cwd=tmp_path, timeout=300
    )

    assert finished.returncode == ExitCode.OK, finished.stderr[-3000:]
    assert "nightly: 1 job(s)" in finished.stdout
    job = next(p for p in (tmp_path / "jobs").iterdir() if p.name != "inbox")
    assert_all_created_once(paced_sandbox, job / "results.xlsx", ROWS)
