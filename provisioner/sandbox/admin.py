"""Admin endpoints under ``/__sandbox``: what tests read and change at runtime.

They need no authentication, so they serve only clients on a loopback address.

- ``GET /__sandbox/created``: every user created through the API, and
  ``counts``, a map from the casefolded email to how many times it was created.
- ``POST /__sandbox/token``: ``{"revoke": true}`` makes every token invalid;
  ``{"token": "new"}`` sets the accepted token.
- ``GET /__sandbox/options``: the current options (without the token).
  ``POST /__sandbox/options``: change options, for example
  ``{"reset_before": 0.1, "rate_headers": "core"}``.
- ``GET /__sandbox/stats``: requests served, 429s sent, statuses, faults injected.
- ``POST /__sandbox/reset``: go back to the seed and clear every counter.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from typing import TYPE_CHECKING, Any

from provisioner.sandbox.messages import ApiRequest, Reply, json_reply

if TYPE_CHECKING:
    from provisioner.sandbox.app import SandboxApp

ADMIN_PREFIX = "/__sandbox"


def options_json(app: SandboxApp) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in dataclasses.fields(app.options):
        if item.name == "token":
            continue
        value = getattr(app.options, item.name)
        data[item.name] = (
            str(value) if item.name == "seed" and value is not None else value
        )
    return data


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error(status: int, message: str) -> Reply:
    return json_reply(status, {"error": message})


def _read_object(request: ApiRequest) -> dict[str, Any] | Reply:
    try:
        body = json.loads(request.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _error(400, f"The body is not valid JSON: {exc}.")
    if not isinstance(body, dict):
        return _error(400, "The body must be a JSON object.")
    return body


def handle_admin(app: SandboxApp, request: ApiRequest) -> Reply:
    """Handle one admin request."""
    if not _is_loopback(request.client_host):
        return _error(403, "Admin endpoints serve loopback clients only.")
    action = request.path[len(ADMIN_PREFIX) :].strip("/")
    method = request.method

    if action == "created" and method == "GET":
        return json_reply(
            200,
            {"users": app.store.created_users(), "counts": app.store.created_counts()},
        )
    if action == "stats" and method == "GET":
        return json_reply(200, app.stats_json())
    if action == "options" and method == "GET":
        return json_reply(200, options_json(app))
    if action == "options" and method == "POST":
        return _set_options(app, request)
    if action == "token" and method == "POST":
        return _set_token(app, request)
    if action == "reset" and method == "POST":
        app.reset()
        return json_reply(200, {"reset": True})
    known = "created, stats, options, token, reset"
    return _error(404, f"No admin endpoint {method} {request.path}; known: {known}.")


def _set_options(app: SandboxApp, request: ApiRequest) -> Reply:
    body = _read_object(request)
    if isinstance(body, Reply):
        return body
    try:
        app.set_options(body)
    except (ValueError, TypeError) as exc:
        return _error(400, str(exc))
    return json_reply(200, options_json(app))


def _set_token(app: SandboxApp, request: ApiRequest) -> Reply:
    body = _read_object(request)
    if isinstance(body, Reply):
        return body
    if body.get("revoke") is True and "token" not in body:
        app.set_token(None)
        return json_reply(200, {"revoked": True})
    token = body.get("token")
    if isinstance(token, str) and token and "revoke" not in body:
        app.set_token(token)
        return json_reply(200, {"revoked": False})
    return _error(400, 'Send {"revoke": true} or {"token": "<new token>"}.')
