"""Validation of one create-user body, with the error messages B2B Edition sends.

``errMsg`` in a 422 response is either a string or an object that maps a field name to
a list of messages (Django REST Framework style). The documented messages are
reproduced word for word: ``This field may not be null.``, ``User must have a
role.``, ``Email is not correct.``, ``"5" is not a valid choice``, ``At least one B2B
storefront needs to be enabled for a Company user.`` and ``Email already exists.
['x@y']``. How B2B Edition responds to an unknown Company, role, channel or extra
field is not documented, so the sandbox sends an object that names the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email

from provisioner.sandbox.seed import (
    DROPDOWN,
    NUMBER,
    SeedChannel,
    SeedCompany,
    SeedExtraField,
    SeedRole,
)

ErrMsg = str | dict[str, list[str]]

NULL = "This field may not be null."
BLANK = "This field may not be blank."
NOT_A_STRING = "Not a valid string."
NOT_AN_INTEGER = "A valid integer is required."
NOT_A_BOOLEAN = "Must be a valid boolean."
EMAIL_INVALID = "Email is not correct."
NO_ROLE = "User must have a role."
NO_CHANNEL = "At least one B2B storefront needs to be enabled for a Company user."

REQUIRED_FIELDS = ("firstName", "lastName", "email", "companyId")
TEXT_MAX_LENGTHS = {
    "firstName": 150,
    "lastName": 150,
    "email": 254,
    "phoneNumber": 50,
    "uuid": 255,
}
COMPANY_STATUS_NAMES = {0: "pending", 1: "approved", 2: "rejected", 3: "inactive"}
#: The predefined role each built-in role number stands for.
BUILT_IN_ROLE_NAMES = {0: "Admin", 1: "Senior Buyer", 2: "Junior Buyer"}

_CAMEL_BOUNDARY = re.compile(r"_([a-z0-9])")


def email_already_exists(email: str) -> str:
    return f"Email already exists. ['{email}']"


def not_a_valid_choice(value: Any) -> str:
    return f'"{value}" is not a valid choice'


def camel_case(name: str) -> str:
    return _CAMEL_BOUNDARY.sub(lambda match: match.group(1).upper(), name)


@dataclass(frozen=True, slots=True)
class StoreView:
    """The parts of the store that a create request is checked against."""

    companies: Mapping[int, SeedCompany]
    roles: Mapping[int, SeedRole]
    channels: Mapping[int, SeedChannel]
    extra_fields: Mapping[str, SeedExtraField]
    multi_storefront: bool
    email_taken: Callable[[str], bool]
    """True when a B2B user already has this email, compared case-insensitively."""
    extra_value_taken: Callable[[str, str], bool]
    """True when a user already has this value in this unique extra field."""


@dataclass(frozen=True, slots=True)
class UserDraft:
    """A create request that passed every check, with the role resolved."""

    company_id: int
    email: str
    first_name: str
    last_name: str
    phone_number: str
    role: int
    company_role_id: int | None
    uuid: str
    channel_ids: tuple[int, ...]
    origin_channel_id: int | None
    accept_welcome_email: bool
    extra_fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class CreateError:
    """Why one create request failed.

    ``err_msg`` is what a 422 response contains; ``legacy_detail`` is the short text
    the older bulk response put in ``_detail`` for each failed item.
    """

    err_msg: ErrMsg
    legacy_detail: str
    email: str | None


def number_text(value: float) -> str:
    """Return ``value`` as a person writes it: ``100000``, not ``1e+05``."""
    return str(int(value)) if value.is_integer() else repr(value)


def flatten(err_msg: ErrMsg) -> str:
    """Return ``err_msg`` as one line of text."""
    if isinstance(err_msg, str):
        return err_msg
    return " ".join(f"{key}: {' '.join(messages)}" for key, messages in err_msg.items())


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Checker:
    """Collect the field errors of one body, in the order DRF would report them."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.errors: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    def text(self, key: str, *, required: bool) -> str:
        value = self.body.get(key)
        if value is None:
            if required:
                self.add(key, NULL)
            return ""
        if not isinstance(value, str):
            self.add(key, NOT_A_STRING)
            return ""
        if required and not value.strip():
            self.add(key, BLANK)
            return ""
        limit = TEXT_MAX_LENGTHS.get(key)
        if limit is not None and len(value) > limit:
            self.add(key, f"Ensure this field has no more than {limit} characters.")
        return value

    def integer(self, key: str, *, required: bool) -> int | None:
        value = self.body.get(key)
        if value is None:
            if required:
                self.add(key, NULL)
            return None
        if not _is_int(value):
            self.add(key, NOT_AN_INTEGER)
            return None
        return int(value)


