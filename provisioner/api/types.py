"""Typed records read from the B2B API, and the interface the rest of the code uses.

``B2BApi`` is what dispatch, planning and store resolution depend on; the HTTP
client in ``provisioner.api.client`` implements it, and unit tests may pass a fake.
Every method paces itself under the shared rate limit and retries what is safe to
retry; what it raises is listed in ``provisioner.errors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CreatedIds:
    """The ids of a created user: ``user_id`` in B2B Edition, ``bc_id`` the customer."""

    user_id: int
    bc_id: int


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A B2B user as ``GET /users`` returns it (``bc_id`` is ``customerId`` there)."""

    user_id: int
    bc_id: int | None
    company_id: int
    email: str
    first_name: str = ""
    last_name: str = ""
    role: int | None = None
    company_role_id: int | None = None
    uuid: str | None = None


@dataclass(frozen=True, slots=True)
class Company:
    """A B2B Company; ``status`` is 0 pending, 1 approved, 2 rejected, 3 inactive."""

    company_id: int
    name: str
    status: int
    uuid: str | None = None

    @property
    def is_approved(self) -> bool:
        return self.status == 1


COMPANY_STATUS_NAMES = {0: "pending", 1: "approved", 2: "rejected", 3: "inactive"}


@dataclass(frozen=True, slots=True)
class Role:
    """A store-level role; ``role_type`` is 1 predefined, 2 custom."""

    role_id: int
    name: str
    role_type: int


@dataclass(frozen=True, slots=True)
class Channel:
    """A storefront channel; ``channel_id`` is the BigCommerce id sent in requests."""

    channel_id: int
    name: str
    b2b_enabled: bool
    status: str = "active"


@dataclass(frozen=True, slots=True)
class ExtraFieldDef:
    """A user extra field configured in the store.

    ``field_type`` is 0 text, 1 multiline text, 2 number, 3 dropdown.
    """

    name: str
    field_type: int
    is_required: bool
    is_unique: bool = False
    maximum_length: int | None = None
    maximum_value: float | None = None
    list_of_values: tuple[str, ...] = ()
    default_value: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total_count: int
    offset: int
    limit: int


@dataclass(frozen=True, slots=True)
class BulkItemError:
    """One item's error in a failed bulk create, when the API names it."""

    index: int | None
    email: str | None
    message: str


@dataclass(slots=True)
class RequestStats:
    """Counts for the run summary and the plan's estimate."""

    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)


class B2BApi(Protocol):
    """The B2B Edition Management API v3 as the provisioner uses it.

    Create methods raise ``RejectedError`` (422 and other 4xx; never retried),
    ``OutcomeUnknownError`` (sent, but no usable answer: the create may exist),
    ``AuthError`` (401/403) and ``TransientApiError`` (retries used up before the
    request was sent). Read methods retry every transient failure themselves.
    """

    stats: RequestStats

    async def create_user(self, body: dict[str, Any]) -> CreatedIds: ...

    async def create_users_bulk(
        self, bodies: Sequence[dict[str, Any]]
    ) -> list[CreatedIds]: ...

    async def find_user_by_email(self, email: str) -> UserRecord | None: ...

    async def get_user(self, user_id: int) -> UserRecord | None: ...

    async def list_users(
        self, *, company_id: int | None = None, offset: int = 0, limit: int = 250
    ) -> Page[UserRecord]: ...

    async def list_companies(
        self, *, q: str | None = None, offset: int = 0, limit: int = 250
    ) -> Page[Company]: ...

    async def get_company(self, company_id: int) -> Company | None: ...

    async def list_roles(self, *, q: str | None = None) -> list[Role]: ...

    async def list_channels(self) -> list[Channel] | None:
        """Return the store's channels, or None on a single-storefront store (403)."""
        ...

    async def list_extra_fields(self) -> list[ExtraFieldDef]: ...
