"""The HTTP client for the B2B Edition Management API v3.

``B2BClient`` implements ``provisioner.api.types.B2BApi`` over one
``httpx.AsyncClient``; every send, resends included, goes through the run's
``Pacer``. The retry policy follows from the API having no idempotency key:

- not sent (``ConnectError``, ``ConnectTimeout``, ``PoolTimeout``, ``ProxyError``):
  resent after an exponential backoff with jitter, at most ``max_attempts`` sends,
  then ``TransientApiError``;
- sent, but no usable response (a read or write timeout, a dropped connection, any 5xx
  but 507, a 2xx body that is not JSON): a create raises ``OutcomeUnknownError`` at
  once. It is never resent here, because the caller must look the email up first.
  A read is resent like a send that failed to connect;
- 429: nothing was processed, so the same request is resent after the wait the
  response requests, without counting as an attempt. The wait pauses every sender
  (``Pacer.pause_for``); the waits of one request add up to at most
  ``max_rate_wait_seconds``, then ``TransientApiError``;
- 401 and 403: ``AuthError`` at once (``GET /channels`` returns 403 on a store
  without multi-storefront, which ``list_channels`` returns as None);
- 507 (the store reached a resource limit): ``TransientApiError`` at once, because
  a resend within seconds cannot succeed. 507 means the server could not store what
  the request needed, so a create is taken as not made (the API does not document
  its 507 further);
- other 4xx: ``RejectedError`` with the API's message, never resent.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeVar

import httpx
import structlog

from provisioner.api.error_responses import (
    bulk_created_ids,
    bulk_item_errors,
    error_text,
    flatten_err_msg,
)
from provisioner.api.pacing import Pacer, rate_limit_wait, retry_after_seconds
from provisioner.api.records import (
    MalformedError,
    envelope_data,
    parse_channel,
    parse_company,
    parse_created_ids,
    parse_extra_field,
    parse_page,
    parse_role,
    parse_user_record,
    total_count,
)
from provisioner.api.types import (
    Channel,
    Company,
    CreatedIds,
    ExtraFieldDef,
    Page,
    RequestStats,
    Role,
    UserRecord,
)
from provisioner.config import DEFAULT_MAX_RATE_WAIT_SECONDS, Config, Secret
from provisioner.config import check_base_url as _check_base_url
from provisioner.errors import (
    AuthError,
    ConfigError,
    OutcomeUnknownError,
    RejectedError,
    TransientApiError,
)

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_MAX_SECONDS",
    "MAX_PAGES",
    "NOT_JSON",
    "PAGE_LIMIT",
    "B2BClient",
    "bulk_created_ids",
    "bulk_item_errors",
    "error_text",
    "flatten_err_msg",
]

log = structlog.get_logger(__name__)

T = TypeVar("T")
Method = Literal["GET", "POST"]

#: Page size for the read methods that collect every item. The API allows 1 to 250.
PAGE_LIMIT: Final = 250
#: Pages a collecting read fetches before it gives up on a list that never ends.
MAX_PAGES: Final = 400
#: The first backoff after a failed send, in seconds. It doubles with each attempt.
BACKOFF_BASE_SECONDS: Final = 1.0
#: The maximum backoff between two sends, in seconds.
BACKOFF_MAX_SECONDS: Final = 60.0

# Errors raised before the request left this process, so a resend cannot duplicate.
_NOT_SENT_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
)
# Errors where no request could be built, so a resend cannot help.
_UNSENDABLE_ERRORS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


class _TokenAuth(httpx.Auth):
    """An auth flow that sets ``X-Auth-Token`` on each request.

    The client's default headers then never contain the token, so a repr of them
    cannot show it.
    """

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Auth-Token"] = self._token.reveal()
        yield request

    def __repr__(self) -> str:
        return "_TokenAuth([secure])"


class _NotJson:
    """The body of a response that is not JSON."""


NOT_JSON: Final = _NotJson()


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    payload: Any
    headers: httpx.Headers


@dataclass(frozen=True, slots=True)
class _Failure:
    """A failed send; ``sent`` is True when the request may have reached the server."""

    description: str
    sent: bool
    status: int | None = None
    cause: Exception | None = None
    retry_after: float | None = None
    """Seconds from the ``Retry-After`` header of a 5xx response, if it had one."""


class B2BClient:
    """The B2B Edition API over HTTP, paced, with the retry policy of this module.

    Use it as ``async with B2BClient(...) as api:`` inside the running event loop:
    entering creates the one ``httpx.AsyncClient`` of the run and leaving closes it.
    ``max_connections`` must be at least the pacer's ``max_concurrency``, so a
    request admitted by the pacer never waits for a pooled connection.
    """

    def __init__(
        self,
        *,
        base_url: str,
        store_hash: str,
        token: Secret,
        pacer: Pacer,
        timeouts: httpx.Timeout,
        max_connections: int,
        max_attempts: int,
        user_agent: str,
        verify_tls: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        max_rate_wait_seconds: float = DEFAULT_MAX_RATE_WAIT_SECONDS,
        rng: random.Random | None = None,
        backoff_base_seconds: float = BACKOFF_BASE_SECONDS,
    ) -> None:
        problems = _check_base_url(base_url)
        if not store_hash.strip():
            problems.append(
                "api.store_hash is empty; set it in the configuration or in "
                "PROVISIONER_STORE_HASH."
            )
        if not token:
            problems.append("The API token is empty; set PROVISIONER_AUTH_TOKEN.")
        if problems:
            raise ConfigError(" ".join(problems))
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        if max_connections < pacer.max_concurrency:
            raise ValueError(
                f"max_connections ({max_connections}) must be at least the pacer's "
                f"max_concurrency ({pacer.max_concurrency})"
            )

        self.base_url = base_url.rstrip("/")
        self.store_hash = store_hash
        self.pacer = pacer
        self.stats = RequestStats()
        self.max_attempts = max_attempts
        self.max_rate_wait_seconds = max_rate_wait_seconds
        self._token = token
        self._timeouts = timeouts
        self._max_connections = max_connections
        self._user_agent = user_agent
        self._verify_tls = verify_tls
        self._transport = transport
        self._rng = rng or random.Random()
        self._backoff_base_seconds = backoff_base_seconds
        self._http: httpx.AsyncClient | None = None

        if not verify_tls:
            log.warning(
                "tls_verification_disabled",
                base_url=self.base_url,
                hint="the API token travels to a server whose identity is not checked",
            )

    @classmethod
    def from_config(
        cls,
        config: Config,
        token: Secret,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        pacer: Pacer | None = None,
    ) -> B2BClient:
        """Build a client, and its pacer unless one is given, from the settings."""
        rate = config.rate
        if pacer is None:
            pacer = Pacer(
                requests_per_minute=rate.requests_per_minute,
                store_limit_per_minute=rate.store_limit_per_minute,
                max_concurrency=rate.max_concurrency,
            )
        timeouts = httpx.Timeout(
            connect=config.api.connect_timeout_seconds,
            read=config.api.read_timeout_seconds,
            write=config.api.read_timeout_seconds,
            # The pacer admits no more requests than there are connections, so a
            # pool wait is short. A PoolTimeout is resent because nothing was sent.
            pool=config.api.read_timeout_seconds,
        )
        return cls(
            base_url=config.api.base_url,
            store_hash=config.api.store_hash,
            token=token,
            pacer=pacer,
            timeouts=timeouts,
            max_connections=max(rate.max_concurrency, pacer.max_concurrency),
            max_attempts=rate.max_attempts,
            user_agent=config.api.user_agent,
            verify_tls=config.api.verify_tls,
            transport=transport,
            max_rate_wait_seconds=rate.max_rate_wait_seconds,
        )

    def __repr__(self) -> str:
        return (
            f"B2BClient(base_url={self.base_url!r}, store_hash={self.store_hash!r}, "
            "token=[secure])"
        )

    async def __aenter__(self) -> Self:
        if self._http is not None:
            raise RuntimeError("B2BClient is already open")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "X-Store-Hash": self.store_hash,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": self._user_agent,
            },
            auth=_TokenAuth(self._token),
            timeout=self._timeouts,
            limits=httpx.Limits(
                max_connections=self._max_connections,
                max_keepalive_connections=self._max_connections,
            ),
            verify=self._verify_tls,
            transport=self._transport,
            follow_redirects=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    # Creates

    async def create_user(self, body: dict[str, Any]) -> CreatedIds:
        reply = await self._create("/users", "POST /users", body)
        data = envelope_data(reply.payload)
        try:
            return parse_created_ids(data)
        except MalformedError as exc:
            raise OutcomeUnknownError(
                f"POST /users returned HTTP {reply.status} without the new user's ids "
                f"({exc}); the user may have been created. Look the email up before "
                "sending it again.",
                status=reply.status,
            ) from None

    async def create_users_bulk(
        self, bodies: Sequence[dict[str, Any]]
    ) -> list[CreatedIds]:
        """Create up to ten users in one request; see ``bulk_item_errors`` on a 422.

        The response's order is not documented to follow the input, and its items carry
        no email: callers that need to know which id is whose look the emails up.
        """
        if not bodies:
            return []
        reply = await self._create("/users/bulk", "POST /users/bulk", list(bodies))
        data = envelope_data(reply.payload)
        try:
            if not isinstance(data, list):
                raise MalformedError("data is not a list")
            created = [parse_created_ids(item) for item in data]
        except MalformedError as exc:
            raise OutcomeUnknownError(
                f"POST /users/bulk returned HTTP {reply.status} without the new users' "
                f"ids ({exc}); some users may have been created. Look the emails up "
                "before sending them again.",
                status=reply.status,
            ) from None
        if len(created) != len(bodies):
            log.warning(
                "bulk_result_count_mismatch", sent=len(bodies), returned=len(created)
            )
        return created

    # Reads

    async def find_user_by_email(self, email: str) -> UserRecord | None:
        """Look a user up by exact email; the comparison ignores case.

        The API's ``email`` filter is an exact match whose case handling is not
        documented, so a mixed-case email that finds nothing is tried in lower case.
        """
        expected_email = email.strip().casefold()
        candidates = [email.strip()]
        if candidates[0].lower() != candidates[0]:
            candidates.append(candidates[0].lower())
        for candidate in candidates:
            page = await self._get_page(
                "/users",
                "GET /users",
                {"email": candidate, "offset": 0, "limit": 10},
                parse_user_record,
            )
            for user in page.items:
                if user.email.strip().casefold() == expected_email:
                    return user
        return None

    async def get_user(self, user_id: int) -> UserRecord | None:
        return await self._get_one(
            f"/users/{int(user_id)}", "GET /users/{id}", parse_user_record
        )

    async def list_users(
        self, *, company_id: int | None = None, offset: int = 0, limit: int = 250
    ) -> Page[UserRecord]:
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if company_id is not None:
            params["companyId"] = company_id
        return await self._get_page("/users", "GET /users", params, parse_user_record)

    async def list_companies(
        self, *, q: str | None = None, offset: int = 0, limit: int = 250
    ) -> Page[Company]:
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if q is not None:
            params["q"] = q
        return await self._get_page(
            "/companies", "GET /companies", params, parse_company
        )

    async def get_company(self, company_id: int) -> Company | None:
        return await self._get_one(
            f"/companies/{int(company_id)}", "GET /companies/{id}", parse_company
        )

    async def list_roles(self, *, q: str | None = None) -> list[Role]:
        """Return every store-level role; ``q`` also matches parts of names."""
        params: dict[str, Any] = {} if q is None else {"q": q}
        return await self._collect(
            "/companies/roles", "GET /companies/roles", params, parse_role
        )

    async def list_channels(self) -> list[Channel] | None:
        """Return the store's channels, or None on a single-storefront store (403)."""
        endpoint = "GET /channels"
        reply = await self._read("/channels", endpoint, {}, allowed=(403,))
        if reply.status == 403:
            message, _ = error_text(reply.payload)
            if "storefront" not in message.casefold():
                # NOTE: a 403 here is taken to mean a single-storefront store, as
                # the API documents. A token without the B2B scope is found by the
                # first create, which returns 403 too.
                log.warning("channels_forbidden", endpoint=endpoint, message=message)
            return None
        return await self._collect_from(
            "/channels", endpoint, {}, parse_channel, reply, paged=False
        )

    async def list_extra_fields(self) -> list[ExtraFieldDef]:
        return await self._collect(
            "/users/extra-fields", "GET /users/extra-fields", {}, parse_extra_field
        )

    # Read helpers

    async def _get_one(
        self, path: str, endpoint: str, parse: Callable[[Any], T]
    ) -> T | None:
        reply = await self._read(path, endpoint, {}, allowed=(404,))
        if reply.status == 404:
            return None
        with _reading(endpoint):
            return parse(envelope_data(reply.payload))

    async def _get_page(
        self,
        path: str,
        endpoint: str,
        params: dict[str, Any],
        parse: Callable[[Any], T],
    ) -> Page[T]:
        reply = await self._read(path, endpoint, params)
        with _reading(endpoint):
            return parse_page(reply.payload, params, parse)

    async def _collect(
        self,
        path: str,
        endpoint: str,
        params: dict[str, Any],
        parse: Callable[[Any], T],
    ) -> list[T]:
        first_params = {**params, "offset": 0, "limit": PAGE_LIMIT}
        reply = await self._read(path, endpoint, first_params)
        return await self._collect_from(
            path, endpoint, params, parse, reply, paged=True
        )

    async def _collect_from(
        self,
        path: str,
        endpoint: str,
        params: dict[str, Any],
        parse: Callable[[Any], T],
        first: _Reply,
        *,
        paged: bool,
    ) -> list[T]:
        """Gather the items of ``first`` and of every later page, by offset.

        A page with ``meta.pagination.totalCount`` sets where to stop. Without it,
        a short page ends a ``paged`` list and the first page is the whole of any
        other list.
        """
        items: list[T] = []
        reply = first
        for _ in range(MAX_PAGES):
            offset = len(items)
            page_params = {**params, "offset": offset, "limit": PAGE_LIMIT}
            with _reading(endpoint):
                page = parse_page(reply.payload, page_params, parse)
            items.extend(page.items)
            total = total_count(reply.payload)
            if not page.items:
                return items
            if total is not None and len(items) >= total:
                return items
            if total is None and (not paged or len(page.items) < PAGE_LIMIT):
                return items
            next_params = {**params, "offset": len(items), "limit": PAGE_LIMIT}
            reply = await self._read(path, endpoint, next_params)
        raise TransientApiError(
            f"{endpoint} returned more than {MAX_PAGES} pages, so the list does not "
            "end. Check that api.base_url points at the B2B Edition API v3."
        )

    # Sending

    async def _create(self, path: str, endpoint: str, body: Any) -> _Reply:
        reply = await self._send("POST", path, endpoint, json_body=body)
        return self._check(reply, endpoint)

    async def _read(
        self,
        path: str,
        endpoint: str,
        params: Mapping[str, Any],
        *,
        allowed: tuple[int, ...] = (),
    ) -> _Reply:
        reply = await self._send("GET", path, endpoint, params=params)
        if reply.status in allowed:
            return reply
        return self._check(reply, endpoint)

    async def _send(
        self,
        method: Method,
        path: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> _Reply:
        """Send until a response that is not a 429 or a retryable failure comes back."""
        http = self._require_open()
        is_create = method == "POST"
        attempt = 1
        rate_limited_in_a_row = 0
        rate_waited = 0.0

        while True:
            result = await self._send_once(
                http, method, path, endpoint, params, json_body
            )
            if isinstance(result, _Reply):
                status = _effective_status(result)
                if status == 429:
                    rate_limited_in_a_row += 1
                    wait = self._rate_wait(
                        endpoint,
                        result.headers,
                        rate_limited_in_a_row,
                        rate_waited,
                        attempt,
                    )
                    rate_waited += wait
                    self.pacer.pause_for(wait)
                    continue
                failure = _server_failure(result, status)
                if failure is None:
                    return result
            else:
                failure = result

            if failure.sent and is_create:
                raise self._outcome_unknown(
                    endpoint, failure.description, status=failure.status
                ) from failure.cause
            if attempt >= self.max_attempts:
                raise self._retries_used_up(
                    endpoint, attempt, failure
                ) from failure.cause
            await self._back_off(
                endpoint, attempt, failure.description, failure.retry_after
            )
            attempt += 1

    async def _send_once(
        self,
        http: httpx.AsyncClient,
        method: Method,
        path: str,
        endpoint: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
    ) -> _Reply | _Failure:
        """Send once through the pacer; return the response or the network failure."""
        try:
            async with self.pacer.slot():
                self._count(endpoint)
                response = await http.request(
                    method, path, params=params, json=json_body
                )
        except _UNSENDABLE_ERRORS as exc:
            raise TransientApiError(
                f"{endpoint} could not be sent: {exc}. Check api.base_url."
            ) from exc
        except _NOT_SENT_ERRORS as exc:
            return _Failure(f"{type(exc).__name__}: {exc}", sent=False, cause=exc)
        except httpx.RequestError as exc:
            return _Failure(type(exc).__name__, sent=True, cause=exc)

        self.pacer.observe(response.status_code, response.headers)
        return _Reply(response.status_code, _json_or_marker(response), response.headers)

    def _rate_wait(
        self,
        endpoint: str,
        headers: httpx.Headers,
        in_a_row: int,
        waited: float,
        attempt: int,
    ) -> float:
        """Choose the wait after a 429, or raise when the request has waited too long.

        The response's headers set the wait. A repeated 429 for the same request
        waits at least the exponential backoff, and so does a 429 without headers.
        """
        self.stats.rate_limited += 1
        requested = rate_limit_wait(headers)
        if requested is None:
            wait, source = self._backoff_seconds(in_a_row), "backoff"
        elif in_a_row > 1:
            wait = max(requested[0], self._backoff_seconds(in_a_row))
            source = requested[1]
        else:
            wait, source = requested

        if waited + wait > self.max_rate_wait_seconds:
            raise TransientApiError(
                f"{endpoint} is still rate limited (HTTP 429) after {waited:.0f} s of "
                f"waiting; the next wait of {wait:.0f} s would pass the limit of "
                f"{self.max_rate_wait_seconds:.0f} s (rate.max_rate_wait_seconds). "
                "Other integrations may be using the store's quota; run again later.",
                status=429,
            )
        log.warning(
            "rate_limited",
            endpoint=endpoint,
            attempt=attempt,
            rate_limited_in_a_row=in_a_row,
            wait_seconds=round(wait, 3),
            source=source,
        )
        return wait

    async def _back_off(
        self,
        endpoint: str,
        attempt: int,
        failure: str,
        retry_after: float | None = None,
    ) -> None:
        """Wait before the next attempt: the backoff, or longer on request.

        A ``Retry-After`` on a 5xx lengthens the wait up to ``BACKOFF_MAX_SECONDS``.
        """
        wait = self._backoff_seconds(attempt)
        if retry_after is not None:
            wait = min(BACKOFF_MAX_SECONDS, max(wait, retry_after))
        self.stats.retries += 1
        log.warning(
            "api_retry",
            endpoint=endpoint,
            attempt=attempt,
            max_attempts=self.max_attempts,
            wait_seconds=round(wait, 3),
            error=failure,
        )
        await self.pacer.wait(wait)

    def _backoff_seconds(self, attempt: int) -> float:
        """Return the exponential backoff for ``attempt`` (1-based), with jitter.

        The jitter draws between half and all of the exponential value, so
        senders that failed together do not come back together.
        """
        exponential = self._backoff_base_seconds * 2.0 ** (attempt - 1)
        ceiling = min(BACKOFF_MAX_SECONDS, exponential)
        jitter: float = self._rng.uniform(0.5, 1.0)
        return ceiling * jitter

    def _check(self, reply: _Reply, endpoint: str) -> _Reply:
        """Return a 2xx reply; raise the error that any other status maps to."""
        status = _effective_status(reply)
        if 200 <= status < 300:
            return reply
        message, field_errors = error_text(reply.payload)
        if status == 401:
            raise AuthError(
                f"{endpoint}: the API rejected the credentials (HTTP 401"
                f"{_quoted(message)}). Check the token in PROVISIONER_AUTH_TOKEN and "
                "api.store_hash.",
                status=status,
            )
        if status == 403:
            raise AuthError(
                f"{endpoint}: the API denied access (HTTP 403{_quoted(message)}). "
                "The token needs the B2B Edition scope set to modify.",
                status=status,
            )
        if status == 507:
            raise TransientApiError(
                f"{endpoint}: the store reached a resource limit (HTTP 507"
                f"{_quoted(message)}). Free resources in the store or contact "
                "BigCommerce support, then run again.",
                status=status,
            )
        if 400 <= status < 500:
            text = message or f"the API rejected the request with HTTP {status}"
            raise RejectedError(
                text, status=status, field_errors=field_errors, body=reply.payload
            )
        raise TransientApiError(
            f"{endpoint}: unexpected HTTP {status}{_location(reply)}. "
            "Check api.base_url.",
            status=status,
        )

    def _retries_used_up(
        self, endpoint: str, attempt: int, failure: _Failure
    ) -> TransientApiError:
        if failure.sent:
            return TransientApiError(
                f"{endpoint} failed after {attempt} attempt(s): {failure.description}. "
                "Run again later.",
                status=failure.status,
            )
        return TransientApiError(
            f"{endpoint} failed: no connection to the API after {attempt} attempt(s) "
            f"({failure.description}). Check the network and api.base_url, then run "
            "again."
        )

    def _outcome_unknown(
        self, endpoint: str, failure: str, *, status: int | None = None
    ) -> OutcomeUnknownError:
        return OutcomeUnknownError(
            f"{endpoint} was sent but no usable response came back ({failure}); the "
            "user may have been created. Look the email up before sending it again.",
            status=status,
        )

    def _count(self, endpoint: str) -> None:
        self.stats.requests += 1
        self.stats.by_endpoint[endpoint] = self.stats.by_endpoint.get(endpoint, 0) + 1

    def _require_open(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("use B2BClient inside 'async with' before sending")
        return self._http


# Parsing responses


def _json_or_marker(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return NOT_JSON


def _effective_status(reply: _Reply) -> int:
    """Return the HTTP status, or the envelope's ``code`` if a 2xx carries an error."""
    if 200 <= reply.status < 300 and isinstance(reply.payload, Mapping):
        code = reply.payload.get("code")
        if isinstance(code, int) and not isinstance(code, bool) and code >= 400:
            return code
    return reply.status


def _server_failure(reply: _Reply, status: int) -> _Failure | None:
    """Return the failure a response shows after the request was sent, if any."""
    if status >= 500 and status != 507:
        return _Failure(
            f"HTTP {status}",
            sent=True,
            status=status,
            retry_after=retry_after_seconds(reply.headers),
        )
    if 200 <= status < 300 and reply.payload is NOT_JSON:
        return _Failure(
            f"HTTP {status} with a body that is not JSON", sent=True, status=status
        )
    return None


def _quoted(message: str) -> str:
    return f": {message}" if message else ""


def _location(reply: _Reply) -> str:
    target = reply.headers.get("Location")
    return f" redirecting to {target}" if target else ""


@contextmanager
def _reading(endpoint: str) -> Iterator[None]:
    """Turn a 2xx response of an unexpected shape into ``TransientApiError``."""
    try:
        yield
    except (MalformedError, KeyError, TypeError, ValueError) as exc:
        raise TransientApiError(
            f"{endpoint} returned a response of an unexpected shape "
            f"({type(exc).__name__}: {exc}). Check that api.base_url points at the "
            "B2B Edition API v3."
        ) from None
