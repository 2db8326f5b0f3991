"""Exit codes from run outcomes, and deadlines from --max-minutes and --until."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from provisioner.exitcodes import ExitCode
from provisioner.model import Status
from provisioner.runner import RunResult, deadline_from, exit_code_for, external_ref


def result(**counts: int) -> RunResult:
    run = RunResult(label="sheet.csv")
    run.counts = Counter(
        {Status(key.replace("_", " ")): n for key, n in counts.items()}
    )
    return run


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"created": 5, "exists": 2, "skipped": 1}, ExitCode.OK),
        ({"created": 5, "invalid": 1}, ExitCode.ROWS_NEED_ATTENTION),
        ({"created": 5, "rejected": 1}, ExitCode.ROWS_NEED_ATTENTION),
        ({"would_create": 5, "conflict": 1}, ExitCode.ROWS_NEED_ATTENTION),
        ({"created": 5, "pending": 1, "invalid": 1}, ExitCode.INTERRUPTED),
        ({"created": 5, "failed": 1, "pending": 1}, ExitCode.API_UNAVAILABLE),
    ],
)
def test_exit_code_for_counts(counts: dict[str, int], expected: ExitCode) -> None:
    assert exit_code_for([result(**counts)]) == expected


def test_auth_failure_wins_over_everything() -> None:
    run = result(created=3, invalid=2)
    run.auth_failed = True

    assert exit_code_for([run]) == ExitCode.API_UNAVAILABLE


def test_stopped_run_is_interrupted() -> None:
    run = result(created=3)
    run.stopped = "signal SIGTERM"

    assert exit_code_for([run]) == ExitCode.INTERRUPTED


def test_summary_line_lists_counts_in_order() -> None:
    line = result(invalid=2, created=5).summary_line()

    assert line == "sheet.csv: 7 rows: 5 created, 2 invalid"


def test_deadline_takes_the_earlier_limit() -> None:
    now = dt.datetime(2026, 12, 4, 5, 0)

    assert deadline_from(None, None, now=now) is None
    assert deadline_from(10, None, now=now) == 600
    assert deadline_from(120, dt.time(6, 0), now=now) == 3600
    assert deadline_from(30, dt.time(6, 0), now=now) == 1800


def test_until_in_the_past_means_tomorrow() -> None:
    now = dt.datetime(2026, 12, 4, 7, 0)

    assert deadline_from(None, dt.time(6, 0), now=now) == 23 * 3600


@pytest.mark.parametrize(
    ("file_name", "cell", "expected"),
    [
        ("week-fixed.xlsx", "Failed!A4", "[week-fixed.xlsx]Failed!A4"),
        ("my list.xlsx", "Failed!A4", "'[my list.xlsx]Failed'!A4"),
        ("w.xlsx", "'It''s Q1'!B2", "'[w.xlsx]It''s Q1'!B2"),
    ],
)
def test_external_ref_names_the_workbook(
    file_name: str, cell: str, expected: str
) -> None:
    assert external_ref(file_name, cell) == expected
