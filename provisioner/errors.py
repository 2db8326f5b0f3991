"""The error tree, grouped by what the caller does next.

    ProvisionerError
    ├── StopBeforeSending      the run stops before any request; exit code 2
    │   ├── ConfigError        the configuration file or environment is wrong
    │   └── InputFileError     the sheet cannot be read (format, encoding, size)
    ├── JobLockedError         another process works on the same job or inbox; exit 5
    └── ApiError               something went wrong talking to the B2B API
        ├── AuthError          401 or 403: dispatch stops, rows stay pending; exit 3
        ├── TransientApiError  5xx, network or rate limit after the retries; exit 3
        ├── OutcomeUnknownError  a create may or may not have happened
        └── RejectedError      4xx about the request itself: recorded on the row

A row's own data problems are not exceptions: they are ``RowIssue`` values collected
by the validator, so every problem of a row is reported at once.
"""

from __future__ import annotations

from typing import Any


class ProvisionerError(Exception):
    """Root of every error the provisioner raises on purpose."""


class StopBeforeSending(ProvisionerError):
    """A problem found before anything was sent; the run ends with exit code 2."""


class ConfigError(StopBeforeSending):
    """The configuration file, an option or an environment variable is invalid."""


class InputFileError(StopBeforeSending):
    """The input file cannot be read as a sheet of users."""


class JobLockedError(ProvisionerError):
    """Another provisioner process holds the lock on this job or inbox."""


class ApiError(ProvisionerError):
    """A failed exchange with the B2B API.

    ``status`` is the HTTP status when there was a response, else None.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(ApiError):
    """The API rejected the credentials (401) or their scope (403)."""


class TransientApiError(ApiError):
    """A failure that may pass: 5xx, a network error or rate limiting, after retries."""


class OutcomeUnknownError(ApiError):
    """The request was sent but no usable response came back; the user may exist."""


class RejectedError(ApiError):
    """The API rejected the request itself (422 and other 4xx); retrying cannot help.

    ``field_errors`` maps a field name to its messages when ``errMsg`` was an object;
    ``message`` is the flattened text for a person.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        field_errors: dict[str, list[str]] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, status=status)
        self.field_errors = field_errors or {}
        self.body = body
