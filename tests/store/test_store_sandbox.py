"""StoreCatalog through the real HTTP client against the sandbox on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from provisioner.api.client import B2BClient
from provisioner.catalog import CompanyKey, Problem, RoleChoice
from provisioner.config import Config, RateSettings, Secret
from provisioner.sandbox import RunningSandbox
from provisioner.sandbox.options import DEFAULT_SEED_PATH
from provisioner.store import StoreCatalog

T = TypeVar("T")

# The type of the ``sandbox_factory`` fixture in tests/conftest.py.
SandboxFactory = Callable[..., RunningSandbox]

# A rate far above what the tests send, in a window the sandbox resets every
# second, so the client's pacing never slows a test down.
FAST_RATE = RateSettings(store_limit_per_minute=60_000, share=1.0, max_attempts=2)


def fast_sandbox(factory: SandboxFactory, **options: Any) -> RunningSandbox:
    return factory(request_limit=100_000, window_seconds=1.0, **options)


def with_client(
    sandbox: RunningSandbox, work: Callable[[B2BClient], Awaitable[T]]
) -> T:
    config = Config(rate=FAST_RATE).with_api(
        base_url=sandbox.base_url, store_hash=sandbox.options.store_hash
    )

    async def run() -> T:
        token = Secret(sandbox.options.token)
        async with B2BClient.from_config(config, token) as api:
            return await work(api)

    return asyncio.run(run())


def load_catalog(
    sandbox: RunningSandbox,
    refs: Iterable[tuple[CompanyKey, str]] = (),
    default_channel_ids: tuple[int, ...] = (),
) -> StoreCatalog:
    async def work(api: B2BClient) -> StoreCatalog:
        return await StoreCatalog.load(
            api, company_refs=refs, default_channel_ids=default_channel_ids
        )

    return with_client(sandbox, work)


def problem(result: object) -> Problem:
    assert isinstance(result, Problem), f"expected a Problem, got {result!r}"
    return result


def test_sandbox_companies_resolved(sandbox_factory: SandboxFactory) -> None:
    sandbox = fast_sandbox(sandbox_factory)
    refs: list[tuple[CompanyKey, str]] = [
        ("companyId", "101"),
        ("company", "globex supply"),
        ("companyExternalId", "ERP-INITECH-003"),
    ]

    catalog = load_catalog(sandbox, refs)

    assert [catalog.resolve_company(*ref) for ref in refs] == [101, 102, 103]


def test_sandbox_same_named_companies(sandbox_factory: SandboxFactory) -> None:
    sandbox = fast_sandbox(sandbox_factory)

    catalog = load_catalog(sandbox, [("company", "Northwind Traders")])

    found = problem(catalog.resolve_company("company", "Northwind Traders"))
    assert found.code == "COMPANY_AMBIGUOUS"
    assert "105" in found.message
    assert "106" in found.message


def test_sandbox_companies_not_approved(sandbox_factory: SandboxFactory) -> None:
    sandbox = fast_sandbox(sandbox_factory)
    refs: list[tuple[CompanyKey, str]] = [
        ("company", "Stark Components"),
        ("companyId", "108"),
        ("companyExternalId", "ERP-TYR-009"),
    ]

    catalog = load_catalog(sandbox, refs)

    found = [problem(catalog.resolve_company(*ref)) for ref in refs]
    assert [item.code for item in found] == ["COMPANY_NOT_APPROVED"] * 3
    assert "pending" in found[0].message
    assert "rejected" in found[1].message
    assert "inactive" in found[2].message


def test_sandbox_unknown_name_suggestions(sandbox_factory: SandboxFactory) -> None:
    sandbox = fast_sandbox(sandbox_factory)

    catalog = load_catalog(sandbox, [("company", "Umbrela Wholesale")])

    found = problem(catalog.resolve_company("company", "Umbrela Wholesale"))
    assert found.code == "COMPANY_NOT_FOUND"
    assert '"Umbrella Wholesale"' in found.fix


def test_sandbox_unknown_id(sandbox_factory: SandboxFactory) -> None:
    sandbox = fast_sandbox(sandbox_factory)

    catalog = load_catalog(sandbox, [("companyId", "4242")])

    assert problem(catalog.resolve_company("companyId", "4242")).code == (
        "COMPANY_NOT_FOUND"
    )


def test_sandbox_custom_roles(sandbox_factory: SandboxFactory) -> None:
    sandbox = fast_sandbox(sandbox_factory)

    async def work(api: B2BClient) -> tuple[StoreCatalog, dict[str, int]]:
        catalog = await StoreCatalog.load(api, company_refs=())
        role_ids = {role.name: role.role_id for role in await api.list_roles()}
        return catalog, role_ids

    catalog, role_ids = with_client(sandbox, work)

    approver = role_ids["Approver"]
    manager = role_ids["Purchasing Manager"]
    assert catalog.resolve_role("approver") == RoleChoice(company_role_id=approver)
    assert catalog.resolve_role("Purchasing Manager") == RoleChoice(
        company_role_id=manager
    )
    assert catalog.resolve_role(str(manager)) == RoleChoice(company_role_id=manager)
    assert catalog.resolve_role("Senior Buyer") == RoleChoice(role=1)
    assert problem(catalog.resolve_role("Purchasing")).code == "ROLE_NOT_FOUND"


def test_sandbox_channels(sandbox_factory: SandboxFactory) -> None:
    sandbox = fast_sandbox(sandbox_factory)

    catalog = load_catalog(sandbox)

    assert catalog.multi_storefront
    assert catalog.resolve_channel("Wholesale EU") == 2
    assert catalog.resolve_channel("1") == 1
    assert problem(catalog.resolve_channel("3")).code == "CHANNEL_NOT_B2B"
    assert problem(catalog.resolve_channel("12")).code == "CHANNEL_NOT_FOUND"


def test_sandbox_single_storefront(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    seed = json.loads(DEFAULT_SEED_PATH.read_text(encoding="utf-8"))
    seed["multiStorefront"] = False
    seed_path = tmp_path / "single_storefront.json"
    seed_path.write_text(json.dumps(seed), encoding="utf-8")
    sandbox = fast_sandbox(sandbox_factory, seed=seed_path)

    catalog = load_catalog(sandbox, default_channel_ids=(1,))

    assert not catalog.multi_storefront
    assert catalog.resolve_channel("1") == 1
    found = problem(catalog.resolve_channel("Default Storefront"))
    assert found.code == "CHANNEL_NAME_UNSUPPORTED"


def test_sandbox_extra_fields(sandbox_factory: SandboxFactory) -> None:
    sandbox = fast_sandbox(sandbox_factory)

    catalog = load_catalog(sandbox)

    fields = catalog.extra_fields()
    assert fields is not None
    by_name = {field.name: field for field in fields}
    assert by_name["Cost Centre"].is_required
    assert by_name["Region"].list_of_values == ("EMEA", "AMER", "APAC")


def test_sandbox_load_counts_requests(sandbox_factory: SandboxFactory) -> None:
    sandbox = fast_sandbox(sandbox_factory)

    catalog = load_catalog(sandbox, [("companyId", "101"), ("company", "Acme")])

    # Roles, channels, extra fields, Company 101, the search for "Acme", and the
    # full listing for suggestions because no Company is named exactly "Acme".
    assert catalog.requests == 6
