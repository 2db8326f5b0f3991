"""B2BClient setup: configuration checks, the client's life cycle and token secrecy."""

from __future__ import annotations

import asyncio
import traceback
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from provisioner.api.client import B2BClient
from provisioner.api.pacing import Pacer
from provisioner.config import Config, Secret
from provisioner.errors import (
    AuthError,
    ConfigError,
    OutcomeUnknownError,
    RejectedError,
    TransientApiError,
)

from .helpers import (
    BASE_URL,
    TOKEN,
    FakeApi,
    FakeTime,
    error,
    make_client,
    make_pacer,
    ok,
)


def client_options(**changes: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "base_url": BASE_URL,
        "store_hash": "teststore1",
        "token": Secret(TOKEN),
        "pacer": make_pacer(FakeTime()),
        "timeouts": httpx.Timeout(5.0),
        "max_connections": 4,
        "max_attempts": 3,
        "user_agent": "provisioner-tests/1.0",
    }
    options.update(changes)
    return options


def test_plain_http_rejected_off_loopback() -> None:
    with pytest.raises(ConfigError) as caught:
        B2BClient(**client_options(base_url="http://b2b.invalid/api/v3/io"))
    assert "https" in str(caught.value)


def test_plain_http_allowed_on_loopback() -> None:
    client = B2BClient(**client_options(base_url="http://127.0.0.1:8765/api/v3/io"))
    assert client.base_url == "http://127.0.0.1:8765/api/v3/io"


def test_empty_store_hash_rejected() -> None:
    with pytest.raises(ConfigError) as caught:
        B2BClient(**client_options(store_hash=" "))
    assert "api.store_hash" in str(caught.value)


def test_empty_token_rejected() -> None:
    with pytest.raises(ConfigError):
        B2BClient(**client_options(token=Secret("")))


def test_pool_smaller_than_concurrency_rejected() -> None:
    pacer = make_pacer(FakeTime(), max_concurrency=4)
    with pytest.raises(ValueError, match="max_connections"):
        B2BClient(**client_options(pacer=pacer, max_connections=2))


def test_send_before_open_raises() -> None:
    client = make_client(FakeApi(ok({})), FakeTime())
    with pytest.raises(RuntimeError, match="async with"):
        asyncio.run(client.get_user(1))


def test_client_closes_on_exit() -> None:
    api = FakeApi(ok({"userId": 1, "bcId": 2}))
    client = make_client(api, FakeTime())

    async def scenario() -> None:
        async with client:
            await client.create_user({"email": "a@x.io"})
        await client.create_user({"email": "b@x.io"})

    with pytest.raises(RuntimeError):
        asyncio.run(scenario())
    assert api.calls == 1


def test_from_config_uses_settings() -> None:
    config = Config().with_api(
        base_url=BASE_URL, store_hash="abc123", user_agent="ua/2"
    )
    api = FakeApi(ok({"userId": 1, "bcId": 2}))
    client = B2BClient.from_config(
        config, Secret(TOKEN), transport=httpx.MockTransport(api)
    )

    async def scenario() -> None:
        async with client:
            await client.create_user({"email": "a@x.io"})

    asyncio.run(scenario())
    assert client.max_attempts == config.rate.max_attempts
    assert client.max_rate_wait_seconds == config.rate.max_rate_wait_seconds
    assert client.pacer.requests_per_minute == config.rate.requests_per_minute
    assert client.pacer.max_concurrency == config.rate.max_concurrency
    assert api.requests[0].headers["X-Store-Hash"] == "abc123"
    assert api.requests[0].headers["User-Agent"] == "ua/2"


def test_tls_verification_off_warns() -> None:
    with capture_logs() as logs:
        make_client(FakeApi(ok({})), FakeTime(), verify_tls=False)
    warnings = [
        entry for entry in logs if entry["event"] == "tls_verification_disabled"
    ]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"


def test_tls_verification_on_is_quiet() -> None:
    with capture_logs() as logs:
        make_client(FakeApi(ok({})), FakeTime())
    assert logs == []


def test_token_absent_from_repr() -> None:
    client = make_client(FakeApi(ok({})), FakeTime())
    assert TOKEN not in repr(client)
    assert TOKEN not in str(client)
    assert "[secure]" in repr(client)


def test_token_absent_from_open_client_headers() -> None:
    client = make_client(FakeApi(ok({})), FakeTime())

    async def scenario() -> str:
        async with client:
            assert client._http is not None
            return repr(client._http.headers) + repr(client._http.auth)

    assert TOKEN not in asyncio.run(scenario())


def failing_answers() -> list[httpx.Response | Exception]:
    return [
        error(401, "Invalid token header. No credentials provided."),
        error(403, "Forbidden"),
        error(422, {"email": ["Email is not correct."]}),
        error(503),
        error(507),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("connection refused"),
    ]


@pytest.mark.parametrize("answer", failing_answers(), ids=repr)
def test_token_absent_from_errors_and_logs(answer: httpx.Response | Exception) -> None:
    api = FakeApi(answer)

    async def scenario() -> None:
        async with make_client(api, FakeTime(), max_attempts=2) as client:
            await client.create_user({"email": "a@x.io"})

    expected = (AuthError, RejectedError, OutcomeUnknownError, TransientApiError)
    with capture_logs() as logs, pytest.raises(expected) as caught:
        asyncio.run(scenario())
    rendered = "".join(traceback.format_exception(caught.value))
    assert TOKEN not in rendered
    assert TOKEN not in repr(caught.value.args)
    assert TOKEN not in repr(logs)


def test_pacer_shared_by_from_config() -> None:
    pacer = Pacer(requests_per_minute=60, store_limit_per_minute=150, max_concurrency=2)
    config = Config().with_api(base_url=BASE_URL, store_hash="abc123")
    client = B2BClient.from_config(
        config,
        Secret(TOKEN),
        transport=httpx.MockTransport(FakeApi(ok({}))),
        pacer=pacer,
    )
    assert client.pacer is pacer
