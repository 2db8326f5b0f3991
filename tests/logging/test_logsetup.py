"""configure_logging: renderers, levels, the job log file and secret redaction."""

from __future__ import annotations

import io
import json
import logging
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import structlog

from provisioner.logsetup import REDACTED, configure_logging, mask_email

# Recognisable, and shaped like a real token: letters, digits, one dash.
TOKEN = "tok-SECRET-7c1d9e2f4a6b8c0d"


class TerminalStream(io.StringIO):
    """A text stream whose ``isatty`` returns True, like stderr in a shell."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers = list(root.handlers)
    level = root.level
    quiet_levels = {
        name: logging.getLogger(name).level for name in ("httpx", "httpcore")
    }
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, quiet_level in quiet_levels.items():
        logging.getLogger(name).setLevel(quiet_level)
    structlog.reset_defaults()


def strip_colours(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def raise_with_token_in_local() -> None:
    token = TOKEN  # a local that a traceback with locals would print
    raise RuntimeError(f"request rejected for {token[:0]}the store")


def raise_with_token_in_message() -> None:
    raise ValueError(f"bad header X-Auth-Token: {TOKEN}")


class Leaky:
    """An object whose repr shows the token, as a careless request class might."""

    def __repr__(self) -> str:
        return f"Leaky(token={TOKEN!r})"


def log_everything(log: structlog.stdlib.BoundLogger) -> None:
    """Log the token in every place a careless caller could put it."""
    log.debug("token_in_field", note=f"using {TOKEN}")
    log.info(
        "token_in_nested", request={"headers": {"X-Auth-Token": TOKEN}, "list": [TOKEN]}
    )
    log.info("token_in_url", url=f"https://api.example.invalid/?t={TOKEN}")
    log.info("token_in_object", request=Leaky())
    log.info(
        "token_under_key", token="not the configured value", Authorization="Bearer x"
    )
    try:
        raise_with_token_in_message()
    except ValueError:
        log.exception("request_failed")
    try:
        try:
            raise_with_token_in_message()
        except ValueError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError:
        log.exception("chained_failure")
    try:
        raise_with_token_in_local()
    except RuntimeError:
        log.error("local_failure", exc_info=True)
    logging.getLogger("some.library").warning("library says %s", TOKEN)


def test_json_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    structlog.get_logger("provisioner.test").info("row_created", row=17, user_id=42)
    [line] = json_lines(stream.getvalue())
    assert line["event"] == "row_created"
    assert line["row"] == 17
    assert line["user_id"] == 42
    assert line["level"] == "info"
    assert "timestamp" in line


def test_console_on_a_terminal() -> None:
    stream = TerminalStream()
    configure_logging(stream=stream)
    structlog.get_logger("provisioner.test").info("row_created", row=17)
    output = strip_colours(stream.getvalue())
    assert "row_created" in output
    assert "row=17" in output
    with pytest.raises(json.JSONDecodeError):
        json.loads(output.splitlines()[0])


def test_force_json_on_a_terminal() -> None:
    stream = TerminalStream()
    configure_logging(stream=stream, force_json=True)
    structlog.get_logger().info("run_started")
    assert json_lines(stream.getvalue())[0]["event"] == "run_started"


def test_force_console_off_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, force_json=False)
    structlog.get_logger().info("run_started", job="j-1")
    output = stream.getvalue()
    assert "run_started" in output
    assert "job=j-1" in output
    assert not output.lstrip().startswith("{")


def test_level_filters_events() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, level="warning")
    log = structlog.get_logger()
    log.info("hidden_event")
    log.warning("shown_event")
    assert [line["event"] for line in json_lines(stream.getvalue())] == ["shown_event"]


def test_invalid_level_rejected() -> None:
    with pytest.raises(ValueError, match="Invalid log level 'loud'"):
        configure_logging(level="loud", stream=io.StringIO())


def test_http_loggers_at_warning() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, level="debug")
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING
    logging.getLogger("httpx").info("HTTP Request: POST https://example.invalid")
    logging.getLogger("httpx").warning("connection reset")
    events = [line["event"] for line in json_lines(stream.getvalue())]
    assert events == ["connection reset"]


def test_json_file_is_owner_only(tmp_path: Path) -> None:
    log_path = tmp_path / "job.log"
    configure_logging(stream=io.StringIO(), json_file=log_path)
    structlog.get_logger().info("run_started", job="j-1")
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600
    [line] = json_lines(log_path.read_text(encoding="utf-8"))
    assert line["event"] == "run_started"


def test_json_file_even_on_a_terminal(tmp_path: Path) -> None:
    log_path = tmp_path / "job.log"
    configure_logging(stream=TerminalStream(), json_file=log_path)
    structlog.get_logger().info("run_started")
    assert json_lines(log_path.read_text(encoding="utf-8"))[0]["event"] == "run_started"


def test_json_file_appends_across_runs(tmp_path: Path) -> None:
    log_path = tmp_path / "job.log"
    configure_logging(stream=io.StringIO(), json_file=log_path)
    structlog.get_logger().info("first_run")
    configure_logging(stream=io.StringIO(), json_file=log_path)
    structlog.get_logger().info("second_run")
    events = [
        line["event"] for line in json_lines(log_path.read_text(encoding="utf-8"))
    ]
    assert events == ["first_run", "second_run"]


def test_reconfigure_replaces_outputs() -> None:
    first = io.StringIO()
    second = io.StringIO()
    configure_logging(stream=first)
    structlog.get_logger().info("to_first")
    configure_logging(stream=second)
    structlog.get_logger().info("to_second")
    assert [line["event"] for line in json_lines(first.getvalue())] == ["to_first"]
    assert [line["event"] for line in json_lines(second.getvalue())] == ["to_second"]


def test_logger_made_before_configure_follows_it() -> None:
    log = structlog.get_logger("provisioner.early")
    configure_logging(stream=io.StringIO())
    stream = io.StringIO()
    configure_logging(stream=stream, secrets=[TOKEN])
    log.info("late_event", value=TOKEN)
    [line] = json_lines(stream.getvalue())
    assert line["value"] == REDACTED


@pytest.mark.parametrize("terminal", [False, True], ids=["json", "console"])
def test_token_never_in_stream(terminal: bool) -> None:
    stream = TerminalStream() if terminal else io.StringIO()
    configure_logging(stream=stream, level="debug", secrets=[TOKEN])
    log_everything(structlog.get_logger("provisioner.test"))
    output = stream.getvalue()
    assert "request_failed" in output
    assert "local_failure" in output
    assert TOKEN not in output
    assert "SECRET-7c1d" not in output
    assert REDACTED in output


def test_token_never_in_file(tmp_path: Path) -> None:
    log_path = tmp_path / "job.log"
    configure_logging(
        stream=io.StringIO(), json_file=log_path, level="debug", secrets=[TOKEN]
    )
    log_everything(structlog.get_logger("provisioner.test"))
    text = log_path.read_text(encoding="utf-8")
    assert "chained_failure" in text
    assert TOKEN not in text
    assert "SECRET-7c1d" not in text


def test_redaction_keeps_structure() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, secrets=[TOKEN])
    structlog.get_logger().info(
        "request_sent",
        request={"headers": {"X-Auth-Token": TOKEN, "Accept": "application/json"}},
        url=f"https://api.example.invalid/?t={TOKEN}",
        token="other value",
    )
    [line] = json_lines(stream.getvalue())
    assert line["request"] == {
        "headers": {"X-Auth-Token": REDACTED, "Accept": "application/json"}
    }
    assert line["url"] == f"https://api.example.invalid/?t={REDACTED}"
    assert line["token"] == REDACTED


def test_exception_message_redacted_in_json() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, secrets=[TOKEN])
    try:
        raise_with_token_in_message()
    except ValueError:
        structlog.get_logger().exception("request_failed")
    [line] = json_lines(stream.getvalue())
    [exception] = line["exception"]
    assert exception["exc_type"] == "ValueError"
    assert exception["exc_value"] == f"bad header X-Auth-Token: {REDACTED}"


def test_json_traceback_without_locals() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        raise_with_token_in_local()
    except RuntimeError:
        structlog.get_logger().exception("local_failure")
    [line] = json_lines(stream.getvalue())
    [exception] = line["exception"]
    frames = exception["frames"]
    assert frames[-1]["name"] == "raise_with_token_in_local"
    assert all("locals" not in frame for frame in frames)
    # No secret is configured here: only the missing locals keep the token out.
    assert TOKEN not in stream.getvalue()


def test_console_traceback_without_locals() -> None:
    stream = TerminalStream()
    configure_logging(stream=stream)
    try:
        raise_with_token_in_local()
    except RuntimeError:
        structlog.get_logger().exception("local_failure")
    output = strip_colours(stream.getvalue())
    assert "in raise_with_token_in_local" in output
    assert "RuntimeError: request rejected for the store" in output
    assert TOKEN not in output


def test_token_with_json_special_characters() -> None:
    token = 'abc"def\\ghi'
    stream = io.StringIO()
    configure_logging(stream=stream, secrets=[token])
    structlog.get_logger().info("odd_token", request=Leaky(), raw=token)
    output = stream.getvalue()
    assert json.dumps(token)[1:-1] not in output
    assert json_lines(output)[0]["raw"] == REDACTED


def test_percent_encoded_token_redacted() -> None:
    token = "tok/with+chars="
    stream = io.StringIO()
    configure_logging(stream=stream, secrets=[token])
    structlog.get_logger().info(
        "url_logged", url="https://x.invalid/?t=tok%2Fwith%2Bchars%3D"
    )
    assert "tok%2Fwith%2Bchars%3D" not in stream.getvalue()


def test_empty_secret_ignored() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, secrets=[""])
    structlog.get_logger().info("row_created", row=1)
    assert json_lines(stream.getvalue())[0]["event"] == "row_created"


class Credentials(NamedTuple):
    user: str
    token: str


def test_namedtuple_redacted() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, secrets=[TOKEN])
    structlog.get_logger().info(
        "credentials_loaded", credentials=Credentials("ann", TOKEN)
    )
    [line] = json_lines(stream.getvalue())
    assert line["credentials"] == ["ann", REDACTED]


def test_self_referencing_dict_logged() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, secrets=[TOKEN])
    looped: dict[str, object] = {"token_copy": TOKEN}
    looped["self"] = looped
    structlog.get_logger().info("looped_value", value=looped)
    output = stream.getvalue()
    assert json_lines(output)[0]["event"] == "looped_value"
    assert TOKEN not in output


def test_default_stream_is_current_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(secrets=[TOKEN])
    structlog.get_logger().info("to_stderr", value=TOKEN)
    captured = capsys.readouterr()
    assert json_lines(captured.err)[0]["event"] == "to_stderr"
    assert TOKEN not in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("ann.lee@x.com", "a***@x.com"),
        ("B@example.com", "B***@example.com"),
        ("@example.com", "***@example.com"),
        ('"a@b"@example.com', '"***@example.com'),
        ("not an email", "***"),
        ("", "***"),
    ],
)
def test_mask_email(email: str, masked: str) -> None:
    assert mask_email(email) == masked
