"""Options of the sandbox server: fixed at start, most of them changeable at runtime.

Every option is a field of the frozen ``SandboxOptions``. ``with_changes`` builds a
new value from a mapping (the JSON body of ``POST /__sandbox/options`` or the keyword
arguments of ``RunningSandbox.set_options``) and validates it in one pass, so a bad
change leaves the running sandbox as it was.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

RateHeaderMode = Literal["b2b", "core", "retry-after", "none"]
BulkFailureMode = Literal["atomic", "partial"]
BulkResultOrder = Literal["input", "shuffled"]

RATE_HEADER_MODES: tuple[RateHeaderMode, ...] = ("b2b", "core", "retry-after", "none")
BULK_FAILURE_MODES: tuple[BulkFailureMode, ...] = ("atomic", "partial")
BULK_RESULT_ORDERS: tuple[BulkResultOrder, ...] = ("input", "shuffled")

DEFAULT_SEED_PATH = Path(__file__).with_name("default_seed.json")

#: B2B Edition allows 150 requests per 60-second window per store.
DEFAULT_REQUEST_LIMIT = 150
DEFAULT_WINDOW_SECONDS = 60.0
DEFAULT_SLOW_SECONDS = 5.0

#: Options that take effect only when the server starts.
STARTUP_ONLY = frozenset({"host", "port", "seed"})

FAULT_FIELDS = (
    "error_5xx_before",
    "reset_before",
    "drop_after_create",
    "slow_after_create",
)


@dataclass(frozen=True, slots=True)
class SandboxOptions:
    """Settings of one sandbox server.

    Fault fields are probabilities from 0 to 1, drawn per request from a random
    generator seeded with ``fault_seed``, so a run with the same requests in the same
    order injects the same faults.
    """

    host: str = "127.0.0.1"
    port: int = 0
    """TCP port; 0 lets the operating system pick a free one."""
    token: str = field(default="sandbox-token", repr=False)
    """The value that ``X-Auth-Token`` must carry."""
    store_hash: str = "sandbox1"
    """The value that ``X-Store-Hash`` must carry."""
    seed: Path | None = None
    """A JSON or TOML seed file; None uses the packaged ``default_seed.json``."""

    request_limit: int = DEFAULT_REQUEST_LIMIT
    """Requests allowed per window, counted over every API request."""
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    rate_headers: RateHeaderMode = "b2b"
    """The style of the waiting hint that a 429 response carries."""
    max_concurrent: int | None = None
    """Requests in progress above this number get a 429; None means no limit."""

    bulk_failure_mode: BulkFailureMode = "atomic"
    """``atomic``: a batch with any bad item creates nothing. ``partial``: the valid
    items are created and the 422 lists the bad ones."""
    bulk_result_order: BulkResultOrder = "input"
    """Order of the ids in a bulk response: as sent, or shuffled."""

    error_5xx_before: float = 0.0
    """Probability of a 500, 502, 503 or 504 response before handling the request."""
    reset_before: float = 0.0
    """Probability of resetting the connection before handling the request."""
    drop_after_create: float = 0.0
    """Probability of creating the users, then closing without a response."""
    slow_after_create: float = 0.0
    """Probability of creating the users, then waiting ``slow_seconds`` to respond."""
    slow_seconds: float = DEFAULT_SLOW_SECONDS
    faults_on_reads: bool = False
    """Also inject the 5xx and reset faults into GET requests."""
    fault_seed: int = 0

    strict_requests: bool = False
    """Reject with 400 any API request that does not match the OpenAPI description."""
    unique_emails: bool = True
    """Reject an email that a B2B user already has, as the store does. Turn off to let
    duplicates through, so a test can see that a client would have made them."""
    log_requests: bool = False
    """Log one line per API request (method, path, status) to stderr."""

    def __post_init__(self) -> None:
        problems = option_problems(self)
        if problems:
            raise ValueError("Invalid sandbox options: " + " ".join(problems))

    def with_changes(self, changes: Mapping[str, Any]) -> SandboxOptions:
        """Return a copy with ``changes`` applied; raise ValueError if one is bad."""
        known = {item.name for item in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(
                f"Unknown sandbox option(s): {', '.join(unknown)}. "
                f"Known options: {', '.join(sorted(known))}."
            )
        converted = dict(changes)
        if isinstance(converted.get("seed"), str):
            converted["seed"] = Path(converted["seed"])
        return dataclasses.replace(self, **converted)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def option_problems(options: SandboxOptions) -> list[str]:
    """Return every problem of ``options`` as a sentence; empty when valid."""
    problems: list[str] = []
    if not isinstance(options.host, str) or not _is_loopback(options.host):
        problems.append(
            f"host = {options.host!r} is not a loopback address; the sandbox has "
            "admin endpoints without authentication, so use 127.0.0.1."
        )
    if not _is_int(options.port) or not 0 <= options.port <= 65535:
        problems.append(f"port = {options.port!r} must be an integer from 0 to 65535.")

    for name in ("token", "store_hash"):
        value = getattr(options, name)
        if not isinstance(value, str) or not value:
            problems.append(f"{name} must be a non-empty string.")
    if options.seed is not None and not isinstance(options.seed, Path):
        problems.append("seed must be a path to a JSON or TOML file.")

    if not _is_int(options.request_limit) or options.request_limit < 1:
        problems.append(
            f"request_limit = {options.request_limit!r} must be an integer of at "
            "least 1."
        )
    if not _is_number(options.window_seconds) or options.window_seconds <= 0:
        problems.append(
            f"window_seconds = {options.window_seconds!r} must be a number above 0."
        )
    if options.rate_headers not in RATE_HEADER_MODES:
        problems.append(
            f"rate_headers = {options.rate_headers!r} must be one of "
            f"{', '.join(RATE_HEADER_MODES)}."
        )
    if options.max_concurrent is not None and (
        not _is_int(options.max_concurrent) or options.max_concurrent < 1
    ):
        problems.append(
            f"max_concurrent = {options.max_concurrent!r} must be an integer of at "
            "least 1, or null for no limit."
        )

    if options.bulk_failure_mode not in BULK_FAILURE_MODES:
        problems.append(
            f"bulk_failure_mode = {options.bulk_failure_mode!r} must be "
            f"{' or '.join(BULK_FAILURE_MODES)}."
        )
    if options.bulk_result_order not in BULK_RESULT_ORDERS:
        problems.append(
            f"bulk_result_order = {options.bulk_result_order!r} must be "
            f"{' or '.join(BULK_RESULT_ORDERS)}."
        )

    for name in FAULT_FIELDS:
        value = getattr(options, name)
        if not _is_number(value) or not 0 <= value <= 1:
            problems.append(f"{name} = {value!r} must be a probability from 0 to 1.")
    if not _is_number(options.slow_seconds) or options.slow_seconds < 0:
        problems.append(
            f"slow_seconds = {options.slow_seconds!r} must be a number of at least 0."
        )
    if not _is_int(options.fault_seed):
        problems.append(f"fault_seed = {options.fault_seed!r} must be an integer.")

    for name in ("faults_on_reads", "strict_requests", "unique_emails", "log_requests"):
        if not isinstance(getattr(options, name), bool):
            problems.append(f"{name} must be true or false.")
    return problems
