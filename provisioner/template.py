"""Write the XLSX template that sales ops fill in.

The ``Users`` sheet has the canonical headers from ``provisioner.fields``, which the
loader matches exactly, and one column per user extra field. Every column is
formatted as Text, so Excel keeps leading zeros and long ids. The role, the yes/no
field and dropdown extra fields get dropdowns. The ``Instructions`` sheet explains
each column in one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from provisioner.api.types import ExtraFieldDef
from provisioner.errors import ConfigError
from provisioner.fields import EXTRA_PREFIX, FIELDS, alias_table, normalise_header

USERS_SHEET = "Users"
INSTRUCTIONS_SHEET = "Instructions"
LISTS_SHEET = "Lists"

BUILTIN_ROLES: tuple[str, ...] = ("Admin", "Senior Buyer", "Junior Buyer")
YES_NO: tuple[str, ...] = ("yes", "no")

#: Rows the dropdowns and Text format cover; Excel's sheet has 1,048,576 rows.
LAST_ROW = 1_048_576

#: Excel rejects an inline dropdown list longer than 255 characters.
INLINE_LIST_MAX_CHARS = 255

_TEXT_FORMAT = "@"
_MIN_WIDTH = 12
_MAX_WIDTH = 45
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")

_EXAMPLES: dict[str, str] = {
    "email": "ann.lee@example.com",
    "firstName": "Ann",
    "lastName": "Lee",
    "phoneNumber": "+1 555 0100",
    "companyId": "1234",
    "company": "Acme Ltd",
    "companyExternalId": "ACME-001",
    "role": "Senior Buyer",
    "channelIds": "1;2",
    "originChannelId": "1",
    "acceptWelcomeEmail": "yes",
    "uuid": "ERP-0042",
}

_REQUIRED_TEXT: dict[str, str] = {
    "email": "Required",
    "firstName": "Required",
    "lastName": "Required",
    "companyId": "One of companyId, company, companyExternalId",
    "company": "One of companyId, company, companyExternalId",
    "companyExternalId": "One of companyId, company, companyExternalId",
    "role": "Required unless the configuration sets defaults.role",
    "channelIds": "Required unless the configuration sets defaults.channel_ids",
}

_EXTRA_KINDS = {0: "Text", 1: "Text; line breaks allowed", 2: "A number"}


@dataclass(frozen=True, slots=True)
class _TemplateColumn:
    header: str
    required: str
    description: str
    example: str
    choices: tuple[str, ...] = ()
    strict_choices: bool = True


def write_template(
    path: Path,
    *,
    extra_fields: Sequence[ExtraFieldDef] = (),
    roles: Sequence[str] = BUILTIN_ROLES,
) -> None:
    """Write the template workbook to ``path``, replacing any file there.

    ``extra_fields`` adds a column per store extra field; ``roles`` fills the Role
    dropdown, which also accepts values outside the list (role numbers, new roles).
    Raises ``ConfigError`` when the file cannot be written.
    """
    columns = _columns(extra_fields, roles)
    workbook = Workbook()
    users = workbook.active
    users.title = USERS_SHEET
    instructions = workbook.create_sheet(INSTRUCTIONS_SHEET)
    _fill_users(workbook, users, columns)
    _fill_instructions(instructions, columns)
    workbook.active = 0
    try:
        workbook.save(path)
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the template to {path}: {exc.strerror or exc}. Choose a "
            "folder that exists and that you can write to."
        ) from None


def _columns(
    extra_fields: Sequence[ExtraFieldDef], roles: Sequence[str]
) -> list[_TemplateColumn]:
    columns: list[_TemplateColumn] = []
    for spec in FIELDS:
        choices: tuple[str, ...] = ()
        strict = True
        if spec.kind == "role":
            choices, strict = tuple(roles), False
        elif spec.kind == "bool":
            choices = YES_NO
        description = spec.description
        if spec.max_length is not None:
            description += f" At most {spec.max_length} characters."
        columns.append(
            _TemplateColumn(
                header=spec.name,
                required=_REQUIRED_TEXT.get(spec.name, "Optional"),
                description=description,
                example=_EXAMPLES.get(spec.name, ""),
                choices=choices,
                strict_choices=strict,
            )
        )
    builtin_headers = alias_table()
    for definition in extra_fields:
        columns.append(_extra_column(definition, builtin_headers))
    return columns


def _extra_column(
    definition: ExtraFieldDef, builtin_headers: dict[str, str]
) -> _TemplateColumn:
    header = definition.name
    # A name that reads as a built-in header (an extra field called "Phone") would
    # map to that field, so the column gets the explicit "extra:" prefix.
    if normalise_header(header) in builtin_headers:
        header = f"{EXTRA_PREFIX} {definition.name}"
    if definition.field_type == 3:
        description = "One of: " + ", ".join(definition.list_of_values) + "."
        example = definition.list_of_values[0] if definition.list_of_values else ""
    else:
        description = _EXTRA_KINDS.get(definition.field_type, "Text") + "."
        example = ""
    if definition.maximum_length:
        description += f" At most {definition.maximum_length} characters."
    if definition.maximum_value is not None:
        description += f" At most {definition.maximum_value:g}."
    if definition.is_unique:
        description += " Must differ for every user."
    if definition.default_value:
        description += f" Blank means the store's default, {definition.default_value}."
    return _TemplateColumn(
        header=header,
        required="Required" if definition.is_required else "Optional",
        description=f"User extra field {definition.name!r}. {description}",
        example=example,
        choices=tuple(definition.list_of_values) if definition.field_type == 3 else (),
    )


def _fill_users(
    workbook: Workbook, sheet: Worksheet, columns: Sequence[_TemplateColumn]
) -> None:
    bold = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        cell.fill = _HEADER_FILL
        dimension = sheet.column_dimensions[letter]
        # Text format stops Excel turning ids into numbers, dates or 1.2E+11.
        dimension.number_format = _TEXT_FORMAT
        dimension.width = _width(column.header, column.example)
        if column.choices:
            formula = _list_formula(workbook, column)
            validation = DataValidation(
                type="list",
                formula1=formula,
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="stop" if column.strict_choices else "warning",
                errorTitle=f"{column.header}",
                error=f"Choose a value from the list for {column.header}.",
            )
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"


def _list_formula(workbook: Workbook, column: _TemplateColumn) -> str:
    """Return a dropdown's source: an inline list, or a range on a hidden sheet.

    Excel's inline list cannot contain commas or quotes and is limited to 255
    characters; longer lists go to the hidden ``Lists`` sheet.
    """
    inline = ",".join(column.choices)
    fits = len(inline) + 2 <= INLINE_LIST_MAX_CHARS
    if fits and not any("," in c or '"' in c for c in column.choices):
        return f'"{inline}"'
    if LISTS_SHEET in workbook.sheetnames:
        lists = workbook[LISTS_SHEET]
    else:
        lists = workbook.create_sheet(LISTS_SHEET)
        lists.sheet_state = "hidden"
    index = 1 if lists["A1"].value is None else lists.max_column + 1
    lists.cell(row=1, column=index, value=column.header)
    for row, choice in enumerate(column.choices, start=2):
        cell = lists.cell(row=row, column=index, value=choice)
        cell.number_format = _TEXT_FORMAT
        cell.data_type = "s"
    letter = get_column_letter(index)
    last = len(column.choices) + 1
    return f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${last}"


def _fill_instructions(sheet: Worksheet, columns: Sequence[_TemplateColumn]) -> None:
    headings = ("Column", "Required", "What to enter", "Example")
    bold = Font(bold=True)
    for index, heading in enumerate(headings, start=1):
        cell = sheet.cell(row=1, column=index, value=heading)
        cell.font = bold
        cell.fill = _HEADER_FILL
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, column in enumerate(columns, start=2):
        # "email (column A)" rather than "email" alone, so the loader never takes
        # this sheet for a list of users: no cell here reads as a header.
        name = f"{column.header} (column {get_column_letter(row - 1)})"
        values = (name, column.required, column.description, column.example)
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=index, value=value)
            cell.alignment = wrap
            # Examples such as "1;2" and "+1 555 0100" must stay text.
            cell.number_format = _TEXT_FORMAT
            cell.data_type = "s"
    for letter, width in zip("ABCD", (24, 30, 70, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"


def _width(*texts: str) -> float:
    longest = max((len(text) for text in texts), default=0)
    return float(min(max(longest + 2, _MIN_WIDTH), _MAX_WIDTH))
