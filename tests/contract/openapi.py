"""Check requests and responses against BigCommerce's OpenAPI descriptions, in tests.

The descriptions and the corrections applied to them live in
``provisioner.sandbox.openapi``; this module gives tests two short calls:

    assert validate_request("POST", "/api/v3/io/users", body=body) == []
    assert validate_response(response) == []

Both return the problems as sentences. An operation that the descriptions do not
cover (``/companies``, ``/companies/roles``) raises ``NotDescribedError``, so a test
cannot pass by checking nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx

from provisioner.sandbox.openapi import SpecCheck, check_request, check_response


class NotDescribedError(AssertionError):
    """The operation is not in BigCommerce's OpenAPI descriptions."""


def _problems(check: SpecCheck, operation: str) -> list[str]:
    if not check.described:
        raise NotDescribedError(f"{operation} is not described in the OpenAPI files.")
    return list(check.problems)


def validate_request(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: Mapping[str, Any] | None = None,
) -> list[str]:
    """Return how a request breaks its operation's request schema; [] when it fits.

    ``path`` starts with ``/api/v3/io``. Every violation counts, also those for which
    the API has its own 422 or 413.
    """
    return _problems(
        check_request(method, path, body=body, query=query), f"{method} {path}"
    )


def validate_response(response: httpx.Response) -> list[str]:
    """Return how an httpx response breaks its operation's response schema."""
    request = response.request
    path = request.url.path
    check = check_response(
        request.method,
        path,
        response.status_code,
        response.content,
        content_type=response.headers.get("content-type", "application/json"),
        query=dict(parse_qsl(request.url.query.decode())),
    )
    return _problems(check, f"{request.method} {path} {response.status_code}")
