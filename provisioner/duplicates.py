"""Checks across rows: repeated unique extra-field values and repeated emails."""

from __future__ import annotations

from collections.abc import Sequence

from provisioner.api.types import ExtraFieldDef
from provisioner.extra_fields import extra_key
from provisioner.model import LoadedSheet, RowIssue
from provisioner.normalize import quoted
from provisioner.row_check import Draft
from provisioner.sheet_layout import COMPANY_FIELDS, Layout


def check_unique_extras(
    sheet: LoadedSheet,
    drafts: Sequence[Draft],
    definitions: Sequence[ExtraFieldDef] | None,
) -> None:
    """Reject a repeated value of a unique extra field; the first row keeps it."""
    for definition in definitions or ():
        if not definition.is_unique:
            continue
        first_row: dict[str, int] = {}
        for draft in drafts:
            column, value = draft.extras.get(definition.name, (None, ""))
            if not value:
                continue
            key = extra_key(value)
            earlier = first_row.setdefault(key, draft.row.row_number)
            if earlier == draft.row.row_number:
                continue
            draft.issues.append(
                RowIssue(
                    "EXTRA_FIELD_DUPLICATE",
                    f"{definition.name} must be unique, and row {earlier} already "
                    f"has {quoted(value)}.",
                    "Give each user a different value.",
                    column=column.header if column else None,
                    cell=sheet.cell_ref(column, draft.row.row_number)
                    if column
                    else None,
                )
            )


def mark_duplicates(
    sheet: LoadedSheet, layout: Layout, drafts: Sequence[Draft]
) -> None:
    """Skip a row that repeats an earlier row; reject one that contradicts it.

    Rows match by email, compared case-insensitively, never by uuid. Values are
    compared after normalisation, so ``ANN@x.com`` with ``yes`` repeats
    ``ann@x.com`` with ``Y``. The earlier row stays as it is.
    """
    email_columns = layout.columns.get("email", [])
    email_column = email_columns[0] if email_columns else None
    first_by_email: dict[str, Draft] = {}
    for draft in drafts:
        key = draft.values.get("email")
        if not isinstance(key, str):
            continue
        first = first_by_email.setdefault(key, draft)
        if first is draft:
            continue
        cell = (
            sheet.cell_ref(email_column, draft.row.row_number) if email_column else None
        )
        names = sorted(set(first.values) | set(draft.values))
        differing = [n for n in names if first.values.get(n) != draft.values.get(n)]
        if not differing:
            draft.skipped = True
            draft.issues = [
                RowIssue(
                    "DUPLICATE_ROW",
                    f"Same as row {first.row.row_number}; this row was skipped.",
                    "Delete the repeated row.",
                    column=email_column.header if email_column else None,
                    cell=cell,
                    severity="warning",
                )
            ]
            continue
        headers = ", ".join(_header_for(layout, name) for name in differing)
        draft.issues.append(
            RowIssue(
                "DUPLICATE_EMAIL",
                f"Row {first.row.row_number} has the same email with different "
                f"values in: {headers}.",
                "Keep one row per person and delete or correct this one.",
                column=email_column.header if email_column else None,
                cell=cell,
            )
        )


def _header_for(layout: Layout, name: str) -> str:
    names = COMPANY_FIELDS if name == "company" else (name,)
    headers = [
        columns[0].header for key in names if (columns := layout.columns.get(key))
    ]
    return " / ".join(headers) if headers else name
