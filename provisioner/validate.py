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

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from provisioner.api.types import ExtraFieldDef
from provisioner.catalog import (
    UNCHECKED,
    Catalog,
    CompanyKey,
    Problem,
    RoleChoice,
    Unchecked,
)
from provisioner.config import Defaults
from provisioner.fields import EXTRA_PREFIX, FIELDS_BY_NAME
from provisioner.model import (
    EMPTY_CELL,
    Cell,
    Column,
    LoadedSheet,
    RowIssue,
    RowResult,
    SourceRow,
    Status,
    UserRequest,
)
from provisioner.normalize import (
    NORMALIZE_CODES,
    PLACEHOLDERS,
    Finding,
    Parsed,
    builtin_role,
    cell_text,
    clean_text,
    parse_bool,
    parse_email,
    parse_external_id,
    parse_int,
    parse_name,
    parse_phone,
    parse_text,
    quoted,
    split_list,
)

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

#: Every code this module and ``provisioner.normalize`` emit, with a short meaning.
ERROR_CODES: dict[str, str] = {**NORMALIZE_CODES, **ROW_CODES}

_COMPANY_FIELDS: tuple[CompanyKey, ...] = ("companyId", "company", "companyExternalId")
_REQUIRED_COLUMNS = ("email", "firstName", "lastName")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")

#: Wider integers cannot become a float for the maximum-value check.
_MAX_NUMBER_BITS = 1000

# Field types of a user extra field in B2B Edition.
_TEXT, _MULTILINE, _NUMBER_TYPE, _DROPDOWN = 0, 1, 2, 3


# --- the offline catalog ----------------------------------------------------------


class OfflineCatalog:
    """A ``Catalog`` that needs no store: it checks form, never existence.

    Numeric Company and channel ids resolve to themselves, and built-in roles
    (0, 1, 2, Admin, Senior Buyer, Junior Buyer) to their number. Names, external
    ids and other role numbers come back ``UNCHECKED``.
    """

    def resolve_company(self, key: CompanyKey, value: str) -> int | Problem | Unchecked:
        if key != "companyId":
            return UNCHECKED
        text = clean_text(value)
        if text.isascii() and text.isdigit() and int(text) > 0:
            return int(text)
        return Problem(
            "COMPANY_ID_INVALID",
            f"The Company id {quoted(value)} is not a positive whole number.",
            "Enter the Company's numeric id from B2B Edition.",
        )

    def resolve_role(self, value: str) -> RoleChoice | Problem | Unchecked:
        text = clean_text(value)
        number = builtin_role(text)
        if number is not None:
            return RoleChoice(role=number)
        if not text.isdigit() and not any(char.isalpha() for char in text):
            return Problem(
                "ROLE_INVALID",
                f"{quoted(value)} is not a role.",
                "Enter Admin, Senior Buyer, Junior Buyer, 0, 1, 2 or a role's name.",
            )
        # A larger number may be a store's role id, and a name a custom role.
        return UNCHECKED

    def resolve_channel(self, value: str) -> int | Problem | Unchecked:
        text = clean_text(value)
        if text.isascii() and text.isdigit():
            if int(text) > 0:
                return int(text)
            return Problem(
                "CHANNEL_ID_INVALID",
                f"The channel id {quoted(value)} is not a positive whole number.",
                "Enter the storefront's channel id (1 is the default storefront).",
            )
        return UNCHECKED

    def extra_fields(self) -> Sequence[ExtraFieldDef] | None:
        return None


# --- the sheet as a whole ----------------------------------------------------------


def _extra_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().strip()