def check_create_body(
    body: Any, store: StoreView, *, batch_emails: set[str] | None = None
) -> UserDraft | CreateError:
    """Check one create-user body against the store.

    ``batch_emails`` contains the casefolded emails of earlier items of the same bulk
    request, which count as taken.
    """
    if not isinstance(body, dict):
        message = f"Invalid data. Expected a dictionary, but got {type(body).__name__}."
        return CreateError({"non_field_errors": [message]}, message, None)

    checker = _Checker(body)
    for key in body:
        if "_" in key.strip("_"):
            checker.add(
                key,
                f"Unknown field. This API accepts camelCase names only; use "
                f"{camel_case(key)}.",
            )
    first_name = checker.text("firstName", required=True)
    last_name = checker.text("lastName", required=True)
    email = checker.text("email", required=True)
    company_id = checker.integer("companyId", required=True)
    phone_number = checker.text("phoneNumber", required=False)
    uuid = checker.text("uuid", required=False)
    company_role_id = checker.integer("companyRoleId", required=False)
    origin_channel_id = checker.integer("originChannelId", required=False)

    role = body.get("role")
    if role is not None and (not _is_int(role) or role not in BUILT_IN_ROLE_NAMES):
        checker.add("role", not_a_valid_choice(role))
        role = None

    if email and "email" not in checker.errors:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            checker.add("email", EMAIL_INVALID)

    welcome = body.get("acceptWelcomeEmail", False)
    if not isinstance(welcome, bool):
        checker.add("acceptWelcomeEmail", NOT_A_BOOLEAN)
        welcome = False

    channel_ids = _channel_ids(checker)
    extra_pairs = _extra_field_pairs(checker)
    email_for_error = email or (
        body.get("email") if isinstance(body.get("email"), str) else None
    )
    if checker.errors:
        return _field_error(checker.errors, email_for_error)

    if role is None and company_role_id is None:
        return CreateError(
            {"non_field_errors": [NO_ROLE]}, "role is non-existent", email
        )

    if store.multi_storefront and not channel_ids:
        return CreateError(NO_CHANNEL, NO_CHANNEL, email)

    assert company_id is not None
    _check_company(checker, store, company_id)
    role, company_role_id = _resolve_role(checker, store, role, company_role_id)
    _check_channels(checker, store, channel_ids, origin_channel_id)
    extra_fields = _check_extra_fields(checker, store, extra_pairs)
    if checker.errors:
        return _field_error(checker.errors, email)

    folded = email.casefold()
    if store.email_taken(folded) or (
        batch_emails is not None and folded in batch_emails
    ):
        return CreateError(email_already_exists(email), "email is existed", email)

    return UserDraft(
        company_id=company_id,
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone_number=phone_number,
        role=role,
        company_role_id=company_role_id,
        uuid=uuid,
        channel_ids=channel_ids or (1,),
        origin_channel_id=origin_channel_id,
        accept_welcome_email=welcome,
        extra_fields=extra_fields,
    )


def _field_error(errors: dict[str, list[str]], email: str | None) -> CreateError:
    if "role" in errors or "companyRoleId" in errors:
        detail = "role is non-existent"
    else:
        detail = flatten(errors)
    return CreateError(errors, detail, email)


def _channel_ids(checker: _Checker) -> tuple[int, ...]:
    value = checker.body.get("channelIds")
    if value is None:
        return ()
    if not isinstance(value, list):
        checker.add(
            "channelIds",
            f'Expected a list of items but got type "{type(value).__name__}".',
        )
        return ()
    if not all(_is_int(item) for item in value):
        checker.add("channelIds", NOT_AN_INTEGER)
        return ()
    return tuple(value)


def _extra_field_pairs(checker: _Checker) -> list[tuple[str, str]]:
    value = checker.body.get("extraFields")
    if value is None:
        return []
    if not isinstance(value, list):
        checker.add(
            "extraFields",
            f'Expected a list of items but got type "{type(value).__name__}".',
        )
        return []
    pairs: list[tuple[str, str]] = []
    for item in value:
        name = item.get("fieldName") if isinstance(item, dict) else None
        field_value = item.get("fieldValue") if isinstance(item, dict) else None
        if _is_int(field_value) or isinstance(field_value, float):
            # DRF's CharField turns a number into its text, so the API accepts it.
            field_value = str(field_value)
        if not isinstance(name, str) or not isinstance(field_value, str):
            checker.add(
                "extraFields",
                "Each item needs a string fieldName and a string fieldValue.",
            )
            continue
        pairs.append((name, field_value))
    return pairs


