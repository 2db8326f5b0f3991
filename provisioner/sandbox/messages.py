"""The request and reply values passed between the HTTP transport and the app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from provisioner.sandbox import render

ReplyAction = Literal["respond", "reset", "close", "slow"]


@dataclass(slots=True)
class ApiRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes
    client_host: str


@dataclass(slots=True)
class Reply:
    """A response, or what the transport does instead of responding.

    ``action`` is ``respond``, ``reset`` (close with a TCP reset and no response),
    ``close`` (close without a response) or ``slow`` (respond after
    ``delay_seconds``).
    """

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    action: ReplyAction = "respond"
    delay_seconds: float = 0.0
    fault: str | None = None
    """The injected fault (an option name, such as ``reset_before``), if any."""
    created: int = 0
    """How many users the request created."""


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, render.to_json_bytes(body), headers=dict(headers or {}))


class BadParameter(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
