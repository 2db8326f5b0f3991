"""Shared helpers for the loader tests."""

from __future__ import annotations

from pathlib import Path

from provisioner.model import LoadedSheet

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "loading"


def fixture(name: str) -> Path:
    path = FIXTURES / name
    assert path.is_file(), f"missing fixture {path}"
    return path


def texts(sheet: LoadedSheet) -> list[list[str]]:
    """Return the text of every cell of every row, for compact asserts."""
    return [[cell.text for cell in row.cells] for row in sheet.rows]


def fields(sheet: LoadedSheet) -> list[str | None]:
    return [column.field for column in sheet.columns]


def row_numbers(sheet: LoadedSheet) -> list[int]:
    return [row.row_number for row in sheet.rows]


def codes(sheet: LoadedSheet) -> list[list[str]]:
    return [[issue.code for issue in row.issues] for row in sheet.rows]
