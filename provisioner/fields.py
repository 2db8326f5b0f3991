"""The fields of a user row, their kinds, and the header names that map to them.

The canonical names are the ones the template, the results workbook and the
``Failed`` sheet use as headers, so a ``Failed`` sheet is valid input again. Header
matching is insensitive to case, spacing, punctuation, a byte-order mark and
non-breaking or zero-width characters (see ``normalise_header``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["email", "name", "text", "int", "int_list", "bool", "role", "ref"]

EXTRA_PREFIX = "extra:"

# Characters Excel and CRM exports leave in headers and values that a person cannot
# see: BOM, zero-width space/joiners, word joiner, soft hyphen.
INVISIBLE_CHARACTERS = "\ufeff\u200b\u200c\u200d\u2060\u00ad"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A field of the create-user request as it appears in a sheet."""

    name: str
    kind: FieldKind
    required: bool
    aliases: tuple[str, ...]
    max_length: int | None = None
    description: str = ""


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "email",
        "email",
        True,
        (
            "email",
            "email address",
            "e-mail",
            "e-mail address",
            "mail",
            "user email",
            "work email",
            "business email",
            "login",
            "login email",
        ),
        max_length=254,
        description="The user's email address; unique across the whole store.",
    ),
    FieldSpec(
        "firstName",
        "name",
        True,
        ("first name", "firstname", "given name", "first", "forename", "fname"),
        max_length=150,
        description="First name.",
    ),
    FieldSpec(
        "lastName",
        "name",
        True,
        ("last name", "lastname", "surname", "family name", "last", "lname"),
        max_length=150,
        description="Last name.",
    ),
    FieldSpec(
        "phoneNumber",
        "text",
        False,
        (
            "phone",
            "phone number",
            "telephone",
            "telephone number",
            "mobile",
            "tel",
            "mobile phone",
            "work phone",
        ),
        max_length=50,
        description="Phone number, kept exactly as typed.",
    ),
    FieldSpec(
        "companyId",
        "ref",
        False,
        ("company id", "b2b company id", "company number", "account id"),
        description="The B2B Company id. Give this, a company name or an external id.",
    ),
    FieldSpec(
        "company",
        "ref",
        False,
        (
            "company",
            "company name",
            "account",
            "account name",
            "organisation",
            "organization",
            "business name",
        ),
        description="The Company's exact name, or its id.",
    ),
    FieldSpec(
        "companyExternalId",
        "ref",
        False,
        ("company external id", "company uuid", "company erp id", "erp company id"),
        description="The Company's external id (its uuid in B2B Edition).",
    ),
    FieldSpec(
        "role",
        "role",
        False,
        (
            "role",
            "user role",
            "buyer role",
            "role name",
            "role id",
            "company role",
            "company role id",
            "companyroleid",
            "custom role",
        ),
        description="Admin, Senior Buyer, Junior Buyer, 0, 1, 2, or a custom role.",
    ),
    FieldSpec(
        "channelIds",
        "int_list",
        False,
        (
            "channel ids",
            "channels",
            "channel",
            "channel id",
            "storefronts",
            "storefront",
            "storefront ids",
        ),
        description="Storefront channel ids or names, separated by ; , | or spaces.",
    ),
    FieldSpec(
        "originChannelId",
        "int",
        False,
        ("origin channel id", "origin channel"),
        description="The channel the user signed up on (optional).",
    ),
    FieldSpec(
        "acceptWelcomeEmail",
        "bool",
        False,
        ("accept welcome email", "welcome email", "send welcome email", "send welcome"),
        description="Whether BigCommerce sends the welcome email: yes or no.",
    ),
    FieldSpec(
        "uuid",
        "text",
        False,
        (
            "uuid",
            "external id",
            "user external id",
            "user uuid",
            "erp id",
            "user erp id",
        ),
        max_length=255,
        description="The user's external id (an ERP id); need not be unique.",
    ),
)

FIELDS_BY_NAME: dict[str, FieldSpec] = {spec.name: spec for spec in FIELDS}

#: Columns the results workbook puts in front of the original ones. A sheet fed back
#: in may contain them; the loader ignores them without calling them unknown.
RESULT_COLUMNS: tuple[str, ...] = ("row", "status", "userId", "bcId", "error")


def normalise_header(text: str) -> str:
    """Reduce a header to the key that aliases are compared by.

    NFKC folds full-width and compatibility forms; invisible characters and every
    character that is not a letter or digit are dropped; case is folded.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def alias_table(
    extra_aliases: dict[str, list[str]] | None = None,
    extra_field_names: list[str] | tuple[str, ...] = (),
) -> dict[str, str]:
    """Build the map from a normalised header to its field name.

    ``extra_aliases`` comes from the ``[headers]`` table of the configuration and
    maps a canonical field name to more header names. Each user extra field is
    matched by its own name and by ``extra: <name>``.
    """
    table: dict[str, str] = {}
    for spec in FIELDS:
        table[normalise_header(spec.name)] = spec.name
        for alias in spec.aliases:
            table[normalise_header(alias)] = spec.name
    for name in extra_field_names:
        table[normalise_header(name)] = EXTRA_PREFIX + name
        table[normalise_header(EXTRA_PREFIX + name)] = EXTRA_PREFIX + name
    for field_name, headers in (extra_aliases or {}).items():
        for header in headers:
            table[normalise_header(header)] = field_name
    return table
