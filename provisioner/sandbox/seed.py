"""The seed: the store a sandbox starts with, read from a JSON or TOML file.

The file has these top-level keys, all optional except ``companies``:

- ``companies``: ``companyId`` (int), ``companyName``, ``companyStatus`` (0 pending,
  1 approved, 2 rejected, 3 inactive; an int or its string), ``uuid`` (optional).
- ``roles``: ``id`` (int), ``name``, ``roleType`` (1 predefined, 2 custom).
- ``channels``: ``id`` (the B2B Edition id), ``channelId`` (the BigCommerce id),
  ``name``, ``b2bEnabled`` (bool), ``status`` (``active``, ``inactive``, ``archived``).
- ``multiStorefront``: bool, default true. False makes ``GET /channels`` respond 403.
- ``extraFields``: user extra fields: ``fieldName``, ``fieldType`` (0 text,
  1 multiline, 2 number, 3 dropdown), ``isRequired``, ``isUnique``,
  ``maximumLength``, ``maximumValue``, ``listOfValue`` (dropdown choices),
  ``defaultValue``.
- ``users``: existing B2B users: ``id``, ``customerId``, ``companyId``, ``email``,
  ``firstName``, ``lastName``, ``role`` (0, 1, 2), and optionally ``companyRoleId``,
  ``phoneNumber``, ``uuid``, ``channelIds``, ``extraFields`` (``fieldName`` and
  ``fieldValue`` pairs).
- ``customers``: plain BigCommerce customers who are not B2B users yet:
  ``customerId``, ``email``, ``firstName``, ``lastName``.

TOML has no null, so a TOML seed leaves an optional key out instead. Every problem
of a file is reported at once in a ``SeedError``.
"""

from __future__ import annotations

import functools
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.errors import ConfigError

COMPANY_STATUSES = (0, 1, 2, 3)
CHANNEL_STATUSES = ("active", "inactive", "archived")
EXTRA_FIELD_TYPES = (0, 1, 2, 3)
DROPDOWN = 3
NUMBER = 2

TOP_LEVEL_KEYS = frozenset(
    {
        "companies",
        "roles",
        "channels",
        "multiStorefront",
        "extraFields",
        "users",
        "customers",
    }
)


class SeedError(ConfigError):
    """The seed file cannot be read or does not describe a consistent store."""


@dataclass(frozen=True, slots=True)
class SeedCompany:
    company_id: int
    name: str
    status: int
    uuid: str | None = None


@dataclass(frozen=True, slots=True)
class SeedRole:
    role_id: int
    name: str
    role_type: int


@dataclass(frozen=True, slots=True)
class SeedChannel:
    b2b_id: int
    channel_id: int
    name: str
    b2b_enabled: bool
    status: str = "active"


@dataclass(frozen=True, slots=True)
class SeedExtraField:
    name: str
    field_type: int
    is_required: bool = False
    is_unique: bool = False
    maximum_length: int | None = None
    maximum_value: float | None = None
    list_of_values: tuple[str, ...] = ()
    default_value: str | None = None


@dataclass(frozen=True, slots=True)
class SeedUser:
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


@dataclass(frozen=True, slots=True)
class SeedCustomer:
    customer_id: int
    email: str
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True, slots=True)
class Seed:
    """A consistent store: every reference between its parts resolves."""

    companies: tuple[SeedCompany, ...]
    roles: tuple[SeedRole, ...] = ()
    channels: tuple[SeedChannel, ...] = ()
    multi_storefront: bool = True
    extra_fields: tuple[SeedExtraField, ...] = ()
    users: tuple[SeedUser, ...] = ()
    customers: tuple[SeedCustomer, ...] = ()


def load_seed(path: Path | None = None) -> Seed:
    """Read and validate a seed file; None reads the packaged default seed.

    Raises ``SeedError`` naming the file and every problem found in it.
    """
    if path is None:
        return _default_seed()
    return _load_seed_file(path)


@functools.cache
def _default_seed() -> Seed:
    # The packaged seed never changes while the process runs, and parsing it once
    # keeps the start of every test sandbox fast.
    from provisioner.sandbox.options import DEFAULT_SEED_PATH

    return _load_seed_file(DEFAULT_SEED_PATH)


def _load_seed_file(path: Path) -> Seed:
    raw = _read_file(path)
    reader = _SeedReader()
    seed = reader.read(raw)
    if reader.problems or seed is None:
        listed = "\n".join(f"  - {problem}" for problem in reader.problems)
        raise SeedError(f"Seed file {path} is invalid; fix these problems:\n{listed}")
    return seed


