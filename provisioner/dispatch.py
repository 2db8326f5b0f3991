"""Send validated rows to the B2B API so that every row ends with a known status.

The API has no idempotency key, a timed-out create may or may not have happened,
and a failed bulk create may have created some of its users. These rules keep
every user from being created twice:

1. Rows a killed run left ``in_flight`` are looked up by email before anything
   else; only a row whose user is not found is sent again.
2. Before the first send, users that exist already are found (``find_existing``):
   a user in the row's Company makes the row ``exists``, one in another Company
   makes it ``rejected`` (``EMAIL_TAKEN``), as a create would be.
3. Rows are marked ``in_flight`` in the journal, on disk, before each send.
4. After an unanswered create, the rows are looked up by email before any resend.
   A look-up that fails leaves them ``in_flight`` for the next run.
5. A bulk response is mapped to rows by listing the store's newest users,
   unless the configuration says the API keeps input order
   (``bulk_result_order="input"``). Its rows stay ``in_flight``, with the
   response stored, until one listing page has matched many responses: when 250
   rows wait, and at the end of dispatch or on a stop.
6. A rejected bulk batch is resolved by looking up its users, because some may
   have been created; the rest are sent one at a time to get a message each.

Errors from the API are handled by what the caller does next: ``AuthError``
stops dispatch (the row goes back to ``pending``), ``TransientApiError`` makes the
row ``failed`` (a later run retries it), ``RejectedError`` makes it ``rejected``
with a code from ``provisioner.rejections``. Any other exception is a bug and
propagates; rows it interrupts stay ``in_flight`` and are reconciled next run.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import structlog

from provisioner.api.types import B2BApi, CreatedIds
from provisioner.config import SendSettings
from provisioner.errors import (
    AuthError,
    OutcomeUnknownError,
    RejectedError,
    TransientApiError,
)
from provisioner.existing import (
    LIST_PAGE_SIZE,
    ExistingMatch,
    StoreSize,
    UserListing,
    find_existing,
)
from provisioner.journal import IN_FLIGHT, Journal
from provisioner.model import RowOutcome, Status, UserRequest
from provisioner.rejections import (
    EMAIL_TAKEN,
    Rejection,
    email_taken,
    explain_rejection,
)

log = structlog.get_logger(__name__)

STOP_AUTH = "auth"
STOP_DEADLINE = "deadline"

EMAIL_DUPLICATE = "EMAIL_DUPLICATE"
API_UNAVAILABLE = "API_UNAVAILABLE"
NO_ANSWER = "NO_ANSWER"
NOT_SENT = "NOT_SENT"
LOOKUP_FAILED = "LOOKUP_FAILED"

_RETRYABLE = frozenset({str(Status.PENDING), str(Status.FAILED)})

#: Rows whose bulk responses wait before a worker reads a page of the store's
#: new users: one full listing page.
VERIFY_ROWS = LIST_PAGE_SIZE


@dataclass
class StopToken:
    """A request to stop sending, set by a signal handler, a deadline or dispatch.

    ``deadline`` is a ``time.monotonic()`` value; once it passes, ``requested``
    turns true with the reason ``deadline``. The first reason given is kept.
    """

    reason: str | None = None
    deadline: float | None = None

    def request(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason

    @property
    def requested(self) -> bool:
        if (
            self.reason is None
            and self.deadline is not None
            and time.monotonic() >= self.deadline
        ):
            self.reason = STOP_DEADLINE
        return self.reason is not None


@dataclass
class DispatchSummary:
    """The result of one dispatch.

    ``counts`` is the number of rows per journal status after dispatch, over the
    whole job, where ``in_flight`` counts rows whose outcome is still unknown.
    ``recorded`` counts the outcomes this dispatch recorded, by status.
    ``stopped`` is the stop reason, or None when every row was dealt with.
    """

    counts: dict[str, int] = field(default_factory=dict)
    recorded: dict[str, int] = field(default_factory=dict)
    requests_used: int = 0
    auth_failed: bool = False
    stopped: str | None = None


async def dispatch(
    requests: Sequence[UserRequest],
    *,
    api: B2BApi,
    journal: Journal,
    send: SendSettings,
    max_concurrency: int,
    max_attempts: int,
    stop: StopToken,
    on_outcome: Callable[[RowOutcome], None] | None = None,
) -> DispatchSummary:
    """Create the users of ``requests`` that the journal shows as still to send.

    Call ``journal.sync`` with this run's validation results first. Rows whose
    journal status is ``pending`` or ``failed`` are sent, and so are rows the
    journal does not contain. Every other row keeps its journal status. Each
    outcome is recorded in the journal, logged as ``row_outcome`` and passed to
    ``on_outcome``.
    """
    run = _Dispatch(
        api=api,
        journal=journal,
        send=send,
        max_concurrency=max(1, max_concurrency),
        max_attempts=max(1, max_attempts),
        stop=stop,
        on_outcome=on_outcome,
    )
    requests_before = api.stats.requests
    await run.run(requests)
    summary = DispatchSummary(
        counts=journal.counts(),
        recorded=dict(run.recorded),
        requests_used=api.stats.requests - requests_before,
        auth_failed=stop.reason == STOP_AUTH,
        stopped=stop.reason,
    )
    log.info(
        "dispatch_finished",
        counts=summary.counts,
        recorded=summary.recorded,
        requests=summary.requests_used,
        stopped=summary.stopped,
    )
    return summary


def plan_batches(
    requests: Sequence[UserRequest], send: SendSettings
) -> list[list[UserRequest]]:
    """Group rows into the units that are sent together.

    In single mode every row is its own unit. In bulk mode rows are grouped by
    Company in order of first appearance and cut into batches of ``bulk_size``,
    keeping input order within each. The short batches left over are then
    merged, so a sheet spread over many Companies takes fewer creates. Nothing
    needs a batch to contain one Company, because a bulk response is verified
    with a listing of the whole store.
    """
    if send.mode == "single" or send.bulk_size <= 1:
        return [[request] for request in requests]

    by_company: dict[int, list[UserRequest]] = {}
    for request in requests:
        by_company.setdefault(request.company_id, []).append(request)
    size = send.bulk_size
    batches: list[list[UserRequest]] = []
    for group in by_company.values():
        batches.extend(
            group[start : start + size] for start in range(0, len(group), size)
        )

    full = [batch for batch in batches if len(batch) == size]
    merged: list[list[UserRequest]] = []
    for batch in (batch for batch in batches if len(batch) < size):
        target = next((m for m in merged if len(m) + len(batch) <= size), None)
        if target is None:
            merged.append(list(batch))
        else:
            target.extend(batch)
    return full + merged


class _Dispatch:
    """The state of one dispatch: settings, and what is known about each row."""

    def __init__(
        self,
        *,
        api: B2BApi,
        journal: Journal,
        send: SendSettings,
        max_concurrency: int,
        max_attempts: int,
        stop: StopToken,
        on_outcome: Callable[[RowOutcome], None] | None,
    ) -> None:
        self.api = api
        self.journal = journal
        self.send = send
        self.max_concurrency = max_concurrency
        self.max_attempts = max_attempts
        self.stop = stop
        self.on_outcome = on_outcome
        self.recorded: Counter[str] = Counter()
        # Rows whose create may have happened unseen: an unanswered create in
        # this run or an earlier one. A user found later in the row's Company
        # was created by this job.
        self.unknown: set[int] = set()
        # Rows that the pre-flight found no user for.
        self.checked_absent: set[int] = set()
        self.company_names: dict[int, str | None] = {}
        # The store's user count before sending, when the pre-flight listed it.
        self.store_size = StoreSize()
        self._unverified: _Unverified | None = None

    async def run(self, requests: Sequence[UserRequest]) -> None:
        log.info("dispatch_started", rows=len(requests), mode=self.send.mode)
        await self.reconcile()
        if self.stop.requested:
            return
        chosen = self.select(requests)
        to_send = await self.preflight(chosen)
        if self.stop.requested:
            return
        await self.send_all(plan_batches(to_send, self.send))

    # Step 1: rows an earlier run left in flight.

    async def reconcile(self) -> None:
        rows = self.journal.rows({IN_FLIGHT})
        requests = [row.request for row in rows if row.request is not None]
        if not requests:
            return
        # A killed run may have sent these rows: remember that, in this run and
        # in the journal, before anything else happens to them.
        self.journal.mark_outcome_unknown([request.row_number for request in requests])
        self.unknown.update(request.row_number for request in requests)
        log.info("reconcile_started", rows=len(requests))
        matches = await self.look_up(requests, strategy="auto")
        if matches is None:
            return
        responses = self.journal.bulk_responses(
            [request.row_number for request in requests]
        )
        outcomes: list[RowOutcome] = []
        for request in requests:
            match = matches.get(request.row_number)
            if match is None:
                outcomes.append(
                    _outcome(request, Status.PENDING, message=_NOT_FOUND_AFTER_CRASH)
                )
                continue
            outcome = self.settle(request, match, created_here=True)
            if outcome.bc_id is None:
                # A listing may leave out the customer id; a stored bulk response
                # that returned this user id gives it.
                returned = responses.get(request.row_number, [])
                outcome.bc_id = next(
                    (i.bc_id for i in returned if i.user_id == outcome.user_id), None
                )
            outcomes.append(outcome)
        self.finish(outcomes)

    # Step 2: choose the rows to send, and guard against two rows with one email.

    def select(self, requests: Sequence[UserRequest]) -> list[UserRequest]:
        stored = {row.row_number: row for row in self.journal.rows()}
        busy_emails = {
            row.email_key for row in stored.values() if row.status == IN_FLIGHT
        }
        first_row_of: dict[str, int] = {}
        chosen: list[UserRequest] = []
        conflicts: list[RowOutcome] = []
        for request in sorted(requests, key=lambda item: item.row_number):
            row = stored.get(request.row_number)
            if row is not None and row.status not in _RETRYABLE:
                continue
            if row is not None and row.outcome_unknown:
                self.unknown.add(request.row_number)
            if request.email_key in busy_emails:
                # Another row with this email awaits reconciliation: wait for it.
                continue
            first = first_row_of.setdefault(request.email_key, request.row_number)
            if first != request.row_number:
                conflicts.append(_duplicate_email(request, first))
                continue
            chosen.append(request)
        self.finish(conflicts)
        return chosen

    # Step 3: users that exist already.

    async def preflight(self, requests: list[UserRequest]) -> list[UserRequest]:
        if not requests:
            return []
        try:
            matches = await find_existing(
                requests,
                self.api,
                max_concurrency=self.max_concurrency,
                store_size=self.store_size,
            )
        except AuthError as error:
            self.auth_failed(error)
            return []
        except TransientApiError as error:
            # Without the pre-flight a row cannot be distinguished from a new
            # one, so nothing is sent and the rows wait for the next run.
            log.warning("preflight_failed", error=str(error), rows=len(requests))
            self.finish([_preflight_failed(request, error) for request in requests])
            return []
        others = {m.user.company_id for m in matches.values() if not m.same_company}
        await self.read_company_names(others)
        outcomes: list[RowOutcome] = []
        to_send: list[UserRequest] = []
        for request in requests:
            match = matches.get(request.row_number)
            if match is None:
                self.checked_absent.add(request.row_number)
                to_send.append(request)
            else:
                created_here = self.sent_unanswered(request)
                outcomes.append(self.settle(request, match, created_here=created_here))
        self.finish(outcomes)
        return to_send

    # Step 4: a fixed pool of workers sends the batches.

    async def send_all(self, batches: list[list[UserRequest]]) -> None:
        queue = deque(batches)

        async def work() -> None:
            while queue and not self.stop.requested:
                batch = queue.popleft()
                if len(batch) == 1:
                    await self.send_single(batch[0], attempts=0)
                else:
                    await self.send_batch(batch)

        workers = [
            asyncio.create_task(work())
            for _ in range(min(self.max_concurrency, len(batches)))
        ]
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        if queue:
            log.info(
                "dispatch_stopped", reason=self.stop.reason, batches_left=len(queue)
            )
        await self.verify_remaining()

    async def send_single(self, request: UserRequest, *, attempts: int) -> None:
        while True:
            if attempts > 0 and self.stop.requested:
                self.finish([_not_sent(request, self.stop.reason)])
                return
            attempts += 1
            self.journal.mark_in_flight([request], kind="create")
            try:
                ids = await self.api.create_user(request.body)
            except AuthError as error:
                self.auth_failed(error)
                self.finish([_not_sent(request, STOP_AUTH)])
                return
            except TransientApiError as error:
                log.warning(
                    "create_failed", rows=[request.row_number], error=str(error)
                )
                self.finish([_api_unavailable(request, error)])
                return
            except RejectedError as error:
                await self.resolve_single_rejection(request, error)
                return
            except OutcomeUnknownError as error:
                log.warning(
                    "outcome_unknown", rows=[request.row_number], error=str(error)
                )
                if await self.resolve_unknown([request], attempts) == []:
                    return
                continue
            self.finish([_created(request, ids)])
            return

    async def send_batch(self, batch: list[UserRequest], *, attempts: int = 0) -> None:
        remaining = batch
        while remaining:
            if len(remaining) == 1:
                await self.send_single(remaining[0], attempts=attempts)
                return
            if attempts > 0 and self.stop.requested:
                self.finish(
                    [_not_sent(request, self.stop.reason) for request in remaining]
                )
                return
            attempts += 1
            self.journal.mark_in_flight(remaining, kind="bulk")
            if self.send.bulk_result_order != "input":
                self.unverified.sent += len(remaining)
            try:
                ids = await self.api.create_users_bulk([r.body for r in remaining])
            except AuthError as error:
                self.auth_failed(error)
                self.finish([_not_sent(request, STOP_AUTH) for request in remaining])
                return
            except TransientApiError as error:
                rows = [request.row_number for request in remaining]
                log.warning("create_failed", rows=rows, error=str(error))
                self.finish([_api_unavailable(request, error) for request in remaining])
                return
            except RejectedError as error:
                await self.resolve_batch_rejection(remaining, error)
                return
            except OutcomeUnknownError as error:
                rows = [request.row_number for request in remaining]
                log.warning("outcome_unknown", rows=rows, error=str(error))
                unresolved = remaining
            else:
                unresolved = await self.map_bulk_response(remaining, ids, attempts)
            if not unresolved:
                return
            remaining = await self.resolve_unknown(unresolved, attempts)

    # Unanswered creates.

    async def resolve_unknown(
        self, requests: list[UserRequest], attempts: int
    ) -> list[UserRequest]:
        """Look up rows whose create went unanswered; return those to send again.

        Rows found are recorded. When the look-up fails the rows stay in flight
        and nothing is returned; after ``max_attempts`` sends, rows still not
        found are recorded ``failed``.
        """
        self.journal.mark_outcome_unknown([request.row_number for request in requests])
        self.unknown.update(request.row_number for request in requests)
        # NOTE: this assumes GET /users shows a user once its create has been
        # processed, which the API does not document. If it lags, the resend
        # meets the store's email uniqueness check and "Email already exists" is
        # settled as created.
        matches = await self.look_up(requests, strategy="email")
        if matches is None:
            return []
        self.finish(
            [
                self.settle(request, matches[request.row_number], created_here=True)
                for request in requests
                if request.row_number in matches
            ]
        )
        missing = [request for request in requests if request.row_number not in matches]
        if attempts >= self.max_attempts:
            self.finish([_no_answer(request, attempts) for request in missing])
            return []
        return missing

    # Bulk responses.

    async def map_bulk_response(
        self, batch: list[UserRequest], ids: list[CreatedIds], attempts: int
    ) -> list[UserRequest]:
        """Record the rows of a successful bulk create; return rows still unknown.

        The response lists ``{userId, bcId}`` without emails, in an order the API
        does not promise. Unless the configuration trusts the input order, the
        response waits to be matched together with other responses
        (``defer_bulk_response``). A response with another number of users than
        the batch, or with an id twice, cannot be trusted, so the whole batch is
        unknown.
        """
        returned = {item.user_id for item in ids}
        if len(ids) != len(batch) or len(returned) != len(batch):
            log.warning(
                "bulk_response_mismatch",
                rows=[request.row_number for request in batch],
                sent=len(batch),
                returned=len(ids),
                distinct=len(returned),
            )
            return batch
        if self.send.bulk_result_order == "input":
            self.finish(
                [
                    _created(request, item)
                    for request, item in zip(batch, ids, strict=True)
                ]
            )
            return []
        await self.defer_bulk_response(batch, ids, attempts)
        return []

    async def defer_bulk_response(
        self, batch: list[UserRequest], ids: list[CreatedIds], attempts: int
    ) -> None:
        """Keep a bulk response until a listing of the store shows whose id is whose.

        The rows stay ``in_flight`` in the journal, with the response, so a run
        killed before the match leaves them to be reconciled by email. Ids that
        a page read earlier lists are matched at once. Once ``VERIFY_ROWS`` rows
        wait, and as many were reported created since the last page was read,
        the worker reads one page of the store's new users. The rest waits for
        ``verify_remaining``.
        """
        self.journal.record_bulk_response(
            [request.row_number for request in batch], ids
        )
        state = self.unverified
        state.listing.add_created(len(batch))
        state.created_since_read += len(batch)
        state.responses.append(
            _BulkResponse(
                rows=list(batch),
                ids={item.user_id: item for item in ids},
                emails=frozenset(request.email_key for request in batch),
                attempts=attempts,
            )
        )
        await self.match_listed(state)
        if (
            state.waiting >= VERIFY_ROWS
            and state.created_since_read >= VERIFY_ROWS
            and not state.lock.locked()
        ):
            async with state.lock:
                await self.read_new_users(state)

    @property
    def unverified(self) -> _Unverified:
        """The bulk responses waiting to be matched, created at the first one."""
        if self._unverified is None:
            listing = UserListing(known_size=self.store_size.users)
            self._unverified = _Unverified(listing)
        return self._unverified

    async def read_new_users(self, state: _Unverified) -> None:
        """Read one page of the store's new users while other workers send on."""
        listing = state.listing
        if listing.next_offset is None:
            # The first page shows the store's size, and so where new users start.
            if not await self.read_listing(state, unread=False):
                return
            if not state.waiting or not listing.pages_ahead:
                return
        await self.read_listing(state, unread=False)

    async def verify_remaining(self) -> None:
        """Match every waiting response, at the end of dispatch or on a stop.

        Pages are read from where the last one stopped to the end of the
        listing, then pages skipped before, as long as that costs no more
        requests than one look-up per row still unmatched. Those rows are then
        looked up by email. After an ``AuthError`` nothing more is read, and the
        rows stay ``in_flight`` for the next run.
        """
        if self._unverified is None:
            return
        state = self._unverified
        async with state.lock:
            while state.responses and self.stop.reason != STOP_AUTH:
                pages_before = state.listing.pages_read
                await self.read_remaining_pages(state)
                if state.responses and self.stop.reason != STOP_AUTH:
                    await self.look_up_unmatched(state)
                log.info(
                    "bulk_responses_verified",
                    pages=state.listing.pages_read - pages_before,
                    rows_waiting=state.waiting,
                )

    async def read_remaining_pages(self, state: _Unverified) -> None:
        listing = state.listing
        while state.waiting and _worth_reading(listing.pages_ahead, state.waiting):
            if not await self.read_listing(state, unread=False):
                return
        while (
            state.waiting and listing.unread and listing.unread_pages <= state.waiting
        ):
            if not await self.read_listing(state, unread=True):
                return

    async def read_listing(self, state: _Unverified, *, unread: bool) -> bool:
        """Read one page and match what it shows; return False when the read failed."""
        listing = state.listing
        try:
            if unread:
                await listing.read_unread(self.api)
            else:
                await listing.read_next(self.api, recent=state.sent)
                state.created_since_read = 0
        except AuthError as error:
            self.auth_failed(error)
            return False
        except TransientApiError as error:
            log.warning("bulk_listing_failed", error=str(error))
            return False
        await self.match_listed(state)
        return True

    async def match_listed(self, state: _Unverified) -> None:
        """Record the rows whose new user a page read so far shows.

        A response that a page contradicts, with an id listed under an email
        outside the batch or a row's email listed under an id not returned,
        is resolved as an unanswered create.
        """
        listing = state.listing
        outcomes: list[RowOutcome] = []
        disputed: list[_BulkResponse] = []
        for response in list(state.responses):
            if _contradicts(response, listing):
                state.responses.remove(response)
                disputed.append(response)
                continue
            waiting: list[UserRequest] = []
            for request in response.rows:
                user = listing.by_email.get(request.email_key)
                if user is None:
                    waiting.append(request)
                else:
                    outcomes.append(_created(request, response.ids[user.user_id]))
            response.rows = waiting
            if not waiting:
                state.responses.remove(response)
        self.finish(outcomes)
        for response in disputed:
            await self.resolve_disputed(response)

    async def look_up_unmatched(self, state: _Unverified) -> None:
        """Look up by email the rows of waiting responses that no page showed."""
        responses = list(state.responses)
        state.responses.clear()
        requests = [request for response in responses for request in response.rows]
        matches = await self.look_up(requests, strategy="email")
        if matches is None:
            # The rows stay in flight, and the next run looks them up again.
            return
        outcomes: list[RowOutcome] = []
        disputed: list[_BulkResponse] = []
        for response in responses:
            found = {
                request.row_number: matches[request.row_number]
                for request in response.rows
                if request.row_number in matches
            }
            if any(
                not match.same_company or match.user.user_id not in response.ids
                for match in found.values()
            ):
                disputed.append(response)
                continue
            for request in response.rows:
                match = found.get(request.row_number)
                if match is None:
                    # The API reported the batch created, but this user cannot be
                    # found; the row stays in flight and the next run looks again.
                    log.warning("bulk_user_not_found", row=request.row_number)
                    continue
                outcomes.append(_created(request, response.ids[match.user.user_id]))
        self.finish(outcomes)
        for response in disputed:
            await self.resolve_disputed(response)

    async def resolve_disputed(self, response: _BulkResponse) -> None:
        """Resolve a bulk response the store contradicts like an unanswered create."""
        log.warning(
            "bulk_response_disputed",
            rows=[request.row_number for request in response.rows],
        )
        remaining = await self.resolve_unknown(response.rows, response.attempts)
        if remaining:
            await self.send_batch(remaining, attempts=response.attempts)

    async def resolve_batch_rejection(
        self, batch: list[UserRequest], error: RejectedError
    ) -> None:
        """Learn which users of a rejected batch exist; send the rest one by one."""
        rejection = explain_rejection(error)
        log.info(
            "bulk_rejected",
            rows=[request.row_number for request in batch],
            code=rejection.code,
        )
        matches = await self.look_up(batch, strategy="email")
        if matches is None:
            return
        # A user found in the row's Company was created by this batch when the
        # pre-flight saw none: a failed batch may create some of its users.
        self.finish(
            [
                self.settle(
                    request,
                    matches[request.row_number],
                    created_here=self.absent_before(request),
                )
                for request in batch
                if request.row_number in matches
            ]
        )
        for request in batch:
            if request.row_number in matches:
                continue
            if self.stop.requested:
                self.finish([_not_sent(request, self.stop.reason)])
                continue
            await self.send_single(request, attempts=0)

    async def resolve_single_rejection(
        self, request: UserRequest, error: RejectedError
    ) -> None:
        rejection = explain_rejection(error)
        if rejection.code != EMAIL_TAKEN:
            self.finish([_rejected(request, rejection)])
            return
        matches = await self.look_up([request], strategy="email")
        if matches is None:
            if request.row_number not in self.unknown:
                # This create got a response, so it created nothing. Only the
                # look-up that finds the other Company failed.
                self.finish([_lookup_failed(request, self.stop.reason)])
            return
        match = matches.get(request.row_number)
        if match is None:
            self.finish([_rejected(request, rejection)])
            return
        created_here = self.sent_unanswered(request)
        self.finish([self.settle(request, match, created_here=created_here)])

    # Shared steps.

    async def look_up(
        self, requests: Sequence[UserRequest], *, strategy: Literal["auto", "email"]
    ) -> dict[int, ExistingMatch] | None:
        """Find the users with these rows' emails, or None when the look-up failed.

        Inside a worker one look-up runs at a time, so the pool never has more
        requests open than ``max_concurrency``.
        """
        concurrency = self.max_concurrency if strategy == "auto" else 1
        try:
            matches = await find_existing(
                requests, self.api, max_concurrency=concurrency, strategy=strategy
            )
        except AuthError as error:
            self.auth_failed(error)
            return None
        except TransientApiError as error:
            log.warning(
                "lookup_failed",
                rows=[request.row_number for request in requests],
                error=str(error),
            )
            return None
        others = {m.user.company_id for m in matches.values() if not m.same_company}
        await self.read_company_names(others)
        return matches

    async def read_company_names(self, company_ids: set[int]) -> None:
        """Read the names of Companies that own a row's email, for the message.

        A name that cannot be read is left out; the message then gives the id.
        """
        for company_id in sorted(company_ids - set(self.company_names)):
            try:
                company = await self.api.get_company(company_id)
            except AuthError as error:
                self.auth_failed(error)
                return
            except (TransientApiError, RejectedError, OutcomeUnknownError) as error:
                log.warning(
                    "company_name_failed", company_id=company_id, error=str(error)
                )
                company = None
            self.company_names[company_id] = company.name if company else None

    def settle(
        self, request: UserRequest, match: ExistingMatch, *, created_here: bool
    ) -> RowOutcome:
        """Turn a user found with the row's email into the row's outcome.

        In the row's Company the row is ``created`` when this job created the
        user (``created_here``), else ``exists``. In another Company it is
        ``rejected`` with ``EMAIL_TAKEN`` naming that Company.
        """
        if not match.same_company:
            company_id = match.user.company_id
            name = self.company_names.get(company_id)
            return _rejected(request, email_taken(company_id, name))
        user = match.user
        if created_here:
            return _outcome(
                request, Status.CREATED, user_id=user.user_id, bc_id=user.bc_id
            )
        return _outcome(
            request,
            Status.EXISTS,
            user_id=user.user_id,
            bc_id=user.bc_id,
            message="A user with this email already exists in this Company.",
        )

    def sent_unanswered(self, request: UserRequest) -> bool:
        """Tell whether a create of the row went unanswered, in any run."""
        return request.row_number in self.unknown

    def absent_before(self, request: UserRequest) -> bool:
        """Tell whether the row's user did not exist before this job sent it."""
        return (
            request.row_number in self.unknown
            or request.row_number in self.checked_absent
        )

    def auth_failed(self, error: AuthError) -> None:
        if self.stop.reason != STOP_AUTH:
            log.error("auth_failed", status=error.status, error=str(error))
        self.stop.request(STOP_AUTH)

    def finish(self, outcomes: Sequence[RowOutcome]) -> None:
        """Record outcomes in the journal, then log and report each one."""
        if not outcomes:
            return
        self.journal.record(outcomes)
        for outcome in outcomes:
            self.recorded[str(outcome.status)] += 1
            log.info(
                "row_outcome",
                row=outcome.row_number,
                status=str(outcome.status),
                user_id=outcome.user_id,
                code=outcome.code,
            )
            if self.on_outcome is not None:
                self.on_outcome(outcome)


