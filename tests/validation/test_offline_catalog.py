"""OfflineCatalog checks form without a store, and validation runs on it."""

from __future__ import annotations

import pytest

from provisioner.catalog import UNCHECKED, Problem, RoleChoice
from provisioner.config import Defaults
from provisioner.model import CellValue, Status
from provisioner.validate import ERROR_CODES, OfflineCatalog, validate_sheet

from .helpers import HEADERS, good_row, make_sheet

CATALOG = OfflineCatalog()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("companyId", "101", 101),
        ("companyId", " 101 ", 101),
        ("company", "Acme Ltd", UNCHECKED),
        ("companyExternalId", "ACME-001", UNCHECKED),
    ],
)
def test_company(key: str, value: str, expected: object) -> None:
    assert CATALOG.resolve_company(key, value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["0", "-3", "abc", ""])
def test_company_id_invalid(value: str) -> None:
    outcome = CATALOG.resolve_company("companyId", value)
    assert isinstance(outcome, Problem)
    assert outcome.code == "COMPANY_ID_INVALID"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", RoleChoice(role=0)),
        ("1", RoleChoice(role=1)),
        ("2", RoleChoice(role=2)),
        ("Admin", RoleChoice(role=0)),
        ("admin", RoleChoice(role=0)),
        ("Senior Buyer", RoleChoice(role=1)),
        ("senior_buyer", RoleChoice(role=1)),
        ("JUNIOR BUYER", RoleChoice(role=2)),
        ("Regional Buyer", UNCHECKED),
        ("9001", UNCHECKED),
    ],
)
def test_role(value: str, expected: object) -> None:
    assert CATALOG.resolve_role(value) == expected


@pytest.mark.parametrize("value", ["", "-1", "1.5", "1,2", "#"])
def test_role_invalid(value: str) -> None:
    outcome = CATALOG.resolve_role(value)
    assert isinstance(outcome, Problem)
    assert outcome.code == "ROLE_INVALID"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", 1), ("42", 42), ("US Store", UNCHECKED), ("one", UNCHECKED)],
)
def test_channel(value: str, expected: object) -> None:
    assert CATALOG.resolve_channel(value) == expected


def test_channel_zero_invalid() -> None:
    outcome = CATALOG.resolve_channel("0")
    assert isinstance(outcome, Problem)
    assert outcome.code == "CHANNEL_ID_INVALID"


def test_extra_fields_unknown() -> None:
    assert CATALOG.extra_fields() is None


def test_offline_row_with_ids_gets_request() -> None:
    sheet = make_sheet(HEADERS, [good_row(role="Senior Buyer", channelIds="1;3")])
    result = validate_sheet(sheet, CATALOG, defaults=Defaults())[0]
    assert result.request is not None
    assert result.request.body["role"] == 1
    assert result.request.body["channelIds"] == [1, 3]


@pytest.mark.parametrize(
    "changes",
    [{"role": "Regional Buyer"}, {"channelIds": "US Store"}],
)
def test_offline_row_with_names_is_valid_unchecked(changes: dict[str, str]) -> None:
    sheet = make_sheet(HEADERS, [good_row(**changes)])
    result = validate_sheet(sheet, CATALOG, defaults=Defaults())[0]
    assert result.status is Status.VALID
    assert result.request is None
    assert result.errors == []


def test_offline_unchecked_row_still_reports_errors() -> None:
    sheet = make_sheet(HEADERS, [good_row("bo@", role="Regional Buyer")])
    result = validate_sheet(sheet, CATALOG, defaults=Defaults())[0]
    assert result.status is Status.INVALID
    assert [i.code for i in result.errors] == ["EMAIL_INVALID"]


BAD_ROWS: list[list[CellValue]] = [
    ["bo@", "-", "=1+1", "0", "-1", "1.2"],
    [None, None, None, None, None, None],
    ["a@example.com; b@example.com", "N/A", "x" * 200, "1.5E+3", "", "0"],
    ["gus hill@example.com", "Mary\nAnn", "Lee", 1.5, 3.5, "1;2.5"],
]


def test_every_emitted_code_is_documented() -> None:
    headers = (*HEADERS, "originChannelId", "welcome email", "phone")
    rows = [[*row, "0", "maybe", "1.2E+11"] for row in BAD_ROWS]
    rows.append([*good_row(), "0", "yes", 612345000])
    rows.append([*good_row(), "0", "yes", 612345000])
    sheet = make_sheet(headers, rows)
    results = validate_sheet(sheet, CATALOG, defaults=Defaults())
    emitted = {i.code for r in results for i in r.issues}
    assert len(emitted) > 15
    assert emitted <= set(ERROR_CODES)
