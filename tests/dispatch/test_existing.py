"""The pre-flight look-up: which strategy it takes and what it finds."""

from __future__ import annotations

import asyncio

import pytest

from provisioner.errors import AuthError, TransientApiError
from provisioner.existing import find_existing

from .conftest import make_request
from .fake_api import AUTH, TRANSIENT, FakeApi


def test_no_requests_no_calls() -> None:
    api = FakeApi()

    assert asyncio.run(find_existing([], api)) == {}
    assert api.stats.requests == 0


def test_one_request_looked_up_by_email() -> None:
    api = FakeApi()
    user = api.add_user("user2@example.com", 101)

    matches = asyncio.run(find_existing([make_request(2, 101)], api))

    assert matches[2].user == user
    assert matches[2].same_company
    assert api.calls == {"find_user_by_email": 1}


def test_small_store_listed() -> None:
    api = FakeApi()
    for number in range(300):
        api.add_user(f"old{number}@example.com", 101)
    api.add_user("user5@example.com", 102)
    requests = [make_request(n, 101) for n in range(2, 8)]

    matches = asyncio.run(find_existing(requests, api))

    assert set(matches) == {5}
    assert not matches[5].same_company
    assert api.calls == {"list_users": 2}


def test_large_store_looked_up_by_email() -> None:
    api = FakeApi()
    api.add_user("user2@example.com", 101)
    for number in range(1000):
        api.add_user(f"old{number}@example.com", 101)
    api.add_user("user3@example.com", 101)
    requests = [make_request(n, 101) for n in (2, 3, 4)]

    matches = asyncio.run(find_existing(requests, api))

    assert set(matches) == {2, 3}
    # Row 2 was on the first page, so only rows 3 and 4 are looked up.
    assert api.calls == {"list_users": 1, "find_user_by_email": 2}


def test_email_strategy_forced() -> None:
    api = FakeApi()
    requests = [make_request(n) for n in range(2, 6)]

    asyncio.run(find_existing(requests, api, strategy="email"))

    assert api.calls == {"find_user_by_email": 4}


def test_lookups_within_concurrency() -> None:
    api = FakeApi()
    requests = [make_request(n) for n in range(2, 30)]

    asyncio.run(find_existing(requests, api, max_concurrency=3, strategy="email"))

    assert api.max_active == 3


def test_transient_error_propagates_unwrapped() -> None:
    api = FakeApi()
    api.fail_next("find_user_by_email", None, TRANSIENT)
    requests = [make_request(n) for n in range(2, 6)]

    with pytest.raises(TransientApiError):
        asyncio.run(find_existing(requests, api, strategy="email"))


def test_auth_error_propagates_unwrapped() -> None:
    api = FakeApi()
    api.fail_next("list_users", AUTH)

    with pytest.raises(AuthError):
        asyncio.run(find_existing([make_request(2), make_request(3)], api))
