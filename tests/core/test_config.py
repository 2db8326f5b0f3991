"""Configuration: TOML, environment overrides, one validation pass, the token."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner.config import Secret, check_base_url, load_config, read_token
from provisioner.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_example_file_loads_with_defaults() -> None:
    config = load_config(EXAMPLE, environ={})

    assert config.rate.store_limit_per_minute == 150
    assert config.send.mode == "bulk"
    assert config.api.base_url.startswith("https://")


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[rate]\nshare = 1.5\nmax_concurrency = "four"\n'
        '[send]\nmode = "turbo"\n'
        "[surprise]\nx = 1\n",
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})

    message = str(caught.value)
    assert "rate.share = 1.5" in message
    assert "max_concurrency" in message
    assert "send.mode" in message
    assert "[surprise]" in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[rate\nshare = ", encoding="utf-8")

    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, environ={})


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config\.example\.toml"):
        load_config(tmp_path / "absent.toml", environ={})


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[api]\nstore_hash = "fromfile"\n', encoding="utf-8")

    config = load_config(path, environ={"PROVISIONER_STORE_HASH": "fromenv"})

    assert config.api.store_hash == "fromenv"


def test_relative_jobs_dir_is_next_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "config.toml"
    path.parent.mkdir()
    path.write_text('[jobs]\njobs_dir = "work"\n', encoding="utf-8")

    config = load_config(path, environ={})

    assert config.jobs.jobs_dir == tmp_path / "etc" / "work"
    assert config.jobs.inbox == tmp_path / "etc" / "work" / "inbox"


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://api-b2b.bigcommerce.com/api/v3/io", True),
        ("http://127.0.0.1:8787/api/v3/io", True),
        ("http://localhost:8787/api/v3/io", True),
        ("http://[::1]:8787/api/v3/io", True),
        ("http://api-b2b.bigcommerce.com/api/v3/io", False),
        ("http://10.0.0.5/api/v3/io", False),
        ("ftp://example.com", False),
    ],
)
def test_base_url_needs_https_except_loopback(url: str, accepted: bool) -> None:
    assert (check_base_url(url) == []) is accepted


def test_token_from_environment_is_secret() -> None:
    token = read_token(
        load_config(None, environ={}), environ={"PROVISIONER_AUTH_TOKEN": "tok-123"}
    )

    assert token.reveal() == "tok-123"
    assert "tok-123" not in repr(token)
    assert "tok-123" not in str(token)
    assert "tok-123" not in f"{token}"


def test_missing_token_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="PROVISIONER_AUTH_TOKEN"):
        read_token(load_config(None, environ={}), environ={})


def test_token_file_readable_by_others_refused(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("tok-file\n", encoding="utf-8")
    os.chmod(secret, 0o644)
    path = tmp_path / "config.toml"
    path.write_text('[api]\ntoken_file = "token"\n', encoding="utf-8")
    config = load_config(path, environ={})

    with pytest.raises(ConfigError, match="chmod 600"):
        read_token(config, environ={})

    os.chmod(secret, 0o600)
    assert read_token(config, environ={}) == Secret("tok-file")


def test_secret_cannot_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Secret("tok"))
