"""plan_run on a real CSV sheet, through the HTTP client, against the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from provisioner.api.client import B2BClient
from provisioner.config import Config, Defaults, RateSettings, Secret
from provisioner.loading import load_sheet
from provisioner.model import Status
from provisioner.plan import Plan, plan_run
from provisioner.sandbox import RunningSandbox
from provisioner.store import StoreCatalog, collect_company_refs
from provisioner.validate import validate_sheet

# The type of the ``sandbox_factory`` fixture in tests/conftest.py.
SandboxFactory = Callable[..., RunningSandbox]

FAST_RATE = RateSettings(store_limit_per_minute=60_000, share=1.0, max_attempts=2)

SHEET = """\
email,first name,last name,company,role,channels,Cost Centre
new.buyer@acme-industrial.example,Nia,Obi,Acme Industrial,Approver,Wholesale EU,AC-1
dana.whitfield@acme-industrial.example,Dana,Whitfield,101,Admin,1,ACME-HQ
marco.bellini@globex.example,Marco,Bellini,Acme Industrial,Junior Buyer,1,AC-2
kim.lee@northwind.example,Kim,Lee,Northwind Traders,Junior Buyer,1,NW-1
ola.berg@stark.example,Ola,Berg,Stark Components,Junior Buyer,1,ST-1
ray.chen@acme-industrial.example,Ray,Chen,Acme Industrial,Junior Buyer,3,AC-3
new.buyer@acme-industrial.example,Nia,Obi,Acme Industrial,Approver,Wholesale EU,AC-1
"""


def plan_sheet(sandbox: RunningSandbox, path: Path) -> tuple[Plan, StoreCatalog]:
    config = Config(rate=FAST_RATE).with_api(
        base_url=sandbox.base_url, store_hash=sandbox.options.store_hash
    )

    async def run() -> tuple[Plan, StoreCatalog]:
        token = Secret(sandbox.options.token)
        async with B2BClient.from_config(config, token) as api:
            extra_fields = await api.list_extra_fields()
            sheet = load_sheet(
                path, extra_field_names=[field.name for field in extra_fields]
            )
            catalog = await StoreCatalog.load(
                api,
                company_refs=collect_company_refs(sheet),
                extra_fields=extra_fields,
            )
            results = validate_sheet(sheet, catalog, defaults=Defaults())
            plan = await plan_run(
                results,
                api=api,
                send=config.send,
                rate=config.rate,
                store_requests=catalog.requests,
            )
            return plan, catalog

    return asyncio.run(run())


def test_sandbox_plan_statuses(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(request_limit=100_000, window_seconds=1.0)
    path = tmp_path / "users.csv"
    path.write_text(SHEET, encoding="utf-8")

    plan, _ = plan_sheet(sandbox, path)

    statuses = {row.row_number: row.status for row in plan.rows}
    assert statuses == {
        2: Status.WOULD_CREATE,
        3: Status.EXISTS,
        4: Status.CONFLICT,
        5: Status.INVALID,
        6: Status.INVALID,
        7: Status.INVALID,
        8: Status.SKIPPED,
    }
    by_row = {row.row_number: row for row in plan.rows}
    assert by_row[3].user_id == 5001
    assert by_row[3].bc_id == 9001
    assert "Globex Supply" in (by_row[4].message or "")
    assert by_row[5].code == "COMPANY_AMBIGUOUS"
    assert "105" in (by_row[5].message or "")
    assert by_row[6].code == "COMPANY_NOT_APPROVED"
    assert "pending" in (by_row[6].message or "")
    assert by_row[7].code == "CHANNEL_NOT_B2B"
    assert "Retail Pop-up" in (by_row[7].message or "")


def test_sandbox_plan_creates_nothing(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(request_limit=100_000, window_seconds=1.0)
    path = tmp_path / "users.csv"
    path.write_text(SHEET, encoding="utf-8")

    plan, catalog = plan_sheet(sandbox, path)

    assert sandbox.created_counts() == {}
    # One create (a batch of one needs no look-up afterwards) on top of the
    # store look-ups and the pre-flight page.
    assert plan.creates == 1
    assert plan.requests == catalog.requests + 1 + 1
