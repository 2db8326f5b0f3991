from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from provisioner.sandbox import RunningSandbox

from .helpers import api_client


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """A raw httpx client for the ``sandbox`` fixture, with its credentials."""
    with api_client(sandbox) as client:
        yield client