def _check_company(checker: _Checker, store: StoreView, company_id: int) -> None:
    company = store.companies.get(company_id)
    if company is None:
        checker.add("companyId", f"Company {company_id} does not exist.")
    elif company.status != 1:
        status = COMPANY_STATUS_NAMES[company.status]
        checker.add(
            "companyId",
            f"Company {company_id} is not approved (its status is {status}); "
            "users can only be added to an approved Company.",
        )


def _resolve_role(
    checker: _Checker, store: StoreView, role: int | None, company_role_id: int | None
) -> tuple[int, int | None]:
    """Return the built-in role number and the role id the user gets.

    ``companyRoleId`` overrides ``role``; a custom role counts as junior buyer.
    """
    if company_role_id is not None:
        known = store.roles.get(company_role_id)
        if known is None:
            checker.add("companyRoleId", f"Role {company_role_id} does not exist.")
            return 2, None
        for number, name in BUILT_IN_ROLE_NAMES.items():
            if known.role_type == 1 and known.name.casefold() == name.casefold():
                return number, company_role_id
        return 2, company_role_id
    assert role is not None
    for seed_role in store.roles.values():
        if seed_role.role_type == 1 and seed_role.name.casefold() == (
            BUILT_IN_ROLE_NAMES[role].casefold()
        ):
            return role, seed_role.role_id
    return role, None


def _check_channels(
    checker: _Checker,
    store: StoreView,
    channel_ids: tuple[int, ...],
    origin_channel_id: int | None,
) -> None:
    for channel_id in channel_ids:
        channel = store.channels.get(channel_id)
        if channel is None:
            checker.add("channelIds", f"Channel {channel_id} does not exist.")
        elif not channel.b2b_enabled:
            checker.add(
                "channelIds",
                f"Channel {channel_id} ({channel.name}) is not enabled for "
                "B2B Edition.",
            )
    if origin_channel_id and origin_channel_id not in store.channels:
        checker.add("originChannelId", f"Channel {origin_channel_id} does not exist.")


def _check_extra_fields(
    checker: _Checker, store: StoreView, pairs: list[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    values_by_name: dict[str, str] = {}
    for name, value in pairs:
        definition = store.extra_fields.get(name)
        if definition is None:
            known = ", ".join(store.extra_fields) or "none"
            checker.add(
                "extraFields",
                f'Unknown extra field "{name}". Known extra fields: {known}.',
            )
            continue
        if name in values_by_name:
            checker.add("extraFields", f'Extra field "{name}" is given more than once.')
            continue
        problem = _extra_value_problem(definition, value)
        if (
            problem is None
            and definition.is_unique
            and store.extra_value_taken(name, value)
        ):
            problem = f'Extra field "{name}": the value "{value}" is already used.'
        if problem is not None:
            checker.add("extraFields", problem)
        values_by_name[name] = value

    for definition in store.extra_fields.values():
        if definition.name in values_by_name:
            continue
        if definition.default_value:
            values_by_name[definition.name] = definition.default_value
        elif definition.is_required:
            checker.add("extraFields", f'Extra field "{definition.name}" is required.')
    return tuple(values_by_name.items())


def _extra_value_problem(definition: SeedExtraField, value: str) -> str | None:
    name = definition.name
    if definition.is_required and not value.strip():
        return f'Extra field "{name}" is required.'
    if definition.field_type == DROPDOWN:
        if value not in definition.list_of_values:
            choices = ", ".join(definition.list_of_values)
            return f'Extra field "{name}": "{value}" is not one of {choices}.'
        return None
    if definition.field_type == NUMBER:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            return f'Extra field "{name}": "{value}" is not a number.'
        maximum = definition.maximum_value
        if maximum is not None and number > maximum:
            return (
                f'Extra field "{name}": ensure this value is less than or equal to '
                f"{number_text(maximum)}."
            )
        return None
    maximum_length = definition.maximum_length
    if maximum_length is not None and len(value) > maximum_length:
        return (
            f'Extra field "{name}": ensure this value has no more than '
            f"{maximum_length} characters."
        )
    return None
