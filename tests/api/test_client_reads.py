"""B2BClient reads: mapping of records, paging, 404s, channels and read retries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from provisioner.api.client import B2BClient
from provisioner.api.types import Channel, Company, ExtraFieldDef, Role, UserRecord
from provisioner.errors import AuthError, RejectedError, TransientApiError

from .helpers import FakeApi, FakeTime, error, make_client, ok, page

T = TypeVar("T")

USER_ITEM = {
    "id": 501,
    "customerId": 9001,
    "companyId": 42,
    "email": "Ann.Lee@Example.com",
    "firstName": "Ann",
    "lastName": "Lee",
    "phoneNumber": "+1 555 0100",
    "role": 2,
    "companyRoleId": 77001,
    "companyRoleName": "Approver",
    "uuid": "ERP-1",
    "channelList": [{"channelId": 1, "channelName": "Default"}],
}


def call(
    api: FakeApi,
    method: Callable[[B2BClient], Awaitable[T]],
    time: FakeTime | None = None,
    **options: Any,
) -> T:
    async def scenario() -> T:
        async with make_client(api, time or FakeTime(), **options) as client:
            return await method(client)

    return asyncio.run(scenario())


def test_get_user_maps_record() -> None:
    api = FakeApi(ok(USER_ITEM))
    user = call(api, lambda client: client.get_user(501))
    assert user == UserRecord(
        user_id=501,
        bc_id=9001,
        company_id=42,
        email="Ann.Lee@Example.com",
        first_name="Ann",
        last_name="Lee",
        role=2,
        company_role_id=77001,
        uuid="ERP-1",
    )
    assert api.requests[0].url.path == "/api/v3/io/users/501"


def test_get_user_404_is_none() -> None:
    api = FakeApi(error(404, "User matching query does not exist."))
    assert call(api, lambda client: client.get_user(5)) is None
    assert api.calls == 1


def test_get_company_maps_status_text() -> None:
    item = {"companyId": 42, "companyName": "Acme", "companyStatus": "1", "uuid": "C-9"}
    company = call(FakeApi(ok(item)), lambda client: client.get_company(42))
    assert company == Company(company_id=42, name="Acme", status=1, uuid="C-9")


def test_get_company_404_is_none() -> None:
    api = FakeApi(error(404, "Company not found"))
    assert call(api, lambda client: client.get_company(999)) is None


def test_find_user_by_email_ignores_case() -> None:
    other = {**USER_ITEM, "id": 502, "email": "ann.lee@example.org"}
    api = FakeApi(page([other, USER_ITEM], total=2, offset=0, limit=10))
    user = call(api, lambda client: client.find_user_by_email("ann.lee@example.com"))
    assert user is not None
    assert user.user_id == 501
    assert api.requests[0].url.params["email"] == "ann.lee@example.com"


def test_find_user_by_email_none_when_only_others() -> None:
    other = {**USER_ITEM, "email": "ann.lee@example.org"}
    api = FakeApi(page([other], total=1, offset=0, limit=10))
    assert (
        call(api, lambda client: client.find_user_by_email("ann.lee@example.com"))
        is None
    )
    assert api.calls == 1


def test_find_user_by_email_tries_lower_case() -> None:
    api = FakeApi(
        page([], total=0, offset=0, limit=10),
        page(
            [{**USER_ITEM, "email": "ann.lee@example.com"}], total=1, offset=0, limit=10
        ),
    )
    user = call(api, lambda client: client.find_user_by_email("Ann.Lee@Example.com"))
    assert user is not None
    assert [request.url.params["email"] for request in api.requests] == [
        "Ann.Lee@Example.com",
        "ann.lee@example.com",
    ]


def test_list_users_page() -> None:
    api = FakeApi(page([USER_ITEM], total=301, offset=250, limit=250))
    result = call(
        api, lambda client: client.list_users(company_id=42, offset=250, limit=250)
    )
    assert result.total_count == 301
    assert result.offset == 250
    assert result.limit == 250
    assert [user.bc_id for user in result.items] == [9001]
    params = api.requests[0].url.params
    assert params["companyId"] == "42"
    assert params["offset"] == "250"
    assert params["limit"] == "250"


def test_list_companies_passes_query() -> None:
    item = {"companyId": 7, "companyName": "Acme Ltd", "companyStatus": "0"}
    api = FakeApi(page([item], total=1, offset=0, limit=250))
    result = call(api, lambda client: client.list_companies(q="Acme"))
    assert result.items == [Company(company_id=7, name="Acme Ltd", status=0)]
    assert api.requests[0].url.path == "/api/v3/io/companies"
    assert api.requests[0].url.params["q"] == "Acme"


def role_page(request: httpx.Request) -> httpx.Response:
    offset = int(request.url.params["offset"])
    limit = int(request.url.params["limit"])
    roles = [{"id": 1000 + n, "name": f"Role {n}", "roleType": 2} for n in range(260)]
    return page(
        roles[offset : offset + limit], total=len(roles), offset=offset, limit=limit
    )


def test_list_roles_reads_every_page() -> None:
    api = FakeApi(role_page)
    roles = call(api, lambda client: client.list_roles(q="Role"))
    assert len(roles) == 260
    assert roles[0] == Role(role_id=1000, name="Role 0", role_type=2)
    assert roles[-1].role_id == 1259
    assert [request.url.params["offset"] for request in api.requests] == ["0", "250"]
    assert {request.url.params["q"] for request in api.requests} == {"Role"}
    assert api.requests[0].url.path == "/api/v3/io/companies/roles"


def test_list_roles_without_total_stops_on_short_page() -> None:
    roles = [{"id": 1, "name": "Admin", "roleType": 1}]
    api = FakeApi(ok(roles))
    assert len(call(api, lambda client: client.list_roles())) == 1
    assert api.calls == 1


def test_list_extra_fields_maps_and_pages() -> None:
    fields = [
        {
            "fieldName": f"Cost centre {n}",
            "fieldType": 0,
            "isRequired": n == 0,
            "isUnique": False,
            "maximumLength": "50",
            "maximumValue": "",
            "listOfValue": [],
            "defaultValue": "",
        }
        for n in range(251)
    ]
    fields[250] = {
        "fieldName": "Region",
        "fieldType": 3,
        "isRequired": False,
        "isUnique": False,
        "listOfValue": ["EMEA", "APAC"],
        "defaultValue": "EMEA",
        "maximumValue": "10.5",
    }

    def answer(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        return page(fields[offset : offset + 250], total=251, offset=offset, limit=250)

    api = FakeApi(answer)
    result = call(api, lambda client: client.list_extra_fields())
    assert len(result) == 251
    assert result[0] == ExtraFieldDef(
        name="Cost centre 0",
        field_type=0,
        is_required=True,
        is_unique=False,
        maximum_length=50,
    )
    assert result[250] == ExtraFieldDef(
        name="Region",
        field_type=3,
        is_required=False,
        maximum_value=10.5,
        list_of_values=("EMEA", "APAC"),
        default_value="EMEA",
    )
    assert api.requests[0].url.path == "/api/v3/io/users/extra-fields"


def test_list_channels_maps_items() -> None:
    items = [
        {
            "id": 3,
            "channelId": 1,
            "name": "Main",
            "b2bEnabled": True,
            "status": "active",
        },
        {"id": 4, "channelId": 664, "name": "Outlet", "b2bEnabled": False},
    ]
    channels = call(FakeApi(ok(items, message="SUCCESS")), lambda c: c.list_channels())
    assert channels == [
        Channel(channel_id=1, name="Main", b2b_enabled=True, status="active"),
        Channel(channel_id=664, name="Outlet", b2b_enabled=False, status="active"),
    ]


def test_list_channels_403_single_storefront() -> None:
    response = httpx.Response(
        403, json={"code": 403, "message": "Multi storefront is not enabled"}
    )
    api = FakeApi(response)
    assert call(api, lambda client: client.list_channels()) is None
    assert api.calls == 1


def test_list_channels_404_without_envelope() -> None:
    response = httpx.Response(
        404, json={"code": 404, "message": "Channel does not exist"}
    )
    with pytest.raises(RejectedError) as caught:
        call(FakeApi(response), lambda client: client.list_channels())
    assert "Channel does not exist" in str(caught.value)


def test_read_401_auth_error() -> None:
    api = FakeApi(error(401, "Invalid token header. No credentials provided."))
    with pytest.raises(AuthError):
        call(api, lambda client: client.list_roles())
    assert api.calls == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_read_5xx_retried_then_transient(status: int) -> None:
    api = FakeApi(error(status))
    time = FakeTime()
    with pytest.raises(TransientApiError) as caught:
        call(api, lambda client: client.get_user(1), time, max_attempts=3)
    assert caught.value.status == status
    assert api.calls == 3
    assert len(time.sleeps) == 2
    assert time.sleeps[1] > time.sleeps[0] / 2


def test_read_5xx_then_success() -> None:
    api = FakeApi(error(503), error(502), ok(USER_ITEM))
    user = call(api, lambda client: client.get_user(501), max_attempts=3)
    assert user is not None
    assert api.calls == 3


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("timed out"), httpx.RemoteProtocolError("dropped")],
    ids=lambda failure: type(failure).__name__,
)
def test_read_lost_answer_retried(failure: Exception) -> None:
    api = FakeApi(failure, ok(USER_ITEM))
    assert call(api, lambda client: client.get_user(501)) is not None
    assert api.calls == 2


def test_read_lost_answers_use_up_attempts() -> None:
    api = FakeApi(httpx.ReadTimeout("timed out"))
    with pytest.raises(TransientApiError) as caught:
        call(api, lambda client: client.get_user(501), max_attempts=2)
    assert "ReadTimeout" in str(caught.value)
    assert api.calls == 2


def test_read_html_200_retried() -> None:
    api = FakeApi(httpx.Response(200, text="<html>busy</html>"), ok(USER_ITEM))
    assert call(api, lambda client: client.get_user(501)) is not None
    assert api.calls == 2


def test_read_unexpected_shape_transient() -> None:
    api = FakeApi(ok({"unexpected": True}))
    with pytest.raises(TransientApiError) as caught:
        call(api, lambda client: client.get_user(501))
    assert "GET /users/{id}" in str(caught.value)
    assert api.calls == 1


def test_read_422_rejected() -> None:
    api = FakeApi(error(422, {"roles": {"0": ['"99" is not a valid choice.']}}))
    with pytest.raises(RejectedError) as caught:
        call(api, lambda client: client.list_users())
    assert caught.value.field_errors == {"roles.0": ['"99" is not a valid choice.']}


def test_read_503_honours_retry_after() -> None:
    api = FakeApi(error(503, headers={"Retry-After": "5"}), ok(USER_ITEM))
    time = FakeTime()
    assert call(api, lambda client: client.get_user(501), time) is not None
    assert time.sleeps == [5.0]


def test_read_503_ignores_window_reset() -> None:
    window = {"X-Request-Window-Resets-After": "59.000 s"}
    api = FakeApi(error(503, headers=window), ok(USER_ITEM))
    time = FakeTime()
    assert call(api, lambda client: client.get_user(501), time) is not None
    assert len(time.sleeps) == 1
    assert 0.5 <= time.sleeps[0] <= 1.0
