"""Structured logging: structlog on top of the standard ``logging`` handlers.

Every module logs with ``structlog.get_logger(__name__)`` and constant snake_case
event names plus key-value fields (``log.info("row_created", row=17, user_id=42)``).
``configure_logging`` routes those events, and the records of libraries that use
``logging`` directly, to two outputs:

* ``stream`` (stderr): a console renderer for a person when the stream is a
  terminal, JSON lines otherwise (cron, pipes, CI);
* ``json_file``, when given: JSON lines, the job's log, created with mode 0600.

Before anything is rendered, every configured secret value is replaced by
``[secure]`` anywhere in the event, and the values of keys such as ``token`` or
``authorization`` are masked whatever they contain. The rendered line is scrubbed
once more, which catches a secret inside the repr of an object. Tracebacks never
show local variables, because a local may hold the token.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from provisioner.safety import open_owner_only

#: Replacement text for a redacted value, the same text that ``Secret`` shows.
REDACTED = "[secure]"

#: Keys whose values are masked whatever they contain, compared in lower case with
#: ``_`` read as ``-``.
SENSITIVE_KEYS = frozenset(
    {
        "token",
        "auth-token",
        "api-token",
        "access-token",
        "x-auth-token",
        "authorization",
        "proxy-authorization",
        "password",
        "secret",
        "cookie",
        "set-cookie",
    }
)

#: Nesting depth up to which the redactor walks containers. Deeper values are
#: rendered with repr and scrubbed as text.
MAX_REDACTION_DEPTH = 20

#: Loggers of the HTTP stack: at INFO they log one line per request, which is
#: noise next to our own request events.
QUIET_LOGGERS = ("httpx", "httpcore")

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}

# The default of configure_logging's ``stream``, bound at import. A call that
# leaves ``stream`` out gets the sys.stderr of that moment instead, which a test
# runner or click's CliRunner may have replaced.
_IMPORT_TIME_STDERR = sys.stderr

# Handlers this module added to the root logger, so a second call replaces them
# without touching handlers that others installed (pytest's, for example).
_installed_handlers: list[logging.Handler] = []


def configure_logging(
    *,
    level: str = "info",
    json_file: Path | None = None,
    stream: TextIO = sys.stderr,
    force_json: bool | None = None,
    secrets: Sequence[str] = (),
    personal_data: bool = False,
    stream_level: str | None = None,
) -> None:
    """Configure structlog and the root logger, replacing any earlier setup.

    ``level`` is debug, info, warning, error or critical. ``force_json`` True
    writes JSON lines to ``stream`` even on a terminal, False always uses the
    console renderer, and None decides by ``stream.isatty()``. ``secrets`` are
    values such as the API token. Each is replaced by ``[secure]`` wherever it
    appears as plain, JSON-escaped or percent-encoded text, and empty strings are
    ignored. Unless ``personal_data`` is true, every email address in a log line
    is masked with ``mask_email``. ``stream_level`` raises the level of ``stream``
    alone, so a terminal shows warnings under a progress bar while ``json_file``
    keeps every event. Raises ValueError for an unknown level and
    OSError when ``json_file`` cannot be opened.
    """
    numeric_level = LEVELS.get(level.lower())
    if numeric_level is None:
        raise ValueError(
            f"Invalid log level {level!r}. Use one of {', '.join(LEVELS)}."
        )
    redactor = SecretRedactor(secrets, mask_emails=not personal_data)
    if stream is _IMPORT_TIME_STDERR:
        stream = sys.stderr

    use_json = _is_json_stream(stream) if force_json is None else force_json
    handlers: list[logging.Handler] = []
    stream_handler = logging.StreamHandler(stream)
    if stream_level is not None:
        stream_handler.setLevel(max(numeric_level, LEVELS[stream_level.lower()]))
    stream_handler.setFormatter(
        _json_formatter(redactor) if use_json else _console_formatter(redactor, stream)
    )
    handlers.append(stream_handler)
    if json_file is not None:
        file_handler = OwnerOnlyFileHandler(json_file)
        file_handler.setFormatter(_json_formatter(redactor))
        handlers.append(file_handler)

    root = logging.getLogger()
    _remove_installed_handlers(root)
    for handler in handlers:
        root.addHandler(handler)
        _installed_handlers.append(handler)
    root.setLevel(numeric_level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.contextvars.merge_contextvars,
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Loggers must pick up a later configure_logging call (a new token, a new
        # job log), so they are not cached.
        cache_logger_on_first_use=False,
    )


def mask_email(email: str) -> str:
    """Mask an email address for logs: ``ann.lee@x.com`` becomes ``a***@x.com``.

    Text without an ``@`` is masked entirely.
    """
    local, at, domain = email.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


class SecretRedactor:
    """A structlog processor that removes secret values from an event dict.

    Strings anywhere in the event (nested in dicts, lists, tuples and sets) have
    each secret replaced by ``[secure]``. Values under a key in ``SENSITIVE_KEYS``
    are replaced entirely. ``scrub_text`` does the same for a rendered line.
    """

    def __init__(self, secrets: Iterable[str], *, mask_emails: bool = False) -> None:
        self._mask_emails = mask_emails
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms.update(_encoded_forms(secret))
        # Sorted by decreasing length, so a secret that contains another is
        # replaced whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(
        self, logger: WrappedLogger, method_name: str, event_dict: EventDict
    ) -> EventDict:
        return {key: self._redact_item(key, value) for key, value in event_dict.items()}

    def scrub_text(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        if self._mask_emails and "@" in text:
            text = _EMAIL_IN_TEXT.sub(lambda match: mask_email(match.group(0)), text)
        return text

    def _redact_item(self, key: object, value: Any, depth: int = 0) -> Any:
        if isinstance(key, str) and _is_sensitive_key(key) and value is not None:
            return REDACTED
        return self._redact(value, depth)

    def _redact(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return self.scrub_text(value)
        if depth >= MAX_REDACTION_DEPTH:
            # repr shows a container that contains itself as {...} or [...], so a
            # cycle ends here instead of recursing forever.
            return self.scrub_text(repr(value))
        if isinstance(value, Mapping):
            return {
                self._redact(key, depth + 1): self._redact_item(key, item, depth + 1)
                for key, item in value.items()
            }
        # Containers are rebuilt as their base type: a namedtuple's constructor
        # does not take a single iterable.
        if isinstance(value, list):
            return [self._redact(item, depth + 1) for item in value]
        if isinstance(value, tuple):
            return tuple(self._redact(item, depth + 1) for item in value)
        if isinstance(value, frozenset):
            return frozenset(self._redact(item, depth + 1) for item in value)
        if isinstance(value, set):
            return {self._redact(item, depth + 1) for item in value}
        return value


class OwnerOnlyFileHandler(logging.FileHandler):
    """A ``logging.FileHandler`` that appends to a file created with mode 0600."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, mode="a", encoding="utf-8")

    def _open(self) -> TextIO:  # type: ignore[override]
        return open_owner_only(Path(self.baseFilename), encoding="utf-8")


