"""strict_requests: the sandbox rejects with 400 requests outside the OpenAPI files."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provisioner.sandbox import RunningSandbox, SandboxOptions, start_sandbox

from .helpers import new_user


def strict_error(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    message: str = response.json()["data"]["errMsg"]
    assert message.startswith("The request does not match the OpenAPI description: ")
    return message


def test_string_company_id_is_400(api: httpx.Client, sandbox: RunningSandbox) -> None:
    response = api.post("/users", json=new_user("g@acme.example", companyId="101"))
    assert "body.companyId: '101' is not of type 'integer'." in strict_error(response)
    assert sandbox.created_counts() == {}


def test_bulk_item_problem_names_its_index(api: httpx.Client) -> None:
    bodies = [
        new_user("a@acme.example"),
        new_user("b@acme.example", acceptWelcomeEmail="no"),
    ]
    message = strict_error(api.post("/users/bulk", json=bodies))
    assert "body[1].acceptWelcomeEmail: 'no' is not of type 'boolean'." in message


def test_unknown_property_is_400(api: httpx.Client) -> None:
    # "phone" was the field's name in the older API. The v3 description has no such
    # property, so a client that sends it loses the phone number.
    response = api.post("/users", json=new_user("g@acme.example", phone="+1 555 0100"))
    assert "body.phone: not a property of a create-user body" in strict_error(response)


def test_number_as_extra_field_value_is_400(api: httpx.Client) -> None:
    extra = [{"fieldName": "Cost Centre", "fieldValue": 42}]
    response = api.post("/users", json=new_user("g@acme.example", extraFields=extra))
    assert "fieldValue: 42 is not of type 'string'." in strict_error(response)


def test_query_limit_above_maximum_is_400(api: httpx.Client) -> None:
    message = strict_error(api.get("/users", params={"limit": 1000}))
    assert "query parameter limit: 1000 is greater than the maximum of 250." in message


def test_documented_errors_pass_through(api: httpx.Client) -> None:
    missing = api.post("/users", json={"role": 1, "channelIds": [1]})
    too_many = api.post(
        "/users/bulk", json=[new_user(f"u{i}@acme.example") for i in range(11)]
    )
    bad_email = api.post("/users", json=new_user("not-an-email"))
    assert missing.status_code == 422
    assert too_many.status_code == 413
    assert bad_email.status_code == 422


def test_snake_case_key_gets_api_422(api: httpx.Client) -> None:
    body = new_user("g@acme.example", companyId=None, company_id=101)
    response = api.post("/users", json=body)
    assert response.status_code == 422
    assert "company_id" in response.json()["data"]["errMsg"]


def test_operations_outside_the_files_are_unchecked(api: httpx.Client) -> None:
    assert api.get("/companies", params={"limit": 250}).status_code == 200
    assert api.get("/companies/roles", params={"q": "Admin"}).status_code == 200


def test_strict_off_accepts_the_same_request(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    from .helpers import api_client

    sandbox = sandbox_factory(strict_requests=False)
    with api_client(sandbox) as client:
        response = client.post("/users", json=new_user("g@acme.example", phone="1"))
    assert response.status_code == 200


def test_missing_openapi_core_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "openapi_core" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ValueError, match="strict_requests needs openapi-core"):
        start_sandbox(SandboxOptions(strict_requests=True))