_NOT_FOUND_AFTER_CRASH = (
    "An earlier run sent this row but stopped before the answer; no user with this "
    "email exists, so the row is sent again."
)


@dataclass(slots=True)
class _BulkResponse:
    """A bulk response in ``verify`` mode whose ids are not all matched to rows.

    ``rows`` are the batch's rows still unmatched, ``ids`` the returned ids by
    user id, ``emails`` the email keys of the whole batch, and ``attempts`` the
    sends of the batch so far.
    """

    rows: list[UserRequest]
    ids: dict[int, CreatedIds]
    emails: frozenset[str]
    attempts: int


@dataclass(slots=True)
class _Unverified:
    """The bulk responses waiting to be matched to rows, and the store's listing.

    ``sent`` counts the rows sent in bulk, and ``created_since_read`` the rows
    reported created since a page of new users was last read. The lock lets one
    worker at a time read the listing.
    """

    listing: UserListing
    responses: list[_BulkResponse] = field(default_factory=list)
    sent: int = 0
    created_since_read: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def waiting(self) -> int:
        return sum(len(response.rows) for response in self.responses)


def _contradicts(response: _BulkResponse, listing: UserListing) -> bool:
    """Tell whether listed users disagree with the ids a bulk response returned."""
    for user_id in response.ids:
        user = listing.users.get(user_id)
        if user is not None and user.email.casefold() not in response.emails:
            return True
    for request in response.rows:
        user = listing.by_email.get(request.email_key)
        if user is None:
            continue
        if user.user_id not in response.ids or user.company_id != request.company_id:
            return True
    return False


