"""Row validation: turn each ``SourceRow`` into a ``RowResult``.

``validate_sheet`` checks every row against the field rules and a ``Catalog`` and
returns one result per row, in source order:

- a ``UserRequest`` whose ``body`` is the JSON for ``POST /users`` (status None);
- status INVALID with every problem of the row, each with its own cell;
- status SKIPPED for a row identical to an earlier row with the same email;
- status VALID when the row is well-formed but the catalog could not check a name
  (offline validation), so no request is built.

Problems of the whole sheet (two columns for one field, a missing required column,
an extra-field column the store does not have) are reported once, in
``LoadedSheet.issues``, and not on every row. A row fails only where such a problem
makes that row's own value missing or ambiguous.

Every issue has a stable code; ``ERROR_CODES`` maps each code to a short meaning.
Catalogs that read the store may return codes of their own.
"""

from __future__ import annotations

from provisioner.catalog import Catalog
from provisioner.config import Defaults
from provisioner.duplicates import check_unique_extras, mark_duplicates
from provisioner.model import LoadedSheet, RowResult
from provisioner.normalize import NORMALIZE_CODES
from provisioner.offline_catalog import OfflineCatalog
from provisioner.row_check import RowCheck
from provisioner.sheet_layout import Layout, check_sheet, sheet_issues

__all__ = [
    "ERROR_CODES",
    "ROW_CODES",
    "OfflineCatalog",
    "check_sheet",
    "validate_sheet",
]

ROW_CODES: dict[str, str] = {
    "EMAIL_MISSING": "the email is blank",
    "FIRST_NAME_MISSING": "the first name is blank",
    "LAST_NAME_MISSING": "the last name is blank",
    "COMPANY_MISSING": "no Company is entered (companyId, company or external id)",
    "COMPANY_CONFLICT": "the Company columns name different Companies",
    "COMPANY_ID_INVALID": "the Company id is not a positive whole number",
    "ROLE_MISSING": "the role is blank and no default role is configured",
    "ROLE_INVALID": "the role is not 0, 1, 2 or a role name",
    "CHANNELS_MISSING": "no channel is entered and no default channel is configured",
    "CHANNEL_ID_INVALID": "a channel id is not a positive whole number",
    "ORIGIN_CHANNEL_ZERO": "warning: originChannelId 0 unsets the origin channel",
    "ORIGIN_CHANNEL_NOT_LISTED": "warning: the origin channel is not in channelIds",
    "EXTRA_FIELD_REQUIRED": "a required extra field is blank",
    "EXTRA_FIELD_DEFAULT_USED": "warning: a blank extra field gets the store default",
    "EXTRA_FIELD_NOT_IN_LIST": "the value is not one of the dropdown's choices",
    "EXTRA_FIELD_NOT_NUMBER": "a number extra field holds something else",
    "EXTRA_FIELD_TOO_LARGE": "the number is above the extra field's maximum",
    "EXTRA_FIELD_DUPLICATE": "a unique extra field repeats a value of an earlier row",
    "EXTRA_FIELD_UNKNOWN": "sheet: a column names an extra field the store lacks",
    "EXTRA_FIELD_COLUMN_MISSING": "sheet: a required extra field has no column",
    "COLUMN_MISSING": "sheet: a required column is missing",
    "COLUMN_DUPLICATE": "sheet: two columns map to the same field",
    "COLUMN_CONFLICT": "two columns for one field hold different values",
    "DUPLICATE_EMAIL": "an earlier row has the same email with different values",
    "DUPLICATE_ROW": "warning: the row repeats an earlier row and was skipped",
}

#: Every code the validator and ``provisioner.normalize`` emit, with a short meaning.
ERROR_CODES: dict[str, str] = {**NORMALIZE_CODES, **ROW_CODES}


def validate_sheet(
    sheet: LoadedSheet, catalog: Catalog, *, defaults: Defaults
) -> list[RowResult]:
    """Validate every row of ``sheet`` and return one ``RowResult`` per row, in order.

    Problems of the sheet as a whole are appended to ``sheet.issues`` once (a
    second call adds nothing new). Rows are checked without I/O apart from the
    catalog's look-ups.
    """
    layout = Layout.of(sheet, catalog)
    for issue in sheet_issues(sheet, layout):
        if issue not in sheet.issues:
            sheet.issues.append(issue)
    drafts = [
        RowCheck(sheet, layout, catalog, defaults, row).run() for row in sheet.rows
    ]
    check_unique_extras(sheet, drafts, catalog.extra_fields())
    mark_duplicates(sheet, layout, drafts)
    return [draft.result() for draft in drafts]
