"""Checks of requests and responses against BigCommerce's OpenAPI descriptions.

The files in ``specs/`` are BigCommerce's published descriptions of the B2B Edition
Users and Channels APIs (github.com/bigcommerce/docs, commit 24f580ca6d29,
``docs/b2b-edition/specs/api-v3/user/user.yaml`` and ``channel/channel.yaml``),
copied unchanged. They are loaded with the corrections below, which are the one
place where this project states what is wrong in them:

1. ``errMsgPost`` is a ``oneOf`` whose alternatives overlap: no object alternative
   has required properties, so every object matches all three, and both string
   alternatives match every string. No ``errMsg`` could ever validate, so the
   correction makes it ``anyOf``.
2. ``userPost`` lists ``role`` as required, yet ``companyRoleId`` can take its
   place. The description of ``companyRoleId`` states that it overrides ``role``,
   and a custom role can only be given by its id. The correction drops ``role`` from
   the required list, and the sandbox sends ``User must have a role.`` only when
   both are missing.

Known gaps that need no correction, because the sandbox and the client avoid them:
only 200 and a few 4xx responses are described (never 400, 401, 415, 429 or 5xx);
``/companies`` and ``/companies/roles`` are not in these files at all; and the
channel's ``createdAt`` is typed ``date-time`` while its example is a Unix time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from provisioner.sandbox.messages import ApiRequest

SPEC_DIR = Path(__file__).with_name("specs")
SPEC_FILES = ("b2b-users.v3.yaml", "b2b-channels.v3.yaml")
# Only used to match a path against the description's server URL; nothing is sent.
SPEC_HOST_URL = "https://api-b2b.bigcommerce.com"
API_PREFIX = "/api/v3/io"

#: Spec violations for which B2B Edition has its own documented response: missing
#: fields and a bad email or role get a 422, more than ten users a 413. Strict mode
#: lets these through, so the sandbox responds as B2B Edition does.
DOCUMENTED_RESPONSES = frozenset({"required", "maxItems"})
DOCUMENTED_FIELD_RESPONSES = {"format": {"email"}, "enum": {"role"}}


def check_dependencies() -> None:
    """Raise ValueError unless the packages that strict checks need are installed.

    openapi-core and PyYAML come with the development extras, not the package.
    """
    import importlib.util

    missing = [
        package
        for package, module in (("openapi-core", "openapi_core"), ("PyYAML", "yaml"))
        if importlib.util.find_spec(module) is None
    ]
    if missing:
        raise ValueError(
            f"strict_requests needs {' and '.join(missing)}; install the development "
            "extras (pip install -e '.[dev]') or turn strict_requests off."
        )


def load_spec_dict(name: str) -> dict[str, Any]:
    """Return the parsed description ``name`` with the corrections applied."""
    import yaml  # type: ignore[import-untyped]

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = (SPEC_DIR / name).read_text(encoding="utf-8")
    spec: dict[str, Any] = yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)
    schemas = spec.get("components", {}).get("schemas", {})
    if "errMsgPost" in schemas:
        schemas["errMsgPost"]["anyOf"] = schemas["errMsgPost"].pop("oneOf")
    if "userPost" in schemas:
        for part in schemas["userPost"]["allOf"]:
            if "required" in part:
                part["required"] = [key for key in part["required"] if key != "role"]
    return spec


@functools.cache
def _apis() -> tuple[Any, ...]:
    from openapi_core import Config, OpenAPI

    # The files never change, and a contract test checks that the corrected
    # descriptions are valid, so the slow check is skipped here.
    config = Config(spec_validator_cls=None)
    return tuple(
        OpenAPI.from_dict(load_spec_dict(name), config=config) for name in SPEC_FILES
    )


@functools.cache
def user_body_fields() -> frozenset[str]:
    """Return every property a create-user body may have, per the description."""
    spec = load_spec_dict(SPEC_FILES[0])
    schemas = spec["components"]["schemas"]
    names: set[str] = set()

    def collect(schema: Mapping[str, Any]) -> None:
        if "$ref" in schema:
            collect(schemas[schema["$ref"].rsplit("/", 1)[-1]])
        for part in schema.get("allOf", []):
            collect(part)
        names.update(schema.get("properties", {}))

    collect(schemas["userPost"])
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class SpecCheck:
    """The result of one check: whether the operation is described, and problems."""

    described: bool
    problems: tuple[str, ...] = ()


def _mock_request(
    method: str,
    path: str,
    query: Mapping[str, Any] | None,
    body: bytes | None,
    content_type: str,
) -> Any:
    from openapi_core.testing import MockRequest

    return MockRequest(
        SPEC_HOST_URL,
        method,
        path,
        args=dict(query or {}),
        headers={
            "X-Auth-Token": "checked-elsewhere",
            "X-Store-Hash": "checked-elsewhere",
        },
        data=body,
        content_type=content_type,
    )


def _location(prefix: str, path: Iterable[Any]) -> str:
    text = prefix
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _is_documented(error: Any) -> bool:
    if error.validator in DOCUMENTED_RESPONSES:
        return True
    fields = DOCUMENTED_FIELD_RESPONSES.get(error.validator, set())
    path = list(error.absolute_path)
    return bool(path) and path[-1] in fields


def _describe(error: Exception, *, strict_request: bool) -> list[str]:
    from openapi_core.templating.paths.exceptions import PathNotFound

    if isinstance(error, PathNotFound):
        return []
    if type(error).__name__ == "ResponseNotFound":
        return ["the description lists no response with this status for the operation."]
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    name = getattr(error, "name", None)
    prefix = (
        f"{getattr(error, 'location', 'query')} parameter {name}" if name else "body"
    )
    if not schema_errors:
        detail = str(cause) if cause is not None else type(error).__name__
        return [f"{prefix}: {detail or type(error).__name__}."]
    problems = []
    for schema_error in schema_errors:
        if strict_request and _is_documented(schema_error):
            continue
        where = _location(prefix, schema_error.absolute_path)
        problems.append(f"{where}: {schema_error.message}.")
    return problems


def _check(run: Any, *, strict_request: bool) -> SpecCheck:
    from openapi_core.templating.paths.exceptions import PathNotFound

    for api in _apis():
        errors = list(run(api))
        if any(isinstance(error, PathNotFound) for error in errors):
            continue
        problems: list[str] = []
        for error in errors:
            problems.extend(_describe(error, strict_request=strict_request))
        return SpecCheck(described=True, problems=tuple(problems))
    return SpecCheck(described=False)


def check_request(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: Mapping[str, Any] | None = None,
    strict: bool = False,
) -> SpecCheck:
    """Check an outgoing request against the request schema of its operation.

    ``path`` starts with ``/api/v3/io``; ``body`` is the JSON value. ``strict`` lets
    through the violations for which B2B Edition has its own response (see
    ``DOCUMENTED_RESPONSES``) and rejects properties a user body does not have.
    """
    raw = json.dumps(body).encode() if body is not None else None
    request = _mock_request(method, path, query, raw, "application/json")
    result = _check(lambda api: api.iter_request_errors(request), strict_request=strict)
    if not result.described or method.upper() != "POST":
        return result
    items = body if isinstance(body, list) else [body]
    problems = list(result.problems)
    allowed = user_body_fields()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        where = f"body[{index}]" if isinstance(body, list) else "body"
        for key in sorted(set(item) - allowed):
            if "_" not in key:
                problems.append(
                    f"{where}.{key}: not a property of a create-user body; "
                    "B2B Edition ignores it."
                )
    return SpecCheck(described=True, problems=tuple(problems))


def check_response(
    method: str,
    path: str,
    status: int,
    body: bytes,
    *,
    content_type: str = "application/json",
    query: Mapping[str, Any] | None = None,
) -> SpecCheck:
    """Check a response against the response schema of its operation and status."""
    from openapi_core.testing import MockResponse

    request = _mock_request(method, path, query, None, "application/json")
    response = MockResponse(body, status_code=status, content_type=content_type)
    return _check(
        lambda api: api.iter_response_errors(request, response), strict_request=False
    )


def request_problems(request: ApiRequest) -> list[str]:
    """Return why ``request`` does not match the description; empty when it does.

    Operations the description does not cover pass unchecked.
    """
    query = dict(parse_qsl(request.query, keep_blank_values=True))
    body: Any = None
    if request.body:
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return []
    result = check_request(
        request.method, request.path, body=body, query=query, strict=True
    )
    return list(result.problems)