def _worth_reading(pages_ahead: int | None, rows_waiting: int) -> bool:
    """Tell whether reading on costs no more than one look-up per waiting row.

    Before the first read the size is unknown, and one page shows it.
    """
    if pages_ahead is None:
        return True
    return 0 < pages_ahead <= rows_waiting


def _outcome(
    request: UserRequest,
    status: Status,
    *,
    user_id: int | None = None,
    bc_id: int | None = None,
    code: str | None = None,
    message: str | None = None,
) -> RowOutcome:
    return RowOutcome(
        row_number=request.row_number,
        status=status,
        user_id=user_id,
        bc_id=bc_id,
        code=code,
        message=message,
    )


def _created(request: UserRequest, ids: CreatedIds) -> RowOutcome:
    return _outcome(request, Status.CREATED, user_id=ids.user_id, bc_id=ids.bc_id)


def _rejected(request: UserRequest, rejection: Rejection) -> RowOutcome:
    return _outcome(
        request, Status.REJECTED, code=rejection.code, message=rejection.render()
    )


def _duplicate_email(request: UserRequest, first_row: int) -> RowOutcome:
    return _outcome(
        request,
        Status.CONFLICT,
        code=EMAIL_DUPLICATE,
        message=(
            f"Row {first_row} has the same email, and each email can belong to only "
            "one user. Remove one of the two rows."
        ),
    )


