"""Turn the API's rejection of a create into a stable code and advice for sales ops.

A 422 from ``POST /users`` or ``POST /users/bulk`` carries ``errMsg`` as either a
string ("Email already exists. ['a@example.com']") or an object that maps a field
name to a list of messages, Django REST Framework style. A failed bulk create may
also list per-item errors. ``explain_rejection`` reduces any of these to one
``Rejection``: a code scripts can count (``EMAIL_TAKEN``), the API's own words, and
what a person should do about it. Anything not recognised becomes ``API_REJECTED``
and quotes the API's message, so no information is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from provisioner.errors import RejectedError

EMAIL_TAKEN = "EMAIL_TAKEN"
EMAIL_INVALID = "EMAIL_INVALID"
ROLE_INVALID = "ROLE_INVALID"
COMPANY_NOT_FOUND = "COMPANY_NOT_FOUND"
COMPANY_NOT_APPROVED = "COMPANY_NOT_APPROVED"
CHANNEL_INVALID = "CHANNEL_INVALID"
EXTRA_FIELD_REQUIRED = "EXTRA_FIELD_REQUIRED"
EXTRA_FIELD_INVALID = "EXTRA_FIELD_INVALID"
FIELD_TOO_LONG = "FIELD_TOO_LONG"
FIELD_REQUIRED = "FIELD_REQUIRED"
API_REJECTED = "API_REJECTED"

# The fix for each code. A message names the value, and its fix names the next step.
FIXES: dict[str, str] = {
    EMAIL_TAKEN: (
        "Each email can belong to only one user in the store: remove the row, or "
        "use another email address."
    ),
    EMAIL_INVALID: "Correct the email address in the email column.",
    ROLE_INVALID: (
        "Use Admin, Senior Buyer, Junior Buyer, or the exact name of a role that "
        "exists in B2B Edition."
    ),
    COMPANY_NOT_FOUND: (
        "Check the Company id, name or external id against B2B Edition > Companies."
    ),
    COMPANY_NOT_APPROVED: (
        "Approve the Company in B2B Edition > Companies, or move the user to an "
        "approved Company, then run again."
    ),
    CHANNEL_INVALID: (
        "Give at least one storefront channel that has B2B Edition enabled "
        "(Settings > Channels)."
    ),
    EXTRA_FIELD_REQUIRED: (
        "Add a column for the required user extra field and fill it on every row."
    ),
    EXTRA_FIELD_INVALID: (
        "Use a value the user extra field accepts (its list of values, its type "
        "and its maximum length), or leave the column out."
    ),
    FIELD_TOO_LONG: "Shorten the value to the maximum length the message names.",
    FIELD_REQUIRED: "Fill in the missing value and run again.",
    API_REJECTED: (
        "Correct the row as the API's message asks and run again; if the message "
        "is unclear, ask the B2B Edition administrator."
    ),
}

_TAKEN = re.compile(r"already exists|is existed", re.I)
_MISSING = re.compile(r"may not be (null|blank)|is required|required field", re.I)
_TOO_LONG = re.compile(r"no more than \d+ characters|too long", re.I)
_NOT_APPROVED = re.compile(r"not approved|pending|inactive|rejected", re.I)

# Message patterns for a message that names no field (a string ``errMsg``,
# ``non_field_errors`` or a bulk item's error), tried in order.
_MESSAGE_CODES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_TAKEN, EMAIL_TAKEN),
    (re.compile(r"compan(y|ies)\b.*\bnot approved", re.I), COMPANY_NOT_APPROVED),
    (re.compile(r"compan(y|ies)\b.*\b(not exist|not found)", re.I), COMPANY_NOT_FOUND),
    (re.compile(r"storefront|channel", re.I), CHANNEL_INVALID),
    (re.compile(r"extra field.*\brequired", re.I), EXTRA_FIELD_REQUIRED),
    (re.compile(r"extra field", re.I), EXTRA_FIELD_INVALID),
    (re.compile(r"\brole\b", re.I), ROLE_INVALID),
    (re.compile(r"email", re.I), EMAIL_INVALID),
    (_TOO_LONG, FIELD_TOO_LONG),
    (_MISSING, FIELD_REQUIRED),
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the API rejected one row: a stable code, the API's words, and the fix."""

    code: str
    message: str
    fix: str

    def render(self) -> str:
        """Return the message and the fix as one line for the results workbook."""
        return f"{self.message} {self.fix}".strip()


