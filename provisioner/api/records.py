"""Parse the API's JSON bodies into the records of ``provisioner.api.types``.

A 2xx body whose JSON lacks the documented shape raises ``MalformedError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from provisioner.api.types import (
    Channel,
    Company,
    CreatedIds,
    ExtraFieldDef,
    Page,
    Role,
    UserRecord,
)

T = TypeVar("T")


class MalformedError(Exception):
    """A 2xx response whose JSON does not have the documented shape."""


def envelope_data(payload: Any) -> Any:
    if not isinstance(payload, Mapping) or "data" not in payload:
        raise MalformedError("the response has no 'data'")
    return payload["data"]


def _pagination(payload: Any) -> Mapping[str, Any] | None:
    if not isinstance(payload, Mapping):
        return None
    meta = payload.get("meta")
    if not isinstance(meta, Mapping):
        return None
    pagination = meta.get("pagination")
    return pagination if isinstance(pagination, Mapping) else None


def parse_page(
    payload: Any, params: Mapping[str, Any], parse: Callable[[Any], T]
) -> Page[T]:
    data = envelope_data(payload)
    if not isinstance(data, list):
        raise MalformedError("'data' is not a list")
    items = [parse(item) for item in data]
    pagination = _pagination(payload) or {}
    offset = optional_int(pagination.get("offset"))
    if offset is None:
        offset = int(params.get("offset", 0))
    limit = optional_int(pagination.get("limit"))
    if limit is None:
        limit = int(params.get("limit", len(items)))
    total = optional_int(pagination.get("totalCount"))
    if total is None:
        total = offset + len(items)
    return Page(items=items, total_count=total, offset=offset, limit=limit)


def total_count(payload: Any) -> int | None:
    pagination = _pagination(payload)
    return None if pagination is None else optional_int(pagination.get("totalCount"))


def _int(value: Any, name: str) -> int:
    number = optional_int(value)
    if number is None:
        raise MalformedError(f"{name} is {value!r}, not a number")
    return number


def optional_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _optional_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _optional_text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _record(item: Any) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise MalformedError(f"an item is {type(item).__name__}, not an object")
    return item


def parse_created_ids(item: Any) -> CreatedIds:
    record = _record(item)
    return CreatedIds(
        user_id=_int(record.get("userId"), "userId"),
        bc_id=_int(record.get("bcId"), "bcId"),
    )


def parse_user_record(item: Any) -> UserRecord:
    record = _record(item)
    return UserRecord(
        user_id=_int(record.get("id", record.get("userId")), "id"),
        bc_id=optional_int(record.get("customerId", record.get("bcId"))),
        company_id=_int(record.get("companyId"), "companyId"),
        email=str(record.get("email") or ""),
        first_name=str(record.get("firstName") or ""),
        last_name=str(record.get("lastName") or ""),
        role=optional_int(record.get("role")),
        company_role_id=optional_int(record.get("companyRoleId")),
        uuid=_optional_text(record.get("uuid")),
    )


def parse_company(item: Any) -> Company:
    record = _record(item)
    return Company(
        company_id=_int(record.get("companyId", record.get("id")), "companyId"),
        name=str(record.get("companyName") or ""),
        status=_int(record.get("companyStatus"), "companyStatus"),
        uuid=_optional_text(record.get("uuid")),
    )


def parse_role(item: Any) -> Role:
    record = _record(item)
    return Role(
        role_id=_int(record.get("id"), "id"),
        name=str(record.get("name") or ""),
        role_type=_int(record.get("roleType"), "roleType"),
    )


def parse_channel(item: Any) -> Channel:
    record = _record(item)
    return Channel(
        channel_id=_int(record.get("channelId"), "channelId"),
        name=str(record.get("name") or ""),
        b2b_enabled=bool(record.get("b2bEnabled")),
        status=str(record.get("status") or "active"),
    )


def parse_extra_field(item: Any) -> ExtraFieldDef:
    record = _record(item)
    values = record.get("listOfValue") or ()
    if not isinstance(values, list | tuple):
        raise MalformedError("listOfValue is not a list")
    default = record.get("defaultValue")
    return ExtraFieldDef(
        name=str(record.get("fieldName") or ""),
        field_type=_int(record.get("fieldType"), "fieldType"),
        is_required=bool(record.get("isRequired")),
        is_unique=bool(record.get("isUnique")),
        maximum_length=optional_int(record.get("maximumLength")),
        maximum_value=_optional_float(record.get("maximumValue")),
        list_of_values=tuple(str(value) for value in values),
        default_value=None if default in (None, "") else str(default),
    )
