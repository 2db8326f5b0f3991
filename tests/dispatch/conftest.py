"""Fixtures for the dispatch tests: a journal in a temporary folder, and rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.journal import Journal
from provisioner.model import UserRequest


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
