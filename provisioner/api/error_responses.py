"""Read an API response's error message and a bulk create's per-user errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner.api.records import MalformedError, optional_int, parse_created_ids
from provisioner.api.types import BulkItemError, CreatedIds
from provisioner.errors import RejectedError


def flatten_err_msg(err_msg: Any) -> tuple[str, dict[str, list[str]]]:
    """Turn an ``errMsg`` (a string, or field -> messages) into text and field errors.

    Nested objects become dotted field names (``roles.0``); messages under
    ``non_field_errors`` are shown without a field name.
    """
    if err_msg is None:
        return "", {}
    if isinstance(err_msg, str):
        return err_msg.strip(), {}
    if not isinstance(err_msg, Mapping | list):
        return str(err_msg), {}

    fields: dict[str, list[str]] = {}
    _collect_messages("", err_msg, fields)
    parts: list[str] = []
    for name, messages in fields.items():
        for message in messages:
            if name in ("", "non_field_errors"):
                parts.append(message)
            else:
                parts.append(f"{name}: {message}")
    return _join_sentences(parts), fields


def _join_sentences(parts: list[str]) -> str:
    """Join messages into one text, ending each with a full stop unless it has one."""
    sentences = [
        part if part.endswith((".", "!", "?")) else f"{part}." for part in parts
    ]
    return " ".join(sentences)


def _collect_messages(prefix: str, value: Any, out: dict[str, list[str]]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            _collect_messages(name, item, out)
    elif isinstance(value, list):
        for item in value:
            _collect_messages(prefix, item, out)
    elif value is not None:
        text = str(value).strip()
        if text:
            out.setdefault(prefix, []).append(text)


def error_text(payload: Any) -> tuple[str, dict[str, list[str]]]:
    """Find the error message of a response: ``data.errMsg``, else a top ``message``.

    Envelope errors carry ``{"data": {"errMsg": ...}}``; ``GET /channels`` returns
    ``{"code": 404, "message": ...}`` without an envelope.
    """
    if not isinstance(payload, Mapping):
        return "", {}
    data = payload.get("data")
    if isinstance(data, Mapping) and "errMsg" in data:
        return flatten_err_msg(data["errMsg"])
    for key in ("errMsg", "message", "detail", "title"):
        if key in payload:
            return flatten_err_msg(payload[key])
    if isinstance(data, Mapping) and isinstance(data.get("errors"), list):
        items = _bulk_errors_from(payload)
        text = _join_sentences([_render_item_error(item) for item in items])
        return text, {}
    return "", {}


def _render_item_error(item: BulkItemError) -> str:
    if item.email:
        return f"{item.email}: {item.message}"
    if item.index is not None:
        return f"item {item.index}: {item.message}"
    return item.message


def bulk_item_errors(exc: RejectedError) -> list[BulkItemError]:
    """Return the per-user errors of a rejected bulk create, when the API gave them.

    Older API versions responded to a failed ``POST /users/bulk`` with ``data.errors``,
    one object per failed user with ``_detail`` and sometimes ``email`` or an
    ``index``. An empty list means the response named no user.
    """
    return _bulk_errors_from(exc.body)


def bulk_created_ids(exc: RejectedError) -> list[CreatedIds]:
    """Return the ids a rejected bulk create reports as created anyway, if any.

    A store that creates the valid users of a failed batch may list them in
    ``data.users`` (or ``data.success``) next to ``data.errors``. The list does
    not say which id belongs to which email, so look the emails up to match them.
    """
    payload = exc.body
    if not isinstance(payload, Mapping):
        return []
    data = payload.get("data")
    if not isinstance(data, Mapping):
        return []
    created: list[CreatedIds] = []
    for key in ("users", "success"):
        items = data.get(key)
        if not isinstance(items, list):
            continue
        for item in items:
            try:
                created.append(parse_created_ids(item))
            except MalformedError:
                continue
    return created


def _bulk_errors_from(payload: Any) -> list[BulkItemError]:
    if not isinstance(payload, Mapping):
        return []
    data = payload.get("data")
    if not isinstance(data, Mapping):
        return []
    errors = data.get("errors")
    if not isinstance(errors, list):
        return []

    items: list[BulkItemError] = []
    for entry in errors:
        if isinstance(entry, str):
            items.append(BulkItemError(index=None, email=None, message=entry))
            continue
        if not isinstance(entry, Mapping):
            continue
        detail = next(
            (
                entry[key]
                for key in ("errMsg", "_detail", "detail", "message")
                if key in entry
            ),
            None,
        )
        message, _ = flatten_err_msg(detail)
        email = entry.get("email")
        index = optional_int(entry.get("index"))
        items.append(
            BulkItemError(
                index=index,
                email=email if isinstance(email, str) else None,
                message=message or "rejected without a message",
            )
        )
    return items
