"""The sandbox's HTTP behaviour: authentication, envelopes, reads and paging."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from provisioner.sandbox import RunningSandbox

from .helpers import AUTH_HEADERS, SHARED_SSL_CONTEXT, api_client, new_user


def test_base_url_is_loopback_api_path(sandbox: RunningSandbox) -> None:
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    assert sandbox.base_url.endswith("/api/v3/io")
    assert sandbox.admin_url == sandbox.url + "/__sandbox"


def test_missing_token_is_401_with_documented_message(sandbox: RunningSandbox) -> None:
    with httpx.Client(base_url=sandbox.base_url, verify=SHARED_SSL_CONTEXT) as client:
        response = client.get("/users", headers={"X-Store-Hash": "sandbox1"})
    assert response.status_code == 401
    assert response.json()["code"] == 401
    assert response.json()["data"] == {
        "errMsg": "Invalid token header. No credentials provided."
    }


def test_wrong_token_is_401(sandbox: RunningSandbox) -> None:
    headers = {**AUTH_HEADERS, "X-Auth-Token": "not-the-token"}
    with httpx.Client(
        base_url=sandbox.base_url, headers=headers, verify=SHARED_SSL_CONTEXT
    ) as client:
        response = client.post("/users", json=new_user("a@acme.example"))
    assert response.status_code == 401
    assert sandbox.created_counts() == {}


def test_wrong_store_hash_is_server_error_without_envelope(
    sandbox: RunningSandbox,
) -> None:
    headers = {**AUTH_HEADERS, "X-Store-Hash": "other-store"}
    with httpx.Client(
        base_url=sandbox.base_url, headers=headers, verify=SHARED_SSL_CONTEXT
    ) as client:
        response = client.get("/users")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")


def test_missing_store_hash_is_server_error(sandbox: RunningSandbox) -> None:
    headers = {"X-Auth-Token": "sandbox-token"}
    with httpx.Client(
        base_url=sandbox.base_url, headers=headers, verify=SHARED_SSL_CONTEXT
    ) as client:
        response = client.get("/users")
    assert response.status_code == 500


def test_success_message_varies_in_case(api: httpx.Client) -> None:
    messages = {api.get("/users").json()["meta"]["message"] for _ in range(3)}
    assert messages == {"Success", "SUCCESS", "success"}


def test_unknown_path_is_404_envelope(api: httpx.Client) -> None:
    response = api.get("/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == 404


def test_wrong_method_is_405(api: httpx.Client) -> None:
    response = api.delete("/users")
    assert response.status_code == 405
    assert "DELETE" in response.json()["data"]["errMsg"]


def test_list_users_returns_seed_with_pagination(api: httpx.Client) -> None:
    body = api.get("/users").json()
    assert [user["id"] for user in body["data"]] == [5001, 5002, 5003]
    assert body["meta"]["pagination"] == {"totalCount": 3, "limit": 10, "offset": 0}


def test_list_users_pages_with_offset_and_limit(api: httpx.Client) -> None:
    body = api.get("/users", params={"offset": 1, "limit": 1}).json()
    assert [user["id"] for user in body["data"]] == [5002]
    assert body["meta"]["pagination"] == {"totalCount": 3, "limit": 1, "offset": 1}


def test_list_users_limit_above_250_is_422(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    # With strict_requests on, the sandbox would respond 400 first.
    sandbox = sandbox_factory(strict_requests=False)
    with api_client(sandbox) as client:
        response = client.get("/users", params={"limit": 251})
        zero = client.get("/users", params={"limit": 0})
        text = client.get("/users", params={"offset": "ten"})
    assert response.status_code == 422
    assert "limit" in response.json()["data"]["errMsg"]
    assert zero.status_code == 422
    assert text.json()["data"]["errMsg"] == {"offset": ["A valid integer is required."]}


def test_list_users_limit_250_is_accepted(api: httpx.Client) -> None:
    response = api.get("/users", params={"limit": 250})
    assert response.status_code == 200
    assert response.json()["meta"]["pagination"]["limit"] == 250


def test_email_filter_is_exact_and_case_insensitive(api: httpx.Client) -> None:
    found = api.get("/users", params={"email": "Marco.Bellini@GLOBEX.example"}).json()
    partial = api.get("/users", params={"email": "marco.bellini@globex"}).json()
    assert [user["id"] for user in found["data"]] == [5002]
    assert partial["data"] == []


def test_company_filter(api: httpx.Client) -> None:
    body = api.get("/users", params={"companyId": 103}).json()
    assert [user["email"] for user in body["data"]] == [
        "priya.natarajan@initech.example"
    ]


def test_q_searches_names_emails_and_company(api: httpx.Client) -> None:
    by_name = api.get("/users", params={"q": "whitfield"}).json()["data"]
    by_company = api.get("/users", params={"q": "globex"}).json()["data"]
    assert [user["id"] for user in by_name] == [5001]
    assert [user["id"] for user in by_company] == [5002]


def test_user_record_fields(api: httpx.Client) -> None:
    user = api.get("/users", params={"email": "dana.whitfield@acme-industrial.example"})
    record = user.json()["data"][0]
    assert record["customerId"] == 9001
    assert record["companyId"] == 101
    assert record["companyRoleId"] == 27604
    assert record["companyRoleName"] == "Admin"
    assert record["channelList"][0]["channelId"] == 1
    assert "extraFields" not in record


def test_list_users_includes_extra_fields_on_request(api: httpx.Client) -> None:
    body = api.get("/users", params={"companyId": 101, "isIncludeExtraFields": "1"})
    record = body.json()["data"][0]
    assert record["extraFields"] == [
        {"fieldName": "Cost Centre", "fieldValue": "ACME-HQ"}
    ]


def test_get_user_by_id(api: httpx.Client) -> None:
    body = api.get("/users/5003").json()
    assert body["data"]["email"] == "priya.natarajan@initech.example"
    assert body["data"]["extraFields"] == [
        {"fieldName": "Cost Centre", "fieldValue": "INI-7"}
    ]


def test_unknown_user_is_404_with_documented_message(api: httpx.Client) -> None:
    response = api.get("/users/424242")
    assert response.status_code == 404
    assert response.json()["data"]["errMsg"] == "User matching query does not exist."


def test_extra_fields_definitions(api: httpx.Client) -> None:
    body = api.get("/users/extra-fields").json()
    by_name = {item["fieldName"]: item for item in body["data"]}
    assert by_name["Cost Centre"]["isRequired"] is True
    assert by_name["Cost Centre"]["maximumLength"] == "20"
    assert by_name["Region"]["listOfValue"] == ["EMEA", "AMER", "APAC"]
    assert by_name["Approval Limit"]["maximumValue"] == "100000"
    assert body["meta"]["pagination"]["totalCount"] == 4


def test_companies_q_returns_partial_and_exact_matches(api: httpx.Client) -> None:
    body = api.get("/companies", params={"q": "Northwind"}).json()
    assert [company["companyId"] for company in body["data"]] == [105, 106]
    partial = api.get("/companies", params={"q": "wind"}).json()
    assert [company["companyId"] for company in partial["data"]] == [105, 106]


def test_companies_status_is_a_string(api: httpx.Client) -> None:
    body = api.get("/companies/107").json()
    assert body["data"]["companyStatus"] == "0"
    assert body["data"]["companyName"] == "Stark Components"


def test_companies_paginate(api: httpx.Client) -> None:
    first = api.get("/companies").json()
    second = api.get("/companies", params={"offset": 5, "limit": 5}).json()
    assert len(first["data"]) == 10
    assert first["meta"]["pagination"]["totalCount"] == 10
    assert [company["companyId"] for company in second["data"]] == [
        106,
        107,
        108,
        109,
        110,
    ]


def test_unknown_company_is_404(api: httpx.Client) -> None:
    response = api.get("/companies/999")
    assert response.status_code == 404
    assert response.json()["data"]["errMsg"] == "Company matching query does not exist."


def test_roles_q_is_partial(api: httpx.Client) -> None:
    body = api.get("/companies/roles", params={"q": "buyer"}).json()
    assert [role["name"] for role in body["data"]] == ["Senior Buyer", "Junior Buyer"]
    assert all(role["roleType"] == 1 for role in body["data"])


def test_roles_include_custom_roles(api: httpx.Client) -> None:
    body = api.get("/companies/roles", params={"limit": 250}).json()
    custom = [role["name"] for role in body["data"] if role["roleType"] == 2]
    assert custom == ["Approver", "Purchasing Manager"]


def test_channels_list(api: httpx.Client) -> None:
    body = api.get("/channels").json()
    by_id = {channel["channelId"]: channel for channel in body["data"]}
    assert by_id[1]["b2bEnabled"] is True
    assert by_id[3]["b2bEnabled"] is False
    assert by_id[1]["id"] == 8801


def test_channels_401_has_no_envelope(sandbox: RunningSandbox) -> None:
    with httpx.Client(base_url=sandbox.base_url, verify=SHARED_SSL_CONTEXT) as client:
        response = client.get("/channels", headers={"X-Store-Hash": "sandbox1"})
    assert response.status_code == 401
    assert response.json() == {
        "code": 401,
        "message": "Invalid token header. No credentials provided.",
    }


def test_unknown_channel_is_404_without_envelope(api: httpx.Client) -> None:
    response = api.get("/channels/77")
    assert response.status_code == 404
    assert response.json() == {"code": 404, "message": "Channel does not exist"}


def test_every_response_has_budget_headers(api: httpx.Client) -> None:
    for response in (
        api.get("/users"),
        api.get("/users/1"),
        api.post("/users", json={}),
    ):
        assert response.headers["X-Requests-Allocated"] == "150 times/60 s"
        assert response.headers["X-Requests-Remaining"].endswith(" times")
        assert response.headers["X-Request-Window-Resets-After"].endswith(" s")


def test_keep_alive_serves_many_requests_on_one_connection(api: httpx.Client) -> None:
    statuses = {api.get("/users/5001").status_code for _ in range(20)}
    assert statuses == {200}


def test_stop_twice_is_harmless(sandbox: RunningSandbox) -> None:
    sandbox.stop()
    sandbox.stop()
    try:
        with api_client(sandbox, timeout=2) as client:
            client.get("/users")
    except httpx.ConnectError:
        rejected = True
    else:
        rejected = False
    assert rejected


def test_chunked_body_is_411(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"email": '
        yield b'"a@b.example"}'

    response = api.post(
        "/users", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["error"]
