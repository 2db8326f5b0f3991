"""Mapping the API's 422 messages to codes, messages and fixes for sales ops."""

from __future__ import annotations

import pytest

from provisioner.errors import RejectedError
from provisioner.rejections import (
    API_REJECTED,
    CHANNEL_INVALID,
    COMPANY_NOT_APPROVED,
    COMPANY_NOT_FOUND,
    EMAIL_INVALID,
    EMAIL_TAKEN,
    EXTRA_FIELD_INVALID,
    EXTRA_FIELD_REQUIRED,
    FIELD_REQUIRED,
    FIELD_TOO_LONG,
    FIXES,
    ROLE_INVALID,
    email_taken,
    explain_message,
    explain_rejection,
    is_email_taken,
)


def field_error(field: str, *messages: str) -> RejectedError:
    text = "; ".join(f"{field}: {message}" for message in messages)
    return RejectedError(text, status=422, field_errors={field: list(messages)})


FIELD_CASES = [
    ("email", "Email is not correct.", EMAIL_INVALID),
    ("email", "This field may not be null.", FIELD_REQUIRED),
    ("firstName", "This field may not be null.", FIELD_REQUIRED),
    ("lastName", "Ensure this field has no more than 150 characters.", FIELD_TOO_LONG),
    ("role", '"5" is not a valid choice', ROLE_INVALID),
    ("companyRoleId", "Role 99 does not exist.", ROLE_INVALID),
    ("non_field_errors", "User must have a role.", ROLE_INVALID),
    ("companyId", "Company 999 does not exist.", COMPANY_NOT_FOUND),
    (
        "companyId",
        "Company 107 is not approved (its status is pending); users can only be "
        "added to an approved Company.",
        COMPANY_NOT_APPROVED,
    ),
    (
        "channelIds",
        "Channel 3 (Retail Pop-up) is not enabled for B2B Edition.",
        CHANNEL_INVALID,
    ),
    ("originChannelId", "Channel 9 does not exist.", CHANNEL_INVALID),
    ("extraFields", 'Extra field "Cost Centre" is required.', EXTRA_FIELD_REQUIRED),
    (
        "extraFields",
        'Extra field "Region": "Mars" is not one of EMEA, AMER, APAC.',
        EXTRA_FIELD_INVALID,
    ),
    (
        "extraFields",
        'Extra field "Role Notes": the value "x" is already used.',
        EXTRA_FIELD_INVALID,
    ),
    ("uuid", "Something unusual happened.", API_REJECTED),
]


@pytest.mark.parametrize(("field", "message", "code"), FIELD_CASES)
def test_field_error_code(field: str, message: str, code: str) -> None:
    rejection = explain_rejection(field_error(field, message))

    assert rejection.code == code
    assert message.rstrip(".") in rejection.message
    assert rejection.fix == FIXES[code]


STRING_CASES = [
    ("Email already exists. ['ann@example.com']", EMAIL_TAKEN),
    ("email is existed", EMAIL_TAKEN),
    (
        "At least one B2B storefront needs to be enabled for a Company user.",
        CHANNEL_INVALID,
    ),
    ("role is non-existent", ROLE_INVALID),
    ("The server had a bad day", API_REJECTED),
]


@pytest.mark.parametrize(("message", "code"), STRING_CASES)
def test_string_error_code(message: str, code: str) -> None:
    rejection = explain_rejection(RejectedError(message, status=422))

    assert rejection.code == code


def test_fallback_quotes_api_message() -> None:
    rejection = explain_message("The server had a bad day")

    assert rejection.code == API_REJECTED
    assert '"The server had a bad day"' in rejection.message
    assert rejection.render().endswith(FIXES[API_REJECTED])


def test_every_field_message_kept() -> None:
    error = RejectedError(
        'firstName: This field may not be null.; role: "5" is not a valid choice',
        status=422,
        field_errors={
            "firstName": ["This field may not be null."],
            "role": ['"5" is not a valid choice'],
        },
    )

    rejection = explain_rejection(error)

    assert rejection.code == FIELD_REQUIRED
    assert "firstName: This field may not be null." in rejection.message
    assert 'role: "5" is not a valid choice' in rejection.message


def test_email_taken_names_company() -> None:
    rejection = email_taken(102, "Globex Supply")

    assert rejection.code == EMAIL_TAKEN
    assert 'Company "Globex Supply" (id 102)' in rejection.message


def test_email_taken_without_name() -> None:
    assert "Company 102." in email_taken(102).message
    assert "another Company" in email_taken(None).message


def test_is_email_taken() -> None:
    assert is_email_taken(RejectedError("Email already exists. ['a@b.co']", status=422))
    assert not is_email_taken(field_error("email", "Email is not correct."))
