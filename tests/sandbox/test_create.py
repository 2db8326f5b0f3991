"""Creating users: validation errors, email uniqueness, customer links, bulk modes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provisioner.sandbox import RunningSandbox

from .helpers import api_client, new_user


def err_msg(response: httpx.Response) -> Any:
    assert response.status_code == 422, response.text
    return response.json()["data"]["errMsg"]


@pytest.fixture
def lenient_api(sandbox_factory) -> Any:  # type: ignore[no-untyped-def]
    """A client for a sandbox without strict request checks, to reach the API's
    own responses to requests that break the OpenAPI description."""
    sandbox = sandbox_factory(strict_requests=False)
    with api_client(sandbox) as client:
        yield client


def test_create_returns_200_with_ids(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    response = api.post("/users", json=new_user("grace@acme.example"))
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 200
    assert set(body["data"]) == {"userId", "bcId"}
    assert sandbox.created_counts() == {"grace@acme.example": 1}


def test_created_user_is_readable(api: httpx.Client) -> None:
    ids = api.post("/users", json=new_user("Grace@Acme.example")).json()["data"]
    found = api.get("/users", params={"email": "grace@acme.example"}).json()["data"]
    assert [user["id"] for user in found] == [ids["userId"]]
    assert found[0]["customerId"] == ids["bcId"]
    assert found[0]["email"] == "Grace@Acme.example"


def test_created_user_gets_predefined_role_id(api: httpx.Client) -> None:
    ids = api.post("/users", json=new_user("grace@acme.example", role=2)).json()["data"]
    user = api.get(f"/users/{ids['userId']}").json()["data"]
    assert user["role"] == 2
    assert user["companyRoleId"] == 27606


def test_company_role_id_replaces_role(api: httpx.Client) -> None:
    body = new_user("grace@acme.example", role=None, companyRoleId=31877)
    ids = api.post("/users", json=body).json()["data"]
    user = api.get(f"/users/{ids['userId']}").json()["data"]
    assert user["companyRoleId"] == 31877
    assert user["companyRoleName"] == "Approver"
    assert user["role"] == 2


def test_missing_fields_are_listed_as_null(lenient_api: httpx.Client) -> None:
    response = lenient_api.post("/users", json={"role": 1, "channelIds": [1]})
    assert err_msg(response) == {
        "firstName": ["This field may not be null."],
        "lastName": ["This field may not be null."],
        "email": ["This field may not be null."],
        "companyId": ["This field may not be null."],
    }
    assert response.json()["meta"]["message"] == "Parameter Error"


def test_missing_role_is_non_field_error(api: httpx.Client) -> None:
    response = api.post("/users", json=new_user("grace@acme.example", role=None))
    assert err_msg(response) == {"non_field_errors": ["User must have a role."]}


def test_invalid_role_is_not_a_valid_choice(api: httpx.Client) -> None:
    response = api.post("/users", json=new_user("grace@acme.example", role=5))
    assert err_msg(response) == {"role": ['"5" is not a valid choice']}


def test_invalid_email_is_not_correct(api: httpx.Client) -> None:
    for email in (
        "grace.acme.example",
        "grace@",
        "grace@@acme.example",
        "gr ace@acme.example",
    ):
        response = api.post("/users", json=new_user(email))
        assert err_msg(response) == {"email": ["Email is not correct."]}, email


def test_no_channel_is_documented_string(api: httpx.Client) -> None:
    response = api.post("/users", json=new_user("grace@acme.example", channelIds=[]))
    assert err_msg(response) == (
        "At least one B2B storefront needs to be enabled for a Company user."
    )
    assert (
        response.json()["meta"]["message"] == "Processing data contains logical errors"
    )


def test_email_taken_in_any_company_is_conflict(api: httpx.Client) -> None:
    # Dana is a user of Acme Industrial (101); the new row names Globex (102).
    body = new_user("DANA.WHITFIELD@acme-industrial.example", companyId=102)
    response = api.post("/users", json=body)
    assert err_msg(response) == (
        "Email already exists. ['DANA.WHITFIELD@acme-industrial.example']"
    )


def test_second_create_of_same_email_is_conflict(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    first = api.post("/users", json=new_user("grace@acme.example"))
    second = api.post("/users", json=new_user("GRACE@acme.example"))
    assert first.status_code == 200
    assert err_msg(second) == "Email already exists. ['GRACE@acme.example']"
    assert sandbox.created_counts() == {"grace@acme.example": 1}
    assert sandbox.stats()["emailConflicts"] == 1


def test_unique_emails_off_lets_duplicates_through(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox = sandbox_factory(unique_emails=False)
    with api_client(sandbox) as client:
        client.post("/users", json=new_user("grace@acme.example"))
        client.post("/users", json=new_user("grace@acme.example"))
    assert sandbox.created_counts() == {"grace@acme.example": 2}


def test_plain_customer_is_linked(api: httpx.Client, sandbox: RunningSandbox) -> None:
    body = new_user("Legacy.Buyer@umbrella.example", companyId=104)
    response = api.post("/users", json=body)
    assert response.json()["data"]["bcId"] == 9500
    assert sandbox.created_users()[0]["linkedCustomer"] is True


def test_new_customer_ids_do_not_clash_with_seed(api: httpx.Client) -> None:
    first = api.post("/users", json=new_user("one@acme.example")).json()["data"]
    second = api.post("/users", json=new_user("two@acme.example")).json()["data"]
    assert first["bcId"] not in (9001, 9002, 9003, 9500)
    assert second["bcId"] == first["bcId"] + 1
    assert second["userId"] == first["userId"] + 1


@pytest.mark.parametrize(
    ("company_id", "fragment"),
    [
        (999, "does not exist"),
        (107, "pending"),
        (108, "rejected"),
        (109, "inactive"),
    ],
)
def test_company_must_exist_and_be_approved(
    api: httpx.Client, company_id: int, fragment: str
) -> None:
    response = api.post(
        "/users", json=new_user("grace@x.example", companyId=company_id)
    )
    messages = err_msg(response)["companyId"]
    assert len(messages) == 1
    assert fragment in messages[0]


def test_unknown_company_role_id(api: httpx.Client) -> None:
    body = new_user("grace@acme.example", role=None, companyRoleId=12345)
    assert err_msg(api.post("/users", json=body)) == {
        "companyRoleId": ["Role 12345 does not exist."]
    }


def test_unknown_channel(api: httpx.Client) -> None:
    body = new_user("grace@acme.example", channelIds=[1, 9])
    assert err_msg(api.post("/users", json=body)) == {
        "channelIds": ["Channel 9 does not exist."]
    }


def test_non_b2b_channel(api: httpx.Client) -> None:
    body = new_user("grace@acme.example", channelIds=[3])
    messages = err_msg(api.post("/users", json=body))["channelIds"]
    assert messages == ["Channel 3 (Retail Pop-up) is not enabled for B2B Edition."]


def test_unknown_extra_field(api: httpx.Client) -> None:
    extra = [
        {"fieldName": "Cost Centre", "fieldValue": "A1"},
        {"fieldName": "Shoe Size", "fieldValue": "9"},
    ]
    messages = err_msg(
        api.post("/users", json=new_user("g@a.example", extraFields=extra))
    )
    assert list(messages) == ["extraFields"]
    assert messages["extraFields"][0].startswith('Unknown extra field "Shoe Size".')


def test_missing_required_extra_field(api: httpx.Client) -> None:
    body = new_user("grace@acme.example", extraFields=[])
    assert err_msg(api.post("/users", json=body)) == {
        "extraFields": ['Extra field "Cost Centre" is required.']
    }


def test_blank_required_extra_field(api: httpx.Client) -> None:
    extra = [{"fieldName": "Cost Centre", "fieldValue": "  "}]
    body = new_user("grace@acme.example", extraFields=extra)
    assert err_msg(api.post("/users", json=body)) == {
        "extraFields": ['Extra field "Cost Centre" is required.']
    }


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "Cost Centre",
            "X" * 21,
            'Extra field "Cost Centre": ensure this value has no more than 20 '
            "characters.",
        ),
        (
            "Region",
            "Mars",
            'Extra field "Region": "Mars" is not one of EMEA, AMER, APAC.',
        ),
        (
            "Approval Limit",
            "100001",
            'Extra field "Approval Limit": ensure this value is less than or equal '
            "to 100000.",
        ),
        (
            "Approval Limit",
            "lots",
            'Extra field "Approval Limit": "lots" is not a number.',
        ),
        (
            "Notes",
            "n" * 501,
            'Extra field "Notes": ensure this value has no more than 500 characters.',
        ),
    ],
)
def test_extra_field_value_checks(
    api: httpx.Client, name: str, value: str, expected: str
) -> None:
    extra = [{"fieldName": "Cost Centre", "fieldValue": "A1"}]
    if name == "Cost Centre":
        extra = []
    extra.append({"fieldName": name, "fieldValue": value})
    body = new_user("grace@acme.example", extraFields=extra)
    assert err_msg(api.post("/users", json=body)) == {"extraFields": [expected]}


def test_extra_field_values_at_their_limits_are_accepted(api: httpx.Client) -> None:
    extra = [
        {"fieldName": "Cost Centre", "fieldValue": "X" * 20},
        {"fieldName": "Region", "fieldValue": "APAC"},
        {"fieldName": "Approval Limit", "fieldValue": "100000"},
    ]
    response = api.post(
        "/users", json=new_user("grace@acme.example", extraFields=extra)
    )
    assert response.status_code == 200


def test_snake_case_keys_are_rejected(lenient_api: httpx.Client) -> None:
    body = new_user("grace@acme.example", companyId=None, company_id=101)
    messages = err_msg(lenient_api.post("/users", json=body))
    assert messages["company_id"] == [
        "Unknown field. This API accepts camelCase names only; use companyId."
    ]
    assert messages["companyId"] == ["This field may not be null."]


def test_name_longer_than_150_characters(api: httpx.Client) -> None:
    body = new_user("grace@acme.example", firstName="A" * 151)
    assert err_msg(api.post("/users", json=body)) == {
        "firstName": ["Ensure this field has no more than 150 characters."]
    }


def test_wrong_types_are_named(lenient_api: httpx.Client) -> None:
    body = new_user("grace@acme.example", companyId="101", channelIds="1;2")
    body["acceptWelcomeEmail"] = "yes"
    messages = err_msg(lenient_api.post("/users", json=body))
    assert messages["companyId"] == ["A valid integer is required."]
    assert messages["channelIds"] == ['Expected a list of items but got type "str".']
    assert messages["acceptWelcomeEmail"] == ["Must be a valid boolean."]


def test_wrong_content_type_is_415(api: httpx.Client) -> None:
    response = api.post(
        "/users", content=b"email=a@b.example", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json()["data"]["errMsg"] == (
        'Unsupported media type "text/plain" in request.'
    )


def test_malformed_json_is_400(api: httpx.Client) -> None:
    response = api.post(
        "/users", content=b'{"email": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["data"]["errMsg"].startswith("JSON parse error - ")


def test_json_with_charset_is_accepted(api: httpx.Client) -> None:
    response = api.post(
        "/users",
        content=httpx.Request("POST", "/", json=new_user("g@acme.example")).content,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


def test_array_body_on_single_create_is_422(lenient_api: httpx.Client) -> None:
    response = lenient_api.post("/users", json=[new_user("g@acme.example")])
    assert err_msg(response) == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


# Bulk


def test_bulk_creates_up_to_ten(api: httpx.Client, sandbox: RunningSandbox) -> None:
    bodies = [new_user(f"user{index}@acme.example") for index in range(10)]
    response = api.post("/users/bulk", json=bodies)
    assert response.status_code == 200
    data = response.json()["data"]
    assert len(data) == 10
    assert all(set(item) == {"userId", "bcId"} for item in data)
    assert len(sandbox.created_counts()) == 10


def test_bulk_result_is_in_input_order_by_default(api: httpx.Client) -> None:
    bodies = [new_user(f"user{index}@acme.example") for index in range(5)]
    ids = [
        item["userId"] for item in api.post("/users/bulk", json=bodies).json()["data"]
    ]
    emails = [api.get(f"/users/{user_id}").json()["data"]["email"] for user_id in ids]
    assert emails == [body["email"] for body in bodies]


def test_bulk_result_shuffled_keeps_same_ids(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox = sandbox_factory(bulk_result_order="shuffled", fault_seed=3)
    bodies = [new_user(f"user{index}@acme.example") for index in range(10)]
    with api_client(sandbox) as client:
        ids = [
            item["userId"]
            for item in client.post("/users/bulk", json=bodies).json()["data"]
        ]
    created = [user["userId"] for user in sandbox.created_users()]
    assert sorted(ids) == sorted(created)
    assert ids != created


def test_bulk_eleven_users_is_413(api: httpx.Client, sandbox: RunningSandbox) -> None:
    bodies = [new_user(f"user{index}@acme.example") for index in range(11)]
    response = api.post("/users/bulk", json=bodies)
    assert response.status_code == 413
    assert response.json()["data"]["errMsg"] == "Add up to ten data at a time"
    assert sandbox.created_counts() == {}


def test_bulk_empty_list_is_422(api: httpx.Client) -> None:
    assert err_msg(api.post("/users/bulk", json=[])) == {
        "non_field_errors": ["This list may not be empty."]
    }


def test_bulk_object_body_is_422(lenient_api: httpx.Client) -> None:
    response = lenient_api.post("/users/bulk", json=new_user("g@acme.example"))
    assert err_msg(response) == {
        "non_field_errors": ['Expected a list of items but got type "dict".']
    }


def test_bulk_atomic_creates_nothing_when_one_fails(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    bodies = [
        new_user("good1@acme.example"),
        new_user("marco.bellini@globex.example"),
        new_user("good2@acme.example"),
    ]
    response = api.post("/users/bulk", json=bodies)
    assert err_msg(response) == "Email already exists. ['marco.bellini@globex.example']"
    assert sandbox.created_counts() == {}


def test_bulk_duplicate_within_batch_is_conflict(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    bodies = [new_user("twice@acme.example"), new_user("Twice@acme.example")]
    response = api.post("/users/bulk", json=bodies)
    assert err_msg(response) == "Email already exists. ['Twice@acme.example']"
    assert sandbox.created_counts() == {}


def test_bulk_partial_creates_valid_items(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox = sandbox_factory(bulk_failure_mode="partial")
    bodies = [
        new_user("good1@acme.example"),
        new_user("marco.bellini@globex.example"),
        new_user("bad-role@acme.example", role=None, companyRoleId=1),
        new_user("good2@acme.example"),
    ]
    with api_client(sandbox) as client:
        response = client.post("/users/bulk", json=bodies)
    assert response.status_code == 422
    data = response.json()["data"]
    assert [error["index"] for error in data["errors"]] == [1, 2]
    assert data["errors"][0]["_detail"] == "email is existed"
    assert data["errors"][0]["email"] == "marco.bellini@globex.example"
    assert data["errors"][1]["_detail"] == "role is non-existent"
    assert len(data["users"]) == 2
    assert sandbox.created_counts() == {
        "good1@acme.example": 1,
        "good2@acme.example": 1,
    }


def test_bulk_partial_all_valid_is_200(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox = sandbox_factory(bulk_failure_mode="partial")
    bodies = [new_user(f"user{index}@acme.example") for index in range(3)]
    with api_client(sandbox) as client:
        response = client.post("/users/bulk", json=bodies)
    assert response.status_code == 200
    assert len(response.json()["data"]) == 3


def test_single_storefront_channels_403(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from provisioner.sandbox import SandboxOptions, start_sandbox

    seed = tmp_path / "seed.json"
    seed.write_text(
        '{"companies": [{"companyId": 1, "companyName": "Solo", "companyStatus": 1}],'
        ' "multiStorefront": false,'
        ' "channels": [{"id": 1, "channelId": 1, "name": "Main", "b2bEnabled": true}]}'
    )
    with (
        start_sandbox(SandboxOptions(seed=seed)) as sandbox,
        api_client(sandbox) as client,
    ):
        channels = client.get("/channels")
        created = client.post(
            "/users",
            json=new_user(
                "solo@x.example", companyId=1, channelIds=None, extraFields=None
            ),
        )
    assert channels.status_code == 403
    assert channels.json() == {
        "code": 403,
        "message": "Multi storefront is not enabled",
    }
    assert created.status_code == 200