def _not_sent(request: UserRequest, reason: str | None) -> RowOutcome:
    if reason == STOP_AUTH:
        message = (
            "Not sent: the API rejected the credentials. Check the API token and its "
            "B2B Edition scope, then run again."
        )
    else:
        message = f"Not sent: the run was stopped ({reason}). The next run sends it."
    return _outcome(request, Status.PENDING, code=NOT_SENT, message=message)


def _api_unavailable(request: UserRequest, error: TransientApiError) -> RowOutcome:
    return _outcome(
        request,
        Status.FAILED,
        code=API_UNAVAILABLE,
        message=(
            f"The API did not take the request: {_sentence(error)} The next run "
            "sends the row again."
        ),
    )


def _no_answer(request: UserRequest, attempts: int) -> RowOutcome:
    return _outcome(
        request,
        Status.FAILED,
        code=NO_ANSWER,
        message=(
            f"The API did not answer {attempts} creates and no user with this email "
            "exists. The next run sends the row again."
        ),
    )


def _preflight_failed(request: UserRequest, error: TransientApiError) -> RowOutcome:
    return _outcome(
        request,
        Status.FAILED,
        code=LOOKUP_FAILED,
        message=(
            "Not sent: checking whether the user exists failed: "
            f"{_sentence(error)} The next run checks again."
        ),
    )


def _sentence(error: Exception) -> str:
    text = str(error).strip()
    return text if text.endswith(".") else text + "."


def _lookup_failed(request: UserRequest, reason: str | None) -> RowOutcome:
    status = Status.PENDING if reason == STOP_AUTH else Status.FAILED
    return _outcome(
        request,
        status,
        code=LOOKUP_FAILED,
        message=(
            "The API answered that the email already exists, but looking the user up "
            "failed. The next run checks the email again."
        ),
    )
