"""Fixtures for the dispatch tests: a journal in a temporary folder, and rows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from provisioner.config import SendSettings
from provisioner.dispatch import DispatchSummary, StopToken, dispatch
from provisioner.journal import Journal
from provisioner.model import RowOutcome, RowResult, SourceRow, UserRequest

from .fake_api import FakeApi


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path / "job" / "journal.sqlite") as opened:
        yield opened


def make_request(
    row_number: int, company_id: int = 101, email: str = ""
) -> UserRequest:
    """Build a valid request for row ``row_number``; the email derives from it."""
    address = email or f"user{row_number}@example.com"
    body = {
        "companyId": company_id,
        "email": address,
        "firstName": "Ann",
        "lastName": f"Lee{row_number}",
        "role": 2,
        "channelIds": [1],
    }
    return UserRequest(
        row_number=row_number, email=address, company_id=company_id, body=body
    )


def run_dispatch(
    requests: Sequence[UserRequest],
    api: FakeApi,
    journal: Journal,
    *,
    mode: str = "bulk",
    order: str = "verify",
    bulk_size: int = 10,
    max_concurrency: int = 2,
    max_attempts: int = 3,
    stop: StopToken | None = None,
    on_outcome: Callable[[RowOutcome], None] | None = None,
) -> DispatchSummary:
    """Run one dispatch to the end in a fresh event loop."""
    send = SendSettings(mode=mode, bulk_size=bulk_size, bulk_result_order=order)
    return asyncio.run(
        dispatch(
            requests,
            api=api,
            journal=journal,
            send=send,
            max_concurrency=max_concurrency,
            max_attempts=max_attempts,
            stop=stop or StopToken(),
            on_outcome=on_outcome,
        )
    )


def status_of(journal: Journal, row_number: int) -> str:
    row = journal.row(row_number)
    assert row is not None, f"row {row_number} is not in the journal"
    return row.status


def sync_requests(journal: Journal, requests: Sequence[UserRequest]) -> None:
    """Record the requests as this run's valid rows, as the runner does."""
    journal.sync(
        [
            RowResult(row=SourceRow(row_number=r.row_number, cells=()), request=r)
            for r in requests
        ]
    )


def assert_ids_match_store(journal: Journal, api: FakeApi) -> None:
    """Every created row carries the ids of the user with its email."""
    for row in journal.rows({"created"}):
        assert row.email is not None
        (user,) = api.users_with(row.email)
        assert row.user_id == user.user_id, f"row {row.row_number} has another's id"
        assert row.bc_id == user.bc_id, f"row {row.row_number} has another's bcId"
