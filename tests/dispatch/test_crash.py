"""A run killed between marking rows in flight and recording their outcome."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from provisioner.config import SendSettings
from provisioner.dispatch import StopToken, dispatch
from provisioner.journal import IN_FLIGHT, Journal

from .conftest import make_request, run_dispatch, status_of, sync_requests
from .fake_api import FakeApi


def kill_after_marking(path: Path, rows: list[int]) -> int:
    """Mark ``rows`` in flight in a child process that then SIGKILLs itself."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from provisioner.journal import Journal
        from provisioner.model import UserRequest

        journal = Journal.open(Path({str(path)!r}))
        journal.acquire_lock()
        requests = []
        for n in {rows!r}:
            email = f"user{{n}}@example.com"
            body = {{"companyId": 101, "email": email, "firstName": "Ann",
                     "lastName": f"Lee{{n}}", "role": 2, "channelIds": [1]}}
            requests.append(UserRequest(n, email, 101, body))
        journal.mark_in_flight(requests, kind="bulk")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    child = subprocess.run([sys.executable, "-c", script], check=False)
    return child.returncode


def test_killed_run_leaves_rows_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "job" / "journal.sqlite"
    with Journal.open(path) as journal:
        sync_requests(journal, [make_request(n) for n in (2, 3, 4)])

    returncode = kill_after_marking(path, [2, 3])

    assert returncode == -signal.SIGKILL
    with Journal.open(path) as reopened:
        reopened.acquire_lock()
        assert status_of(reopened, 2) == IN_FLIGHT
        assert status_of(reopened, 3) == IN_FLIGHT
        assert status_of(reopened, 4) == "pending"


def test_reconcile_after_kill_creates_once(tmp_path: Path) -> None:
    path = tmp_path / "job" / "journal.sqlite"
    requests = [make_request(n) for n in (2, 3, 4)]
    with Journal.open(path) as journal:
        sync_requests(journal, requests)
    kill_after_marking(path, [2, 3])
    # The killed run's bulk create reached the store for row 2 only.
    api = FakeApi(unique_emails=False)
    api.add_user("user2@example.com", 101)

    with Journal.open(path) as journal:
        journal.acquire_lock()
        summary = run_dispatch(requests, api, journal)

        assert summary.counts == {"created": 3}
        assert status_of(journal, 2) == "created"
    assert api.duplicates() == {}
    assert api.created["user3@example.com"] == 1


def test_cancelled_dispatch_reconciled_next_run(journal: Journal) -> None:
    """Cancelling dispatch mid-send, as an unexpected error does, loses no row."""
    api = FakeApi(unique_emails=False)
    requests = [make_request(n, 100 + n % 3) for n in range(2, 32)]
    sync_requests(journal, requests)

    async def cancel_mid_send() -> None:
        task = asyncio.ensure_future(
            dispatch(
                requests,
                api=api,
                journal=journal,
                send=SendSettings(),
                max_concurrency=2,
                max_attempts=3,
                stop=StopToken(),
            )
        )
        # The first bulk create reaches the store, then the task is cancelled at
        # its next await, as an unexpected error in another worker would do.
        api.before_create = lambda bodies: task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(cancel_mid_send())
    assert journal.counts().get(IN_FLIGHT, 0) > 0

    run_dispatch(requests, api, journal)

    assert journal.counts() == {"created": 30}
    assert api.duplicates() == {}
