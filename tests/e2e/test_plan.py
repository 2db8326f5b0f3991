"""`provisioner plan` predicts what the following `provisioner run` does, row by row."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.exitcodes import ExitCode
from provisioner.sandbox import SandboxOptions, start_sandbox
from tests.e2e.helpers import cli_env, read_results, run_cli, write_config

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

# A plan's status for a row and the status the run then records. An email that
# belongs to a user of another Company is a `conflict` in the plan and `rejected`
# (code EMAIL_TAKEN) in the run.
RUN_STATUS_FOR_PLAN = {
    "would create": "created",
    "exists": "exists",
    "invalid": "invalid",
    "skipped": "skipped",
    "conflict": "rejected",
}


@pytest.mark.parametrize("sample", ["new-buyers.csv", "new-buyers.xlsx"])
def test_plan_predicts_the_run(tmp_path: Path, sample: str) -> None:
    limit = 6000
    with start_sandbox(SandboxOptions(request_limit=limit)) as sandbox:
        config = write_config(tmp_path / "config.toml", limit_per_minute=limit)
        env = cli_env(sandbox, tmp_path / "jobs")
        sheet = SAMPLES / sample
        plan_path = tmp_path / "plan.xlsx"

        planned = run_cli(
            ["plan", str(sheet), "--config", str(config), "--results", str(plan_path)],
            env=env,
            cwd=tmp_path,
        )
        created_by_plan = dict(sandbox.created_counts())
        ran = run_cli(
            ["run", str(sheet), "--config", str(config)], env=env, cwd=tmp_path
        )

    assert planned.returncode == ExitCode.ROWS_NEED_ATTENTION, planned.stderr[-2000:]
    assert "requests" in planned.stdout
    assert created_by_plan == {}
    assert ran.returncode == ExitCode.ROWS_NEED_ATTENTION, ran.stderr[-2000:]
    plan_rows = {row["row"]: str(row["status"]) for row in read_results(plan_path)}
    job = next((tmp_path / "jobs").iterdir())
    run_rows = {
        row["row"]: str(row["status"]) for row in read_results(job / "results.xlsx")
    }
    assert plan_rows.keys() == run_rows.keys()
    predicted = {
        number: RUN_STATUS_FOR_PLAN[status] for number, status in plan_rows.items()
    }
    mismatches = {
        number: (plan_rows[number], run_rows[number])
        for number in plan_rows
        if predicted[number] != run_rows[number]
    }
    assert mismatches == {}
    assert set(plan_rows.values()) >= {"would create", "exists", "invalid", "conflict"}
