"""Seed files: JSON and TOML loading, and the messages for broken files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provisioner.errors import ConfigError
from provisioner.sandbox import SandboxOptions, SeedError, load_seed, start_sandbox

from .helpers import api_client

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_TOML = REPO / "samples" / "seed.example.toml"

MINIMAL: dict[str, Any] = {
    "companies": [{"companyId": 1, "companyName": "Solo Ltd", "companyStatus": 1}]
}


def write_json(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def seed_problems(tmp_path: Path, data: Any) -> str:
    with pytest.raises(SeedError) as raised:
        load_seed(write_json(tmp_path, data))
    return str(raised.value)


def test_default_seed_loads() -> None:
    seed = load_seed()
    assert len(seed.companies) == 10
    assert seed.multi_storefront is True
    assert {field.name for field in seed.extra_fields} >= {"Cost Centre", "Region"}


def test_minimal_json_seed(tmp_path: Path) -> None:
    seed = load_seed(write_json(tmp_path, MINIMAL))
    assert seed.companies[0].name == "Solo Ltd"
    assert seed.users == ()


def test_company_status_may_be_a_string(tmp_path: Path) -> None:
    data = {"companies": [{"companyId": 1, "companyName": "A", "companyStatus": "0"}]}
    assert load_seed(write_json(tmp_path, data)).companies[0].status == 0


def test_example_toml_matches_default_seed() -> None:
    assert load_seed(EXAMPLE_TOML) == load_seed()


def test_toml_seed_serves_its_companies(tmp_path: Path) -> None:
    path = tmp_path / "seed.toml"
    path.write_text(
        "[[companies]]\n"
        'companyId = 7\ncompanyName = "Toml Traders"\ncompanyStatus = 1\n',
        encoding="utf-8",
    )
    with (
        start_sandbox(SandboxOptions(seed=path)) as sandbox,
        api_client(sandbox) as client,
    ):
        names = [c["companyName"] for c in client.get("/companies").json()["data"]]
    assert names == ["Toml Traders"]


def test_seed_error_is_a_config_error() -> None:
    assert issubclass(SeedError, ConfigError)


def test_wrong_suffix(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text("companies: []", encoding="utf-8")
    with pytest.raises(SeedError, match=r"must end in \.json or \.toml"):
        load_seed(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot be read: No such file or directory"):
        load_seed(tmp_path / "absent.json")


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text('{\n  "companies": [,]\n}', encoding="utf-8")
    with pytest.raises(
        SeedError, match=r"is not valid JSON: .* at line 2, column 17\."
    ):
        load_seed(path)


def test_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "seed.toml"
    path.write_text("[[companies]\n", encoding="utf-8")
    with pytest.raises(SeedError, match="is not valid TOML"):
        load_seed(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_bytes(b'{"companies": [{"companyName": "Caf\xe9"}]}')
    with pytest.raises(SeedError, match="is not UTF-8"):
        load_seed(path)


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    assert "top level: must be an object" in seed_problems(tmp_path, [1, 2])


def test_every_problem_is_listed(tmp_path: Path) -> None:
    data = {
        "companies": [{"companyId": "one", "companyName": "", "companyStatus": 9}],
        "roles": [{"id": 1, "name": "Boss", "roleType": 3}],
        "extraFields": [{"fieldName": "Tier", "fieldType": 3, "listOfValue": []}],
        "colour": "blue",
    }
    message = seed_problems(tmp_path, data)
    assert "companies[0].companyId: must be an integer, got 'one'." in message
    assert "companies[0].companyName: must be a non-empty string" in message
    assert "companies[0].companyStatus: must be 0 (pending)" in message
    assert "roles[0].roleType: must be 1 (predefined) or 2 (custom), got 3." in message
    assert (
        "extraFields[0].listOfValue: a dropdown field needs at least one value."
        in message
    )
    assert "colour: unknown key" in message


def test_missing_companies(tmp_path: Path) -> None:
    assert "companies: missing" in seed_problems(tmp_path, {"roles": []})


def test_missing_and_unknown_keys_in_an_item(tmp_path: Path) -> None:
    data = {"companies": [{"companyId": 1, "companyName": "A", "status": 1}]}
    message = seed_problems(tmp_path, data)
    assert "companies[0].companyStatus: missing." in message
    assert "companies[0].status: unknown key." in message


def test_duplicate_ids_and_emails(tmp_path: Path) -> None:
    user = {
        "id": 1,
        "customerId": 10,
        "companyId": 1,
        "email": "a@x.example",
        "firstName": "A",
        "lastName": "B",
        "role": 0,
    }
    data = {
        "companies": MINIMAL["companies"] * 2,
        "users": [user],
        "customers": [{"customerId": 11, "email": "A@X.example"}],
    }
    message = seed_problems(tmp_path, data)
    assert "companies.companyId: 1 appears more than once." in message
    assert "'a@x.example' appears more than once." in message


def test_references_must_resolve(tmp_path: Path) -> None:
    user = {
        "id": 1,
        "customerId": 10,
        "companyId": 2,
        "email": "a@x.example",
        "firstName": "A",
        "lastName": "B",
        "role": 0,
        "companyRoleId": 99,
        "channelIds": [4],
        "extraFields": [{"fieldName": "Nope", "fieldValue": "x"}],
    }
    message = seed_problems(tmp_path, {**MINIMAL, "users": [user]})
    assert "users[0].companyId: no Company has id 2." in message
    assert "users[0].companyRoleId: no role has id 99." in message
    assert "users[0].channelIds: no channel has channelId 4." in message
    assert "users[0].extraFields: no extra field is named 'Nope'." in message


def test_start_sandbox_raises_seed_error(tmp_path: Path) -> None:
    with pytest.raises(SeedError):
        start_sandbox(SandboxOptions(seed=write_json(tmp_path, {"companies": 3})))
