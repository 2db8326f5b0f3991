"""Predict what ``run`` would do with validated rows, reading the store only.

Nothing is created. Each row gets the status a run would give it on a fresh job.
``invalid`` and ``skipped`` come from validation, and ``exists`` and ``conflict``
from the same pre-flight look-up the run makes
(``provisioner.existing.find_existing``). Every other row is ``would create``. A
row whose email an earlier row of the sheet already uses is a ``conflict``, as in
the run.

The estimate counts the requests the run would make and converts them to minutes
at the configured share of the store's rate limit. Look-ups count, because they go
through the same rate-limited client as the creates. Retries, 429 pauses and rows
a journal has already settled are not in it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from provisioner.api.types import B2BApi
from provisioner.config import RateSettings, SendSettings
from provisioner.dispatch import EMAIL_DUPLICATE, plan_batches
from provisioner.errors import TransientApiError
from provisioner.existing import LIST_PAGE_SIZE, ExistingMatch, find_existing
from provisioner.model import RowIssue, RowResult, Status, UserRequest
from provisioner.rejections import EMAIL_TAKEN, FIXES

log = structlog.get_logger(__name__)

EXISTS_MESSAGE = "A user with this email already exists in this Company."


@dataclass(slots=True)
class PlanRow:
    """The status one source row would get, with the ids of a user that exists."""

    row_number: int
    status: Status
    user_id: int | None = None
    bc_id: int | None = None
    message: str | None = None
    code: str | None = None


@dataclass(slots=True)
class Plan:
    """Every row's predicted status and an estimate of the run's API use.

    ``requests`` is the estimated number of API requests the run makes, creates and
    look-ups together. ``lookups`` is the read requests among them, and
    ``minutes`` is ``requests`` at ``RateSettings.requests_per_minute``.
    """

    rows: list[PlanRow]
    requests: int
    minutes: float
    lookups: int
    creates: int = 0
    """Create requests: one per bulk batch, or one per user in single mode."""
    plan_requests: int = 0
    """Requests this plan made itself (look-ups, and Company names for conflicts)."""


@dataclass(frozen=True, slots=True)
class RequestEstimate:
    """The requests a run would make for its creates, by kind."""

    creates: int
    verifications: int


async def plan_run(
    results: Sequence[RowResult],
    *,
    api: B2BApi,
    send: SendSettings,
    rate: RateSettings,
    store_requests: int = 0,
) -> Plan:
    """Predict each row's status and estimate the run's requests and minutes.

    ``store_requests`` is what resolving the store's settings cost (for example
    ``StoreCatalog.requests``), which a run spends again before sending. API
    errors from the pre-flight look-up (``AuthError``, ``TransientApiError``)
    propagate, because without it a row whose user exists would look new.
    """
    requests_before = api.stats.requests
    candidates, repeated = _split_repeated_emails(results)

    matches = await find_existing(candidates, api, max_concurrency=rate.max_concurrency)
    preflight_requests = api.stats.requests - requests_before

    other_companies = {
        match.user.company_id for match in matches.values() if not match.same_company
    }
    company_names = await _company_names(api, other_companies)

    rows = [_plan_row(result, matches, repeated, company_names) for result in results]
    to_create = [
        result.request
        for result, row in zip(results, rows, strict=True)
        if row.status == Status.WOULD_CREATE and result.request is not None
    ]
    estimate = estimate_create_requests(to_create, send)
    lookups = store_requests + preflight_requests + estimate.verifications
    total = lookups + estimate.creates
    plan = Plan(
        rows=rows,
        requests=total,
        minutes=total / rate.requests_per_minute,
        lookups=lookups,
        creates=estimate.creates,
        plan_requests=api.stats.requests - requests_before,
    )
    log.info(
        "plan_finished",
        rows=len(rows),
        would_create=len(to_create),
        requests=plan.requests,
        minutes=round(plan.minutes, 1),
    )
    return plan


def estimate_create_requests(
    requests: Sequence[UserRequest], send: SendSettings
) -> RequestEstimate:
    """Count the create requests and bulk-response listings for sending ``requests``.

    The batches are the ones dispatch sends (``plan_batches``). A batch of one
    user is sent with ``POST /users``, so it needs no look-up afterwards. With
    ``bulk_result_order="verify"``, dispatch matches the responses of the larger
    batches to rows with one page of the store's listing per 250 new users.
    """
    batches = plan_batches(requests, send)
    verifications = 0
    if send.mode == "bulk" and send.bulk_result_order == "verify":
        new_users = sum(len(batch) for batch in batches if len(batch) > 1)
        # NOTE: a lower bound. When the pre-flight did not count the store's
        # users (a store too large to list), one more page finds where new users
        # start, and a listing that does not keep creation order takes per-email
        # look-ups.
        verifications = math.ceil(new_users / LIST_PAGE_SIZE)
    return RequestEstimate(creates=len(batches), verifications=verifications)


def _split_repeated_emails(
    results: Sequence[RowResult],
) -> tuple[list[UserRequest], dict[int, int]]:
    """Return the sendable requests and, for repeats, the first row of each email.

    Dispatch sends only the first row of an email and records later ones as
    conflicts, so only first rows are looked up.
    """
    first_row_of: dict[str, int] = {}
    candidates: list[UserRequest] = []
    repeated: dict[int, int] = {}
    sendable = [result.request for result in results if _is_sendable(result)]
    for request in sorted(
        (request for request in sendable if request is not None),
        key=lambda request: request.row_number,
    ):
        first = first_row_of.setdefault(request.email_key, request.row_number)
        if first == request.row_number:
            candidates.append(request)
        else:
            repeated[request.row_number] = first
    return candidates, repeated


def _is_sendable(result: RowResult) -> bool:
    return result.request is not None and result.status not in (
        Status.INVALID,
        Status.SKIPPED,
    )


async def _company_names(api: B2BApi, company_ids: set[int]) -> dict[int, str]:
    """Read the names of the Companies that own conflicting emails.

    A failed look-up leaves the name out, and the message then gives only the id.
    """
    names: dict[int, str] = {}
    for company_id in sorted(company_ids):
        try:
            company = await api.get_company(company_id)
        except TransientApiError as error:
            log.warning("company_name_failed", company_id=company_id, error=str(error))
            continue
        if company is not None:
            names[company_id] = company.name
    return names


def _plan_row(
    result: RowResult,
    matches: dict[int, ExistingMatch],
    repeated: dict[int, int],
    company_names: dict[int, str],
) -> PlanRow:
    number = result.row.row_number
    if not _is_sendable(result):
        status = Status.SKIPPED if result.status == Status.SKIPPED else Status.INVALID
        issues = result.errors if status == Status.INVALID else result.issues
        return PlanRow(
            number,
            status,
            message=_render_issues(issues),
            code=issues[0].code if issues else None,
        )

    if number in repeated:
        return PlanRow(
            number,
            Status.CONFLICT,
            code=EMAIL_DUPLICATE,
            message=(
                f"Row {repeated[number]} has the same email, and each email can "
                "belong to only one user. Remove one of the two rows."
            ),
        )

    match = matches.get(number)
    if match is None:
        return PlanRow(
            number, Status.WOULD_CREATE, message=_render_issues(result.issues)
        )

    user = match.user
    if match.same_company:
        return PlanRow(
            number,
            Status.EXISTS,
            user_id=user.user_id,
            bc_id=user.bc_id,
            message=EXISTS_MESSAGE,
        )
    name = company_names.get(user.company_id)
    where = f'"{name}" (id {user.company_id})' if name else f"{user.company_id}"
    return PlanRow(
        number,
        Status.CONFLICT,
        user_id=user.user_id,
        bc_id=user.bc_id,
        code=EMAIL_TAKEN,
        message=(
            f"The email already belongs to a user of Company {where}. "
            f"{FIXES[EMAIL_TAKEN]}"
        ),
    )


def _render_issues(issues: Sequence[RowIssue]) -> str | None:
    if not issues:
        return None
    return " ".join(issue.render() for issue in issues)
