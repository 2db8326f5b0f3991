"""Pure functions that turn one raw cell into the value a request field needs.

Every parser takes a ``Cell`` (the raw value and the text a person sees) and returns
a ``Parsed`` value. It carries the normalised value, which is None when the cell is
blank or the value is invalid, and the findings (errors and warnings) that explain
what was wrong or what was changed. No parser raises on any input or does I/O. The
validator adds the cell reference to each finding.

Trimming is the same for every field: Unicode whitespace and invisible format
characters (byte-order mark, zero-width space and joiners, bidirectional marks, soft
hyphen) are removed at both ends and the text is put in NFC. Emails are also put in
NFKC, so a full-width ``＠`` becomes ``@``. Anything else a person typed into a
free-text field is kept as typed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Generic, Literal, TypeVar

from email_validator import EmailNotValidError, validate_email

from provisioner.model import Cell, CellValue

T = TypeVar("T")

Severity = Literal["error", "warning"]

#: Codes the functions in this module emit, with a short meaning; the validator's
#: ``ERROR_CODES`` table includes them all.
NORMALIZE_CODES: dict[str, str] = {
    "FORMULA_WITHOUT_VALUE": "a formula cell has no saved result",
    "EXCEL_DATE": "Excel turned the value into a date or time",
    "NOT_WHOLE_NUMBER": "a number with a fraction where a whole number is needed",
    "TOO_MANY_DIGITS": "a number longer than the 15 digits Excel keeps",
    "SCIENTIFIC_NOTATION": "a number displayed in scientific notation, digits lost",
    "NOT_AN_ID": "text where a numeric id is needed",
    "REPLACEMENT_CHARACTER": "the text contains U+FFFD from a failed decoding",
    "CONTROL_CHARACTER": "the text contains an invisible control character",
    "TOO_LONG": "the value is longer than the field allows",
    "EMAIL_INVALID": "the email address is not valid",
    "EMAIL_WHITESPACE": "the email address contains a space or invisible character",
    "EMAIL_MULTIPLE": "one cell contains more than one email address",
    "EMAIL_CHANGED": "warning: the email was cleaned up (mailto:, name, quotes)",
    "EMAIL_FROM_HYPERLINK": "warning: the email was taken from the cell's link",
    "NAME_PLACEHOLDER": "a placeholder such as '-' or 'N/A' where a name is needed",
    "NAME_FORMULA": "a name starts with = + - or @ and could run as a formula",
    "NAME_NEWLINE": "warning: line breaks in a name were replaced by spaces",
    "TEXT_NEWLINE": "warning: line breaks in a one-line text were replaced by spaces",
    "PLACEHOLDER_BLANK": "warning: a placeholder such as 'N/A' was treated as blank",
    "PHONE_NUMERIC": "warning: a phone number stored as a number",
    "LIST_INVALID": "a list item is not an id or a name",
    "BOOL_INVALID": "the value is not yes or no",
}

#: Values that mean "nothing here" in optional fields, compared case-insensitively.
PLACEHOLDERS = frozenset({"n/a", "#n/a", "-", "--", "—", "–", "none", "null"})

#: Excel keeps 15 significant decimal digits; longer numbers have lost digits.
EXCEL_MAX_DIGITS = 15

#: Integers above this cannot all be stored exactly in a float (Excel's number type).
FLOAT_EXACT_LIMIT = 2**53

#: Integers wider than this (about 38 digits) are rejected before they are printed.
_LARGE_INT_BITS = 128

_DATE_FIX = "Excel converted this to a date; format the column as Text and retype it."
_TEXT_FIX = "Format the column as Text in Excel and retype the value."
_FORMULA_STARTS = ("=", "+", "-", "@")
_SMART_QUOTES = "\"'“”‘’„‚«»"
_DIGITS = re.compile(r"[0-9]+")
_INTEGRAL_DECIMAL = re.compile(r"([0-9]+)\.0+")
_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")
_EXCEL_SCIENTIFIC = re.compile(r"-?[0-9](?:[.,][0-9]+)?E[+-][0-9]+", re.IGNORECASE)
_LIST_SEPARATORS = re.compile(r"[,;|]+")
_WHITESPACE_RUN = re.compile(r"\s+")
_LINE_BREAKS = re.compile(r"[ \t]*(?:\r\n|[\n\r\v\f\x85\u2028\u2029])[ \t]*")
_MAILTO = re.compile(r"mailto:", re.IGNORECASE)

_TRUE_WORDS = frozenset(
    {"yes", "y", "true", "1", "x", "on", "ja", "j", "oui", "si", "sí", "wahr", "vrai"}
    | {"✓", "✔", "☑", "✅"}
)
_FALSE_WORDS = frozenset(
    {"no", "n", "false", "0", "off", "nein", "non", "falsch", "faux"}
    | {"✗", "✘", "☐", "❌"}
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem or change found in a value; the validator adds the cell."""

    code: str
    message: str
    fix: str
    severity: Severity = "error"


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    """A normalised value, or None when the cell is blank or invalid, with findings."""

    value: T | None
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether no finding is an error."""
        return all(finding.severity != "error" for finding in self.findings)

    @property
    def is_blank(self) -> bool:
        """Whether the cell was blank (or a placeholder) and raised no error."""
        return self.value is None and self.ok


def _fail(code: str, message: str, fix: str) -> Parsed[T]:
    return Parsed(None, (Finding(code, message, fix),))


def _warning(code: str, message: str, fix: str = "") -> Finding:
    return Finding(code, message, fix, "warning")


def quoted(value: object, limit: int = 60) -> str:
    """Quote a value for a message, shortened to ``limit`` characters."""
    try:
        text = value if isinstance(value, str) else str(value)
    except ValueError:
        # str() raises for an int of more than 4300 digits.
        text = "a number too long to show"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


# --- text ---------------------------------------------------------------------------


def _is_edge_junk(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cf"


def strip_edges(text: str) -> str:
    """Remove Unicode whitespace and invisible format characters at both ends."""
    start = 0
    end = len(text)
    if end and not _is_edge_junk(text[0]) and not _is_edge_junk(text[-1]):
        return text
    while start < end and _is_edge_junk(text[start]):
        start += 1
    while end > start and _is_edge_junk(text[end - 1]):
        end -= 1
    return text[start:end]


def clean_text(text: str) -> str:
    """Trim both ends of ``text`` and put it in NFC.

    Trimming runs again after NFC, because a slice of a normalised string need not
    be normalised itself. The loop stops as soon as a round changes nothing.
    """
    cleaned = strip_edges(text)
    while True:
        normal = strip_edges(unicodedata.normalize("NFC", cleaned))
        if normal == cleaned:
            return cleaned
        cleaned = normal


def is_placeholder(text: str) -> bool:
    """Return whether ``text`` is a placeholder such as ``N/A`` or ``-``."""
    return clean_text(text).casefold() in PLACEHOLDERS


def _has_control(text: str, *, allow_newlines: bool) -> bool:
    for char in text:
        if char in "\t" or (allow_newlines and char in "\r\n"):
            continue
        if unicodedata.category(char) == "Cc":
            return True
    return False


def _check_decoding(text: str) -> Finding | None:
    if "\ufffd" in text:
        return Finding(
            "REPLACEMENT_CHARACTER",
            f"{quoted(text)} contains �, a character lost when the file was decoded.",
            "Save the file as CSV UTF-8 or XLSX and load it again.",
        )
    return None


def _significant_digits(number: int | float) -> int:
    if isinstance(number, int):
        digits = str(abs(number))
    else:
        digits = repr(abs(number)).split("e")[0].replace(".", "")
    return len(digits.strip("0")) or 1


def _date_finding(value: CellValue) -> Finding | None:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return Finding(
            "EXCEL_DATE",
            f"The value is a date or time ({value.isoformat()}).",
            _DATE_FIX,
        )
    return None


def _formula_finding(cell: Cell) -> Finding | None:
    if cell.formula_without_value:
        return Finding(
            "FORMULA_WITHOUT_VALUE",
            "The cell has a formula with no saved result.",
            "Open the file in Excel and save it, so each formula's result is stored.",
        )
    return None


def _whole_number(number: int | float) -> Parsed[int]:
    """Check that a numeric cell contains a whole number that Excel stored exactly."""
    if isinstance(number, float):
        if not math.isfinite(number):
            return _fail("NOT_WHOLE_NUMBER", f"{number} is not a number.", _TEXT_FIX)
        if not number.is_integer():
            return _fail(
                "NOT_WHOLE_NUMBER",
                f"{number!r} is not a whole number. Excel may have read '1,2' as the "
                "decimal 1.2.",
                _TEXT_FIX,
            )
        if abs(number) >= FLOAT_EXACT_LIMIT:
            return _fail(
                "TOO_MANY_DIGITS",
                f"{quoted(f'{number:.0f}')} has too many digits to be stored exactly "
                "as a number.",
                _TEXT_FIX,
            )
    elif number.bit_length() > _LARGE_INT_BITS:
        # Too long to be a real id, and str() of a huge int is slow or raises.
        return _fail(
            "TOO_MANY_DIGITS", "The number has far too many digits.", _TEXT_FIX
        )
    if _significant_digits(number) > EXCEL_MAX_DIGITS:
        return _fail(
            "TOO_MANY_DIGITS",
            f"{quoted(str(int(number)))} has more than {EXCEL_MAX_DIGITS} digits, so "
            "Excel may have changed the last ones.",
            _TEXT_FIX,
        )
    return Parsed(int(number))


def cell_text(cell: Cell) -> Parsed[str]:
    """Return the trimmed text of a cell meant to hold text, or an error.

    A date or time, or a formula without a saved result, is an error. A whole number
    becomes its digits; a fractional number becomes the text Excel shows.
    """
    problem = _formula_finding(cell) or _date_finding(cell.value)
    if problem is not None:
        return Parsed(None, (problem,))
    value = cell.value
    if value is None:
        return Parsed(None)
    if isinstance(value, bool):
        return Parsed("TRUE" if value else "FALSE")
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            displayed = clean_text(cell.text) if cell.text else repr(value)
            return Parsed(displayed or None)
        number = _whole_number(value)
        return Parsed(
            None if number.value is None else str(number.value), number.findings
        )
    if not isinstance(value, str):
        return Parsed(None)
    text = clean_text(value)
    problem = _check_decoding(text)
    if problem is not None:
        return Parsed(None, (problem,))
    return Parsed(text or None)


def _check_free_text(
    text: str,
    findings: list[Finding],
    *,
    max_length: int | None,
    multiline: bool,
    newline_code: str,
) -> Parsed[str]:
    if not multiline and _LINE_BREAKS.search(text):
        text = _LINE_BREAKS.sub(" ", text)
        findings.append(
            _warning(newline_code, "Line breaks in the value were replaced by spaces.")
        )
    if _has_control(text, allow_newlines=multiline):
        return _fail(
            "CONTROL_CHARACTER",
            f"{quoted(text)} contains an invisible control character.",
            "Retype the value.",
        )
    if max_length is not None and len(text) > max_length:
        return _fail(
            "TOO_LONG",
            f"The value has {len(text)} characters; at most {max_length} are allowed.",
            "Shorten it.",
        )
    return Parsed(text, tuple(findings))


def parse_text(
    cell: Cell, *, max_length: int | None = None, multiline: bool = False
) -> Parsed[str]:
    """Normalise an optional free-text value (uuid, an extra field).

    Line breaks are kept when ``multiline``, else each one becomes a single space
    with a warning. A placeholder such as ``N/A`` is blank, with a warning.
    """
    parsed = cell_text(cell)
    text = parsed.value
    if text is None:
        return parsed
    findings = list(parsed.findings)
    if text.casefold() in PLACEHOLDERS:
        findings.append(
            _warning("PLACEHOLDER_BLANK", f"{quoted(text)} was treated as blank.")
        )
        return Parsed(None, tuple(findings))
    return _check_free_text(
        text,
        findings,
        max_length=max_length,
        multiline=multiline,
        newline_code="TEXT_NEWLINE",
    )


def parse_external_id(cell: Cell, *, max_length: int | None = None) -> Parsed[str]:
    """Normalise a free-text id (a uuid or ERP id), as ``parse_text`` does.

    Text in Excel's scientific display (``1.23457E+11``) is an error, because the
    digits of the original id are lost.
    """
    parsed = parse_text(cell, max_length=max_length)
    text = parsed.value
    if text is not None and _EXCEL_SCIENTIFIC.fullmatch(text):
        return _fail(
            "SCIENTIFIC_NOTATION",
            f"{quoted(text)} is a number in scientific notation, so the id's digits "
            "are lost.",
            "Format the column as Text in Excel and retype the full id.",
        )
    return parsed


def parse_name(cell: Cell, *, max_length: int | None = None) -> Parsed[str]:
    """Normalise a first or last name.

    A line break becomes a single space with a warning. A placeholder (``-``,
    ``N/A``, ``None``) is an error rather than blank. A name that starts with ``=``,
    ``+``, ``-`` or ``@`` is an error too: a spreadsheet opened later would run it
    as a formula, and no real name starts that way.
    """
    parsed = cell_text(cell)
    text = parsed.value
    if text is None:
        return parsed
    if text.casefold() in PLACEHOLDERS:
        return _fail(
            "NAME_PLACEHOLDER",
            f"{quoted(text)} is a placeholder, not a name.",
            "Enter the person's name.",
        )
    if text.startswith(_FORMULA_STARTS):
        return _fail(
            "NAME_FORMULA",
            f"The name {quoted(text)} starts with {text[0]!r}, so a spreadsheet could "
            "run it as a formula.",
            "Remove the leading character.",
        )
    return _check_free_text(
        text,
        list(parsed.findings),
        max_length=max_length,
        multiline=False,
        newline_code="NAME_NEWLINE",
    )


# --- email --------------------------------------------------------------------------


def _unwrap_email(text: str) -> tuple[str, list[str], Finding | None]:
    """Remove a display name, quotes and ``mailto:``; return the address and notes.

    The display name goes first, because its own quotes (``"Lee, Ann" <a@x.com>``)
    must not be taken for quotes around the address.
    """
    notes: list[str] = []
    if "<" in text or "," in text or ";" in text:
        pieces = [piece for piece in re.split(r"[;,]", text) if "@" in piece]
        addresses = [addr for _, addr in getaddresses([text]) if addr]
        if "<" in text and len(addresses) == 1 and len(pieces) <= 1:
            notes.append(f"took the address from {quoted(text)}")
            text = addresses[0]
        elif len(pieces) > 1 or len(addresses) > 1:
            return (
                text,
                notes,
                Finding(
                    "EMAIL_MULTIPLE",
                    f"{quoted(text)} contains more than one email address.",
                    "Put one address in this row and the others in rows of their own.",
                ),
            )
    stripped = strip_edges(text.strip(_SMART_QUOTES))
    if stripped != text:
        notes.append("removed quotes")
        text = stripped
    match = _MAILTO.match(text)
    if match:
        text = strip_edges(text[match.end() :].split("?", 1)[0])
        notes.append("removed mailto:")
    return text, notes, None


def parse_email(cell: Cell) -> Parsed[str]:
    """Normalise an email address and check its syntax with email-validator.

    The address is put in NFKC; ``mailto:`` (with any ``?subject=``), a display name
    (``Ann Lee <ann@example.com>``) and surrounding quotes are removed with a
    warning. When the cell is not an address but links to ``mailto:``, the link's
    address is used with a warning. The domain is returned in lower case.
    """
    parsed = cell_text(cell)
    link = cell.hyperlink or ""
    if _MAILTO.match(link) and not (parsed.value and "@" in parsed.value):
        from_link = parse_email(Cell(value=link, text=link))
        if from_link.value is not None:
            note = _warning(
                "EMAIL_FROM_HYPERLINK",
                f"The cell shows {quoted(cell.text)}; its link's address "
                f"{from_link.value} was used.",
                "Check that this is the person's address.",
            )
            link_findings = [f for f in from_link.findings if f.code != "EMAIL_CHANGED"]
            return Parsed(from_link.value, (note, *link_findings))
    if parsed.value is None:
        return parsed
    if isinstance(cell.value, int | float | bool):
        return _fail(
            "EMAIL_INVALID",
            f"{quoted(parsed.value)} is a number, not an email address.",
            "Enter the person's email address.",
        )
    original = parsed.value
    text = strip_edges(unicodedata.normalize("NFKC", original))
    text, notes, problem = _unwrap_email(text)
    raw = cell.value if isinstance(cell.value, str) else original
    if strip_edges(raw) != raw.strip(" "):
        notes.insert(0, "removed invisible characters at the ends")
    if unicodedata.normalize("NFKC", original) != original:
        notes.append("converted full-width or compatibility characters")
    if problem is not None:
        return Parsed(None, (problem,))
    if any(_is_edge_junk(char) or unicodedata.category(char) == "Cc" for char in text):
        return _fail(
            "EMAIL_WHITESPACE",
            f"{quoted(text)} contains a space or an invisible character.",
            "Retype the address without spaces.",
        )
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        return _fail(
            "EMAIL_INVALID",
            f"{quoted(text)} is not a valid email address: {exc}",
            "Correct the address.",
        )
    address = result.normalized
    if len(address) > 254:
        return _fail(
            "TOO_LONG",
            f"The address has {len(address)} characters; at most 254 are allowed.",
            "Correct the address.",
        )

    if not notes:
        return Parsed(address)
    change = _warning(
        "EMAIL_CHANGED",
        f"{quoted(raw)} was read as {address} ({', '.join(notes)}).",
        "Check that this is the person's address.",
    )
    return Parsed(address, (change,))


# --- numbers ------------------------------------------------------------------------


def _text_to_int(text: str) -> Parsed[int]:
    digits = unicodedata.normalize("NFKC", text)
    if _DIGITS.fullmatch(digits):
        return Parsed(int(digits))
    integral = _INTEGRAL_DECIMAL.fullmatch(digits)
    if integral:
        return Parsed(int(integral.group(1)))
    if _SCIENTIFIC.fullmatch(digits):
        return _fail(
            "SCIENTIFIC_NOTATION",
            f"{quoted(text)} is a number in scientific notation, so its last digits "
            "are lost.",
            "Format the column as Text in Excel and retype the full number.",
        )
    if re.fullmatch(r"[+-]?[0-9]+[.,][0-9]+", digits):
        return _fail(
            "NOT_WHOLE_NUMBER",
            f"{quoted(text)} is not a whole number.",
            "Enter a whole number id; if this was a list such as '1,2', format the "
            "column as Text.",
        )
    return _fail(
        "NOT_AN_ID",
        f"{quoted(text)} is not a numeric id.",
        "Enter the id as digits only.",
    )


def parse_int(cell: Cell) -> Parsed[int]:
    """Read a whole-number id from a cell; blank (or a placeholder) gives None.

    Accepted: an integer, a float that is whole and below 2**53 with at most 15
    significant digits, digit text, and ``101.0`` as text. A fraction is an error and
    is never rounded; so are dates, booleans and scientific notation.
    """
    problem = _formula_finding(cell) or _date_finding(cell.value)
    if problem is not None:
        return Parsed(None, (problem,))
    value = cell.value
    if value is None:
        return Parsed(None)
    if isinstance(value, bool):
        return _fail(
            "NOT_AN_ID",
            f"{str(value).upper()} is a yes/no value, not a numeric id.",
            "Enter the id as digits only.",
        )
    if isinstance(value, int | float):
        return _whole_number(value)
    if not isinstance(value, str):
        return Parsed(None)
    text = clean_text(value)
    if not text or text.casefold() in PLACEHOLDERS:
        return Parsed(None)
    return _text_to_int(text)


def parse_phone(cell: Cell, *, max_length: int | None = None) -> Parsed[str]:
    """Normalise a phone number, keeping text exactly as typed.

    A numeric cell has lost any leading ``0`` or ``+``: it is written as its digits
    (or as the text Excel displays, when that shows the same digits) with a warning.
    """
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        problem = _formula_finding(cell)
        if problem is not None:
            return Parsed(None, (problem,))
        number = _whole_number(value)
        if number.value is None:
            return Parsed(None, number.findings)
        displayed = clean_text(cell.text)
        if re.sub(r"[^0-9]", "", displayed).lstrip("0") == str(abs(number.value)):
            text = displayed
        else:
            text = str(number.value)
        note = _warning(
            "PHONE_NUMERIC",
            f"The phone number {text} was stored as a number, so a leading 0 or + "
            "may be missing.",
            "Format the column as Text and retype the number if it is incomplete.",
        )
        return Parsed(text, (note,))
    parsed = parse_text(cell, max_length=max_length)
    typed = parsed.value
    if typed is not None and _SCIENTIFIC.fullmatch(
        unicodedata.normalize("NFKC", typed)
    ):
        return _fail(
            "SCIENTIFIC_NOTATION",
            f"{quoted(typed)} is a phone number in scientific notation, so its digits "
            "are lost.",
            "Format the column as Text in Excel and retype the full number.",
        )
    return parsed


# --- lists and booleans -------------------------------------------------------------


def split_list(cell: Cell) -> Parsed[list[str]]:
    """Split a list cell (``channelIds``) into tokens: ids as digits, or names.

    One grammar accepts every common way of writing a list: brackets and quotes are
    removed, and items are separated by runs of ``,`` ``;`` ``|``. Within an item,
    whitespace separates ids (``1 2``) but not words, so a name such as
    ``US Store`` stays one token. An item ``1.0`` becomes ``1``; ``1.2`` is an error.
    Each token appears once, at its first position. A blank cell gives None.
    """
    problem = _formula_finding(cell) or _date_finding(cell.value)
    if problem is not None:
        return Parsed(None, (problem,))
    value = cell.value
    if value is None:
        return Parsed(None)
    if isinstance(value, bool):
        return _fail(
            "LIST_INVALID",
            f"{str(value).upper()} is a yes/no value, not a list of ids.",
            "Enter ids or names separated by ';'.",
        )
    if isinstance(value, int | float):
        number = _whole_number(value)
        if number.value is None:
            return Parsed(None, number.findings)
        return Parsed([str(number.value)])
    if not isinstance(value, str):
        return Parsed(None)
    text = clean_text(value)
    problem = _check_decoding(text)
    if problem is not None:
        return Parsed(None, (problem,))
    text = re.sub(r"[\[\](){}" + _SMART_QUOTES + "]", " ", text)
    tokens: list[str] = []
    findings: list[Finding] = []
    for item in _LIST_SEPARATORS.split(text):
        for token in _list_item_tokens(item, findings):
            if token not in tokens:
                tokens.append(token)
    if findings:
        return Parsed(None, tuple(findings))
    if not tokens or all(token.casefold() in PLACEHOLDERS for token in tokens):
        return Parsed(None)
    return Parsed(tokens)


def _list_item_tokens(item: str, findings: list[Finding]) -> list[str]:
    words = [strip_edges(word) for word in _WHITESPACE_RUN.split(item)]
    words = [word for word in words if word]
    if not words:
        return []
    folded = [unicodedata.normalize("NFKC", word) for word in words]
    numeric = [
        _DIGITS.fullmatch(word) or re.fullmatch(r"[0-9]+\.[0-9]*", word)
        for word in folded
    ]
    if not all(numeric):
        # A name: inner whitespace is one space, as in the channel's name.
        return [" ".join(words)]
    tokens: list[str] = []
    for word in folded:
        parsed = _text_to_int(word)
        if parsed.value is None:
            findings.append(
                Finding(
                    "LIST_INVALID",
                    f"{quoted(word)} in the list is not a whole-number id.",
                    "Separate ids with ';' (for example 1;2) and format the column "
                    "as Text so Excel does not read '1,2' as a decimal.",
                )
            )
            continue
        tokens.append(str(parsed.value))
    return tokens


def parse_bool(cell: Cell) -> Parsed[bool]:
    """Read a yes/no value; blank (or a placeholder) gives None.

    Accepted: yes/no, y/n, true/false, 1/0, x, on/off, ja/nein, oui/non, si/no,
    wahr/falsch, vrai/faux, check marks, and Excel's TRUE/FALSE, in any case.
    """
    problem = _formula_finding(cell)
    if problem is not None:
        return Parsed(None, (problem,))
    value = cell.value
    if value is None:
        return Parsed(None)
    if isinstance(value, bool):
        return Parsed(value)
    if isinstance(value, int | float) and value in (0, 1):
        return Parsed(bool(value))
    text = clean_text(value if isinstance(value, str) else cell.text).casefold()
    if not text or text in PLACEHOLDERS:
        return Parsed(None)
    if text in _TRUE_WORDS:
        return Parsed(True)
    if text in _FALSE_WORDS:
        return Parsed(False)
    return _fail(
        "BOOL_INVALID",
        f"{quoted(cell.text or value)} is not yes or no.",
        "Enter yes or no.",
    )


_BUILTIN_ROLES = {"admin": 0, "senior buyer": 1, "junior buyer": 2}


def builtin_role(text: str) -> int | None:
    """Return 0, 1 or 2 for a built-in role given by number or name, else None.

    Names match in any case, with spaces, underscores or hyphens between the words:
    ``Senior Buyer``, ``senior_buyer`` and ``SENIOR-BUYER`` all give 1.
    """
    folded = unicodedata.normalize("NFKC", clean_text(text)).casefold()
    if folded in ("0", "1", "2"):
        return int(folded)
    words = re.split(r"[\s_-]+", folded)
    return _BUILTIN_ROLES.get(" ".join(word for word in words if word))
