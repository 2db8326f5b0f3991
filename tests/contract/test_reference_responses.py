"""Reference responses: the exact bodies and headers that B2B Edition's documentation
quotes, as the sandbox sends them. Clients are written against these."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sandbox.helpers import api_client, new_user

SUCCESS_MESSAGES = {"Success", "SUCCESS", "success"}


def test_create_success_envelope(api: httpx.Client) -> None:
    body = api.post("/users", json=new_user("grace@acme.example")).json()
    assert set(body) == {"code", "data", "meta"}
    assert body["code"] == 200
    assert set(body["data"]) == {"userId", "bcId"}
    assert isinstance(body["data"]["userId"], int)
    assert isinstance(body["data"]["bcId"], int)
    assert set(body["meta"]) == {"message"}
    assert body["meta"]["message"] in SUCCESS_MESSAGES


def test_bulk_success_envelope(api: httpx.Client) -> None:
    bodies = [new_user("a@acme.example"), new_user("b@acme.example")]
    body = api.post("/users/bulk", json=bodies).json()
    assert body["code"] == 200
    assert [set(item) for item in body["data"]] == [{"userId", "bcId"}] * 2


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"role": None},
            {
                "code": 422,
                "data": {"errMsg": {"non_field_errors": ["User must have a role."]}},
                "meta": {"message": "Parameter Error"},
            },
        ),
        (
            {"channelIds": []},
            {
                "code": 422,
                "data": {
                    "errMsg": "At least one B2B storefront needs to be enabled for a "
                    "Company user."
                },
                "meta": {"message": "Processing data contains logical errors"},
            },
        ),
        (
            {"email": "not-an-email"},
            {
                "code": 422,
                "data": {"errMsg": {"email": ["Email is not correct."]}},
                "meta": {"message": "Parameter Error"},
            },
        ),
        (
            {"role": 5},
            {
                "code": 422,
                "data": {"errMsg": {"role": ['"5" is not a valid choice']}},
                "meta": {"message": "Parameter Error"},
            },
        ),
        (
            {"email": "Marco.Bellini@globex.example"},
            {
                "code": 422,
                "data": {
                    "errMsg": "Email already exists. ['Marco.Bellini@globex.example']"
                },
                "meta": {"message": "Processing data contains logical errors"},
            },
        ),
    ],
    ids=["no role", "no channel", "bad email", "bad role", "email exists"],
)
def test_documented_422(
    api: httpx.Client, changes: dict[str, Any], expected: Any
) -> None:
    body = new_user("grace@acme.example")
    body.update(changes)
    body = {key: value for key, value in body.items() if value is not None}
    response = api.post("/users", json=body)
    assert response.status_code == 422
    assert response.json() == expected


def test_documented_422_missing_fields(sandbox_factory: Any) -> None:
    with api_client(sandbox_factory(strict_requests=False)) as client:
        response = client.post("/users", json={"role": 1, "channelIds": [1]})
    assert response.json() == {
        "code": 422,
        "data": {
            "errMsg": {
                "firstName": ["This field may not be null."],
                "lastName": ["This field may not be null."],
                "email": ["This field may not be null."],
                "companyId": ["This field may not be null."],
            }
        },
        "meta": {"message": "Parameter Error"},
    }


def test_401(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory()
    with httpx.Client(base_url=sandbox.base_url) as client:
        response = client.get("/users", headers={"X-Store-Hash": "sandbox1"})
    assert response.status_code == 401
    assert response.json() == {
        "code": 401,
        "data": {"errMsg": "Invalid token header. No credentials provided."},
        "meta": {"message": "Unauthorized"},
    }


def test_404_user(api: httpx.Client) -> None:
    response = api.get("/users/123456")
    assert response.status_code == 404
    assert response.json() == {
        "code": 404,
        "data": {"errMsg": "User matching query does not exist."},
        "meta": {"message": "Not Found Error"},
    }


def test_413_eleven_users(api: httpx.Client) -> None:
    bodies = [new_user(f"u{index}@acme.example") for index in range(11)]
    response = api.post("/users/bulk", json=bodies)
    assert response.status_code == 413
    assert response.json() == {
        "code": 413,
        "data": {"errMsg": "Add up to ten data at a time"},
        "meta": {"message": "Request Entity Too Large"},
    }


def test_403_channels_single_storefront(sandbox_factory: Any, tmp_path: Any) -> None:
    seed = tmp_path / "seed.toml"
    seed.write_text(
        'multiStorefront = false\n[[companies]]\ncompanyId = 1\ncompanyName = "A"\n'
        "companyStatus = 1\n"
    )
    with api_client(sandbox_factory(seed=seed)) as client:
        response = client.get("/channels")
    assert response.status_code == 403
    assert response.json() == {
        "code": 403,
        "message": "Multi storefront is not enabled",
    }


def test_rate_headers_with_unit_text(api: httpx.Client) -> None:
    headers = api.get("/users").headers
    assert headers["X-Requests-Allocated"] == "150 times/60 s"
    assert headers["X-Requests-Remaining"] == "149 times"
    assert re.fullmatch(r"\d+\.\d{3} s", headers["X-Request-Window-Resets-After"])