@dataclass(slots=True)
class _Layout:
    """The columns of each field, and the store's extra fields when known."""

    columns: dict[str, list[Column]]
    extra_columns: list[tuple[Column, str, ExtraFieldDef | None]]
    missing_extras: list[ExtraFieldDef]
    unknown_extras: list[Column]
    has_extra_defs: bool

    @classmethod
    def of(cls, sheet: LoadedSheet, catalog: Catalog) -> _Layout:
        columns: dict[str, list[Column]] = {}
        for column in sheet.columns:
            if column.field is not None:
                columns.setdefault(column.field, []).append(column)
        definitions = catalog.extra_fields()
        by_key = {_extra_key(d.name): d for d in definitions or ()}
        extra_columns: list[tuple[Column, str, ExtraFieldDef | None]] = []
        unknown: list[Column] = []
        seen: set[str] = set()
        for name, found in columns.items():
            if not name.startswith(EXTRA_PREFIX):
                continue
            extra_name = name[len(EXTRA_PREFIX) :]
            definition = by_key.get(_extra_key(extra_name))
            if definitions is not None and definition is None:
                unknown.extend(found)
                continue
            seen.add(_extra_key(extra_name))
            extra_columns.append((found[0], extra_name, definition))
        missing = [
            d
            for d in definitions or ()
            if d.is_required and _extra_key(d.name) not in seen
        ]
        return cls(columns, extra_columns, missing, unknown, definitions is not None)


def check_sheet(sheet: LoadedSheet, catalog: Catalog) -> list[RowIssue]:
    """Return the problems of the sheet as a whole, each reported once.

    These are about columns, not values: a required column is missing, two columns
    map to one field, or an extra-field column does not match the store's fields.
    """
    layout = _Layout.of(sheet, catalog)
    return _sheet_issues(sheet, layout)


def _header_ref(sheet: LoadedSheet, column: Column) -> str:
    return sheet.cell_ref(column, sheet.report.header_row)


def _sheet_issues(sheet: LoadedSheet, layout: _Layout) -> list[RowIssue]:
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
    if not any(name in layout.columns for name in _COMPANY_FIELDS):
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


# --- one row ------------------------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    """The validator's working state for one row."""

    row: SourceRow
    issues: list[RowIssue]
    values: dict[str, object] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    email: str | None = None
    company_id: int | None = None
    extras: dict[str, tuple[Column | None, str]] = field(default_factory=dict)
    unchecked: bool = False
    skipped: bool = False

    @property
    def has_errors(self) -> bool:
        return any(issue.severity == "error" for issue in self.issues)

    def result(self) -> RowResult:
        if self.skipped:
            return RowResult(self.row, None, Status.SKIPPED, self.issues)
        if self.has_errors:
            return RowResult(self.row, None, Status.INVALID, self.issues)
        if self.unchecked or self.email is None or self.company_id is None:
            return RowResult(self.row, None, Status.VALID, self.issues)
        request = UserRequest(
            row_number=self.row.row_number,
            email=self.email,
            company_id=self.company_id,
            body=self.body,
        )
        return RowResult(self.row, request, None, self.issues)


def _is_filled(cell: Cell) -> bool:
    # A formula without a saved result reads as empty but is not blank.
    if cell.formula_without_value:
        return True
    if isinstance(cell.value, str):
        return bool(clean_text(cell.value))
    return not cell.is_blank


