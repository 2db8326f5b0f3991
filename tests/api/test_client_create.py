"""B2BClient creates: request headers, responses, error mapping and the retry policy."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from provisioner.api.client import B2BClient, bulk_created_ids, bulk_item_errors
from provisioner.api.types import BulkItemError, CreatedIds
from provisioner.errors import (
    AuthError,
    OutcomeUnknownError,
    RejectedError,
    TransientApiError,
)

from .helpers import (
    STORE_HASH,
    TOKEN,
    FakeApi,
    FakeTime,
    envelope,
    error,
    make_client,
    ok,
)

USER = {
    "companyId": 42,
    "email": "ann.lee@example.com",
    "firstName": "Ann",
    "lastName": "Lee",
    "role": 1,
    "channelIds": [1],
}


def create_one(api: FakeApi, time: FakeTime, **options: Any) -> CreatedIds:
    async def scenario() -> CreatedIds:
        async with make_client(api, time, **options) as client:
            return await client.create_user(USER)

    return asyncio.run(scenario())


def create_error(api: FakeApi, time: FakeTime, **options: Any) -> BaseException:
    with pytest.raises(Exception) as caught:
        create_one(api, time, **options)
    return caught.value


def test_create_sends_headers_and_body() -> None:
    api = FakeApi(ok({"userId": 11, "bcId": 22}))
    create_one(api, FakeTime())
    request = api.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://b2b.invalid/api/v3/io/users"
    assert request.headers["X-Auth-Token"] == TOKEN
    assert request.headers["X-Store-Hash"] == STORE_HASH
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == "provisioner-tests/1.0"
    assert "authToken" not in request.headers
    assert json.loads(request.content) == USER


def test_create_returns_ids() -> None:
    api = FakeApi(ok({"userId": 11, "bcId": 22}, message="SUCCESS"))
    assert create_one(api, FakeTime()) == CreatedIds(user_id=11, bc_id=22)


def test_create_counts_requests() -> None:
    api = FakeApi(ok({"userId": 11, "bcId": 22}))

    async def scenario() -> B2BClient:
        async with make_client(api, FakeTime()) as client:
            await client.create_user(USER)
            return client

    client = asyncio.run(scenario())
    assert client.stats.requests == 1
    assert client.stats.by_endpoint == {"POST /users": 1}


def test_create_422_string_message() -> None:
    api = FakeApi(error(422, "Email already exists. ['ann.lee@example.com']"))
    exc = create_error(api, FakeTime())
    assert isinstance(exc, RejectedError)
    assert exc.status == 422
    assert str(exc) == "Email already exists. ['ann.lee@example.com']"
    assert exc.field_errors == {}
    assert api.calls == 1


def test_create_422_field_messages() -> None:
    err_msg = {
        "email": ["Email is not correct."],
        "role": ['"5" is not a valid choice'],
        "non_field_errors": ["User must have a role."],
    }
    exc = create_error(FakeApi(error(422, err_msg)), FakeTime())
    assert isinstance(exc, RejectedError)
    assert exc.field_errors == err_msg
    assert str(exc) == (
        'email: Email is not correct. role: "5" is not a valid choice. '
        "User must have a role."
    )


def test_create_422_nested_field_messages() -> None:
    exc = create_error(
        FakeApi(error(422, {"roles": {"0": ['"99" is not a valid choice.']}})),
        FakeTime(),
    )
    assert isinstance(exc, RejectedError)
    assert exc.field_errors == {"roles.0": ['"99" is not a valid choice.']}
    assert str(exc) == 'roles.0: "99" is not a valid choice.'


def test_create_422_keeps_body() -> None:
    response = error(422, {"email": ["Email is not correct."]})
    exc = create_error(FakeApi(response), FakeTime())
    assert isinstance(exc, RejectedError)
    assert exc.body == response.json()


def test_create_422_without_message() -> None:
    api = FakeApi(httpx.Response(422, json=envelope({}, code=422)))
    exc = create_error(api, FakeTime())
    assert isinstance(exc, RejectedError)
    assert "422" in str(exc)


@pytest.mark.parametrize("status", [400, 404, 409, 413, 415])
def test_create_other_4xx_rejected_once(status: int) -> None:
    api = FakeApi(error(status, "Add up to ten data at a time"))
    exc = create_error(api, FakeTime())
    assert isinstance(exc, RejectedError)
    assert exc.status == status
    assert api.calls == 1


def test_create_error_code_inside_200() -> None:
    body = envelope({"errMsg": {"email": ["Email is not correct."]}}, code=422)
    exc = create_error(FakeApi(httpx.Response(200, json=body)), FakeTime())
    assert isinstance(exc, RejectedError)
    assert exc.status == 422
    assert exc.field_errors == {"email": ["Email is not correct."]}


@pytest.mark.parametrize("status", [401, 403])
def test_create_auth_error_not_retried(status: int) -> None:
    api = FakeApi(error(status, "Invalid token header. No credentials provided."))
    exc = create_error(api, FakeTime())
    assert isinstance(exc, AuthError)
    assert exc.status == status
    assert "Invalid token header" in str(exc)
    assert api.calls == 1


def test_create_507_transient_not_retried() -> None:
    api = FakeApi(error(507, "Storage limit reached"))
    exc = create_error(api, FakeTime())
    assert isinstance(exc, TransientApiError)
    assert not isinstance(exc, OutcomeUnknownError)
    assert exc.status == 507
    assert api.calls == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("timed out"),
        httpx.ReadError("connection reset by peer"),
        httpx.WriteError("broken pipe"),
        httpx.WriteTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_create_lost_answer_not_resent(failure: Exception) -> None:
    api = FakeApi(failure, ok({"userId": 11, "bcId": 22}))
    exc = create_error(api, FakeTime())
    assert isinstance(exc, OutcomeUnknownError)
    assert type(failure).__name__ in str(exc)
    assert api.calls == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_create_5xx_outcome_unknown(status: int) -> None:
    api = FakeApi(error(status), ok({"userId": 11, "bcId": 22}))
    exc = create_error(api, FakeTime())
    assert isinstance(exc, OutcomeUnknownError)
    assert exc.status == status
    assert api.calls == 1


def test_create_5xx_html_body_outcome_unknown() -> None:
    api = FakeApi(httpx.Response(502, text="<html>Bad Gateway</html>"))
    exc = create_error(api, FakeTime())
    assert isinstance(exc, OutcomeUnknownError)
    assert api.calls == 1


def test_create_200_not_json_outcome_unknown() -> None:
    api = FakeApi(httpx.Response(200, text="<html>maintenance</html>"))
    exc = create_error(api, FakeTime())
    assert isinstance(exc, OutcomeUnknownError)
    assert api.calls == 1


def test_create_200_without_ids_outcome_unknown() -> None:
    api = FakeApi(ok({"userId": 11}))
    exc = create_error(api, FakeTime())
    assert isinstance(exc, OutcomeUnknownError)
    assert "bcId" in str(exc)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("timed out"),
        httpx.PoolTimeout("no free connection"),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_create_not_sent_is_resent(failure: Exception) -> None:
    api = FakeApi(failure, ok({"userId": 11, "bcId": 22}))
    time = FakeTime()
    assert create_one(api, time) == CreatedIds(11, 22)
    assert api.calls == 2
    assert api.bodies() == [USER, USER]
    assert len(time.sleeps) == 1
    assert 0.5 <= time.sleeps[0] <= 1.0


def test_create_connect_failures_use_up_attempts() -> None:
    api = FakeApi(httpx.ConnectError("connection refused"))
    time = FakeTime()
    exc = create_error(api, time, max_attempts=4)
    assert isinstance(exc, TransientApiError)
    assert not isinstance(exc, OutcomeUnknownError)
    assert "4 attempt(s)" in str(exc)
    assert api.calls == 4


def test_create_backoff_grows() -> None:
    api = FakeApi(httpx.ConnectError("connection refused"))
    time = FakeTime()
    create_error(api, time, max_attempts=4)
    assert len(time.sleeps) == 3
    for attempt, waited in enumerate(time.sleeps, start=1):
        ceiling = 2.0 ** (attempt - 1)
        assert ceiling / 2 <= waited <= ceiling


def test_bulk_create_returns_ids() -> None:
    api = FakeApi(ok([{"userId": 1, "bcId": 10}, {"userId": 2, "bcId": 20}]))

    async def scenario() -> list[CreatedIds]:
        async with make_client(api, FakeTime()) as client:
            return await client.create_users_bulk([USER, {**USER, "email": "b@x.io"}])

    assert asyncio.run(scenario()) == [CreatedIds(1, 10), CreatedIds(2, 20)]
    assert str(api.requests[0].url).endswith("/api/v3/io/users/bulk")
    assert len(api.bodies()[0]) == 2


def test_bulk_create_empty_sends_nothing() -> None:
    api = FakeApi(ok([]))

    async def scenario() -> list[CreatedIds]:
        async with make_client(api, FakeTime()) as client:
            return await client.create_users_bulk([])

    assert asyncio.run(scenario()) == []
    assert api.calls == 0


def bulk_error(api: FakeApi) -> BaseException:
    async def scenario() -> None:
        async with make_client(api, FakeTime()) as client:
            await client.create_users_bulk([USER, {**USER, "email": "b@x.io"}])

    with pytest.raises(Exception) as caught:
        asyncio.run(scenario())
    return caught.value


def test_bulk_422_item_errors() -> None:
    body = envelope(
        {
            "errors": [
                {"_detail": "email is existed", "email": "ann.lee@example.com"},
                {"_detail": {"role": ["role is non-existent"]}, "index": 1},
            ]
        },
        code=422,
    )
    exc = bulk_error(FakeApi(httpx.Response(422, json=body)))
    assert isinstance(exc, RejectedError)
    assert bulk_item_errors(exc) == [
        BulkItemError(
            index=None, email="ann.lee@example.com", message="email is existed"
        ),
        BulkItemError(index=1, email=None, message="role: role is non-existent."),
    ]
    assert "ann.lee@example.com: email is existed" in str(exc)


def test_bulk_422_partial_reports_created() -> None:
    body = envelope(
        {
            "errors": [
                {
                    "index": 1,
                    "email": "b@x.io",
                    "_detail": "email is existed",
                    "errMsg": "Email already exists. ['b@x.io']",
                }
            ],
            "users": [{"userId": 7, "bcId": 70}],
        },
        code=422,
    )
    exc = bulk_error(FakeApi(httpx.Response(422, json=body)))
    assert isinstance(exc, RejectedError)
    assert bulk_created_ids(exc) == [CreatedIds(7, 70)]
    assert bulk_item_errors(exc) == [
        BulkItemError(
            index=1, email="b@x.io", message="Email already exists. ['b@x.io']"
        )
    ]


def test_bulk_422_atomic_reports_none_created() -> None:
    exc = bulk_error(FakeApi(error(422, {"email": ["Email is not correct."]})))
    assert isinstance(exc, RejectedError)
    assert bulk_created_ids(exc) == []


def test_bulk_422_single_message_has_no_items() -> None:
    exc = bulk_error(FakeApi(error(422, "Email already exists. ['b@x.io']")))
    assert isinstance(exc, RejectedError)
    assert bulk_item_errors(exc) == []
    assert str(exc) == "Email already exists. ['b@x.io']"


def test_bulk_413_rejected() -> None:
    exc = bulk_error(FakeApi(error(413, "Add up to ten data at a time")))
    assert isinstance(exc, RejectedError)
    assert exc.status == 413
    assert str(exc) == "Add up to ten data at a time"


def test_bulk_read_timeout_not_resent() -> None:
    api = FakeApi(httpx.ReadTimeout("timed out"), ok([]))
    exc = bulk_error(api)
    assert isinstance(exc, OutcomeUnknownError)
    assert api.calls == 1


def test_bulk_503_not_resent() -> None:
    api = FakeApi(error(503), ok([]))
    exc = bulk_error(api)
    assert isinstance(exc, OutcomeUnknownError)
    assert api.calls == 1