def explain_rejection(error: RejectedError) -> Rejection:
    """Map a rejected create (single, or a whole bulk batch) to a ``Rejection``.

    With an ``errMsg`` object the most specific field decides the code, and the
    message quotes every field's messages so no part of the API's message is dropped.
    """
    if error.field_errors:
        return _explain_field_errors(error.field_errors)
    return explain_message(str(error))


def explain_message(text: str, *, field: str | None = None) -> Rejection:
    """Map one message (a string ``errMsg`` or a bulk item's error) to a code."""
    message = _clean(text)
    code = _code_for(message, field)
    if code == API_REJECTED:
        sentence = f'The API rejected the row: "{message}".'
    elif field:
        sentence = f"The API rejected {field}: {message}"
    else:
        sentence = f"The API rejected the row: {message}"
    return Rejection(code=code, message=_end_sentence(sentence), fix=FIXES[code])


def email_taken(company_id: int | None, company_name: str | None = None) -> Rejection:
    """Return the rejection for an email that a user of another Company already has.

    ``company_id`` is that Company's id, or None when the API did not name it; the
    name is added when known.
    """
    if company_id is None:
        where = "another Company"
    elif company_name:
        where = f'Company "{company_name}" (id {company_id})'
    else:
        where = f"Company {company_id}"
    return Rejection(
        code=EMAIL_TAKEN,
        message=f"The email already belongs to a user of {where}.",
        fix=FIXES[EMAIL_TAKEN],
    )


def is_email_taken(error: RejectedError) -> bool:
    """Tell whether a rejection reports the email as used by a B2B user already."""
    return explain_rejection(error).code == EMAIL_TAKEN


def _explain_field_errors(field_errors: dict[str, list[str]]) -> Rejection:
    parts: list[str] = []
    codes: list[str] = []
    for field, messages in field_errors.items():
        for text in messages:
            message = _clean(text)
            sentence = message if field == "non_field_errors" else f"{field}: {message}"
            parts.append(_end_sentence(sentence))
            codes.append(_code_for(message, field))
    specific = [code for code in codes if code != API_REJECTED]
    code = specific[0] if specific else API_REJECTED
    message = "The API rejected the row: " + " ".join(parts)
    return Rejection(code=code, message=message, fix=FIXES[code])


def _code_for(message: str, field: str | None) -> str:
    """Return the code of one message; a known field decides its family first.

    Deciding by field keeps a value quoted in the message (an extra field named
    "Role", say) from choosing the code.
    """
    name = (field or "").split(".")[0]
    if name == "email":
        if _TAKEN.search(message):
            return EMAIL_TAKEN
        return FIELD_REQUIRED if _MISSING.search(message) else EMAIL_INVALID
    if name == "companyId":
        if _MISSING.search(message):
            return FIELD_REQUIRED
        return (
            COMPANY_NOT_APPROVED if _NOT_APPROVED.search(message) else COMPANY_NOT_FOUND
        )
    if name in ("role", "companyRoleId"):
        return ROLE_INVALID
    if name in ("channelIds", "originChannelId"):
        return CHANNEL_INVALID
    if name == "extraFields":
        if re.search(r"\brequired\b", message, re.I):
            return EXTRA_FIELD_REQUIRED
        return EXTRA_FIELD_INVALID
    if name in ("", "non_field_errors"):
        for pattern, code in _MESSAGE_CODES:
            if pattern.search(message):
                return code
        return API_REJECTED
    if _TOO_LONG.search(message):
        return FIELD_TOO_LONG
    if _MISSING.search(message):
        return FIELD_REQUIRED
    return API_REJECTED


def _clean(text: str) -> str:
    return " ".join(text.split())


def _end_sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", '"')) else text + "."
