"""Pre-flight: which of the requested users exist already, and in which Company?

Email addresses are unique across the whole store, so a user may already exist in
the row's own Company (the row is then ``exists``) or in another one (a create
would be rejected with "Email already exists"). Two ways find out, and
``find_existing`` takes the one that costs fewer requests:

- one ``GET /users?email=`` per row: N requests for N rows;
- listing every user of the store, 250 a page: one request per 250 users.

Both see users in every Company, so the statuses they give are the statuses a run
then produces; ``plan`` relies on that. Listing only the Companies named in the
sheet would often cost less, but it cannot see an email taken in another Company,
so it is not used. The first listing page is fetched to learn the store's user
count, so the per-email way costs at most one request more than N.

``UserListing`` reads the store's users page by page and keeps them, so that
dispatch can learn which new user id belongs to which email with one page per 250
users created.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar, cast

from provisioner.api.types import B2BApi, Page, UserRecord
from provisioner.model import UserRequest

LIST_PAGE_SIZE = 250
DEFAULT_MAX_CONCURRENCY = 4

T = TypeVar("T")


@dataclass(slots=True)
class StoreSize:
    """The store's user count, which ``find_existing`` sets when it lists them all."""

    users: int | None = None


@dataclass(frozen=True, slots=True)
class ExistingMatch:
    """A user found with a request's email; ``same_company`` compares Company ids."""

    user: UserRecord
    same_company: bool


async def find_existing(
    requests: Sequence[UserRequest],
    api: B2BApi,
    *,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    strategy: Literal["auto", "email"] = "auto",
    store_size: StoreSize | None = None,
) -> dict[int, ExistingMatch]:
    """Look up every request's email; return the matches by row number.

    Rows whose email no user has are left out. Emails are compared
    case-insensitively (``UserRequest.email_key``). At most ``max_concurrency``
    look-ups run at once. ``strategy="email"`` forces one look-up per row: a
    listing paged by offset can skip a user when users are created while it
    runs, so dispatch uses per-email look-ups while its own creates are under way.
    API errors (``AuthError``, ``TransientApiError``) propagate, because a
    partial result would be taken for "does not exist".

    When the whole store is listed and ``store_size`` is given, its ``users``
    is set to the store's user count. Otherwise it is left as it is.
    """
    if not requests:
        return {}
    if len(requests) == 1 or strategy == "email":
        return await _look_up_each(requests, api, max_concurrency)

    first = await api.list_users(offset=0, limit=LIST_PAGE_SIZE)
    pages = math.ceil(first.total_count / LIST_PAGE_SIZE)
    if pages - 1 > len(requests):
        # Listing the rest of the store would cost more than one look-up per row,
        # so only the rows the first page did not match are looked up.
        matches = match_users(requests, first.items)
        rest = [request for request in requests if request.row_number not in matches]
        matches.update(await _look_up_each(rest, api, max_concurrency))
        return matches

    users = list(first.items)
    offsets = range(LIST_PAGE_SIZE, first.total_count, LIST_PAGE_SIZE)
    calls = [_page_loader(api, offset) for offset in offsets]
    for page in await _run_limited(calls, max_concurrency):
        users.extend(page)
    if store_size is not None:
        store_size.users = first.total_count
    return match_users(requests, users)


def match_users(
    requests: Sequence[UserRequest], users: Sequence[UserRecord]
) -> dict[int, ExistingMatch]:
    """Match listed users to requests by email, ignoring case."""
    by_email = {user.email.casefold(): user for user in users}
    matches: dict[int, ExistingMatch] = {}
    for request in requests:
        user = by_email.get(request.email_key)
        if user is not None:
            matches[request.row_number] = ExistingMatch(
                user=user, same_company=user.company_id == request.company_id
            )
    return matches


