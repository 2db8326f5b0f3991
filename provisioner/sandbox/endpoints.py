"""The B2B API endpoints the sandbox serves under ``/api/v3/io``, and its routing."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from provisioner.sandbox import render
from provisioner.sandbox.messages import ApiRequest, BadParameter, Reply, json_reply

if TYPE_CHECKING:
    from provisioner.sandbox.app import SandboxApp

API_PREFIX = "/api/v3/io"
BULK_MAX_USERS = 10
DEFAULT_LIMIT = 10
MAX_LIMIT = 250

TOO_MANY_USERS = "Add up to ten data at a time"
USER_NOT_FOUND = "User matching query does not exist."
COMPANY_NOT_FOUND = "Company matching query does not exist."
NOT_MULTI_STOREFRONT = "Multi storefront is not enabled"
CHANNEL_NOT_FOUND = "Channel does not exist"
PARAMETER_ERROR = "Parameter Error"
NOT_FOUND_ERROR = "Not Found Error"

Query = dict[str, list[str]]
PathArgs = dict[str, str]
Handler = Callable[["SandboxApp", ApiRequest, Query, PathArgs], Reply]


# Query parameters


def _single(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def int_parameter(
    query: Query, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """Return an integer query parameter, or None when absent; raise BadParameter."""
    text = _single(query, name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise BadParameter(name, "A valid integer is required.") from None
    if minimum is not None and value < minimum:
        raise BadParameter(
            name, f"Ensure this value is greater than or equal to {minimum}."
        )
    if maximum is not None and value > maximum:
        raise BadParameter(
            name, f"Ensure this value is less than or equal to {maximum}."
        )
    return value


def page_of(items: Sequence[Any], query: Query) -> tuple[list[Any], dict[str, int]]:
    """Cut ``items`` by the ``offset`` and ``limit`` parameters (limit 1 to 250)."""
    offset = int_parameter(query, "offset", minimum=0) or 0
    limit = int_parameter(query, "limit", minimum=1, maximum=MAX_LIMIT)
    if limit is None:
        limit = DEFAULT_LIMIT
    return list(items[offset : offset + limit]), render.pagination(
        len(items), limit, offset
    )


def _path_int(path_args: PathArgs, name: str) -> int | None:
    text = path_args[name]
    return int(text) if text.isdigit() else None


# Users


def list_users(
    app: SandboxApp, request: ApiRequest, query: Query, _: PathArgs
) -> Reply:
    store = app.store
    users = store.users()
    company_id = int_parameter(query, "companyId")
    if company_id is not None:
        users = [user for user in users if user.company_id == company_id]
    channel_id = int_parameter(query, "channelId")
    if channel_id is not None:
        users = [user for user in users if channel_id in user.channel_ids]
    email = _single(query, "email")
    if email:
        # An exact match, compared case-insensitively because the store's email
        # uniqueness is case-insensitive.
        users = [user for user in users if user.email.casefold() == email.casefold()]

    roles = _roles_parameter(query)
    if roles is not None:
        users = [user for user in users if user.role in roles]
    text = _single(query, "q")
    if text:
        needle = text.casefold()
        users = [
            user
            for user in users
            if needle
            in _user_search_text(
                app, user.email, user.first_name, user.last_name, user.company_id
            )
        ]

    include = _single(query, "isIncludeExtraFields")
    if include not in (None, "0", "1"):
        raise BadParameter(
            "isIncludeExtraFields", f'"{include}" is not a valid choice.'
        )

    page, paging = page_of(users, query)
    data = [
        render.user_json(
            user,
            roles=store.roles,
            channels=store.channels,
            include_extra_fields=include == "1",
        )
        for user in page
    ]
    body = render.envelope(200, data, render.success_message(), pagination=paging)
    return json_reply(200, body)


def _roles_parameter(query: Query) -> set[int] | None:
    values = query.get("roles")
    if not values:
        return None
    roles: set[int] = set()
    for index, value in enumerate(part for text in values for part in text.split(",")):
        if value.strip() not in ("0", "1", "2"):
            raise BadParameter("roles", f'{index}: "{value}" is not a valid choice.')
        roles.add(int(value))
    return roles


def _user_search_text(
    app: SandboxApp, email: str, first_name: str, last_name: str, company_id: int
) -> str:
    company = app.store.companies.get(company_id)
    company_name = company.name if company is not None else ""
    return f"{email}\n{first_name} {last_name}\n{company_name}".casefold()


def get_user(
    app: SandboxApp, request: ApiRequest, query: Query, path_args: PathArgs
) -> Reply:
    user_id = _path_int(path_args, "userId")
    user = app.store.user(user_id) if user_id is not None else None
    if user is None:
        return json_reply(
            404, render.error_envelope(404, USER_NOT_FOUND, NOT_FOUND_ERROR)
        )
    data = render.user_json(
        user,
        roles=app.store.roles,
        channels=app.store.channels,
        include_extra_fields=True,
    )
    return json_reply(200, render.envelope(200, data, render.success_message()))


def list_extra_fields(
    app: SandboxApp, request: ApiRequest, query: Query, _: PathArgs
) -> Reply:
    definitions = list(enumerate(app.store.extra_fields.values()))
    page, paging = page_of(definitions, query)
    data = [render.extra_field_json(index, definition) for index, definition in page]
    body = render.envelope(200, data, render.success_message(), pagination=paging)
    return json_reply(200, body)


def create_user(
    app: SandboxApp, request: ApiRequest, query: Query, _: PathArgs
) -> Reply:
    body = app.read_json(request)
    if isinstance(body, Reply):
        return body
    result = app.store.create(
        [body], mode="single", unique_emails=app.options.unique_emails, endpoint="users"
    )
    return app.create_reply(result, bulk=False)


def create_users_bulk(
    app: SandboxApp, request: ApiRequest, query: Query, _: PathArgs
) -> Reply:
    body = app.read_json(request)
    if isinstance(body, Reply):
        return body
    if not isinstance(body, list):
        message = f'Expected a list of items but got type "{type(body).__name__}".'
        return json_reply(
            422,
            render.error_envelope(
                422, {"non_field_errors": [message]}, PARAMETER_ERROR
            ),
        )
    if len(body) > BULK_MAX_USERS:
        return json_reply(
            413, render.error_envelope(413, TOO_MANY_USERS, "Request Entity Too Large")
        )
    if not body:
        return json_reply(
            422,
            render.error_envelope(
                422,
                {"non_field_errors": ["This list may not be empty."]},
                PARAMETER_ERROR,
            ),
        )
    result = app.store.create(
        body,
        mode=app.options.bulk_failure_mode,
        unique_emails=app.options.unique_emails,
        endpoint="users/bulk",
    )
    return app.create_reply(result, bulk=True)


# Companies and roles


def list_companies(
    app: SandboxApp, request: ApiRequest, query: Query, _: PathArgs
) -> Reply:
    companies = sorted(
        app.store.companies.values(), key=lambda company: company.company_id
    )
    text = _single(query, "q")
    if text:
        needle = text.casefold()
        companies = [
            company for company in companies if needle in company.name.casefold()
        ]
    page, paging = page_of(companies, query)
    data = [render.company_json(company) for company in page]
    body = render.envelope(200, data, render.success_message(), pagination=paging)
    return json_reply(200, body)


def get_company(
    app: SandboxApp, request: ApiRequest, query: Query, path_args: PathArgs
) -> Reply:
    company_id = _path_int(path_args, "companyId")
    company = app.store.companies.get(company_id) if company_id is not None else None
    if company is None:
        return json_reply(
            404, render.error_envelope(404, COMPANY_NOT_FOUND, NOT_FOUND_ERROR)
        )
    return json_reply(
        200,
        render.envelope(200, render.company_json(company), render.success_message()),
    )


def list_roles(
    app: SandboxApp, request: ApiRequest, query: Query, _: PathArgs
) -> Reply:
    roles = sorted(app.store.roles.values(), key=lambda role: role.role_id)
    text = _single(query, "q")
    if text:
        needle = text.casefold()
        roles = [role for role in roles if needle in role.name.casefold()]
    page, paging = page_of(roles, query)
    data = [render.role_json(role) for role in page]
    body = render.envelope(200, data, render.success_message(), pagination=paging)
    return json_reply(200, body)


# Channels: their errors come without the envelope.


def list_channels(
    app: SandboxApp, request: ApiRequest, query: Query, _: PathArgs
) -> Reply:
    if not app.seed.multi_storefront:
        return json_reply(403, {"code": 403, "message": NOT_MULTI_STOREFRONT})
    channels = sorted(
        app.store.channels.values(), key=lambda channel: channel.channel_id
    )
    data = [render.channel_json(channel) for channel in channels]
    return json_reply(200, render.envelope(200, data, render.success_message()))


def get_channel(
    app: SandboxApp, request: ApiRequest, query: Query, path_args: PathArgs
) -> Reply:
    if not app.seed.multi_storefront:
        return json_reply(403, {"code": 403, "message": NOT_MULTI_STOREFRONT})
    channel_id = _path_int(path_args, "channelId")
    channel = app.store.channels.get(channel_id) if channel_id is not None else None
    if channel is None:
        return json_reply(404, {"code": 404, "message": CHANNEL_NOT_FOUND})
    return json_reply(
        200,
        render.envelope(200, render.channel_json(channel), render.success_message()),
    )


# Routing

ROUTES: tuple[tuple[str, re.Pattern[str], Handler], ...] = (
    ("GET", re.compile(r"/users"), list_users),
    ("POST", re.compile(r"/users"), create_user),
    ("POST", re.compile(r"/users/bulk"), create_users_bulk),
    ("GET", re.compile(r"/users/extra-fields"), list_extra_fields),
    ("GET", re.compile(r"/users/(?P<userId>[^/]+)"), get_user),
    ("GET", re.compile(r"/companies"), list_companies),
    ("GET", re.compile(r"/companies/roles"), list_roles),
    ("GET", re.compile(r"/companies/(?P<companyId>[^/]+)"), get_company),
    ("GET", re.compile(r"/channels"), list_channels),
    ("GET", re.compile(r"/channels/(?P<channelId>[^/]+)"), get_channel),
)
ALL_PATTERNS = tuple(pattern for _, pattern, _ in ROUTES)
CREATE_HANDLERS: frozenset[Handler] = frozenset({create_user, create_users_bulk})
ENVELOPE_FREE: frozenset[Handler] = frozenset({list_channels, get_channel})


def _subpath(path: str) -> str:
    return path[len(API_PREFIX) :].rstrip("/") or "/"


def path_is_known(path: str) -> bool:
    """Return True when some method is served at ``path``."""
    subpath = _subpath(path)
    return path.startswith(API_PREFIX) and any(
        pattern.fullmatch(subpath) for pattern in ALL_PATTERNS
    )


def match(method: str, path: str) -> tuple[Handler, PathArgs] | None:
    """Find the handler for ``method`` and ``path`` (a path under ``/api/v3/io``)."""
    if not path.startswith(API_PREFIX):
        return None
    subpath = _subpath(path)
    for route_method, pattern, handler in ROUTES:
        found = pattern.fullmatch(subpath)
        if found is not None and route_method == method:
            return handler, found.groupdict()
    return None
