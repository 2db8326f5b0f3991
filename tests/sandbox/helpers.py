"""Raw HTTP helpers for the sandbox tests: no provisioner client involved."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from provisioner.sandbox import RunningSandbox

AUTH_HEADERS = {"X-Auth-Token": "sandbox-token", "X-Store-Hash": "sandbox1"}

# Building an SSL context takes about 0.1 s; the sandbox speaks plain HTTP, so one
# shared context keeps each test's client cheap.
SHARED_SSL_CONTEXT = ssl.create_default_context()


def api_client(sandbox: RunningSandbox, *, timeout: float = 10.0) -> httpx.Client:
    """Return a client for ``sandbox.base_url`` that sends the sandbox credentials."""
    return httpx.Client(
        base_url=sandbox.base_url,
        headers=AUTH_HEADERS,
        timeout=timeout,
        verify=SHARED_SSL_CONTEXT,
    )


def new_user(email: str, **changes: Any) -> dict[str, Any]:
    """Return a valid create-user body for Acme Industrial, with ``changes`` applied."""
    body: dict[str, Any] = {
        "companyId": 101,
        "email": email,
        "firstName": "Ada",
        "lastName": "Lovelace",
        "role": 1,
        "channelIds": [1],
        "extraFields": [{"fieldName": "Cost Centre", "fieldValue": "ACME-OPS"}],
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}