class _ScrubbingRenderer:
    """Wraps a renderer and scrubs secrets from the text it returns."""

    def __init__(
        self, renderer: Callable[..., str | bytes], redactor: SecretRedactor
    ) -> None:
        self._renderer = renderer
        self._redactor = redactor

    def __call__(
        self, logger: WrappedLogger, method_name: str, event_dict: EventDict
    ) -> str:
        rendered = self._renderer(logger, method_name, event_dict)
        if isinstance(rendered, bytes):
            rendered = rendered.decode("utf-8", errors="replace")
        return self._redactor.scrub_text(rendered)


# Anything shaped like an address inside free text: masking needs no validation,
# only a reliable match of what a reader would recognise as an email.
_EMAIL_IN_TEXT = re.compile(
    r"[^\s@'\"<>,;:()\[\]{}]+@[^\s@'\"<>,;:()\[\]{}]+\.[^\s@'\"<>,;:()\[\]{}]+"
)


def _encoded_forms(secret: str) -> set[str]:
    # The secret as written, inside a JSON string, and percent-encoded in a URL.
    return {secret, _dumps_json(secret)[1:-1], quote(secret, safe="")}


def _dumps_json(value: Any, **kwargs: Any) -> str:
    return json.dumps(value, ensure_ascii=False, **kwargs)


def _is_sensitive_key(key: str) -> bool:
    return key.lower().replace("_", "-") in SENSITIVE_KEYS


def _is_json_stream(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return not (callable(isatty) and isatty())
    except ValueError:  # a closed stream
        return True


def _shared_processors() -> list[Processor]:
    """Processors for structlog events and plain ``logging`` records alike."""
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _json_formatter(redactor: SecretRedactor) -> structlog.stdlib.ProcessorFormatter:
    render_traceback = structlog.processors.ExceptionRenderer(
        structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
    )
    renderer = structlog.processors.JSONRenderer(serializer=_dumps_json)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            render_traceback,
            redactor,
            _ScrubbingRenderer(renderer, redactor),
        ],
    )


def _console_formatter(
    redactor: SecretRedactor, stream: TextIO
) -> structlog.stdlib.ProcessorFormatter:
    # The traceback is rendered to plain text before redaction, instead of letting
    # the console renderer draw a Rich traceback afterwards. So the redactor
    # scrubs the exception message, and local variables are never shown.
    renderer = structlog.dev.ConsoleRenderer(
        colors=not _is_json_stream(stream) and _colors_allowed(),
        exception_formatter=structlog.dev.plain_traceback,
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redactor,
            _ScrubbingRenderer(renderer, redactor),
        ],
    )


def _colors_allowed() -> bool:
    return "NO_COLOR" not in os.environ


def _remove_installed_handlers(root: logging.Logger) -> None:
    # Closing a StreamHandler leaves the caller's stream open, while closing the
    # OwnerOnlyFileHandler closes the job log file.
    while _installed_handlers:
        handler = _installed_handlers.pop()
        root.removeHandler(handler)
        handler.close()
