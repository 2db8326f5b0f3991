from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox.helpers import api_client

from provisioner.sandbox import RunningSandbox


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """A raw httpx client for the ``sandbox`` fixture, with its credentials."""
    with api_client(sandbox) as client:
        yield client
