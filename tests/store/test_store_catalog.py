"""StoreCatalog against an in-memory store built from the sandbox's seed data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner.api.types import Channel, Company, Role
from provisioner.catalog import UNCHECKED, CompanyKey, Problem, RoleChoice
from provisioner.errors import AuthError, TransientApiError
from provisioner.model import Cell, Column, LoadedSheet, LoadReport, SourceRow
from provisioner.store import (
    COMPANY_PAGE_SIZE,
    StoreCatalog,
    collect_company_refs,
    company_ref,
    parse_id,
    suggest_names,
)

from .fake_api import FakeB2BApi


def load(
    api: FakeB2BApi,
    refs: Iterable[tuple[CompanyKey, str]] = (),
    default_channel_ids: tuple[int, ...] = (),
) -> StoreCatalog:
    return asyncio.run(
        StoreCatalog.load(
            api, company_refs=refs, default_channel_ids=default_channel_ids
        )
    )


def problem(result: object) -> Problem:
    assert isinstance(result, Problem), f"expected a Problem, got {result!r}"
    return result


# Companies by id


def test_company_by_id_approved() -> None:
    catalog = load(FakeB2BApi.from_seed(), [("companyId", "101")])

    assert catalog.resolve_company("companyId", "101") == 101


def test_company_by_id_excel_float() -> None:
    catalog = load(FakeB2BApi.from_seed(), [("companyId", "102.0")])

    assert catalog.resolve_company("companyId", "102") == 102
    assert catalog.resolve_company("companyId", "102.0") == 102
    assert catalog.resolve_company("companyId", " 102 ") == 102


def test_company_by_id_unknown() -> None:
    catalog = load(FakeB2BApi.from_seed(), [("companyId", "999")])

    found = problem(catalog.resolve_company("companyId", "999"))

    assert found.code == "COMPANY_NOT_FOUND"
    assert "999" in found.message


@pytest.mark.parametrize(
    ("company_id", "status"),
    [("107", "pending"), ("108", "rejected"), ("109", "inactive")],
)
def test_company_not_approved_names_status(company_id: str, status: str) -> None:
    catalog = load(FakeB2BApi.from_seed(), [("companyId", company_id)])

    found = problem(catalog.resolve_company("companyId", company_id))

    assert found.code == "COMPANY_NOT_APPROVED"
    assert status in found.message
    assert company_id in found.message


def test_company_id_malformed() -> None:
    catalog = load(FakeB2BApi.from_seed())

    found = problem(catalog.resolve_company("companyId", "ACME-7"))

    assert found.code == "COMPANY_ID_INVALID"
    assert "ACME-7" in found.message


def test_company_id_looked_up_once() -> None:
    api = FakeB2BApi.from_seed()

    load(api, [("companyId", "101"), ("companyId", "101.0"), ("companyId", " 101")])

    assert api.calls_to("get_company") == [{"company_id": 101}]


def test_company_ref_not_loaded_unchecked() -> None:
    catalog = load(FakeB2BApi.from_seed(), [("companyId", "101")])

    assert catalog.resolve_company("companyId", "102") is UNCHECKED


# Companies by name


@pytest.mark.parametrize(
    "typed",
    [
        "Acme Industrial",
        "acme industrial",
        "  ACME   Industrial ",
        "Acme\u00a0Industrial",
    ],
)
def test_company_by_name_loose_spelling(typed: str) -> None:
    catalog = load(FakeB2BApi.from_seed(), [("company", typed)])

    assert catalog.resolve_company("company", typed) == 101


def test_company_by_name_ambiguous_lists_ids() -> None:
    catalog = load(FakeB2BApi.from_seed(), [("company", "Northwind Traders")])

    found = problem(catalog.resolve_company("company", "Northwind Traders"))

    assert found.code == "COMPANY_AMBIGUOUS"
    assert "105" in found.message
    assert "106" in found.message
    assert "id" in found.fix


def test_company_by_name_pending() -> None:
    catalog = load(FakeB2BApi.from_seed(), [("company", "Stark Components")])

    found = problem(catalog.resolve_company("company", "Stark Components"))

    assert found.code == "COMPANY_NOT_APPROVED"
    assert "pending" in found.message


def test_company_unknown_name_suggests_closest() -> None:
    catalog = load(FakeB2BApi.from_seed(), [("company", "Acme Industrail")])

    found = problem(catalog.resolve_company("company", "Acme Industrail"))

    assert found.code == "COMPANY_NOT_FOUND"
    assert "Acme Industrail" in found.message
    assert '"Acme Industrial"' in found.fix


def test_company_unknown_names_list_store_once() -> None:
    api = FakeB2BApi.from_seed()
    refs: list[tuple[CompanyKey, str]] = [
        ("company", "Glbex Suply"),
        ("company", "Intech"),
    ]

    catalog = load(api, refs)

    full_listings = [
        call for call in api.calls_to("list_companies") if call["q"] is None
    ]
    assert len(full_listings) == 1
    assert '"Globex Supply"' in problem(catalog.resolve_company(*refs[0])).fix
    assert '"Initech Procurement"' in problem(catalog.resolve_company(*refs[1])).fix


def test_company_unknown_name_without_suggestion() -> None:
    catalog = load(FakeB2BApi.from_seed(), [("company", "Zzyzx")])

    found = problem(catalog.resolve_company("company", "Zzyzx"))

    assert found.code == "COMPANY_NOT_FOUND"
    assert "Did you mean" not in found.fix


def test_company_name_spelled_as_typed_wins() -> None:
    api = FakeB2BApi(
        companies=[Company(1, "ACME", 1), Company(2, "Acme", 1), Company(3, "acme", 1)]
    )
    catalog = load(api, [("company", "Acme"), ("company", "ACME"), ("company", "aCmE")])

    assert catalog.resolve_company("company", "Acme") == 2
    assert catalog.resolve_company("company", "ACME") == 1
    assert (
        problem(catalog.resolve_company("company", "aCmE")).code == "COMPANY_AMBIGUOUS"
    )


def test_company_name_column_holding_id() -> None:
    catalog = load(FakeB2BApi.from_seed(), [("company", "104")])

    assert catalog.resolve_company("company", "104") == 104


def test_company_digit_name_taken_as_id() -> None:
    api = FakeB2BApi(companies=[Company(1, "1999", 1)])
    catalog = load(api, [("company", "1999")])

    found = problem(catalog.resolve_company("company", "1999"))

    assert found.code == "COMPANY_NOT_FOUND"
    assert "id 1999" in found.message
    assert api.calls_to("get_company") == [{"company_id": 1999}]


def test_company_name_pages_through_partial_matches() -> None:
    branches = [
        Company(1000 + number, f"Acme Branch {number}", 1)
        for number in range(COMPANY_PAGE_SIZE + 20)
    ]
    api = FakeB2BApi(companies=[*branches, Company(42, "Acme", 1)])

    catalog = load(api, [("company", "Acme")])

    assert catalog.resolve_company("company", "Acme") == 42
    offsets = [call["offset"] for call in api.calls_to("list_companies")]
    assert offsets == [0, COMPANY_PAGE_SIZE]


def test_company_name_searched_by_q() -> None:
    api = FakeB2BApi.from_seed()

    load(api, [("company", "Globex Supply")])

    assert api.calls_to("list_companies") == [
        {"q": "Globex Supply", "offset": 0, "limit": COMPANY_PAGE_SIZE}
    ]


def test_companies_resolved_from_full_listing() -> None:
    api = FakeB2BApi.from_seed()
    refs: list[tuple[CompanyKey, str]] = [
        ("company", "Acme Industrial"),
        ("company", "Globex Supply"),
        ("company", "Initech Procurement"),
        ("companyId", "104"),
    ]

    catalog = load(api, refs)

    assert [catalog.resolve_company(*ref) for ref in refs] == [101, 102, 103, 104]
    assert api.calls_to("list_companies") == [
        {"q": None, "offset": 0, "limit": COMPANY_PAGE_SIZE}
    ]
    assert api.calls_to("get_company") == []


def test_companies_searched_when_listing_is_longer() -> None:
    filler = [Company(2000 + n, f"Filler {n}", 1) for n in range(COMPANY_PAGE_SIZE * 5)]
    api = FakeB2BApi(companies=[Company(1, "Alpha", 1), Company(2, "Beta", 1), *filler])
    refs: list[tuple[CompanyKey, str]] = [
        ("company", "Alpha"),
        ("company", "Beta"),
        ("companyId", "2003"),
    ]

    catalog = load(api, refs)

    assert [catalog.resolve_company(*ref) for ref in refs] == [1, 2, 2003]
    searched = sorted(call["q"] or "" for call in api.calls_to("list_companies"))
    assert searched == ["", "Alpha", "Beta"]
    assert api.calls_to("get_company") == [{"company_id": 2003}]


# Companies by external id


def test_company_by_external_id() -> None:
    refs: list[tuple[CompanyKey, str]] = [
        ("companyExternalId", "ERP-ACME-001"),
        ("companyExternalId", "erp-acme-001"),
    ]
    catalog = load(FakeB2BApi.from_seed(), refs)

    assert catalog.resolve_company("companyExternalId", "ERP-ACME-001") == 101
    assert catalog.resolve_company("companyExternalId", "erp-acme-001") == 101


def test_company_by_external_id_unknown() -> None:
    catalog = load(FakeB2BApi.from_seed(), [("companyExternalId", "ERP-NOPE")])

    found = problem(catalog.resolve_company("companyExternalId", "ERP-NOPE"))

    assert found.code == "COMPANY_NOT_FOUND"
    assert "ERP-NOPE" in found.message


def test_company_by_external_id_inactive() -> None:
    catalog = load(FakeB2BApi.from_seed(), [("companyExternalId", "ERP-TYR-009")])

    found = problem(catalog.resolve_company("companyExternalId", "ERP-TYR-009"))

    assert found.code == "COMPANY_NOT_APPROVED"
    assert "inactive" in found.message


def test_external_ids_list_companies_once() -> None:
    many = [Company(n, f"Company {n}", 1, f"U-{n}") for n in range(1, 600)]
    api = FakeB2BApi(companies=many)
    refs: list[tuple[CompanyKey, str]] = [
        ("companyExternalId", "U-5"),
        ("companyExternalId", "U-555"),
        ("companyId", "7"),
        ("company", "Company 9"),
    ]

    catalog = load(api, refs)

    assert [catalog.resolve_company(*ref) for ref in refs] == [5, 555, 7, 9]
    offsets = [call["offset"] for call in api.calls_to("list_companies")]
    assert offsets == [0, COMPANY_PAGE_SIZE, 2 * COMPANY_PAGE_SIZE]
    assert api.calls_to("get_company") == []


def test_no_company_refs_no_company_requests() -> None:
    api = FakeB2BApi.from_seed()

    load(api)

    assert api.calls_to("list_companies") == []
    assert api.calls_to("get_company") == []


# Roles


@pytest.mark.parametrize(
    ("typed", "role"),
    [
        ("0", 0),
        ("1", 1),
        ("2", 2),
        ("2.0", 2),
        ("Admin", 0),
        ("ADMIN", 0),
        ("senior buyer", 1),
        ("Senior_Buyer", 1),
        ("junior-buyer", 2),
        (" Junior  Buyer ", 2),
    ],
)
def test_role_builtin(typed: str, role: int) -> None:
    catalog = load(FakeB2BApi.from_seed())

    assert catalog.resolve_role(typed) == RoleChoice(role=role)


def custom_roles_api() -> FakeB2BApi:
    # Ids unlike the sandbox's, so a hard-coded id cannot pass.
    return FakeB2BApi(
        roles=[
            Role(700001, "Admin", 1),
            Role(700002, "Senior Buyer", 1),
            Role(700003, "Junior Buyer", 1),
            Role(812345, "Approver", 2),
            Role(812346, "Purchasing Manager", 2),
        ]
    )


@pytest.mark.parametrize(
    ("typed", "role_id"),
    [
        ("Approver", 812345),
        ("approver", 812345),
        ("PURCHASING  MANAGER", 812346),
        ("812346", 812346),
        ("700002", 700002),
    ],
)
def test_role_custom(typed: str, role_id: int) -> None:
    catalog = load(custom_roles_api())

    assert catalog.resolve_role(typed) == RoleChoice(company_role_id=role_id)


def test_role_partial_name_not_found() -> None:
    catalog = load(custom_roles_api())

    found = problem(catalog.resolve_role("Purchasing"))

    assert found.code == "ROLE_NOT_FOUND"
    assert "Purchasing" in found.message
    assert "Approver" in found.fix
    assert "Purchasing Manager" in found.fix


def test_role_unknown_id_not_found() -> None:
    catalog = load(custom_roles_api())

    found = problem(catalog.resolve_role("99999"))

    assert found.code == "ROLE_NOT_FOUND"
    assert "99999" in found.message


def test_role_misspelt_suggests() -> None:
    catalog = load(custom_roles_api())

    found = problem(catalog.resolve_role("Aprover"))

    assert '"Approver"' in found.fix


def test_role_ambiguous_custom_name() -> None:
    api = FakeB2BApi(roles=[Role(11, "Buyer Plus", 2), Role(12, "buyer plus", 2)])
    catalog = load(api)

    found = problem(catalog.resolve_role("BUYER PLUS"))

    assert found.code == "ROLE_AMBIGUOUS"
    assert "11" in found.message
    assert "12" in found.message
    assert catalog.resolve_role("buyer plus") == RoleChoice(company_role_id=12)


def test_role_empty() -> None:
    catalog = load(custom_roles_api())

    assert problem(catalog.resolve_role("  ")).code == "ROLE_MISSING"


def test_roles_listed_once() -> None:
    api = custom_roles_api()
    catalog = load(api)

    catalog.resolve_role("Approver")
    catalog.resolve_role("Nobody")

    assert len(api.calls_to("list_roles")) == 1


# Channels


@pytest.mark.parametrize(
    ("typed", "channel_id"),
    [("1", 1), ("2", 2), ("2.0", 2), ("Wholesale EU", 2), ("wholesale  eu", 2)],
)
def test_channel_resolved(typed: str, channel_id: int) -> None:
    catalog = load(FakeB2BApi.from_seed())

    assert catalog.resolve_channel(typed) == channel_id


@pytest.mark.parametrize("typed", ["3", "Retail Pop-up"])
def test_channel_not_b2b(typed: str) -> None:
    catalog = load(FakeB2BApi.from_seed())

    found = problem(catalog.resolve_channel(typed))

    assert found.code == "CHANNEL_NOT_B2B"
    assert "Retail Pop-up" in found.message
    assert "Wholesale EU" in found.fix


@pytest.mark.parametrize("typed", ["9", "Outlet"])
def test_channel_not_found_lists_valid(typed: str) -> None:
    catalog = load(FakeB2BApi.from_seed())

    found = problem(catalog.resolve_channel(typed))

    assert found.code == "CHANNEL_NOT_FOUND"
    assert typed in found.message
    assert '1 ("Default Storefront")' in found.fix
    assert '2 ("Wholesale EU")' in found.fix
    assert "Retail Pop-up" not in found.fix


def test_channel_ambiguous_name() -> None:
    api = FakeB2BApi(
        channels=[Channel(4, "Trade Shop", True), Channel(5, "trade shop", True)]
    )
    catalog = load(api)

    found = problem(catalog.resolve_channel("TRADE SHOP"))

    assert found.code == "CHANNEL_AMBIGUOUS"
    assert catalog.resolve_channel("Trade Shop") == 4


def test_single_storefront_accepts_ids() -> None:
    api = FakeB2BApi.from_seed()
    api.channels = None
    catalog = load(api)

    assert not catalog.multi_storefront
    assert catalog.resolve_channel("1") == 1
    assert catalog.resolve_channel("1.0") == 1


def test_single_storefront_rejects_names() -> None:
    api = FakeB2BApi.from_seed()
    api.channels = None
    catalog = load(api, default_channel_ids=(1,))

    found = problem(catalog.resolve_channel("Default Storefront"))

    assert found.code == "CHANNEL_NAME_UNSUPPORTED"
    assert "single storefront" in found.message
    assert "default channels" in found.fix


def test_single_storefront_without_default() -> None:
    api = FakeB2BApi.from_seed()
    api.channels = None
    catalog = load(api)

    found = problem(catalog.resolve_channel("Wholesale EU"))

    assert "defaults.channel_ids" in found.fix


def test_default_channels_checked() -> None:
    catalog = load(FakeB2BApi.from_seed(), default_channel_ids=(1, 3, 9))

    codes = [found.code for found in catalog.check_default_channels()]

    assert codes == ["CHANNEL_NOT_B2B", "CHANNEL_NOT_FOUND"]
    assert catalog.default_channel_ids == (1, 3, 9)


# Extra fields and loading


def test_extra_fields_from_store() -> None:
    catalog = load(FakeB2BApi.from_seed())

    fields = catalog.extra_fields()

    assert fields is not None
    assert [field.name for field in fields] == [
        "Cost Centre",
        "Region",
        "Approval Limit",
        "Notes",
    ]
    assert fields[1].list_of_values == ("EMEA", "AMER", "APAC")


def test_extra_fields_given_skip_request() -> None:
    api = FakeB2BApi.from_seed()
    known = api.extra_fields[:1]

    catalog = asyncio.run(StoreCatalog.load(api, company_refs=(), extra_fields=known))

    assert catalog.extra_fields() == tuple(known)
    assert api.calls_to("list_extra_fields") == []


def test_load_counts_requests() -> None:
    api = FakeB2BApi.from_seed()

    catalog = load(api, [("companyId", "101"), ("company", "Globex Supply")])

    # roles, channels, extra fields, one Company by id and one name search.
    assert catalog.requests == 5
    assert api.stats.requests == 5


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ("list_roles", AuthError("Invalid token header.", status=401)),
        ("get_company", TransientApiError("503 after 5 attempts", status=503)),
    ],
)
def test_load_raises_api_error_unwrapped(method: str, error: Exception) -> None:
    api = FakeB2BApi.from_seed()
    api.fail_on[method] = error

    with pytest.raises(type(error)) as raised:
        load(api, [("companyId", "101")])

    assert raised.value is error


# Collecting refs from a sheet


def sheet_of(
    headers: list[tuple[str, str | None]], rows: list[list[Cell]]
) -> LoadedSheet:
    columns = tuple(
        Column(index, chr(ord("A") + index), header, field_name)
        for index, (header, field_name) in enumerate(headers)
    )
    return LoadedSheet(
        path=Path("users.xlsx"),
        sheet_name="Users",
        columns=columns,
        rows=[SourceRow(number + 2, tuple(cells)) for number, cells in enumerate(rows)],
        report=LoadReport(file_format="xlsx"),
    )


def text_cell(text: str) -> Cell:
    return Cell(value=text, text=text)


def test_collect_company_refs_normalises() -> None:
    sheet = sheet_of(
        [("Email", "email"), ("Company ID", "companyId"), ("Company", "company")],
        [
            [
                text_cell("a@x.example"),
                Cell(value=101.0, text="101"),
                text_cell("Acme"),
            ],
            [text_cell("b@x.example"), text_cell("101"), text_cell(" Acme ")],
            [text_cell("c@x.example"), Cell(value=None, text=""), text_cell("Globex")],
            [text_cell("d@x.example"), text_cell("ACME-7"), Cell(value=None, text="")],
            [text_cell("e@x.example"), Cell(value=7, text="7")],
        ],
    )

    refs = collect_company_refs(sheet)

    assert refs == {
        ("companyId", "101"),
        ("companyId", "7"),
        ("company", "Acme"),
        ("company", "Globex"),
    }


def test_collect_company_refs_external_id() -> None:
    sheet = sheet_of(
        [("Company UUID", "companyExternalId"), ("Notes", None)],
        [[text_cell("ERP-ACME-001"), text_cell("101")]],
    )

    assert collect_company_refs(sheet) == {("companyExternalId", "ERP-ACME-001")}


# Helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("101", 101),
        ("101.0", 101),
        (" 101 ", 101),
        ("\u200b101", 101),
        ("０１", 1),
        ("-1", None),
        ("1e3", None),
        ("1.5", None),
        ("", None),
        ("ACME-7", None),
    ],
)
def test_parse_id(text: str, expected: int | None) -> None:
    assert parse_id(text) == expected


def test_suggest_names_containing_first() -> None:
    names = ["Acme Industrial", "Acme Holdings", "Apex Industrial"]

    assert suggest_names("acme", names) == ["Acme Holdings", "Acme Industrial"]
    assert suggest_names("Apex Industral", names)[0] == "Apex Industrial"
    assert suggest_names("", names) == []


@given(
    key=st.sampled_from(["companyId", "company", "companyExternalId"]),
    value=st.text(alphabet=st.sampled_from("aB7 0.\u00a0\u200b\uff11-é"), max_size=12),
)
def test_company_ref_is_idempotent(key: CompanyKey, value: str) -> None:
    # collect_company_refs stores normalised values and the validator may pass
    # them back, so normalising twice must give the same reference.
    ref = company_ref(key, value)

    if ref is not None:
        assert company_ref(*ref) == ref
