"""The sheet's columns as a whole: which field each maps to, and column problems."""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.api.types import ExtraFieldDef
from provisioner.catalog import Catalog, CompanyKey
from provisioner.extra_fields import extra_key
from provisioner.fields import EXTRA_PREFIX
from provisioner.model import Column, LoadedSheet, RowIssue

COMPANY_FIELDS: tuple[CompanyKey, ...] = ("companyId", "company", "companyExternalId")
_REQUIRED_COLUMNS = ("email", "firstName", "lastName")


@dataclass(slots=True)
class Layout:
    """The columns of each field, and the store's extra fields when known."""

    columns: dict[str, list[Column]]
    extra_columns: list[tuple[Column, str, ExtraFieldDef | None]]
    missing_extras: list[ExtraFieldDef]
    unknown_extras: list[Column]
    has_extra_defs: bool

    @classmethod
    def of(cls, sheet: LoadedSheet, catalog: Catalog) -> Layout:
        columns: dict[str, list[Column]] = {}
        for column in sheet.columns:
            if column.field is not None:
                columns.setdefault(column.field, []).append(column)
        definitions = catalog.extra_fields()
        by_key = {extra_key(d.name): d for d in definitions or ()}
        extra_columns: list[tuple[Column, str, ExtraFieldDef | None]] = []
        unknown: list[Column] = []
        seen: set[str] = set()
        for name, found in columns.items():
            if not name.startswith(EXTRA_PREFIX):
                continue
            extra_name = name[len(EXTRA_PREFIX) :]
            definition = by_key.get(extra_key(extra_name))
            if definitions is not None and definition is None:
                unknown.extend(found)
                continue
            seen.add(extra_key(extra_name))
            extra_columns.append((found[0], extra_name, definition))
        missing = [
            d
            for d in definitions or ()
            if d.is_required and extra_key(d.name) not in seen
        ]
        return cls(columns, extra_columns, missing, unknown, definitions is not None)


def check_sheet(sheet: LoadedSheet, catalog: Catalog) -> list[RowIssue]:
    """Return the problems of the sheet as a whole, each reported once.

    These are about columns, not values: a required column is missing, two columns
    map to one field, or an extra-field column does not match the store's fields.
    """
    layout = Layout.of(sheet, catalog)
    return sheet_issues(sheet, layout)


def _header_ref(sheet: LoadedSheet, column: Column) -> str:
    return sheet.cell_ref(column, sheet.report.header_row)


def sheet_issues(sheet: LoadedSheet, layout: Layout) -> list[RowIssue]:
    issues: list[RowIssue] = []
    for name in _REQUIRED_COLUMNS:
        if name not in layout.columns:
            issues.append(
                RowIssue(
                    "COLUMN_MISSING",
                    f"The sheet has no {name} column, so every row lacks it.",
                    f"Add a column headed {name}.",
                    column=name,
                )
            )
    if not any(name in layout.columns for name in COMPANY_FIELDS):
        issues.append(
            RowIssue(
                "COLUMN_MISSING",
                "The sheet has no Company column, so no row names its Company.",
                "Add a column headed companyId, company or companyExternalId.",
                column="companyId",
            )
        )
    for name, columns in layout.columns.items():
        if len(columns) > 1:
            headers = ", ".join(f"{c.header!r} ({c.letter})" for c in columns)
            issues.append(
                RowIssue(
                    "COLUMN_DUPLICATE",
                    f"Columns {headers} all map to {name}. A row whose cells "
                    "there differ is invalid; otherwise the filled one is used.",
                    "Delete or rename the extra columns.",
                    column=columns[1].header,
                    cell=_header_ref(sheet, columns[1]),
                    severity="warning",
                )
            )
    for column in layout.unknown_extras:
        issues.append(
            RowIssue(
                "EXTRA_FIELD_UNKNOWN",
                f"The store has no user extra field named {column.header!r}, so "
                "this column is not sent.",
                "Rename the column to an extra field's exact name, or add the field "
                "in B2B Edition.",
                column=column.header,
                cell=_header_ref(sheet, column),
                severity="warning",
            )
        )
    for definition in layout.missing_extras:
        issues.append(
            RowIssue(
                "EXTRA_FIELD_COLUMN_MISSING",
                f"The store requires the user extra field {definition.name!r}, and "
                "the sheet has no column for it.",
                f"Add a column headed {definition.name!r} and fill it in.",
                column=definition.name,
            )
        )
    return issues
