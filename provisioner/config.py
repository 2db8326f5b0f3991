"""Settings: a TOML file, then environment overrides, then one validation pass.

Every problem in the file is collected and reported together in one ``ConfigError``.
The API token never comes from the file itself: it is read from the environment
variable ``PROVISIONER_AUTH_TOKEN`` or from a file named by ``api.token_file`` whose
permissions allow only its owner to read it.
"""

from __future__ import annotations

import ipaddress
import os
import stat
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from provisioner.errors import ConfigError
from provisioner.fields import FIELDS_BY_NAME

TOKEN_ENV = "PROVISIONER_AUTH_TOKEN"  # noqa: S105 (a variable name, not a secret)
DEFAULT_BASE_URL = "https://api-b2b.bigcommerce.com/api/v3/io"
STORE_LIMIT_PER_MINUTE = 150
DEFAULT_SHARE = 0.8
DEFAULT_MAX_CONCURRENCY = 4
DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_READ_TIMEOUT_SECONDS = 60.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_RATE_WAIT_SECONDS = 600.0
BULK_MAX_USERS = 10


class Secret:
    """A string that never shows itself in a repr, str, log or traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('[secure]')"

    def __str__(self) -> str:
        return "[secure]"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True, slots=True)
class ApiSettings:
    base_url: str = DEFAULT_BASE_URL
    store_hash: str = ""
    token_file: Path | None = None
    verify_tls: bool = True
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS
    user_agent: str = "provisioner/0.1 (+B2B Edition user import)"


@dataclass(frozen=True, slots=True)
class RateSettings:
    store_limit_per_minute: int = STORE_LIMIT_PER_MINUTE
    share: float = DEFAULT_SHARE
    """Fraction of the store's limit this tool may use; other integrations share it."""
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    """Sends per row or request before a transient failure is recorded as ``failed``."""
    max_rate_wait_seconds: float = DEFAULT_MAX_RATE_WAIT_SECONDS
    """Maximum single pause on a 429, in seconds, before the request fails."""

    @property
    def requests_per_minute(self) -> float:
        return self.store_limit_per_minute * self.share


@dataclass(frozen=True, slots=True)
class SendSettings:
    mode: str = "bulk"
    """``bulk`` sends up to ten users per ``POST /users/bulk``; ``single`` one each."""
    bulk_size: int = BULK_MAX_USERS
    bulk_result_order: str = "verify"
    """``verify`` looks up which id belongs to which email after a bulk create, since
    BigCommerce does not promise the answer's order; ``input`` trusts the order."""


@dataclass(frozen=True, slots=True)
class Defaults:
    """Values used when a row leaves the field blank."""

    channel_ids: tuple[int, ...] = ()
    role: str = ""
    accept_welcome_email: bool = False


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_mb: float = 100.0
    max_rows: int = 200_000
    max_columns: int = 500
    max_cell_chars: int = 32_767
    max_uncompressed_mb: float = 1_000.0
    max_compression_ratio: float = 200.0


@dataclass(frozen=True, slots=True)
class JobSettings:
    jobs_dir: Path = Path("jobs")
    inbox: Path = Path("jobs/inbox")


@dataclass(frozen=True, slots=True)
class Config:
    api: ApiSettings = field(default_factory=ApiSettings)
    rate: RateSettings = field(default_factory=RateSettings)
    send: SendSettings = field(default_factory=SendSettings)
    defaults: Defaults = field(default_factory=Defaults)
    limits: Limits = field(default_factory=Limits)
    jobs: JobSettings = field(default_factory=JobSettings)
    header_aliases: dict[str, list[str]] = field(default_factory=dict)
    log_level: str = "info"
    log_personal_data: bool = False
    source: Path | None = None

    def with_api(self, **changes: Any) -> Config:
        return replace(self, api=replace(self.api, **changes))


_SECTIONS: dict[str, type[Any]] = {
    "api": ApiSettings,
    "rate": RateSettings,
    "send": SendSettings,
    "defaults": Defaults,
    "limits": Limits,
    "jobs": JobSettings,
}

_ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "PROVISIONER_BASE_URL": ("api", "base_url"),
    "PROVISIONER_STORE_HASH": ("api", "store_hash"),
    "PROVISIONER_JOBS_DIR": ("jobs", "jobs_dir"),
    "PROVISIONER_INBOX": ("jobs", "inbox"),
}


