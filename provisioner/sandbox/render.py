"""JSON shapes of the sandbox's responses: the envelope and each kind of record.

Field names and types follow BigCommerce's OpenAPI description of the Users and
Channels APIs. Where that description types a number as a string (the limits of an
extra field) the sandbox sends a string too, and it sends an empty string, not null,
for a text field that has no value, because the description allows no null.
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

from provisioner.sandbox.seed import SeedChannel, SeedCompany, SeedExtraField, SeedRole
from provisioner.sandbox.state import StoredUser
from provisioner.sandbox.validation import number_text

CHANNEL_ICON_URL = (
    "https://s3.amazonaws.com/bc-channel-platform/channel-icons/bigcommerce.svg"
)

# B2B Edition spells its success message in three ways; clients must not rely on one.
_SUCCESS_MESSAGES = ("Success", "SUCCESS", "success")
_success_counter = itertools.count()
_success_lock = threading.Lock()


def success_message() -> str:
    with _success_lock:
        return _SUCCESS_MESSAGES[next(_success_counter) % len(_SUCCESS_MESSAGES)]


def envelope(code: int, data: Any, message: str, **meta: Any) -> dict[str, Any]:
    return {"code": code, "data": data, "meta": {"message": message, **meta}}


def error_envelope(code: int, err_msg: Any, message: str) -> dict[str, Any]:
    return envelope(code, {"errMsg": err_msg}, message)


def pagination(total: int, limit: int, offset: int) -> dict[str, int]:
    return {"totalCount": total, "limit": limit, "offset": offset}


def to_json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def user_json(
    user: StoredUser,
    *,
    roles: dict[int, SeedRole],
    channels: dict[int, SeedChannel],
    include_extra_fields: bool,
) -> dict[str, Any]:
    role = roles.get(user.company_role_id) if user.company_role_id is not None else None
    data: dict[str, Any] = {
        "id": user.user_id,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "phoneNumber": user.phone_number,
        "role": user.role,
        "uuid": user.uuid,
        "companyId": user.company_id,
        "createdAt": user.created_at,
        "updatedAt": user.updated_at,
        "customerId": user.customer_id,
        "companyRoleName": role.name if role is not None else "",
        "channelList": [
            {
                "channelId": channel_id,
                "channelName": channels[channel_id].name
                if channel_id in channels
                else "",
                "iconUrl": CHANNEL_ICON_URL,
            }
            for channel_id in user.channel_ids
        ],
    }
    if user.company_role_id is not None:
        data["companyRoleId"] = user.company_role_id
    if include_extra_fields:
        data["extraFields"] = [
            {"fieldName": name, "fieldValue": value}
            for name, value in user.extra_fields
        ]
    return data


def company_json(company: SeedCompany) -> dict[str, Any]:
    # companyStatus is a string in B2B Edition's responses: "0" to "3".
    return {
        "companyId": company.company_id,
        "companyName": company.name,
        "companyStatus": str(company.status),
        "uuid": company.uuid,
        "extraFields": [],
    }


def role_json(role: SeedRole) -> dict[str, Any]:
    return {"id": role.role_id, "name": role.name, "roleType": role.role_type}


def channel_json(channel: SeedChannel) -> dict[str, Any]:
    return {
        "id": channel.b2b_id,
        "channelId": channel.channel_id,
        "name": channel.name,
        "type": "storefront",
        "platform": "bigcommerce",
        "status": channel.status,
        "isVisible": True,
        "isEnabled": channel.status == "active",
        "iconUrl": CHANNEL_ICON_URL,
        "b2bEnabled": channel.b2b_enabled,
    }


def extra_field_json(index: int, definition: SeedExtraField) -> dict[str, Any]:
    maximum_value = definition.maximum_value
    return {
        "id": index + 1,
        "uuid": f"00000000-0000-4000-8000-{index + 1:012d}",
        "fieldName": definition.name,
        "fieldType": definition.field_type,
        "isRequired": definition.is_required,
        "isUnique": definition.is_unique,
        "visibleToEnduser": True,
        "configType": 2,
        "defaultValue": definition.default_value or "",
        "maximumLength": (
            str(definition.maximum_length)
            if definition.maximum_length is not None
            else ""
        ),
        "numberOfRows": "",
        "maximumValue": number_text(maximum_value) if maximum_value is not None else "",
        "listOfValue": list(definition.list_of_values),
    }
