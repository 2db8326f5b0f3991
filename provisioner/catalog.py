"""What the validator needs to know about the store, as a synchronous interface.

Resolution runs in two steps: ``provisioner.store`` reads the store once per run
(Companies, roles, channels, extra fields, through the rate-limited client) into an
object that implements ``Catalog``; the validator then checks every row against it
without any I/O. ``provisioner validate`` uses an offline catalog that checks only
what needs no store: ids are well-formed, built-in roles are known; names are left
unchecked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from provisioner.api.types import ExtraFieldDef

CompanyKey = Literal["companyId", "company", "companyExternalId"]


@dataclass(frozen=True, slots=True)
class Problem:
    """The reason a value cannot be resolved. The validator adds the cell."""

    code: str
    message: str
    fix: str


@dataclass(frozen=True, slots=True)
class Unchecked:
    """The value is well-formed but could not be checked without the store."""


UNCHECKED = Unchecked()


@dataclass(frozen=True, slots=True)
class RoleChoice:
    """A resolved role: exactly one of ``role`` (0, 1, 2) or ``company_role_id``."""

    role: int | None = None
    company_role_id: int | None = None


class Catalog(Protocol):
    """Synchronous look-ups against the store's settings, cached for the run."""

    def resolve_company(self, key: CompanyKey, value: str) -> int | Problem | Unchecked:
        """Resolve a Company given by id, exact name or external id (uuid)."""
        ...

    def resolve_role(self, value: str) -> RoleChoice | Problem | Unchecked:
        """Resolve 0/1/2, a built-in role name in any case, or a custom role name."""
        ...

    def resolve_channel(self, value: str) -> int | Problem | Unchecked:
        """Resolve a channel id or name to a B2B-enabled BigCommerce channel id."""
        ...

    def extra_fields(self) -> Sequence[ExtraFieldDef] | None:
        """Return the store's user extra fields, or None when unknown (offline)."""
        ...
