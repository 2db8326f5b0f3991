"""An in-memory B2B API whose failures tests switch on.

``FakeApi`` keeps a store of users and counts every create per email, including
creates that a fault hides from the caller, so a test can prove that no email was
created twice. With ``unique_emails=False`` the store accepts a second user with
the same email, as a store that compares emails differently would. Dispatch must
then avoid the duplicate by itself.

Faults are queued per method (``api.fail_next("create_user", UNKNOWN_AFTER)``)
or drawn at random from ``random_faults``:

- ``unknown_after``: the create happens, then ``OutcomeUnknownError`` is raised;
- ``unknown_before``: ``OutcomeUnknownError`` without any create;
- ``transient``: ``TransientApiError`` without any create;
- ``auth``: ``AuthError`` without any create;
- ``short_response`` (bulk only): the users are created, one id is left out;
- ``wrong_id`` (bulk only): the users are created, and one returned id is that
  of another user of the Company, as a response that does not match the store.

``list_order`` sets the order of ``list_users``: ``created`` (oldest first, as
the sandbox sorts by user id), ``newest_first``, or ``random`` (shuffled anew on
every call, so offset paging may skip or repeat users).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

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
from provisioner.errors import (
    AuthError,
    OutcomeUnknownError,
    RejectedError,
    TransientApiError,
)

UNKNOWN_AFTER = "unknown_after"
UNKNOWN_BEFORE = "unknown_before"
TRANSIENT = "transient"
AUTH = "auth"
SHORT_RESPONSE = "short_response"
WRONG_ID = "wrong_id"

CREATE_METHODS = ("create_user", "create_users_bulk")
READ_METHODS = ("find_user_by_email", "list_users")


class FakeApi:
    """An in-memory implementation of ``B2BApi`` with switchable faults."""

    def __init__(
        self,
        *,
        bulk_mode: str = "all_or_nothing",
        shuffle_bulk: bool = False,
        unique_emails: bool = True,
        list_order: str = "created",
        seed: int = 0,
    ) -> None:
        self.stats = RequestStats()
        self.bulk_mode = bulk_mode
        self.list_order = list_order
        self.shuffle_bulk = shuffle_bulk
        self.unique_emails = unique_emails
        self.rng = random.Random(seed)
        self.users: list[UserRecord] = []
        self.created: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.queued: dict[str, list[str | None]] = {}
        self.random_faults: dict[str, dict[str, float]] = {}
        self.auth_after_calls: int | None = None
        self.missing_companies: set[int] = set()
        self.company_names: dict[int, str] = {}
        self.invalid_emails: set[str] = set()
        self.before_create: Callable[[Sequence[dict[str, Any]]], None] | None = None
        self.active = 0
        self.max_active = 0
        self._next_user_id = 1000
        self._next_bc_id = 9000

    # Set-up helpers.

    def add_user(self, email: str, company_id: int) -> UserRecord:
        """Put a user in the store as if someone created it before the run."""
        return self._store(email, company_id)

    def fail_next(self, method: str, *faults: str | None) -> None:
        """Queue faults for the next calls of ``method``; None means no fault."""
        self.queued.setdefault(method, []).extend(faults)

    def duplicates(self) -> dict[str, int]:
        """Return the emails created more than once, with their create counts."""
        return {email: count for email, count in self.created.items() if count > 1}

    def users_with(self, email: str) -> list[UserRecord]:
        return [
            user for user in self.users if user.email.casefold() == email.casefold()
        ]

    # B2BApi.

    async def create_user(self, body: dict[str, Any]) -> CreatedIds:
        fault = await self._begin("create_user")
        if self.before_create is not None:
            self.before_create([body])
        problem = self._problem(body)
        if fault in (UNKNOWN_BEFORE, TRANSIENT, AUTH):
            _raise_before(fault)
        if problem is not None:
            raise problem
        user = self._store(body["email"], body["companyId"])
        if fault == UNKNOWN_AFTER:
            raise OutcomeUnknownError("read timed out after the request was sent")
        return CreatedIds(user.user_id, _bc_id(user))

    async def create_users_bulk(
        self, bodies: Sequence[dict[str, Any]]
    ) -> list[CreatedIds]:
        fault = await self._begin("create_users_bulk")
        if self.before_create is not None:
            self.before_create(bodies)
        if fault in (UNKNOWN_BEFORE, TRANSIENT, AUTH):
            _raise_before(fault)
        problems = [self._problem(body) for body in bodies]
        failed = [problem for problem in problems if problem is not None]
        if failed and self.bulk_mode == "all_or_nothing":
            raise failed[0]
        created = [
            self._store(body["email"], body["companyId"])
            for body, problem in zip(bodies, problems, strict=True)
            if problem is None
        ]
        if failed:
            raise RejectedError(
                "; ".join(str(problem) for problem in failed), status=422, body=None
            )
        if fault == UNKNOWN_AFTER:
            raise OutcomeUnknownError("connection dropped after the request was sent")
        response = [CreatedIds(user.user_id, _bc_id(user)) for user in created]
        if fault == WRONG_ID:
            response[0] = self._other_user_ids(created)
        if self.shuffle_bulk:
            self.rng.shuffle(response)
        if fault == SHORT_RESPONSE:
            response = response[:-1]
        return response

    async def find_user_by_email(self, email: str) -> UserRecord | None:
        self._read_fault(await self._begin("find_user_by_email"))
        found = self.users_with(email)
        return found[0] if found else None

    async def get_user(self, user_id: int) -> UserRecord | None:
        self._read_fault(await self._begin("get_user"))
        return next((user for user in self.users if user.user_id == user_id), None)

    async def list_users(
        self, *, company_id: int | None = None, offset: int = 0, limit: int = 250
    ) -> Page[UserRecord]:
        self._read_fault(await self._begin("list_users"))
        users = [
            user
            for user in self.users
            if company_id is None or user.company_id == company_id
        ]
        if self.list_order == "newest_first":
            users.reverse()
        elif self.list_order == "random":
            self.rng.shuffle(users)
        return Page(
            items=users[offset : offset + limit],
            total_count=len(users),
            offset=offset,
            limit=limit,
        )

    async def list_companies(
        self, *, q: str | None = None, offset: int = 0, limit: int = 250
    ) -> Page[Company]:
        raise NotImplementedError

    async def get_company(self, company_id: int) -> Company | None:
        self._read_fault(await self._begin("get_company"))
        name = self.company_names.get(company_id)
        return None if name is None else Company(company_id, name, status=1)

    async def list_roles(self, *, q: str | None = None) -> list[Role]:
        raise NotImplementedError

    async def list_channels(self) -> list[Channel] | None:
        raise NotImplementedError

    async def list_extra_fields(self) -> list[ExtraFieldDef]:
        raise NotImplementedError

    # Internals.

    async def _begin(self, method: str) -> str | None:
        """Count the call, let other tasks run as a network wait would, pick a fault."""
        self.stats.requests += 1
        self.calls[method] += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(0)
        finally:
            self.active -= 1
        if (
            self.auth_after_calls is not None
            and sum(self.calls.values()) > self.auth_after_calls
        ):
            raise AuthError(
                "Invalid token header. No credentials provided.", status=401
            )
        queue = self.queued.get(method)
        if queue:
            return queue.pop(0)
        for fault, probability in self.random_faults.get(method, {}).items():
            if self.rng.random() < probability:
                return fault
        return None

    def _read_fault(self, fault: str | None) -> None:
        if fault == TRANSIENT:
            raise TransientApiError(
                "503 Service Unavailable after 5 attempts", status=503
            )
        if fault == AUTH:
            raise AuthError(
                "Invalid token header. No credentials provided.", status=401
            )

    def _problem(self, body: dict[str, Any]) -> RejectedError | None:
        email = body["email"]
        if email.casefold() in self.invalid_emails:
            return RejectedError(
                "email: Email is not correct.",
                status=422,
                field_errors={"email": ["Email is not correct."]},
            )
        if body["companyId"] in self.missing_companies:
            return RejectedError(
                "companyId: Company does not exist.",
                status=422,
                field_errors={"companyId": ["Company does not exist."]},
            )
        if self.unique_emails and self.users_with(email):
            return RejectedError(f"Email already exists. ['{email}']", status=422)
        return None

    def _other_user_ids(self, created: list[UserRecord]) -> CreatedIds:
        """Return the ids of a user of the same Company that is not in ``created``."""
        company_id = created[0].company_id
        others = [
            user
            for user in self.users
            if user.company_id == company_id and user not in created
        ]
        assert others, "the wrong_id fault needs another user in the Company"
        return CreatedIds(others[0].user_id, _bc_id(others[0]))

    def _store(self, email: str, company_id: int) -> UserRecord:
        self._next_user_id += 1
        self._next_bc_id += 1
        user = UserRecord(
            user_id=self._next_user_id,
            bc_id=self._next_bc_id,
            company_id=company_id,
            email=email,
        )
        self.users.append(user)
        self.created[email.casefold()] += 1
        return user


def _bc_id(user: UserRecord) -> int:
    assert user.bc_id is not None
    return user.bc_id


def _raise_before(fault: str) -> None:
    if fault == UNKNOWN_BEFORE:
        raise OutcomeUnknownError("connection reset while reading the response")
    if fault == TRANSIENT:
        raise TransientApiError("503 Service Unavailable after 5 attempts", status=503)
    raise AuthError("Invalid token header. No credentials provided.", status=401)