def _read_file(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise SeedError(
            f"Seed file {path} must end in .json or .toml so its format is known."
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SeedError(f"Seed file {path} cannot be read: {exc.strerror}.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SeedError(
            f"Seed file {path} is not UTF-8 (invalid byte at offset {exc.start}); "
            "save it as UTF-8."
        ) from None
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SeedError(
                f"Seed file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}."
            ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(f"Seed file {path} is not valid TOML: {exc}.") from None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _SeedReader:
    """Turn parsed JSON or TOML into a ``Seed``, collecting every problem."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def read(self, raw: Any) -> Seed | None:
        if not isinstance(raw, dict):
            self.problem("top level", "must be an object (a table in TOML).")
            return None
        for key in sorted(set(raw) - TOP_LEVEL_KEYS):
            self.problem(
                key, f"unknown key; known keys: {', '.join(sorted(TOP_LEVEL_KEYS))}."
            )
        if "companies" not in raw:
            self.problem("companies", "missing; a seed needs at least one Company.")

        multi = raw.get("multiStorefront", True)
        if not isinstance(multi, bool):
            self.problem("multiStorefront", "must be true or false.")
            multi = True

        seed = Seed(
            companies=self._items(raw, "companies", self._company),
            roles=self._items(raw, "roles", self._role),
            channels=self._items(raw, "channels", self._channel),
            multi_storefront=multi,
            extra_fields=self._items(raw, "extraFields", self._extra_field),
            users=self._items(raw, "users", self._user),
            customers=self._items(raw, "customers", self._customer),
        )
        self._check_unique(seed)
        self._check_references(seed)
        return seed

    def _items(
        self, raw: dict[str, Any], key: str, parse: Callable[[str, dict[str, Any]], Any]
    ) -> tuple[Any, ...]:
        items = raw.get(key, [])
        if not isinstance(items, list):
            self.problem(key, "must be a list (an array of tables in TOML).")
            return ()
        parsed = []
        for index, item in enumerate(items):
            where = f"{key}[{index}]"
            if not isinstance(item, dict):
                self.problem(where, "must be an object.")
                continue
            value = parse(where, item)
            if value is not None:
                parsed.append(value)
        return tuple(parsed)

    def _fields(
        self, where: str, item: dict[str, Any], required: set[str], optional: set[str]
    ) -> bool:
        ok = True
        for key in sorted(required - set(item)):
            self.problem(f"{where}.{key}", "missing.")
            ok = False
        for key in sorted(set(item) - required - optional):
            self.problem(f"{where}.{key}", "unknown key.")
        return ok

    def _int(self, where: str, value: Any) -> int | None:
        if not _is_int(value):
            self.problem(where, f"must be an integer, got {value!r}.")
            return None
        return int(value)

    def _text(self, where: str, value: Any, *, allow_empty: bool = False) -> str | None:
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            self.problem(where, f"must be a non-empty string, got {value!r}.")
            return None
        return value

    def _optional_text(self, where: str, item: dict[str, Any], key: str) -> str | None:
        value = item.get(key)
        if value is None:
            return None
        return self._text(f"{where}.{key}", value, allow_empty=True)

    def _bool(self, where: str, value: Any) -> bool | None:
        if not isinstance(value, bool):
            self.problem(where, f"must be true or false, got {value!r}.")
            return None
        return value

    def _company(self, where: str, item: dict[str, Any]) -> SeedCompany | None:
        required = {"companyId", "companyName", "companyStatus"}
        if not self._fields(where, item, required, {"uuid"}):
            return None
        company_id = self._int(f"{where}.companyId", item["companyId"])
        name = self._text(f"{where}.companyName", item["companyName"])
        status_value = item["companyStatus"]
        status: int | None = None
        if isinstance(status_value, str) and status_value.isdigit():
            status = int(status_value)
        elif _is_int(status_value):
            status = status_value
        if status not in COMPANY_STATUSES:
            self.problem(
                f"{where}.companyStatus",
                f"must be 0 (pending), 1 (approved), 2 (rejected) or 3 (inactive), "
                f"got {status_value!r}.",
            )
            status = None
        uuid = self._optional_text(where, item, "uuid")
        if company_id is None or name is None or status is None:
            return None
        return SeedCompany(company_id, name, status, uuid)

    def _role(self, where: str, item: dict[str, Any]) -> SeedRole | None:
        if not self._fields(where, item, {"id", "name", "roleType"}, set()):
            return None
        role_id = self._int(f"{where}.id", item["id"])
        name = self._text(f"{where}.name", item["name"])
        role_type = item["roleType"]
        if role_type not in (1, 2) or not _is_int(role_type):
            self.problem(
                f"{where}.roleType",
                f"must be 1 (predefined) or 2 (custom), got {role_type!r}.",
            )
            return None
        if role_id is None or name is None:
            return None
        return SeedRole(role_id, name, role_type)

    def _channel(self, where: str, item: dict[str, Any]) -> SeedChannel | None:
        required = {"id", "channelId", "name", "b2bEnabled"}
        if not self._fields(where, item, required, {"status"}):
            return None
        b2b_id = self._int(f"{where}.id", item["id"])
        channel_id = self._int(f"{where}.channelId", item["channelId"])
        name = self._text(f"{where}.name", item["name"])
        enabled = self._bool(f"{where}.b2bEnabled", item["b2bEnabled"])
        status = item.get("status", "active")
        if status not in CHANNEL_STATUSES:
            self.problem(
                f"{where}.status",
                f"must be one of {', '.join(CHANNEL_STATUSES)}, got {status!r}.",
            )
            return None
        if b2b_id is None or channel_id is None or name is None or enabled is None:
            return None
        return SeedChannel(b2b_id, channel_id, name, enabled, status)

    def _extra_field(self, where: str, item: dict[str, Any]) -> SeedExtraField | None:
        optional = {
            "isRequired",
            "isUnique",
            "maximumLength",
            "maximumValue",
            "listOfValue",
            "defaultValue",
        }
        if not self._fields(where, item, {"fieldName", "fieldType"}, optional):
            return None

        name = self._text(f"{where}.fieldName", item["fieldName"])
        field_type = item["fieldType"]
        if not _is_int(field_type) or field_type not in EXTRA_FIELD_TYPES:
            self.problem(
                f"{where}.fieldType",
                f"must be 0 (text), 1 (multiline), 2 (number) or 3 (dropdown), "
                f"got {field_type!r}.",
            )
            return None

        is_required = self._bool(f"{where}.isRequired", item.get("isRequired", False))
        is_unique = self._bool(f"{where}.isUnique", item.get("isUnique", False))
        maximum_length = item.get("maximumLength")
        if maximum_length is not None and (
            not _is_int(maximum_length) or maximum_length < 1
        ):
            self.problem(
                f"{where}.maximumLength",
                f"must be a positive integer, got {maximum_length!r}.",
            )
            return None
        maximum_value = item.get("maximumValue")
        if maximum_value is not None and (
            isinstance(maximum_value, bool)
            or not isinstance(maximum_value, int | float)
        ):
            self.problem(
                f"{where}.maximumValue", f"must be a number, got {maximum_value!r}."
            )
            return None

        choices = item.get("listOfValue", [])
        if not isinstance(choices, list) or not all(
            isinstance(c, str) for c in choices
        ):
            self.problem(f"{where}.listOfValue", "must be a list of strings.")
            return None
        if field_type == DROPDOWN and not choices:
            self.problem(
                f"{where}.listOfValue", "a dropdown field needs at least one value."
            )
            return None

        default = self._optional_text(where, item, "defaultValue")
        if name is None or is_required is None or is_unique is None:
            return None
        return SeedExtraField(
            name=name,
            field_type=field_type,
            is_required=is_required,
            is_unique=is_unique,
            maximum_length=maximum_length,
            maximum_value=float(maximum_value) if maximum_value is not None else None,
            list_of_values=tuple(choices),
            default_value=default,
        )

    def _user(self, where: str, item: dict[str, Any]) -> SeedUser | None:
        required = {
            "id",
            "customerId",
            "companyId",
            "email",
            "firstName",
            "lastName",
            "role",
        }
        optional = {"companyRoleId", "phoneNumber", "uuid", "channelIds", "extraFields"}
        if not self._fields(where, item, required, optional):
            return None

        ids = [
            self._int(f"{where}.{key}", item[key])
            for key in ("id", "customerId", "companyId")
        ]
        texts = [
            self._text(f"{where}.{key}", item[key])
            for key in ("email", "firstName", "lastName")
        ]
        role = item["role"]
        role_ok = _is_int(role) and role in (0, 1, 2)
        if not role_ok:
            self.problem(f"{where}.role", f"must be 0, 1 or 2, got {role!r}.")
        company_role_id = item.get("companyRoleId")
        if company_role_id is not None:
            company_role_id = self._int(f"{where}.companyRoleId", company_role_id)
        channel_ids = item.get("channelIds", [])
        channels_ok = isinstance(channel_ids, list) and all(
            _is_int(c) for c in channel_ids
        )
        if not channels_ok:
            self.problem(f"{where}.channelIds", "must be a list of integers.")
        extra = self._user_extra_fields(
            f"{where}.extraFields", item.get("extraFields", [])
        )

        user_id, customer_id, company_id = ids
        email, first_name, last_name = texts
        if (
            user_id is None
            or customer_id is None
            or company_id is None
            or email is None
            or first_name is None
            or last_name is None
            or extra is None
            or not role_ok
            or not channels_ok
        ):
            return None
        return SeedUser(
            user_id=user_id,
            customer_id=customer_id,
            company_id=company_id,
            email=email,
            first_name=first_name,
            last_name=last_name,
            role=role,
            company_role_id=company_role_id,
            phone_number=self._optional_text(where, item, "phoneNumber") or "",
            uuid=self._optional_text(where, item, "uuid") or "",
            channel_ids=tuple(channel_ids),
            extra_fields=extra,
        )

    def _user_extra_fields(
        self, where: str, value: Any
    ) -> tuple[tuple[str, str], ...] | None:
        if not isinstance(value, list):
            self.problem(where, "must be a list of {fieldName, fieldValue} objects.")
            return None
        pairs = []
        for index, item in enumerate(value):
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("fieldName"), str)
                or not isinstance(item.get("fieldValue"), str)
            ):
                self.problem(
                    f"{where}[{index}]", "must have a string fieldName and fieldValue."
                )
                return None
            pairs.append((item["fieldName"], item["fieldValue"]))
        return tuple(pairs)

    def _customer(self, where: str, item: dict[str, Any]) -> SeedCustomer | None:
        required = {"customerId", "email"}
        if not self._fields(where, item, required, {"firstName", "lastName"}):
            return None
        customer_id = self._int(f"{where}.customerId", item["customerId"])
        email = self._text(f"{where}.email", item["email"])
        if customer_id is None or email is None:
            return None
        return SeedCustomer(
            customer_id,
            email,
            self._optional_text(where, item, "firstName") or "",
            self._optional_text(where, item, "lastName") or "",
        )

    def _check_unique(self, seed: Seed) -> None:
        def duplicates(key: str, values: list[Any]) -> None:
            seen: set[Any] = set()
            for value in values:
                if value in seen:
                    self.problem(key, f"{value!r} appears more than once.")
                seen.add(value)

        duplicates("companies.companyId", [c.company_id for c in seed.companies])
        duplicates("roles.id", [r.role_id for r in seed.roles])
        duplicates("channels.channelId", [c.channel_id for c in seed.channels])
        duplicates("channels.id", [c.b2b_id for c in seed.channels])
        duplicates("extraFields.fieldName", [f.name for f in seed.extra_fields])
        duplicates("users.id", [u.user_id for u in seed.users])
        duplicates(
            "users.email and customers.email (compared case-insensitively)",
            [u.email.casefold() for u in seed.users]
            + [c.email.casefold() for c in seed.customers],
        )
        duplicates(
            "users.customerId and customers.customerId",
            [u.customer_id for u in seed.users]
            + [c.customer_id for c in seed.customers],
        )

    def _check_references(self, seed: Seed) -> None:
        companies = {c.company_id for c in seed.companies}
        roles = {r.role_id for r in seed.roles}
        channels = {c.channel_id for c in seed.channels}
        fields = {f.name for f in seed.extra_fields}
        for index, user in enumerate(seed.users):
            where = f"users[{index}]"
            if user.company_id not in companies:
                self.problem(
                    f"{where}.companyId", f"no Company has id {user.company_id}."
                )
            if user.company_role_id is not None and user.company_role_id not in roles:
                self.problem(
                    f"{where}.companyRoleId", f"no role has id {user.company_role_id}."
                )
            for channel_id in user.channel_ids:
                if channel_id not in channels:
                    self.problem(
                        f"{where}.channelIds", f"no channel has channelId {channel_id}."
                    )
            for name, _value in user.extra_fields:
                if name not in fields:
                    self.problem(
                        f"{where}.extraFields", f"no extra field is named {name!r}."
                    )
