"""Values of user extra fields: name matching, numbers and dropdown choices."""

from __future__ import annotations

import math
import re
import unicodedata

from provisioner.api.types import ExtraFieldDef
from provisioner.model import Cell
from provisioner.normalize import Finding, Parsed, parse_text, quoted

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")

#: Wider integers cannot become a float for the maximum-value check.
_MAX_NUMBER_BITS = 1000

# Field types of a user extra field in B2B Edition.
TEXT, MULTILINE, NUMBER_TYPE, DROPDOWN = 0, 1, 2, 3


def extra_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().strip()


def extra_number(cell: Cell, definition: ExtraFieldDef) -> Parsed[str]:
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


def extra_choice(cell: Cell, definition: ExtraFieldDef) -> Parsed[str]:
    """Match a dropdown value in any case; the store's spelling is sent."""
    parsed = parse_text(cell)
    if parsed.value is None:
        return parsed
    typed_key = extra_key(parsed.value)
    for choice in definition.list_of_values:
        if extra_key(choice) == typed_key:
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
