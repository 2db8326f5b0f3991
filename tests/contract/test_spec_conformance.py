"""The sandbox's responses to each operation the provisioner uses fit the OpenAPI files.

The corrections to BigCommerce's descriptions, and why they are needed, are listed
in ``provisioner.sandbox.openapi``; the last tests here show each correction's
reason against the unchanged files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox.helpers import api_client, new_user

from provisioner.sandbox import RunningSandbox
from provisioner.sandbox.openapi import SPEC_DIR, SPEC_FILES, load_spec_dict

from .openapi import NotDescribedError, validate_request, validate_response


@pytest.fixture
def lenient(sandbox_factory: Any) -> Iterator[httpx.Client]:
    """A client for a sandbox that accepts requests outside the description too."""
    with api_client(sandbox_factory(strict_requests=False)) as client:
        yield client


def assert_fits(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert validate_response(response) == []


# Users: reads


def test_list_users_fits(api: httpx.Client) -> None:
    assert_fits(api.get("/users"), 200)
    assert_fits(
        api.get("/users", params={"isIncludeExtraFields": "1", "limit": 250}), 200
    )
    assert_fits(
        api.get("/users", params={"email": "marco.bellini@globex.example"}), 200
    )
    assert_fits(api.get("/users", params={"companyId": 101, "offset": 0}), 200)


def test_list_users_422_fits(lenient: httpx.Client) -> None:
    assert_fits(lenient.get("/users", params={"limit": 500}), 422)


def test_get_user_fits(api: httpx.Client) -> None:
    assert_fits(api.get("/users/5001"), 200)
    assert_fits(api.get("/users/999999"), 404)


def test_extra_fields_fit(api: httpx.Client) -> None:
    assert_fits(api.get("/users/extra-fields"), 200)


# Users: creates


def test_create_user_fits(api: httpx.Client) -> None:
    assert_fits(api.post("/users", json=new_user("grace@acme.example")), 200)


def test_created_user_read_back_fits(api: httpx.Client) -> None:
    body = new_user("grace@acme.example", phoneNumber="+44 20 7946 0000", uuid="ERP-1")
    ids = api.post("/users", json=body).json()["data"]
    assert_fits(api.get(f"/users/{ids['userId']}"), 200)


@pytest.mark.parametrize(
    "changes",
    [
        {"role": None},
        {"role": 5},
        {"email": "not-an-email"},
        {"channelIds": []},
        {"email": "dana.whitfield@acme-industrial.example"},
        {"companyId": 107},
        {"companyId": 999},
        {"role": None, "companyRoleId": 4},
        {"channelIds": [3]},
        {"extraFields": []},
        {"extraFields": [{"fieldName": "Shoe Size", "fieldValue": "9"}]},
    ],
    ids=lambda changes: ",".join(f"{key}={value}" for key, value in changes.items()),
)
def test_create_user_422_fits(api: httpx.Client, changes: dict[str, Any]) -> None:
    body = new_user("grace@acme.example")
    body.update(changes)
    body = {key: value for key, value in body.items() if value is not None}
    assert_fits(api.post("/users", json=body), 422)


def test_create_user_missing_fields_422_fits(lenient: httpx.Client) -> None:
    assert_fits(lenient.post("/users", json={"role": 1, "channelIds": [1]}), 422)


def test_bulk_create_fits(api: httpx.Client) -> None:
    bodies = [new_user(f"u{index}@acme.example") for index in range(3)]
    assert_fits(api.post("/users/bulk", json=bodies), 200)


def test_bulk_create_413_fits(api: httpx.Client) -> None:
    bodies = [new_user(f"u{index}@acme.example") for index in range(11)]
    assert_fits(api.post("/users/bulk", json=bodies), 413)


def test_bulk_create_atomic_422_fits(api: httpx.Client) -> None:
    bodies = [new_user("u1@acme.example"), new_user("u2@acme.example", role=9)]
    assert_fits(api.post("/users/bulk", json=bodies), 422)


def test_bulk_create_partial_422_fits(sandbox_factory: Any) -> None:
    sandbox: RunningSandbox = sandbox_factory(bulk_failure_mode="partial")
    bodies = [new_user("u1@acme.example"), new_user("u2@acme.example", role=9)]
    with api_client(sandbox) as client:
        assert_fits(client.post("/users/bulk", json=bodies), 422)


# Channels


def test_channels_fit(api: httpx.Client) -> None:
    assert_fits(api.get("/channels"), 200)
    assert_fits(api.get("/channels/2"), 200)
    assert_fits(api.get("/channels/77"), 404)


def test_channels_403_fits(sandbox_factory: Any, tmp_path: Any) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "companies": [{"companyId": 1, "companyName": "A", "companyStatus": 1}],
                "multiStorefront": False,
            }
        )
    )
    with api_client(sandbox_factory(seed=seed)) as client:
        assert_fits(client.get("/channels"), 403)


# Gaps in the descriptions


def test_companies_are_not_described(api: httpx.Client) -> None:
    with pytest.raises(NotDescribedError):
        validate_response(api.get("/companies"))
    with pytest.raises(NotDescribedError):
        validate_response(api.get("/companies/roles"))


@pytest.mark.parametrize("status_path", ["401", "429"])
def test_undocumented_statuses_are_reported(
    sandbox_factory: Any, status_path: str
) -> None:
    sandbox: RunningSandbox = sandbox_factory(request_limit=1)
    with api_client(sandbox) as client:
        if status_path == "401":
            response = client.get("/users", headers={"X-Auth-Token": "wrong"})
        else:
            client.get("/users")
            response = client.get("/users")
    assert response.status_code == int(status_path)
    assert validate_response(response) != []


# Requests


def test_valid_create_body_fits_request_schema() -> None:
    assert (
        validate_request("POST", "/api/v3/io/users", body=new_user("g@acme.example"))
        == []
    )


def test_company_role_id_without_role_fits_after_correction() -> None:
    body = new_user("g@acme.example", role=None, companyRoleId=31877)
    assert validate_request("POST", "/api/v3/io/users", body=body) == []


def test_request_type_errors_are_named() -> None:
    body = new_user("g@acme.example", companyId="101", channelIds="1;2")
    problems = validate_request("POST", "/api/v3/io/users/bulk", body=[body])
    assert "body[0].companyId: '101' is not of type 'integer'." in problems
    assert "body[0].channelIds: '1;2' is not of type 'array'." in problems


def test_request_query_limit_checked() -> None:
    problems = validate_request("GET", "/api/v3/io/users", query={"limit": "300"})
    assert problems == [
        "query parameter limit: 300 is greater than the maximum of 250."
    ]


# The corrections, and why each is needed


def raw_spec(name: str) -> dict[str, Any]:
    import yaml

    loaded: dict[str, Any] = yaml.safe_load((SPEC_DIR / name).read_text())
    return loaded


def errmsg_validator(spec: dict[str, Any]) -> Any:
    from openapi_schema_validator import OAS30Validator

    # errMsgPost refers to no other schema, so it validates on its own.
    return OAS30Validator(spec["components"]["schemas"]["errMsgPost"])


@pytest.mark.parametrize(
    "err_msg",
    [
        {"non_field_errors": ["User must have a role."]},
        "At least one B2B storefront needs to be enabled for a Company user.",
    ],
)
def test_errmsg_one_of_rejects_documented_examples(err_msg: Any) -> None:
    assert not errmsg_validator(raw_spec(SPEC_FILES[0])).is_valid(err_msg)
    assert errmsg_validator(load_spec_dict(SPEC_FILES[0])).is_valid(err_msg)


def test_user_post_requires_role_before_correction() -> None:
    raw = raw_spec(SPEC_FILES[0])
    required = [
        key
        for part in raw["components"]["schemas"]["userPost"]["allOf"]
        for key in part.get("required", [])
    ]
    assert "role" in required


@pytest.mark.parametrize("name", SPEC_FILES)
def test_corrected_descriptions_are_valid_openapi(name: str) -> None:
    from openapi_spec_validator import validate

    validate(load_spec_dict(name))
