"""A catalog for validating a sheet without a store."""

from __future__ import annotations

from collections.abc import Sequence

from provisioner.api.types import ExtraFieldDef
from provisioner.catalog import UNCHECKED, CompanyKey, Problem, RoleChoice, Unchecked
from provisioner.normalize import builtin_role, clean_text, quoted


class OfflineCatalog:
    """A ``Catalog`` that needs no store: it checks form, never existence.

    Numeric Company and channel ids resolve to themselves, and built-in roles
    (0, 1, 2, Admin, Senior Buyer, Junior Buyer) to their number. Names, external
    ids and other role numbers come back ``UNCHECKED``.
    """

    def resolve_company(self, key: CompanyKey, value: str) -> int | Problem | Unchecked:
        if key != "companyId":
            return UNCHECKED
        text = clean_text(value)
        if text.isascii() and text.isdigit() and int(text) > 0:
            return int(text)
        return Problem(
            "COMPANY_ID_INVALID",
            f"The Company id {quoted(value)} is not a positive whole number.",
            "Enter the Company's numeric id from B2B Edition.",
        )

    def resolve_role(self, value: str) -> RoleChoice | Problem | Unchecked:
        text = clean_text(value)
        number = builtin_role(text)
        if number is not None:
            return RoleChoice(role=number)
        if not text.isdigit() and not any(char.isalpha() for char in text):
            return Problem(
                "ROLE_INVALID",
                f"{quoted(value)} is not a role.",
                "Enter Admin, Senior Buyer, Junior Buyer, 0, 1, 2 or a role's name.",
            )
        # A larger number may be a store's role id, and a name a custom role.
        return UNCHECKED

    def resolve_channel(self, value: str) -> int | Problem | Unchecked:
        text = clean_text(value)
        if text.isascii() and text.isdigit():
            if int(text) > 0:
                return int(text)
            return Problem(
                "CHANNEL_ID_INVALID",
                f"The channel id {quoted(value)} is not a positive whole number.",
                "Enter the storefront's channel id (1 is the default storefront).",
            )
        return UNCHECKED

    def extra_fields(self) -> Sequence[ExtraFieldDef] | None:
        return None
