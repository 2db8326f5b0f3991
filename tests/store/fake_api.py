"""An in-memory B2B API for unit tests of store resolution and planning.

It stores Companies, roles, channels, extra fields and users. The read methods of
``B2BApi`` page and match ``q`` partially, as the API documentation describes, and
every call counts as one request. Any create fails the test, because planning and
resolution must never create a user.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import provisioner
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

SEED_PATH = Path(provisioner.__file__).parent / "sandbox" / "default_seed.json"


@dataclass
class FakeB2BApi:
    companies: list[Company] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    channels: list[Channel] | None = field(default_factory=list)
    """None makes the fake a single-storefront store, where ``GET /channels`` is 403."""
    extra_fields: list[ExtraFieldDef] = field(default_factory=list)
    users: list[UserRecord] = field(default_factory=list)
    fail_on: dict[str, Exception] = field(default_factory=dict)
    """Exceptions to raise, by method name, to simulate API failures."""
    stats: RequestStats = field(default_factory=RequestStats)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def from_seed(cls, path: Path = SEED_PATH) -> FakeB2BApi:
        """Build the store the sandbox serves by default, from its seed file."""
        seed = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            companies=[
                Company(
                    item["companyId"],
                    item["companyName"],
                    int(item["companyStatus"]),
                    item["uuid"],
                )
                for item in seed["companies"]
            ],
            roles=[
                Role(item["id"], item["name"], item["roleType"])
                for item in seed["roles"]
            ],
            channels=[
                Channel(
                    item["channelId"], item["name"], item["b2bEnabled"], item["status"]
                )
                for item in seed["channels"]
            ]
            if seed["multiStorefront"]
            else None,
            extra_fields=[
                ExtraFieldDef(
                    item["fieldName"],
                    item["fieldType"],
                    item["isRequired"],
                    item["isUnique"],
                    item["maximumLength"],
                    item["maximumValue"],
                    tuple(item["listOfValue"]),
                    item["defaultValue"],
                )
                for item in seed["extraFields"]
            ],
            users=[
                UserRecord(
                    user_id=item["id"],
                    bc_id=item["customerId"],
                    company_id=item["companyId"],
                    email=item["email"],
                    first_name=item["firstName"],
                    last_name=item["lastName"],
                    role=item["role"],
                    company_role_id=item["companyRoleId"],
                )
                for item in seed["users"]
            ],
        )

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    def _record(self, method: str, **params: Any) -> None:
        self.calls.append((method, params))
        self.stats.requests += 1
        self.stats.by_endpoint[method] = self.stats.by_endpoint.get(method, 0) + 1
        if method in self.fail_on:
            raise self.fail_on[method]

    async def create_user(self, body: dict[str, Any]) -> CreatedIds:
        raise AssertionError(f"create_user called with {body!r}")

    async def create_users_bulk(
        self, bodies: Sequence[dict[str, Any]]
    ) -> list[CreatedIds]:
        raise AssertionError(f"create_users_bulk called with {len(bodies)} bodies")

    async def find_user_by_email(self, email: str) -> UserRecord | None:
        self._record("find_user_by_email", email=email)
        for user in self.users:
            if user.email.casefold() == email.casefold():
                return user
        return None

    async def get_user(self, user_id: int) -> UserRecord | None:
        self._record("get_user", user_id=user_id)
        return next((user for user in self.users if user.user_id == user_id), None)

    async def list_users(
        self, *, company_id: int | None = None, offset: int = 0, limit: int = 250
    ) -> Page[UserRecord]:
        self._record("list_users", company_id=company_id, offset=offset, limit=limit)
        matching = [
            user
            for user in self.users
            if company_id is None or user.company_id == company_id
        ]
        return Page(matching[offset : offset + limit], len(matching), offset, limit)

    async def list_companies(
        self, *, q: str | None = None, offset: int = 0, limit: int = 250
    ) -> Page[Company]:
        self._record("list_companies", q=q, offset=offset, limit=limit)
        matching = [
            company
            for company in self.companies
            if q is None or q.casefold() in company.name.casefold()
        ]
        return Page(matching[offset : offset + limit], len(matching), offset, limit)

    async def get_company(self, company_id: int) -> Company | None:
        self._record("get_company", company_id=company_id)
        return next(
            (c for c in self.companies if c.company_id == company_id),
            None,
        )

    async def list_roles(self, *, q: str | None = None) -> list[Role]:
        self._record("list_roles", q=q)
        return [
            role
            for role in self.roles
            if q is None or q.casefold() in role.name.casefold()
        ]

    async def list_channels(self) -> list[Channel] | None:
        self._record("list_channels")
        return None if self.channels is None else list(self.channels)

    async def list_extra_fields(self) -> list[ExtraFieldDef]:
        self._record("list_extra_fields")
        return list(self.extra_fields)