def load_config(path: Path | None, *, environ: dict[str, str] | None = None) -> Config:
    """Read ``path`` (or defaults when None), apply environment overrides, validate."""
    env = dict(os.environ if environ is None else environ)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as handle:
                raw = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(
                f"Configuration file {path} not found. Copy config.example.toml "
                "and edit it, or leave out --config to use the defaults."
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"Configuration file {path} is not valid TOML: {exc}."
            ) from None

    problems: list[str] = []
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        table = raw.get(name, {})
        if not isinstance(table, dict):
            problems.append(f"[{name}] must be a table.")
            table = {}
        sections[name] = _build_section(name, cls, table, problems)

    for variable, (section, key) in _ENV_OVERRIDES.items():
        if env.get(variable):
            value: Any = env[variable]
            if key in ("jobs_dir", "inbox"):
                value = Path(value)
            sections[section] = replace(sections[section], **{key: value})

    jobs_table = raw.get("jobs", {}) if isinstance(raw.get("jobs"), dict) else {}
    inbox_given = "inbox" in jobs_table or bool(env.get("PROVISIONER_INBOX"))
    jobs = sections["jobs"]
    if not inbox_given:
        jobs = replace(jobs, inbox=jobs.jobs_dir / "inbox")
    if path is not None:
        # Relative paths in a configuration file mean "next to the file", so a
        # crontab line works from any working directory.
        base = path.parent
        jobs = replace(jobs, jobs_dir=base / jobs.jobs_dir, inbox=base / jobs.inbox)
        token_file = sections["api"].token_file
        if token_file is not None:
            sections["api"] = replace(sections["api"], token_file=base / token_file)
    sections["jobs"] = jobs

    aliases = raw.get("headers", {})
    header_aliases = _check_aliases(aliases, problems)
    logging_table = raw.get("logging", {})
    log_level = str(logging_table.get("level", "info")).lower()
    log_personal = bool(logging_table.get("personal_data", False))

    unknown = set(raw) - set(_SECTIONS) - {"headers", "logging"}
    for name in sorted(unknown):
        problems.append(f"Unknown section [{name}]; see config.example.toml.")

    config = Config(
        header_aliases=header_aliases,
        log_level=log_level,
        log_personal_data=log_personal,
        source=path,
        **sections,
    )
    problems.extend(validate_config(config))
    if problems:
        where = f" in {path}" if path else ""
        raise ConfigError(
            f"The configuration{where} has {len(problems)} problem(s):\n  - "
            + "\n  - ".join(problems)
        )
    return config


def _build_section(
    name: str, cls: type[Any], table: dict[str, Any], problems: list[str]
) -> Any:
    defaults = cls()
    values: dict[str, Any] = {}
    for key, value in table.items():
        if name == "api" and key in ("token", "auth_token", "x_auth_token"):
            problems.append(
                f"{name}.{key}: the token is never read from the configuration file. "
                f"Remove it, and set the environment variable {TOKEN_ENV} or "
                "api.token_file instead."
            )
            continue
        if not hasattr(defaults, key):
            problems.append(f"Unknown setting {name}.{key}; see config.example.toml.")
            continue
        expected = getattr(defaults, key)
        converted = _convert(value, expected)
        if converted is None:
            problems.append(
                f"{name}.{key} = {value!r} is invalid; expected {_kind(expected)}."
            )
            continue
        values[key] = converted
    return replace(defaults, **values)


def _kind(expected: Any) -> str:
    """Describe the value a setting takes, in the words of a TOML file."""
    if isinstance(expected, bool):
        return "true or false"
    if isinstance(expected, int):
        return "a whole number, like 4"
    if isinstance(expected, float):
        return "a number, like 0.8"
    if isinstance(expected, str):
        return 'text in quotes, like "bulk"'
    if isinstance(expected, tuple):
        return "a list of channel ids, like [1, 2]"
    return 'a path in quotes, like "jobs"'


