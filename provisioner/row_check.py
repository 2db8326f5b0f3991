"""Validation of one row: parse each field, resolve it and build the request body."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from provisioner.api.types import ExtraFieldDef
from provisioner.catalog import Catalog, CompanyKey, Problem, RoleChoice, Unchecked
from provisioner.config import Defaults
from provisioner.extra_fields import (
    DROPDOWN,
    MULTILINE,
    NUMBER_TYPE,
    extra_choice,
    extra_number,
)
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
    PLACEHOLDERS,
    Finding,
    Parsed,
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
from provisioner.sheet_layout import COMPANY_FIELDS, Layout


@dataclass(slots=True)
class Draft:
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


class RowCheck:
    """Validate one row field by field, collecting every issue with its cell."""

    def __init__(
        self,
        sheet: LoadedSheet,
        layout: Layout,
        catalog: Catalog,
        defaults: Defaults,
        row: SourceRow,
    ) -> None:
        self.sheet = sheet
        self.layout = layout
        self.catalog = catalog
        self.defaults = defaults
        self.row = row
        self.draft = Draft(row, list(row.issues))

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

    def run(self) -> Draft:
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
        for name in COMPANY_FIELDS:
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
            column = self._first_column(COMPANY_FIELDS)
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
        elif definition.field_type == NUMBER_TYPE:
            parsed = extra_number(cell, definition)
        elif definition.field_type == DROPDOWN:
            parsed = extra_choice(cell, definition)
        else:
            parsed = parse_text(
                cell,
                max_length=definition.maximum_length,
                multiline=definition.field_type == MULTILINE,
            )
        self.add(parsed.findings, column)
        return parsed