class UserListing:
    """The users read so far with ``GET /users``, of the store or of one Company.

    The API does not document the listing's order. The sandbox sorts by user id,
    so users created during a run are appended at the end, and reading on from
    ``next_offset`` lists each new user once, 250 to a page. Nothing relies on
    that order: positions skipped are kept in ``unread`` so that every page can
    still be read, and the caller looks up by email a user that no page showed.
    API errors propagate from the read methods, and what was read stays kept.
    """

    def __init__(
        self, company_id: int | None = None, *, known_size: int | None = None
    ) -> None:
        self.company_id = company_id
        self.users: dict[int, UserRecord] = {}
        """Every user listed so far, by user id."""
        self.by_email: dict[str, UserRecord] = {}
        """Every user listed so far, by email compared case-insensitively."""
        self.next_offset: int | None = known_size
        """Where the next page of new users starts, or None before the first read."""
        self.expected_size: int | None = known_size
        """The user count at the last read plus users created since."""
        self.unread: list[tuple[int, int]] = [(0, known_size)] if known_size else []
        """Ranges of positions below ``next_offset`` that no page has read."""
        self.pages_read = 0

    def add_created(self, count: int) -> None:
        """Count users the API reported created since the last page was read."""
        if self.expected_size is not None:
            self.expected_size += count

    @property
    def pages_ahead(self) -> int | None:
        """Estimate the pages from ``next_offset`` to the end; None before a read."""
        if self.next_offset is None or self.expected_size is None:
            return None
        return _page_count(self.expected_size - self.next_offset)

    @property
    def unread_pages(self) -> int:
        return sum(_page_count(end - start) for start, end in self.unread)

    async def read_next(self, api: B2BApi, *, recent: int) -> int:
        """Read the next page of new users; return how many users it listed.

        The first read lists offset 0, and its total count shows where users
        created in this run are likely to start: ``recent`` positions before
        the end. The positions in between are recorded as unread, and the next
        read starts there.
        """
        if self.next_offset is None:
            page = await self._read_page(api, 0)
            listed = len(page.items)
            start = max(listed, page.total_count - recent)
            if start > listed:
                self.unread.append((listed, start))
            self.next_offset = start
            self.expected_size = max(page.total_count, start)
            return listed

        page = await self._read_page(api, self.next_offset)
        self.next_offset += len(page.items)
        if page.items:
            self.expected_size = max(page.total_count, self.next_offset)
        else:
            # The end of the listing, whatever the estimate said.
            self.expected_size = self.next_offset
        return len(page.items)

    async def read_unread(self, api: B2BApi) -> int:
        """Read one page of the newest range no page has read; return its size."""
        start, end = self.unread.pop()
        page = await self._read_page(api, start)
        following = start + len(page.items)
        if len(page.items) == LIST_PAGE_SIZE and following < end:
            self.unread.append((following, end))
        return len(page.items)

    async def _read_page(self, api: B2BApi, offset: int) -> Page[UserRecord]:
        page = await api.list_users(
            company_id=self.company_id, offset=offset, limit=LIST_PAGE_SIZE
        )
        self.pages_read += 1
        for user in page.items:
            self.users[user.user_id] = user
            self.by_email[user.email.casefold()] = user
        return page


def _page_count(users: int) -> int:
    return max(0, math.ceil(users / LIST_PAGE_SIZE))


async def _look_up_each(
    requests: Sequence[UserRequest], api: B2BApi, max_concurrency: int
) -> dict[int, ExistingMatch]:
    calls = [_email_loader(api, request.email) for request in requests]
    found = await _run_limited(calls, max_concurrency)
    matches: dict[int, ExistingMatch] = {}
    for request, user in zip(requests, found, strict=True):
        if user is not None and user.email.casefold() == request.email_key:
            matches[request.row_number] = ExistingMatch(
                user=user, same_company=user.company_id == request.company_id
            )
    return matches


def _email_loader(
    api: B2BApi, email: str
) -> Callable[[], Awaitable[UserRecord | None]]:
    async def load() -> UserRecord | None:
        return await api.find_user_by_email(email)

    return load


def _page_loader(api: B2BApi, offset: int) -> Callable[[], Awaitable[list[UserRecord]]]:
    async def load() -> list[UserRecord]:
        page = await api.list_users(offset=offset, limit=LIST_PAGE_SIZE)
        return page.items

    return load


async def _run_limited(
    calls: Sequence[Callable[[], Awaitable[T]]], max_concurrency: int
) -> list[T]:
    """Run the calls with at most ``max_concurrency`` at once; keep their order.

    A fixed pool of workers takes calls from a shared index, so no more requests
    are started than the client's connection pool allows. The first error
    cancels the other workers and propagates as it is (not as an ExceptionGroup),
    so callers can catch ``AuthError`` and ``TransientApiError``.
    """
    results: list[T | None] = [None] * len(calls)
    next_index = 0

    async def work() -> None:
        nonlocal next_index
        while next_index < len(calls):
            index = next_index
            next_index += 1
            results[index] = await calls[index]()

    workers = [
        asyncio.create_task(work()) for _ in range(min(max_concurrency, len(calls)))
    ]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    return cast(list[T], results)