class _RowCheck:
    """Validate one row field by field, collecting every issue with its cell."""

    def __init__(
        self,
        sheet: LoadedSheet,
        layout: _Layout,
        catalog: Catalog,
        defaults: Defaults,
        row: SourceRow,
    ) -> None:
        self.sheet = sheet
        self.layout = layout
        self.catalog = catalog
        self.defaults = defaults
        self.row = row
        self.draft = _Draft(row, list(row.issues))

    # Cells and issues.

    def _cell_of(self, column: Column) -> Cell:
        cells = self.row.cells
        return cells[column.index] if 0 <= column.index < len(cells) else EMPTY_CELL

    def ref(self, column: Column | None) -> str | None:
        if column is None:
            return None
        return self.sheet.cell_ref(column, self.row.row_number)

    def cell(self, name: str) -> tuple[Column | None, Cell]:
        """Return the column and cell of a field; two filled columns must agree."""
        columns = self.layout.columns.get(name, [])
        cells = [(column, self._cell_of(column)) for column in columns]
        filled = [(column, cell) for column, cell in cells if _is_filled(cell)]
        if not filled:
            return cells[0] if cells else (None, EMPTY_CELL)
        first_column, first_cell = filled[0]
        for column, other in filled[1:]:
            if clean_text(other.text) != clean_text(first_cell.text):
                self.error(
                    "COLUMN_CONFLICT",
                    f"{first_column.header!r} is {quoted(first_cell.text)} but "
                    f"{column.header!r} ({self.ref(column)}) is {quoted(other.text)}.",
                    "Make the two cells equal or clear one of them.",
                    first_column,
                )
        return first_column, first_cell

    def error(self, code: str, message: str, fix: str, column: Column | None) -> None:
        self.draft.issues.append(
            RowIssue(
                code,
                message,
                fix,
                column=column.header if column else None,
                cell=self.ref(column),
            )
        )

    def warn(self, code: str, message: str, fix: str, column: Column | None) -> None:
        self.draft.issues.append(
            RowIssue(
                code,
                message,
                fix,
                column=column.header if column else None,
                cell=self.ref(column),
                severity="warning",
            )
        )

    def add(self, findings: Sequence[Finding] | Problem, column: Column | None) -> None:
        if isinstance(findings, Problem):
            self.error(findings.code, findings.message, findings.fix, column)
            return
        for finding in findings:
            if finding.severity == "error":
                self.error(finding.code, finding.message, finding.fix, column)
            else:
                self.warn(finding.code, finding.message, finding.fix, column)

    def parse(
        self, name: str, parser: Callable[[Cell], Parsed[Any]]
    ) -> tuple[Column | None, Parsed[Any]]:
        column, cell = self.cell(name)
        parsed = parser(cell)
        self.add(parsed.findings, column)
        return column, parsed

    # Fields.

    def run(self) -> _Draft:
        self.check_email()
        self.check_names()
        self.check_company()
        self.check_phone()
        self.check_role()
        channels = self.check_channels()
        self.check_origin_channel(channels)
        self.check_welcome_email()
        self.check_uuid()
        self.check_extra_fields()
        return self.draft

    def check_email(self) -> None:
        column, parsed = self.parse("email", parse_email)
        if parsed.is_blank:
            self.error(
                "EMAIL_MISSING",
                "The email is blank.",
                "Enter the person's email address.",
                column,
            )
        email = parsed.value
        self.draft.email = email
        self.draft.values["email"] = email.casefold() if email else None
        if email:
            self.draft.body["email"] = email

    def check_names(self) -> None:
        for name, code, label in (
            ("firstName", "FIRST_NAME_MISSING", "first name"),
            ("lastName", "LAST_NAME_MISSING", "last name"),
        ):
            limit = FIELDS_BY_NAME[name].max_length
            column, parsed = self.parse(name, partial(parse_name, max_length=limit))
            if parsed.is_blank:
                self.error(
                    code,
                    f"The {label} is blank.",
                    f"Enter the person's {label}.",
                    column,
                )
            self.draft.values[name] = parsed.value
            if parsed.value:
                self.draft.body[name] = parsed.value

    def check_company(self) -> None:
        resolved: list[tuple[int, Column | None]] = []
        entered: list[tuple[str, str]] = []
        unchecked = False
        failed = False
        for name in _COMPANY_FIELDS:
            column, key, text = self._company_value(name)
            if key is None or text is None:
                failed = failed or column is not None
                continue
            entered.append((key, text.casefold()))
            outcome = self.catalog.resolve_company(key, text)
            if isinstance(outcome, Problem):
                self.add(outcome, column)
            elif isinstance(outcome, Unchecked):
                unchecked = True
            else:
                resolved.append((outcome, column))
        self.draft.values["company"] = tuple(entered)
        ids = {company_id for company_id, _ in resolved}
        if len(ids) > 1:
            where = ", ".join(f"{i} in {self.ref(c)}" for i, c in resolved)
            self.error(
                "COMPANY_CONFLICT",
                f"The Company columns name different Companies: {where}.",
                "Keep one Company column filled in, or make them name the same "
                "Company.",
                resolved[1][1],
            )
        elif ids:
            company_id = ids.pop()
            self.draft.company_id = company_id
            self.draft.body["companyId"] = company_id
            self.draft.values["company"] = company_id
        elif not entered and not failed:
            column = self._first_column(_COMPANY_FIELDS)
            self.error(
                "COMPANY_MISSING",
                "No Company is entered.",
                "Enter the Company's id in companyId, its exact name in company, or "
                "its external id in companyExternalId.",
                column,
            )
        if unchecked:
            self.draft.unchecked = True

    def _first_column(self, names: Sequence[str]) -> Column | None:
        for name in names:
            columns = self.layout.columns.get(name)
            if columns:
                return columns[0]
        return None

    def _company_value(
        self, name: CompanyKey
    ) -> tuple[Column | None, CompanyKey | None, str | None]:
        """Return a Company column's look-up key and value, or Nones when blank.

        The column comes back with a None key when its value was invalid. A value
        in the ``company`` column that is all digits is an id, not a name.
        """
        column, cell = self.cell(name)
        numeric = isinstance(cell.value, int | float) and not isinstance(
            cell.value, bool
        )
        if name == "companyId" or (name == "company" and numeric):
            parsed_id = parse_int(cell)
            self.add(parsed_id.findings, column)
            if parsed_id.value is None:
                return (column if not parsed_id.ok else None), None, None
            return column, "companyId", str(parsed_id.value)
        parsed = parse_external_id(cell, max_length=255)
        self.add(parsed.findings, column)
        text = parsed.value
        if text is None:
            return (column if not parsed.ok else None), None, None
        digits = unicodedata.normalize("NFKC", text)
        if name == "company" and digits.isascii() and digits.isdigit():
            return column, "companyId", str(int(digits))
        return column, name, text

    def check_phone(self) -> None:
        limit = FIELDS_BY_NAME["phoneNumber"].max_length
        _, parsed = self.parse(
            "phoneNumber", lambda cell: parse_phone(cell, max_length=limit)
        )
        self.draft.values["phoneNumber"] = parsed.value
        if parsed.value:
            self.draft.body["phoneNumber"] = parsed.value

    def check_role(self) -> None:
        column, parsed = self.parse("role", cell_text)
        if not parsed.ok:
            return
        text = parsed.value
        if text is not None and text.casefold() in PLACEHOLDERS:
            text = None
        from_default = text is None
        if from_default:
            text = self.defaults.role or None
        if text is None:
            self.error(
                "ROLE_MISSING",
                "User must have a role, and the role is blank.",
                "Enter Admin, Senior Buyer, Junior Buyer, 0, 1, 2 or a custom role's "
                "name, or set defaults.role in the configuration.",
                column,
            )
            return
        self.draft.values["role"] = text.casefold()
        outcome = self.catalog.resolve_role(text)
        if isinstance(outcome, RoleChoice):
            # "Admin" and "0" are the same role, so duplicate rows compare equal.
            self.draft.values["role"] = outcome
        if isinstance(outcome, Problem):
            if from_default:
                outcome = Problem(
                    outcome.code,
                    f"The default role from the configuration is invalid: "
                    f"{outcome.message}",
                    "Correct defaults.role in the configuration, or fill in the role.",
                )
            self.add(outcome, column)
        elif isinstance(outcome, Unchecked):
            self.draft.unchecked = True
        elif outcome.company_role_id is not None:
            self.draft.body["companyRoleId"] = outcome.company_role_id
        else:
            self.draft.body["role"] = outcome.role

    def check_channels(self) -> list[int]:
        column, parsed = self.parse("channelIds", split_list)
        if not parsed.ok:
            return []
        tokens: list[str] | None = parsed.value
        from_default = tokens is None
        if tokens is None:
            tokens = [str(channel) for channel in self.defaults.channel_ids]
        if not tokens:
            self.error(
                "CHANNELS_MISSING",
                "No channel is entered. A Company user needs at least one B2B "
                "storefront channel.",
                "Enter channel ids or names separated by ';', or set "
                "defaults.channel_ids in the configuration.",
                column,
            )
            return []

        self.draft.values["channelIds"] = [token.casefold() for token in tokens]
        channels: list[int] = []
        resolved_all = True
        for token in tokens:
            outcome = self.catalog.resolve_channel(token)
            resolved_all = resolved_all and isinstance(outcome, int)
            if isinstance(outcome, Problem):
                if from_default:
                    outcome = Problem(
                        outcome.code,
                        f"A default channel from the configuration is invalid: "
                        f"{outcome.message}",
                        "Correct defaults.channel_ids in the configuration, or fill "
                        "in the channels.",
                    )
                self.add(outcome, column)
            elif isinstance(outcome, Unchecked):
                self.draft.unchecked = True
            elif outcome not in channels:
                channels.append(outcome)

        self.draft.body["channelIds"] = channels
        if resolved_all:
            # Ids and names of the same channels make equal rows for duplicates.
            self.draft.values["channelIds"] = sorted(channels)
        return channels

    def check_origin_channel(self, channels: list[int]) -> None:
        column, parsed = self.parse("originChannelId", parse_int)
        origin = parsed.value
        self.draft.values["originChannelId"] = origin
        if origin is None:
            return
        if origin == 0:
            self.warn(
                "ORIGIN_CHANNEL_ZERO",
                "originChannelId 0 unsets the user's origin channel, which "
                "BigCommerce warns may cause unexpected behaviour.",
                "Leave the cell blank unless you mean to unset it.",
                column,
            )
            self.draft.body["originChannelId"] = 0
            return
        outcome = self.catalog.resolve_channel(str(origin))
        if isinstance(outcome, Problem):
            self.add(outcome, column)
            return
        if isinstance(outcome, Unchecked):
            self.draft.unchecked = True
            return
        self.draft.body["originChannelId"] = outcome
        if channels and outcome not in channels:
            self.warn(
                "ORIGIN_CHANNEL_NOT_LISTED",
                f"The origin channel {outcome} is not one of the user's channels "
                f"({', '.join(map(str, channels))}).",
                "Add it to channelIds so the user can sign in there.",
                column,
            )

    def check_welcome_email(self) -> None:
        _, parsed = self.parse("acceptWelcomeEmail", parse_bool)
        accept = parsed.value
        if accept is None:
            accept = self.defaults.accept_welcome_email
        self.draft.values["acceptWelcomeEmail"] = accept
        self.draft.body["acceptWelcomeEmail"] = accept

    def check_uuid(self) -> None:
        limit = FIELDS_BY_NAME["uuid"].max_length
        _, parsed = self.parse("uuid", partial(parse_external_id, max_length=limit))
        self.draft.values["uuid"] = parsed.value
        if parsed.value:
            self.draft.body["uuid"] = parsed.value

    def check_extra_fields(self) -> None:
        extra_fields: list[dict[str, str]] = []
        for column, name, definition in self.layout.extra_columns:
            column_found, cell = self.cell(EXTRA_PREFIX + name)
            column = column_found or column
            parsed = self._extra_value(column, cell, definition)
            value = parsed.value
            if parsed.is_blank and definition is not None:
                value = self._extra_blank(column, definition)
            self.draft.values[EXTRA_PREFIX + name] = value
            if value is None:
                continue
            field_name = definition.name if definition else name
            self.draft.extras[field_name] = (column, value)
            extra_fields.append({"fieldName": field_name, "fieldValue": value})
        for definition in self.layout.missing_extras:
            value = self._extra_blank(None, definition)
            if value is not None:
                self.draft.extras[definition.name] = (None, value)
                extra_fields.append({"fieldName": definition.name, "fieldValue": value})
        if extra_fields:
            self.draft.body["extraFields"] = extra_fields

    def _extra_blank(
        self, column: Column | None, definition: ExtraFieldDef
    ) -> str | None:
        """Return the store's default for a blank required field, or report it."""
        if not definition.is_required:
            return None
        if definition.default_value:
            self.warn(
                "EXTRA_FIELD_DEFAULT_USED",
                f"The required extra field {definition.name!r} is blank, so the "
                f"store's default {quoted(definition.default_value)} is sent.",
                "Fill in the cell if the default is wrong for this user.",
                column,
            )
            return definition.default_value
        self.error(
            "EXTRA_FIELD_REQUIRED",
            f"The extra field {definition.name!r} is required and is blank.",
            f"Enter a value for {definition.name}.",
            column,
        )
        return None

    def _extra_value(
        self, column: Column, cell: Cell, definition: ExtraFieldDef | None
    ) -> Parsed[str]:
        if definition is None:
            # Offline, the field's type is unknown: pass the text through as typed.
            parsed = parse_text(cell, multiline=True)
        elif definition.field_type == _NUMBER_TYPE:
            parsed = _extra_number(cell, definition)
        elif definition.field_type == _DROPDOWN:
            parsed = _extra_choice(cell, definition)
        else:
            parsed = parse_text(
                cell,
                max_length=definition.maximum_length,
                multiline=definition.field_type == _MULTILINE,
            )
        self.add(parsed.findings, column)
        return parsed


