"""The smaller commands end to end: template, sandbox, and option errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import openpyxl

from provisioner.exitcodes import ExitCode


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVISIONER_")}
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )


def test_template_is_accepted_back_as_input(tmp_path: Path) -> None:
    template_run = cli(["template", "users.xlsx"], tmp_path)

    assert template_run.returncode == 0, template_run.stderr
    workbook = openpyxl.load_workbook(tmp_path / "users.xlsx")
    assert workbook.sheetnames[0] == "Users"
    assert "Instructions" in workbook.sheetnames
    users = workbook["Users"]
    headers = [cell.value for cell in users[1]]
    assert "email" in headers
    users.append(
        {
            headers.index("email") + 1: "ann.lee@example.com",
            headers.index("firstName") + 1: "Ann",
            headers.index("lastName") + 1: "Lee",
            headers.index("companyId") + 1: "101",
            headers.index("role") + 1: "Junior Buyer",
            headers.index("channelIds") + 1: "1",
        }
    )
    workbook.save(tmp_path / "filled.xlsx")

    checked = cli(["validate", "filled.xlsx"], tmp_path)

    assert checked.returncode == ExitCode.OK, checked.stdout + checked.stderr
    assert "1 valid" in checked.stdout


def test_sandbox_on_busy_port_exits_two(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        done = cli(["sandbox", "--port", str(port)], tmp_path)

    assert done.returncode == ExitCode.INPUT_OR_CONFIG
    assert "--port" in done.stderr
    assert "Traceback" not in done.stderr


def test_sandbox_rejects_non_loopback_host(tmp_path: Path) -> None:
    done = cli(["sandbox", "--host", "0.0.0.0", "--port", "0"], tmp_path)

    assert done.returncode == ExitCode.INPUT_OR_CONFIG
    assert "loopback" in done.stderr


def test_results_path_equal_to_input_refused(tmp_path: Path) -> None:
    sheet = tmp_path / "users.xlsx"
    cli(["template", str(sheet)], tmp_path)
    before = sheet.read_bytes()

    done = cli(["validate", str(sheet), "--results", str(sheet)], tmp_path)

    assert done.returncode == ExitCode.INPUT_OR_CONFIG
    assert "overwrite" in done.stderr
    assert sheet.read_bytes() == before


def test_bad_until_is_a_usage_error(tmp_path: Path) -> None:
    sheet = tmp_path / "users.csv"
    sheet.write_text("email\nann@example.com\n", encoding="utf-8")

    done = cli(["run", str(sheet), "--until", "25:00"], tmp_path)

    assert done.returncode == ExitCode.INPUT_OR_CONFIG
    assert "06:30" in done.stderr
    assert not (tmp_path / "jobs").exists()


def test_results_csv_copy_may_not_overwrite_input(tmp_path: Path) -> None:
    sheet = tmp_path / "data.csv"
    sheet.write_text("email,firstName\nann@example.com,Ann\n", encoding="utf-8")
    before = sheet.read_bytes()

    done = cli(["validate", "data.csv", "--results", "data.xlsx"], tmp_path)

    assert done.returncode == ExitCode.INPUT_OR_CONFIG
    assert "overwrite" in done.stderr
    assert sheet.read_bytes() == before


def test_template_keeps_an_existing_file(tmp_path: Path) -> None:
    existing = tmp_path / "mine.xlsx"
    existing.write_bytes(b"my own work")

    refused = cli(["template", "mine.xlsx"], tmp_path)
    replaced = cli(["template", "mine.xlsx", "--force"], tmp_path)

    assert refused.returncode == ExitCode.INPUT_OR_CONFIG
    assert "--force" in refused.stderr
    assert replaced.returncode == 0, replaced.stderr
    assert existing.read_bytes()[:2] == b"PK"


def test_inbox_file_is_config_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVISIONER_")}
    env["PROVISIONER_INBOX"] = str(tmp_path / "afile")

    done = subprocess.run(
        [sys.executable, "-m", "provisioner", "nightly"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )

    assert done.returncode == ExitCode.INPUT_OR_CONFIG
    assert "not a folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_max_minutes_must_be_a_number(tmp_path: Path) -> None:
    sheet = tmp_path / "users.csv"
    sheet.write_text("email\nann@example.com\n", encoding="utf-8")

    done = cli(["run", str(sheet), "--max-minutes", "nan"], tmp_path)

    assert done.returncode == ExitCode.INPUT_OR_CONFIG
    assert "--max-minutes" in done.stderr
