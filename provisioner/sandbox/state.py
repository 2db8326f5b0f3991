"""The sandbox's store: seed data, the users created so far, and their ids.

Every method takes the store's lock, so the server's request threads see a
consistent store and a bulk create is all-or-nothing when it has to be.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from provisioner.sandbox.seed import (
    Seed,
    SeedChannel,
    SeedCompany,
    SeedExtraField,
    SeedRole,
)
from provisioner.sandbox.validation import (
    CreateError,
    StoreView,
    UserDraft,
    check_create_body,
)

BulkMode = Literal["single", "atomic", "partial"]


@dataclass(slots=True)
class StoredUser:
    """A B2B user of the sandbox store, from the seed or created through the API."""

    user_id: int
    customer_id: int
    company_id: int
    email: str
    first_name: str
    last_name: str
    role: int
    company_role_id: int | None = None
    phone_number: str = ""
    uuid: str = ""
    channel_ids: tuple[int, ...] = ()
    extra_fields: tuple[tuple[str, str], ...] = ()
    origin_channel_id: int | None = None
    accept_welcome_email: bool = False
    created_at: int = 0
    updated_at: int = 0


@dataclass(slots=True)
class ItemError:
    """A failed item of a create request, with its position in the request."""

    index: int
    error: CreateError


@dataclass(slots=True)
class CreateResult:
    """Users created by one request (in input order) and the items that failed."""

    created: list[tuple[int, StoredUser]] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)


class SandboxStore:
    def __init__(self, seed: Seed) -> None:
        self._lock = threading.Lock()
        self.seed = seed
        self.companies: dict[int, SeedCompany] = {
            c.company_id: c for c in seed.companies
        }
        self.roles: dict[int, SeedRole] = {r.role_id: r for r in seed.roles}
        self.channels: dict[int, SeedChannel] = {c.channel_id: c for c in seed.channels}
        self.extra_fields: dict[str, SeedExtraField] = {
            f.name: f for f in seed.extra_fields
        }
        self._users: dict[int, StoredUser] = {}
        self._customers: dict[str, int] = {}
        self._created: list[dict[str, Any]] = []
        self._created_counts: Counter[str] = Counter()
        self._next_user_id = 1
        self._next_customer_id = 1
        self._load_seed(seed)

    def _load_seed(self, seed: Seed) -> None:
        now = int(time.time())
        for user in seed.users:
            self._users[user.user_id] = StoredUser(
                user_id=user.user_id,
                customer_id=user.customer_id,
                company_id=user.company_id,
                email=user.email,
                first_name=user.first_name,
                last_name=user.last_name,
                role=user.role,
                company_role_id=user.company_role_id,
                phone_number=user.phone_number,
                uuid=user.uuid,
                channel_ids=user.channel_ids,
                extra_fields=user.extra_fields,
                created_at=now,
                updated_at=now,
            )
            self._customers[user.email.casefold()] = user.customer_id
        for customer in seed.customers:
            self._customers[customer.email.casefold()] = customer.customer_id
        self._next_user_id = max([5000, *self._users]) + 1
        self._next_customer_id = max([9000, *self._customers.values()]) + 1

    # Reads

    def users(self) -> list[StoredUser]:
        with self._lock:
            return sorted(self._users.values(), key=lambda user: user.user_id)

    def user(self, user_id: int) -> StoredUser | None:
        with self._lock:
            return self._users.get(user_id)

    def created_users(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._created]

    def created_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._created_counts)

    # Creates

    def create(
        self,
        bodies: Sequence[Any],
        *,
        mode: BulkMode,
        unique_emails: bool,
        endpoint: str,
    ) -> CreateResult:
        """Check each body and create the valid users.

        ``atomic`` and ``single`` create nothing unless every body is valid;
        ``partial`` creates the valid ones. With ``unique_emails`` off, an email that
        is already taken is created again, which B2B Edition rejects.
        """
        with self._lock:
            view = self._view(unique_emails)
            result = CreateResult()
            drafts: list[tuple[int, UserDraft]] = []
            batch_emails: set[str] = set()
            for index, body in enumerate(bodies):
                checked = check_create_body(
                    body, view, batch_emails=batch_emails if unique_emails else None
                )
                if isinstance(checked, CreateError):
                    result.errors.append(ItemError(index, checked))
                    continue
                drafts.append((index, checked))
                batch_emails.add(checked.email.casefold())
            if result.errors and mode != "partial":
                return result
            for index, draft in drafts:
                result.created.append((index, self._insert(draft, endpoint)))
            return result

    def _view(self, unique_emails: bool) -> StoreView:
        taken = {user.email.casefold() for user in self._users.values()}

        def email_taken(folded: str) -> bool:
            return unique_emails and folded in taken

        def extra_value_taken(name: str, value: str) -> bool:
            return any(
                (name, value) in user.extra_fields for user in self._users.values()
            )

        return StoreView(
            companies=self.companies,
            roles=self.roles,
            channels=self.channels,
            extra_fields=self.extra_fields,
            multi_storefront=self.seed.multi_storefront,
            email_taken=email_taken,
            extra_value_taken=extra_value_taken,
        )

    def _insert(self, draft: UserDraft, endpoint: str) -> StoredUser:
        folded = draft.email.casefold()
        customer_id = self._customers.get(folded)
        linked = customer_id is not None and not any(
            user.customer_id == customer_id for user in self._users.values()
        )
        if customer_id is None or not linked:
            customer_id = self._next_customer_id
            self._next_customer_id += 1
            self._customers.setdefault(folded, customer_id)
        now = int(time.time())
        user = StoredUser(
            user_id=self._next_user_id,
            customer_id=customer_id,
            company_id=draft.company_id,
            email=draft.email,
            first_name=draft.first_name,
            last_name=draft.last_name,
            role=draft.role,
            company_role_id=draft.company_role_id,
            phone_number=draft.phone_number,
            uuid=draft.uuid,
            channel_ids=draft.channel_ids,
            extra_fields=draft.extra_fields,
            origin_channel_id=draft.origin_channel_id,
            accept_welcome_email=draft.accept_welcome_email,
            created_at=now,
            updated_at=now,
        )
        self._next_user_id += 1
        self._users[user.user_id] = user
        self._created_counts[folded] += 1
        self._created.append(
            {
                "userId": user.user_id,
                "bcId": user.customer_id,
                "email": user.email,
                "companyId": user.company_id,
                "firstName": user.first_name,
                "lastName": user.last_name,
                "role": user.role,
                "companyRoleId": user.company_role_id,
                "channelIds": list(user.channel_ids),
                "extraFields": [
                    {"fieldName": name, "fieldValue": value}
                    for name, value in user.extra_fields
                ],
                "linkedCustomer": linked,
                "endpoint": endpoint,
            }
        )
        return user
