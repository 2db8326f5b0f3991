"""The sandbox's request handling, apart from the HTTP transport.

``SandboxApp.handle`` turns one ``ApiRequest`` into a ``Reply``. For an API request
the steps run in this order, as a proxy in front of B2B Edition would: the limit on
requests in progress, the request limit per window, injected faults before handling,
authentication, then the endpoint. Injected faults after a create (drop the
connection, respond late) are part of the ``Reply``, which the transport carries out.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from provisioner.sandbox import endpoints, render
from provisioner.sandbox.admin import handle_admin
from provisioner.sandbox.endpoints import PARAMETER_ERROR
from provisioner.sandbox.limits import (
    ConcurrencyGate,
    RateWindow,
    WindowState,
    budget_headers,
    too_many_requests_headers,
)
from provisioner.sandbox.messages import ApiRequest, BadParameter, Reply, json_reply
from provisioner.sandbox.openapi import check_dependencies
from provisioner.sandbox.options import STARTUP_ONLY, SandboxOptions
from provisioner.sandbox.seed import load_seed
from provisioner.sandbox.state import CreateResult, SandboxStore
from provisioner.sandbox.validation import flatten

ADMIN_PREFIX = "/__sandbox"
UNAUTHORIZED = "Invalid token header. No credentials provided."
TOO_MANY_REQUESTS = "Too many requests; wait for the rate-limit window to reset."
LOGICAL_ERROR = "Processing data contains logical errors"

# Django's plain page for an unhandled error, which a wrong store hash produces.
SERVER_ERROR_PAGE = (
    b"<!doctype html>\n<html><body><h1>Server Error (500)</h1></body></html>\n"
)
GATEWAY_PAGES = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}


@dataclass(slots=True)
class Stats:
    requests: int = 0
    rate_limited: int = 0
    concurrency_limited: int = 0
    email_conflicts: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "rateLimited": self.rate_limited,
            "concurrencyLimited": self.concurrency_limited,
            "emailConflicts": self.email_conflicts,
            "byStatus": {
                str(status): count for status, count in sorted(self.by_status.items())
            },
            "faults": dict(self.faults),
        }


@dataclass(frozen=True, slots=True)
class FaultDraw:
    """The faults drawn for one request; drawn in full so runs repeat exactly."""

    error_5xx: int | None
    reset_before: bool
    drop_after_create: bool
    slow_after_create: bool


class SandboxApp:
    """The sandbox store behind the B2B API and the admin endpoints."""

    def __init__(self, options: SandboxOptions) -> None:
        if options.strict_requests:
            check_dependencies()
        self._lock = threading.Lock()
        self.options = options
        self.token: str | None = options.token
        self.seed = load_seed(options.seed)
        self.store = SandboxStore(self.seed)
        self.window = RateWindow(options.request_limit, options.window_seconds)
        self.gate = ConcurrencyGate(options.max_concurrent)
        self.stats = Stats()
        self._random = random.Random(options.fault_seed)

    # Options and admin actions

    def set_options(self, changes: Mapping[str, Any]) -> SandboxOptions:
        """Apply ``changes`` at runtime; on ValueError nothing changes."""
        fixed = sorted(STARTUP_ONLY & set(changes))
        if fixed:
            raise ValueError(
                f"{', '.join(fixed)} can only be set when the sandbox starts; "
                "stop it and start a new one."
            )
        with self._lock:
            updated = self.options.with_changes(changes)
            if updated.strict_requests:
                check_dependencies()
            self.options = updated
            if "token" in changes:
                self.token = updated.token
            if "fault_seed" in changes:
                self._random = random.Random(updated.fault_seed)
        self.window.configure(updated.request_limit, updated.window_seconds)
        self.gate.maximum = updated.max_concurrent
        return updated

    def stats_json(self) -> dict[str, Any]:
        with self._lock:
            return self.stats.as_json()

    def set_token(self, token: str | None) -> None:
        """Accept ``token`` from now on; None accepts no token at all."""
        with self._lock:
            self.token = token

    def reset(self) -> None:
        """Go back to the seed: forget created users, counters and the rate window."""
        with self._lock:
            self.store = SandboxStore(self.seed)
            self.stats = Stats()
            self._random = random.Random(self.options.fault_seed)
        self.window.reset()

    # Requests

    def handle(self, request: ApiRequest, *, admitted: bool = True) -> Reply:
        """Handle one request; ``admitted`` is False when too many are in progress."""
        if request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/"):
            return handle_admin(self, request)
        reply = self._handle_api(request, admitted)
        with self._lock:
            self.stats.requests += 1
            if reply.action in ("respond", "slow"):
                self.stats.by_status[reply.status] += 1
            if reply.status == 429:
                self.stats.rate_limited += 1
            if reply.fault is not None:
                self.stats.faults[reply.fault] += 1
        return reply

    def _handle_api(self, request: ApiRequest, admitted: bool) -> Reply:
        options = self.options
        if not admitted:
            with self._lock:
                self.stats.concurrency_limited += 1
            return self._too_many(options, wait_seconds=1.0, state=None)

        state = self.window.acquire()
        if not state.allowed:
            return self._too_many(options, wait_seconds=state.resets_after, state=state)
        headers = budget_headers(state)

        route = endpoints.match(request.method, request.path)
        is_create = route is not None and route[0] in endpoints.CREATE_HANDLERS
        faults = (
            self._draw_faults(options)
            if is_create or (options.faults_on_reads and request.method == "GET")
            else None
        )
        if faults is not None and faults.error_5xx is not None:
            return _server_error(faults.error_5xx, headers)
        if faults is not None and faults.reset_before:
            return Reply(0, action="reset", fault="reset_before")

        auth_problem = self._check_auth(request, headers, route)
        if auth_problem is not None:
            return auth_problem
        if route is None:
            return self._no_route(request, headers)

        handler, path_args = route
        query = parse_qs(request.query, keep_blank_values=True)
        if options.strict_requests:
            rejected = _strict_check(request, headers)
            if rejected is not None:
                return rejected
        try:
            reply = handler(self, request, query, path_args)
        except BadParameter as exc:
            reply = json_reply(
                422,
                render.error_envelope(422, {exc.name: [exc.message]}, PARAMETER_ERROR),
            )
        reply.headers.update(headers)
        if faults is not None and reply.created > 0:
            if faults.drop_after_create:
                return Reply(0, action="close", fault="drop_after_create")
            if faults.slow_after_create:
                reply.action = "slow"
                reply.delay_seconds = options.slow_seconds
                reply.fault = "slow_after_create"
        return reply

    def _too_many(
        self, options: SandboxOptions, *, wait_seconds: float, state: WindowState | None
    ) -> Reply:
        if state is None:
            state = WindowState(
                allowed=False,
                limit=options.request_limit,
                remaining=0,
                window_seconds=options.window_seconds,
                resets_after=wait_seconds,
            )
        headers = too_many_requests_headers(options.rate_headers, state, wait_seconds)
        body = render.error_envelope(429, TOO_MANY_REQUESTS, "Too Many Requests")
        return json_reply(429, body, headers)

    def _draw_faults(self, options: SandboxOptions) -> FaultDraw:
        with self._lock:
            draws = [self._random.random() for _ in range(4)]
            status = self._random.choice((500, 502, 503, 504))
        return FaultDraw(
            error_5xx=status if draws[0] < options.error_5xx_before else None,
            reset_before=draws[1] < options.reset_before,
            drop_after_create=draws[2] < options.drop_after_create,
            slow_after_create=draws[3] < options.slow_after_create,
        )

    def _check_auth(
        self, request: ApiRequest, headers: dict[str, str], route: Any
    ) -> Reply | None:
        token = request.headers.get("x-auth-token")
        if self.token is None or token != self.token:
            if route is not None and route[0] in endpoints.ENVELOPE_FREE:
                return json_reply(401, {"code": 401, "message": UNAUTHORIZED}, headers)
            body = render.error_envelope(401, UNAUTHORIZED, "Unauthorized")
            return json_reply(401, body, headers)
        if request.headers.get("x-store-hash") != self.options.store_hash:
            # B2B Edition responds to a missing or wrong store hash with a server error
            # whose shape is not documented; Django's plain error page is one such.
            return Reply(
                500,
                SERVER_ERROR_PAGE,
                content_type="text/html; charset=utf-8",
                headers=dict(headers),
            )
        return None

    def _no_route(self, request: ApiRequest, headers: dict[str, str]) -> Reply:
        if endpoints.path_is_known(request.path):
            message = f'Method "{request.method}" not allowed.'
            return json_reply(
                405, render.error_envelope(405, message, "Method Not Allowed"), headers
            )
        return json_reply(
            404, render.error_envelope(404, "Not found.", "Not Found"), headers
        )

    # Request bodies

    def read_json(self, request: ApiRequest) -> Any | Reply:
        """Return the parsed body, or the 415 or 400 reply that rejects it."""
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            media_label = media_type or "(none)"
            message = f'Unsupported media type "{media_label}" in request.'
            return json_reply(
                415, render.error_envelope(415, message, "Unsupported Media Type")
            )
        try:
            return json.loads(request.body.decode("utf-8"))
        except UnicodeDecodeError:
            message = "JSON parse error - the body is not UTF-8."
        except json.JSONDecodeError as exc:
            message = f"JSON parse error - {exc}"
        return json_reply(400, render.error_envelope(400, message, "Bad Request"))

    def create_reply(self, result: CreateResult, *, bulk: bool) -> Reply:
        """Build the response to a create request from what the store did."""
        options = self.options
        conflicts = sum(
            1
            for item in result.errors
            if item.error.legacy_detail == "email is existed"
        )
        with self._lock:
            self.stats.email_conflicts += conflicts
        if result.errors and (not bulk or options.bulk_failure_mode == "atomic"):
            err_msg = result.errors[0].error.err_msg
            message = LOGICAL_ERROR if isinstance(err_msg, str) else PARAMETER_ERROR
            return json_reply(422, render.error_envelope(422, err_msg, message))

        ids = [
            {"userId": user.user_id, "bcId": user.customer_id}
            for _, user in result.created
        ]
        if result.errors:
            # The older documentation's per-item errors, with the ids of the users
            # that were created anyway.
            errors = [
                {
                    "index": item.index,
                    "email": item.error.email,
                    "_detail": item.error.legacy_detail,
                    "errMsg": flatten(item.error.err_msg),
                }
                for item in result.errors
            ]
            data = {"errors": errors, "users": ids}
            reply = json_reply(422, render.envelope(422, data, LOGICAL_ERROR))
        elif not bulk:
            reply = json_reply(
                200, render.envelope(200, ids[0], render.success_message())
            )
        else:
            if options.bulk_result_order == "shuffled":
                with self._lock:
                    self._random.shuffle(ids)
            reply = json_reply(200, render.envelope(200, ids, render.success_message()))
        reply.created = len(result.created)
        return reply


def _strict_check(request: ApiRequest, headers: dict[str, str]) -> Reply | None:
    """Return a 400 reply if ``request`` does not match the OpenAPI description."""
    from provisioner.sandbox.openapi import request_problems

    problems = request_problems(request)
    if not problems:
        return None
    message = "The request does not match the OpenAPI description: " + " ".join(
        problems
    )
    return json_reply(400, render.error_envelope(400, message, "Bad Request"), headers)


def _server_error(status: int, headers: dict[str, str]) -> Reply:
    if status == 500:
        body = render.error_envelope(
            500, "Internal Server Error", "Internal Server Error"
        )
        reply = json_reply(500, body, headers)
    else:
        title = GATEWAY_PAGES[status]
        page = (
            f"<html><head><title>{title}</title></head>"
            f"<body><h1>{title}</h1></body></html>\n"
        )
        reply = Reply(
            status,
            page.encode(),
            content_type="text/html; charset=utf-8",
            headers=headers,
        )
    reply.fault = "error_5xx_before"
    return reply
