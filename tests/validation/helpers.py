"""Build loaded sheets and catalogs for validation tests without reading files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils import get_column_letter

from provisioner.api.types import ExtraFieldDef
from provisioner.catalog import UNCHECKED, CompanyKey, Problem, RoleChoice, Unchecked
from provisioner.fields import alias_table, normalise_header
from provisioner.model import (
    Cell,
    CellValue,
    Column,
    LoadedSheet,
    LoadReport,
    RowIssue,
    SourceRow,
)

HEADERS = ("email", "firstName", "lastName", "companyId", "role", "channelIds")


def cell(value: CellValue | Cell) -> Cell:
    """Wrap a raw value as a cell whose text is what Excel would show."""
    if isinstance(value, Cell):
        return value
    if value is None:
        return Cell(value=None, text="")
    if isinstance(value, bool):
        return Cell(value=value, text=str(value).upper())
    return Cell(value=value, text=str(value))


def make_sheet(
    headers: Sequence[str],
    rows: Sequence[Sequence[CellValue | Cell]],
    *,
    extra_field_names: Sequence[str] = (),
    row_issues: dict[int, list[RowIssue]] | None = None,
) -> LoadedSheet:
    """Build a sheet the way the loader does: header on row 1, data from row 2."""
    table = alias_table(extra_field_names=list(extra_field_names))
    columns = tuple(
        Column(
            index=index,
            letter=get_column_letter(index + 1),
            header=header,
            field=table.get(normalise_header(header)),
        )
        for index, header in enumerate(headers)
    )
    source_rows = []
    for offset, values in enumerate(rows):
        number = offset + 2
        cells = tuple(cell(value) for value in values)
        cells += tuple(cell(None) for _ in range(len(headers) - len(cells)))
        issues = list((row_issues or {}).get(number, []))
        source_rows.append(SourceRow(row_number=number, cells=cells, issues=issues))
    return LoadedSheet(
        path=Path("users.xlsx"),
        sheet_name="Users",
        columns=columns,
        rows=source_rows,
        report=LoadReport(file_format="xlsx", sheet_name="Users"),
    )


def good_row(
    email: str = "ann.lee@example.com", **changes: CellValue
) -> list[CellValue]:
    """Return a valid row for ``HEADERS``, with some values replaced by name."""
    values: dict[str, CellValue] = {
        "email": email,
        "firstName": "Ann",
        "lastName": "Lee",
        "companyId": "101",
        "role": "Admin",
        "channelIds": "1",
    }
    values.update(changes)
    return [values[header] for header in HEADERS]


@dataclass
class StoreCatalog:
    """A catalog over a fixed store, returning what a store-backed catalog returns."""

    companies: dict[str, int] = field(
        default_factory=lambda: {"acme ltd": 101, "globex": 202}
    )
    external_ids: dict[str, int] = field(default_factory=lambda: {"ACME-001": 101})
    company_ids: frozenset[int] = frozenset({101, 202})
    roles: dict[str, int] = field(default_factory=lambda: {"regional buyer": 9001})
    channels: dict[str, int] = field(default_factory=lambda: {"us store": 1, "eu": 2})
    channel_ids: frozenset[int] = frozenset({1, 2})
    extras: Sequence[ExtraFieldDef] | None = ()
    lookups: list[tuple[str, str]] = field(default_factory=list)

    def resolve_company(self, key: CompanyKey, value: str) -> int | Problem | Unchecked:
        self.lookups.append((key, value))
        if key == "companyId":
            if int(value) in self.company_ids:
                return int(value)
        elif key == "company":
            if value.casefold() in self.companies:
                return self.companies[value.casefold()]
        elif value in self.external_ids:
            return self.external_ids[value]
        return Problem("COMPANY_NOT_FOUND", f"No Company {value!r}.", "Check it.")

    def resolve_role(self, value: str) -> RoleChoice | Problem | Unchecked:
        builtin = {"admin": 0, "senior buyer": 1, "junior buyer": 2, "0": 0, "1": 1}
        if value.casefold() in builtin:
            return RoleChoice(role=builtin[value.casefold()])
        if value.casefold() in self.roles:
            return RoleChoice(company_role_id=self.roles[value.casefold()])
        return Problem("ROLE_NOT_FOUND", f"No role {value!r}.", "Check it.")

    def resolve_channel(self, value: str) -> int | Problem | Unchecked:
        if value.isdigit() and int(value) in self.channel_ids:
            return int(value)
        if value.casefold() in self.channels:
            return self.channels[value.casefold()]
        return Problem("CHANNEL_NOT_FOUND", f"No channel {value!r}.", "Check it.")

    def extra_fields(self) -> Sequence[ExtraFieldDef] | None:
        return self.extras


@dataclass
class UncheckedCatalog(StoreCatalog):
    """A catalog that cannot check Company names, like the offline one."""

    def resolve_company(self, key: CompanyKey, value: str) -> int | Problem | Unchecked:
        if key == "companyId":
            return int(value)
        return UNCHECKED
