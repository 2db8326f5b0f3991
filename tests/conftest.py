"""Fixtures shared by every test: a fresh sandbox B2B API on loopback per test.

The sandbox starts in a few milliseconds with the packaged seed. Requests that do
not match BigCommerce's OpenAPI description get a 400 response
(``strict_requests``), so every integration test also checks the client's requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from provisioner.sandbox import RunningSandbox, SandboxOptions, start_sandbox

SandboxFactory = Callable[..., RunningSandbox]


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    """Start sandboxes with chosen options: ``sandbox_factory(reset_before=0.1)``.

    Keyword arguments are ``SandboxOptions`` fields; ``strict_requests`` defaults to
    True. Every sandbox started is stopped when the test ends.
    """
    started: list[RunningSandbox] = []

    def start(options: SandboxOptions | None = None, **changes: Any) -> RunningSandbox:
        if options is None:
            changes.setdefault("strict_requests", True)
            options = SandboxOptions(**changes)
        elif changes:
            options = options.with_changes(changes)
        running = start_sandbox(options)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory) -> RunningSandbox:
    """A sandbox with the default seed and options, and strict request checks."""
    return sandbox_factory()
