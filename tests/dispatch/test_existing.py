"""The pre-flight look-up: which strategy it takes and what it finds."""

from __future__ import annotations

import asyncio

import pytest

from provisioner.errors import AuthError, TransientApiError
from provisioner.existing import StoreSize, UserListing, find_existing

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


def test_store_listing_gives_size() -> None:
    api = FakeApi()
    api.add_user("old1@example.com", 101)
    api.add_user("old2@example.com", 103)
    size = StoreSize()
    requests = [make_request(2, 101), make_request(3, 102)]

    asyncio.run(find_existing(requests, api, store_size=size))

    assert size.users == 2


def test_per_email_leaves_size_unknown() -> None:
    api = FakeApi()
    size = StoreSize()
    requests = [make_request(2, 101), make_request(3, 102)]

    asyncio.run(find_existing(requests, api, strategy="email", store_size=size))

    assert size.users is None


# Reading new users page by page.


def add_users(api: FakeApi, prefix: str, count: int, company_id: int = 101) -> None:
    for number in range(count):
        api.add_user(f"{prefix}{number}@example.com", company_id)


def test_listing_reads_on_from_known_size() -> None:
    api = FakeApi()
    add_users(api, "old", 2)
    add_users(api, "new", 3)
    add_users(api, "elsewhere", 4, company_id=102)
    listing = UserListing(101, known_size=2)

    listed = asyncio.run(listing.read_next(api, recent=3))

    assert listed == 3
    assert set(listing.by_email) == {f"new{n}@example.com" for n in range(3)}
    assert listing.next_offset == 5
    assert listing.unread == [(0, 2)]
    assert api.calls == {"list_users": 1}


def test_listing_first_read_jumps_to_recent() -> None:
    api = FakeApi()
    add_users(api, "old", 300)
    add_users(api, "new", 5)
    listing = UserListing(101)

    asyncio.run(listing.read_next(api, recent=5))

    assert listing.next_offset == 300
    assert listing.unread == [(250, 300)]
    assert listing.pages_ahead == 1

    asyncio.run(listing.read_next(api, recent=5))

    assert "new4@example.com" in listing.by_email
    assert "old260@example.com" not in listing.by_email
    assert api.calls == {"list_users": 2}


def test_listing_reads_skipped_range() -> None:
    api = FakeApi()
    add_users(api, "old", 600)
    add_users(api, "new", 5)
    listing = UserListing(101)
    asyncio.run(listing.read_next(api, recent=5))
    assert listing.unread_pages == 2

    asyncio.run(listing.read_unread(api))
    asyncio.run(listing.read_unread(api))

    assert listing.unread == []
    listed = {f"old{n}@example.com" for n in range(600)}
    assert listed <= set(listing.by_email)
    assert api.calls == {"list_users": 3}


def test_listing_end_stops_estimate() -> None:
    api = FakeApi()
    add_users(api, "new", 3)
    listing = UserListing(101, known_size=0)
    listing.add_created(5)  # two more than the store has

    asyncio.run(listing.read_next(api, recent=5))
    asyncio.run(listing.read_next(api, recent=5))

    assert listing.next_offset == 3
    assert listing.pages_ahead == 0