def _convert(value: Any, expected: Any) -> Any:
    if isinstance(expected, bool):
        return value if isinstance(value, bool) else None
    if isinstance(expected, int) and not isinstance(expected, bool):
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(expected, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return None
    if isinstance(expected, str):
        return value if isinstance(value, str) else None
    if isinstance(expected, tuple):
        if isinstance(value, list) and all(
            isinstance(item, int) and not isinstance(item, bool) for item in value
        ):
            return tuple(value)
        return None
    if expected is None or isinstance(expected, Path):
        return Path(value) if isinstance(value, str) and value else None
    return None


def _check_aliases(aliases: Any, problems: list[str]) -> dict[str, list[str]]:
    if not isinstance(aliases, dict):
        problems.append("[headers] must map a field name to a list of header names.")
        return {}
    checked: dict[str, list[str]] = {}
    for field_name, headers in aliases.items():
        if field_name not in FIELDS_BY_NAME and not field_name.startswith("extra:"):
            known = ", ".join(FIELDS_BY_NAME)
            problems.append(
                f"[headers] {field_name} is not a field; use one of {known}."
            )
            continue
        if not isinstance(headers, list) or not all(
            isinstance(h, str) for h in headers
        ):
            problems.append(f"[headers] {field_name} must be a list of strings.")
            continue
        checked[field_name] = list(headers)
    return checked


def validate_config(config: Config) -> list[str]:
    """Return every problem of an assembled configuration, as sentences."""
    problems: list[str] = []
    problems.extend(check_base_url(config.api.base_url))
    if config.api.connect_timeout_seconds <= 0 or config.api.read_timeout_seconds <= 0:
        problems.append("api timeouts must be greater than 0 seconds.")
    rate = config.rate
    if rate.store_limit_per_minute < 1:
        problems.append("rate.store_limit_per_minute must be at least 1.")
    if not 0 < rate.share <= 1:
        problems.append(f"rate.share = {rate.share} must be above 0 and at most 1.")
    if not 1 <= rate.max_concurrency <= 32:
        problems.append("rate.max_concurrency must be between 1 and 32.")
    if rate.max_attempts < 1:
        problems.append("rate.max_attempts must be at least 1.")
    if config.send.mode not in ("bulk", "single"):
        problems.append(f"send.mode = {config.send.mode!r} must be 'bulk' or 'single'.")
    if not 1 <= config.send.bulk_size <= BULK_MAX_USERS:
        problems.append(f"send.bulk_size must be between 1 and {BULK_MAX_USERS}.")
    if config.send.bulk_result_order not in ("verify", "input"):
        problems.append("send.bulk_result_order must be 'verify' or 'input'.")
    if any(channel < 1 for channel in config.defaults.channel_ids):
        problems.append("defaults.channel_ids must be positive channel ids.")
    limits = config.limits
    for name in (
        "max_file_mb",
        "max_rows",
        "max_columns",
        "max_cell_chars",
        "max_uncompressed_mb",
        "max_compression_ratio",
    ):
        if getattr(limits, name) <= 0:
            problems.append(f"limits.{name} must be greater than 0.")
    if config.rate.max_rate_wait_seconds <= 0:
        problems.append("rate.max_rate_wait_seconds must be greater than 0.")
    if config.log_level not in ("debug", "info", "warning", "error"):
        problems.append("logging.level must be debug, info, warning or error.")
    return problems


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> list[str]:
    """Return the problems of an API base URL: https, or http only on loopback."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"api.base_url = {url!r} is not an http(s) URL."]
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return [
            f"api.base_url = {url!r} uses plain http; the token must travel over "
            "https. Only a loopback address (the sandbox) may use http."
        ]
    return []


def read_token(config: Config, *, environ: dict[str, str] | None = None) -> Secret:
    """Read the API token from the environment, else from ``api.token_file``.

    A token file must belong to the current user and be unreadable by others.
    """
    env = os.environ if environ is None else environ
    value = env.get(TOKEN_ENV, "").strip()
    if value:
        return Secret(value)
    token_file = config.api.token_file
    if token_file is None:
        raise ConfigError(
            f"No API token: set the environment variable {TOKEN_ENV} to a store API "
            "token with the B2B Edition scope set to modify, or set api.token_file."
        )
    try:
        info = token_file.stat()
    except OSError as exc:
        raise ConfigError(
            f"api.token_file {token_file} cannot be read: {exc.strerror}."
        ) from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"api.token_file {token_file} can be read by other users; "
            f"run: chmod 600 {token_file}"
        )
    token = token_file.read_text(encoding="utf-8").strip()
    if not token:
        raise ConfigError(f"api.token_file {token_file} is empty.")
    return Secret(token)
