"""Properties of the response parsers: any JSON or header text, never an exception."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from provisioner.api.client import (
    bulk_created_ids,
    bulk_item_errors,
    error_text,
    flatten_err_msg,
)
from provisioner.api.pacing import leading_number, rate_limit_wait, window_state
from provisioner.errors import RejectedError

NOW = dt.datetime(2026, 4, 1, 12, 0, 0, tzinfo=dt.UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
envelopes = st.fixed_dictionaries(
    {"code": st.integers(100, 599), "data": json_values, "meta": json_values}
)
header_names = st.sampled_from(
    [
        "Retry-After",
        "X-Retry-After",
        "X-Rate-Limit-Time-Reset-Ms",
        "X-Rate-Limit-Requests-Left",
        "X-Rate-Limit-Requests-Quota",
        "X-Request-Window-Resets-After",
        "X-Requests-Remaining",
        "X-Requests-Allocated",
    ]
)
header_values = st.text(max_size=40) | st.text("0123456789. s", min_size=300)
header_maps = st.dictionaries(header_names, header_values, max_size=8)


@given(json_values)
def test_flatten_err_msg_returns_text(err_msg: Any) -> None:
    text, fields = flatten_err_msg(err_msg)
    assert isinstance(text, str)
    for messages in fields.values():
        assert all(message and message in text for message in messages)


@given(envelopes | json_values)
def test_error_text_never_raises(payload: Any) -> None:
    text, _ = error_text(payload)
    assert isinstance(text, str)


@given(envelopes | json_values)
def test_bulk_helpers_never_raise(payload: Any) -> None:
    exc = RejectedError("rejected", status=422, body=payload)
    for item in bulk_item_errors(exc):
        assert item.message
    for ids in bulk_created_ids(exc):
        assert isinstance(ids.user_id, int)


@given(header_maps)
def test_rate_limit_wait_finite_and_positive(headers: dict[str, str]) -> None:
    result = rate_limit_wait(headers, now=NOW)
    if result is not None:
        seconds, source = result
        assert math.isfinite(seconds)
        assert seconds >= 0
        assert source in headers


@given(header_maps)
def test_window_state_never_raises(headers: dict[str, str]) -> None:
    state = window_state(headers)
    if state is not None:
        assert math.isfinite(state.remaining)
        assert math.isfinite(state.resets_in_seconds)
        assert state.resets_in_seconds >= 0


@given(st.text(max_size=30) | st.text("0123456789.", min_size=300))
def test_leading_number_matches_prefix(text: str) -> None:
    number = leading_number(text)
    if number is not None:
        assert text.strip()[:1].isdigit()
        assert math.isfinite(number)
        assert number >= 0