def _extra_number(cell: Cell, definition: ExtraFieldDef) -> Parsed[str]:
    """Check a number extra field; the value is sent as the text of the number."""
    value = cell.value
    number: float
    too_large = isinstance(value, int) and value.bit_length() > _MAX_NUMBER_BITS
    if too_large or (isinstance(value, float) and not math.isfinite(value)):
        return Parsed(
            None,
            (
                Finding(
                    "EXTRA_FIELD_NOT_NUMBER",
                    f"{definition.name} must be a number; the cell is {quoted(value)}.",
                    "Enter digits with '.' as the decimal point.",
                ),
            ),
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        whole = isinstance(value, float) and value.is_integer()
        text = str(int(value)) if whole else str(value)
        number = float(value)
    else:
        parsed = parse_text(cell)
        if parsed.value is None:
            return parsed
        text = parsed.value
        if not _NUMBER.fullmatch(unicodedata.normalize("NFKC", text)):
            return Parsed(
                None,
                (
                    Finding(
                        "EXTRA_FIELD_NOT_NUMBER",
                        f"{definition.name} must be a number; {quoted(text)} is not.",
                        "Enter digits with '.' as the decimal point.",
                    ),
                ),
            )
        number = float(unicodedata.normalize("NFKC", text))
    if definition.maximum_value is not None and number > definition.maximum_value:
        return Parsed(
            None,
            (
                Finding(
                    "EXTRA_FIELD_TOO_LARGE",
                    f"{definition.name} is {quoted(text)}, above its maximum "
                    f"{definition.maximum_value:g}.",
                    f"Enter a number up to {definition.maximum_value:g}.",
                ),
            ),
        )
    return Parsed(text)


def _extra_choice(cell: Cell, definition: ExtraFieldDef) -> Parsed[str]:
    """Match a dropdown value in any case; the store's spelling is sent."""
    parsed = parse_text(cell)
    if parsed.value is None:
        return parsed
    typed_key = _extra_key(parsed.value)
    for choice in definition.list_of_values:
        if _extra_key(choice) == typed_key:
            return Parsed(choice, parsed.findings)
    choices = ", ".join(definition.list_of_values[:10])
    if len(definition.list_of_values) > 10:
        choices += ", …"
    return Parsed(
        None,
        (
            Finding(
                "EXTRA_FIELD_NOT_IN_LIST",
                f"{quoted(parsed.value)} is not a choice of {definition.name}.",
                f"Enter one of: {choices}.",
            ),
        ),
    )


# --- the whole sheet ----------------------------------------------------------------


def validate_sheet(
    sheet: LoadedSheet, catalog: Catalog, *, defaults: Defaults
) -> list[RowResult]:
    """Validate every row of ``sheet`` and return one ``RowResult`` per row, in order.

    Problems of the sheet as a whole are appended to ``sheet.issues`` once (a
    second call adds nothing new). Rows are checked without I/O apart from the
    catalog's look-ups.
    """
    layout = _Layout.of(sheet, catalog)
    for issue in _sheet_issues(sheet, layout):
        if issue not in sheet.issues:
            sheet.issues.append(issue)
    drafts = [
        _RowCheck(sheet, layout, catalog, defaults, row).run() for row in sheet.rows
    ]
    _check_unique_extras(sheet, drafts, catalog.extra_fields())
    _mark_duplicates(sheet, layout, drafts)
    return [draft.result() for draft in drafts]


def _check_unique_extras(
    sheet: LoadedSheet,
    drafts: Sequence[_Draft],
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
            key = _extra_key(value)
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


def _mark_duplicates(
    sheet: LoadedSheet, layout: _Layout, drafts: Sequence[_Draft]
) -> None:
    """Skip a row that repeats an earlier row; reject one that contradicts it.

    Rows match by email, compared case-insensitively, never by uuid. Values are
    compared after normalisation, so ``ANN@x.com`` with ``yes`` repeats
    ``ann@x.com`` with ``Y``. The earlier row stays as it is.
    """
    email_columns = layout.columns.get("email", [])
    email_column = email_columns[0] if email_columns else None
    first_by_email: dict[str, _Draft] = {}
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


def _header_for(layout: _Layout, name: str) -> str:
    names = _COMPANY_FIELDS if name == "company" else (name,)
    headers = [
        columns[0].header for key in names if (columns := layout.columns.get(key))
    ]
    return " / ".join(headers) if headers else name
