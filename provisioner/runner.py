"""Wire the stages into one job run: load, resolve, validate, journal, send, report.

The CLI calls these coroutines inside a single ``asyncio.run`` so one HTTP client
(and one connection pool and rate limiter) serves the whole run, however many sheets
it processes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import structlog

from provisioner.api.types import B2BApi
from provisioner.config import Config
from provisioner.dispatch import StopToken, dispatch
from provisioner.errors import InputFileError
from provisioner.exitcodes import ExitCode
from provisioner.fields import normalise_header
from provisioner.jobs import Job
from provisioner.journal import Journal
from provisioner.loading import load_sheet
from provisioner.model import (
    ATTENTION_STATUSES,
    LoadedSheet,
    RowIssue,
    RowOutcome,
    RowResult,
    Status,
    UserRequest,
)
from provisioner.plan import Plan, plan_run
from provisioner.report import ReportRow, ResultPaths, write_results
from provisioner.store import StoreCatalog, collect_company_refs
from provisioner.validate import OfflineCatalog, validate_sheet

log = structlog.get_logger("provisioner.run")

#: The order statuses appear in the summary line.
SUMMARY_ORDER = (
    Status.CREATED,
    Status.EXISTS,
    Status.WOULD_CREATE,
    Status.VALID,
    Status.SKIPPED,
    Status.INVALID,
    Status.REJECTED,
    Status.CONFLICT,
    Status.FAILED,
    Status.PENDING,
)


@dataclass(frozen=True, slots=True)
class SheetOptions:
    """How to read the input: which sheet, header row and text encoding."""

    sheet: str | None = None
    header_row: int | None = None
    encoding: str | None = None


@dataclass(slots=True)
class RunResult:
    """The result of one run of one sheet, for the summary line and the exit code."""

    label: str
    counts: Counter[str] = field(default_factory=Counter)
    results: ResultPaths | None = None
    stopped: str | None = None
    auth_failed: bool = False
    requests: int = 0
    plan: Plan | None = None
    plan_rate: float = 0.0

    @property
    def exit_code(self) -> ExitCode:
        return exit_code_for([self])

    def summary_line(self) -> str:
        total = sum(self.counts.values())
        parts = [
            f"{self.counts[status]} {status.value}"
            for status in SUMMARY_ORDER
            if self.counts.get(status)
        ]
        line = f"{self.label}: {total} rows: " + (", ".join(parts) or "nothing to do")
        if self.plan is not None:
            line += (
                f"; the run would take about {self.plan.requests} requests, "
                f"{self.plan.minutes:.1f} minutes at {self.plan_rate:g} requests "
                "a minute"
            )
        if self.stopped:
            line += f"; stopped early ({self.stopped})"
        return line


def exit_code_for(results: Sequence[RunResult]) -> ExitCode:
    """Map run outcomes to one exit code; the most urgent condition wins."""
    counts: Counter[str] = Counter()
    for result in results:
        counts.update(result.counts)
    if any(result.auth_failed for result in results) or counts.get(Status.FAILED):
        return ExitCode.API_UNAVAILABLE
    if any(result.stopped for result in results) or counts.get(Status.PENDING):
        return ExitCode.INTERRUPTED
    if any(counts.get(status) for status in ATTENTION_STATUSES):
        return ExitCode.ROWS_NEED_ATTENTION
    return ExitCode.OK


def load_input(
    path: Path,
    config: Config,
    options: SheetOptions,
    *,
    extra_field_names: Sequence[str] = (),
) -> LoadedSheet:
    sheet = load_sheet(
        path,
        sheet=options.sheet,
        header_row=options.header_row,
        encoding=options.encoding,
        extra_field_names=extra_field_names,
        header_aliases=config.header_aliases,
        limits=config.limits,
    )
    if not sheet.rows:
        raise InputFileError(
            f"{path.name}: the sheet {sheet.sheet_name!r} has a header row but no "
            "data rows. Add the users under the header row."
        )
    return sheet


def load_summary(sheet: LoadedSheet, source_name: str) -> dict[str, object]:
    report = sheet.report
    summary: dict[str, object] = {
        "file": source_name,
        "format": report.file_format,
        "sheet": sheet.sheet_name,
        "header row": report.header_row,
        "data rows": len(sheet.rows),
    }
    if report.encoding:
        summary["encoding"] = report.encoding
    if report.delimiter:
        summary["delimiter"] = {"\t": "tab"}.get(report.delimiter, report.delimiter)
    if report.blank_rows_skipped:
        summary["blank rows skipped"] = report.blank_rows_skipped
    if report.note_rows_skipped:
        summary["note rows skipped"] = report.note_rows_skipped
    if report.merged_cells_filled:
        summary["merged cells filled"] = report.merged_cells_filled
    if report.unknown_columns:
        summary["unknown columns (ignored)"] = ", ".join(report.unknown_columns)
    for number, note in enumerate(report.notes, start=1):
        summary[f"note {number}"] = note
    return summary


def describe_load(sheet: LoadedSheet) -> str:
    """Return one line for the terminal that describes how the file was read."""
    report = sheet.report
    parts = [f"sheet {sheet.sheet_name!r}", f"header on row {report.header_row}"]
    if report.encoding:
        parts.append(f"encoding {report.encoding}")
    if report.delimiter:
        parts.append(
            "delimiter " + {"\t": "tab"}.get(report.delimiter, repr(report.delimiter))
        )
    if report.unknown_columns:
        parts.append("unknown columns ignored: " + ", ".join(report.unknown_columns))
    return "Read " + ", ".join(parts)


def _report_rows(
    results: Sequence[RowResult], outcomes: dict[int, RowOutcome]
) -> list[ReportRow]:
    rows: list[ReportRow] = []
    for result in results:
        number = result.row.row_number
        outcome = outcomes.get(number)
        if outcome is None:
            status = result.status or (
                Status.PENDING if result.request else Status.INVALID
            )
            issues = list(result.issues)
            error = "\n".join(issue.render() for issue in issues) or None
            rows.append(
                ReportRow(number, status, None, None, error, issues, result.row)
            )
            continue
        # Cell highlights come from this run's validation. They apply only while the
        # journal still records the row as invalid.
        issues = (
            list(result.issues)
            if outcome.status == Status.INVALID
            else [issue for issue in result.issues if issue.severity == "warning"]
        )
        error = outcome.message
        if error is None and outcome.status == Status.INVALID:
            error = "\n".join(issue.render() for issue in issues) or None
        rows.append(
            ReportRow(
                number,
                outcome.status,
                outcome.user_id,
                outcome.bc_id,
                error,
                issues,
                result.row,
                code=outcome.code,
            )
        )
    return rows


def write_report(
    path: Path,
    sheet: LoadedSheet,
    rows: Sequence[ReportRow],
    *,
    summary: dict[str, object],
    copy_to: Path | None,
) -> ResultPaths:
    paths = write_results(path, sheet, rows, summary=summary)
    if copy_to is not None and copy_to.resolve() != path.resolve():
        copy_to.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(paths.xlsx, copy_to)
        shutil.copyfile(paths.csv, copy_to.with_suffix(".csv"))
        copy_to.chmod(0o600)
        copy_to.with_suffix(".csv").chmod(0o600)
    return paths


def offline_validate(
    path: Path, config: Config, options: SheetOptions, results_path: Path
) -> tuple[RunResult, LoadedSheet]:
    """Load and validate with no store access; write the annotated workbook."""
    sheet = load_input(path, config, options)
    results = validate_sheet(sheet, OfflineCatalog(), defaults=config.defaults)
    for result in results:
        # Nothing is sent here, so a row that could be sent is simply valid.
        if result.request is not None and result.status is None:
            result.status = Status.VALID
    rows = _report_rows(results, {})
    counts: Counter[str] = Counter(row.status for row in rows)
    summary = load_summary(sheet, path.name)
    summary["mode"] = (
        "validate (nothing sent; Company, role and channel names unchecked)"
    )
    summary.update({f"rows {status}": count for status, count in counts.items()})
    paths = write_results(results_path, sheet, rows, summary=summary)
    return RunResult(label=path.name, counts=counts, results=paths), sheet


def correction_options(path: Path, options: SheetOptions) -> SheetOptions:
    """Read a dropped-back results workbook from its ``Failed`` sheet by default.

    The whole workbook matches the header row twice (``Results`` and ``Failed``), and
    ``Failed`` is the sheet the run book asks people to correct.
    """
    if options.sheet is not None:
        return options
    try:
        with zipfile.ZipFile(path) as archive:
            workbook_xml = archive.read("xl/workbook.xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return options
    if b'name="Failed"' in workbook_xml:
        return replace(options, sheet="Failed")
    return options


async def read_store(
    api: B2BApi,
    sheets: Sequence[tuple[Path, SheetOptions]],
    config: Config,
) -> tuple[list[LoadedSheet], StoreCatalog]:
    """Load the sheets with the store's extra fields known, then resolve their refs."""
    extra_fields = await api.list_extra_fields()
    names = [definition.name for definition in extra_fields]
    loaded = [
        load_input(path, config, options, extra_field_names=names)
        for path, options in sheets
    ]
    refs = set()
    for sheet in loaded:
        refs |= collect_company_refs(sheet)
    catalog = await StoreCatalog.load(
        api,
        company_refs=refs,
        default_channel_ids=config.defaults.channel_ids,
        extra_fields=extra_fields,
    )
    return loaded, catalog


async def plan_sheet(
    api: B2BApi, path: Path, config: Config, options: SheetOptions, results_path: Path
) -> RunResult:
    """Predict each row's status against the store; create nothing."""
    (sheet,), catalog = await read_store(
        api, [(path, correction_options(path, options))], config
    )
    results = validate_sheet(sheet, catalog, defaults=config.defaults)
    plan = await plan_run(
        results,
        api=api,
        send=config.send,
        rate=config.rate,
        store_requests=catalog.requests + 1,
    )
    by_row = {row.row_number: row for row in plan.rows}
    outcomes = {
        number: RowOutcome(
            number, row.status, row.user_id, row.bc_id, message=row.message
        )
        for number, row in by_row.items()
        if row.status != Status.INVALID
    }
    rows = _report_rows(results, outcomes)
    counts: Counter[str] = Counter(row.status for row in rows)
    summary = load_summary(sheet, path.name)
    summary["mode"] = "plan (nothing created)"
    summary["estimated requests"] = plan.requests
    summary["estimated minutes"] = round(plan.minutes, 1)
    summary.update({f"rows {status}": count for status, count in counts.items()})
    paths = write_results(results_path, sheet, rows, summary=summary)
    return RunResult(
        label=path.name,
        counts=counts,
        results=paths,
        plan=plan,
        plan_rate=config.rate.requests_per_minute,
        requests=api.stats.requests,
    )


def _original_row_numbers(
    correction: LoadedSheet, job_rows: set[int], job_id: str
) -> dict[int, int]:
    """Map a corrected sheet's rows to the job's rows through its ``row`` column.

    Raises ``InputFileError`` when a line has no usable row number, names a row the
    job does not have, or names the same row as another line: sending such a line
    would create a user the job cannot account for.
    """
    row_column = next(
        (
            column
            for column in correction.columns
            if normalise_header(column.header) == "row"
        ),
        None,
    )
    if row_column is None:
        raise InputFileError(
            f"{correction.path.name} has no 'row' column, so its rows cannot be "
            "matched to the job's rows. Drop back the Failed sheet of the results "
            "workbook with its 'row' column kept."
        )
    mapping: dict[int, int] = {}
    claimed: dict[int, int] = {}
    problems: list[str] = []
    for source_row in correction.rows:
        where = correction.cell_ref(row_column, source_row.row_number)
        value = source_row.cells[row_column.index].value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{where} has no row number of the job")
        elif value not in job_rows:
            problems.append(
                f"{where} names row {value}, which job {job_id} does not have"
            )
        elif value in claimed:
            problems.append(
                f"{where} names row {value}, as line {claimed[value]} already does"
            )
        else:
            claimed[value] = source_row.row_number
            mapping[source_row.row_number] = value
    if problems:
        listed = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise InputFileError(
            f"{correction.path.name} cannot be matched to job {job_id}: "
            f"{listed}{more}. "
            "Each line of a corrected sheet keeps the 'row' value it had in the "
            "Failed sheet; add new people in a new sheet instead. Nothing was sent."
        )
    return mapping


def _reject_emails_of_other_rows(
    sheet: LoadedSheet,
    results: Sequence[RowResult],
    mapping: dict[int, int],
    journal: Journal,
) -> None:
    """Make a corrected row invalid when another row of the job has its email.

    A corrected sheet contains only some of the job's rows, so the validator's own
    duplicate check cannot see the rest. Without this check, a row rejected as a
    duplicate would come back as ``exists``, and its differing values would be lost.
    """
    holders: dict[str, int] = {}
    for row in journal.rows():
        if row.email_key and row.status not in (Status.INVALID, Status.SKIPPED):
            holders.setdefault(row.email_key, row.row_number)
    email_column = sheet.column_for("email")
    for result in results:
        request = result.request
        original = mapping.get(result.row.row_number)
        if request is None or original is None:
            continue
        holder = holders.get(request.email_key)
        if holder is None or holder == original:
            continue
        cell = (
            sheet.cell_ref(email_column, result.row.row_number)
            if email_column is not None
            else None
        )
        result.request = None
        result.status = Status.INVALID
        result.issues.append(
            RowIssue(
                code="DUPLICATE_EMAIL",
                message=(
                    f"Row {holder} of this job already has the email {request.email}."
                ),
                fix="Keep one row per person: correct the email, or delete this row.",
                column=email_column.header if email_column is not None else None,
                cell=cell,
            )
        )


def external_ref(file_name: str, cell: str) -> str:
    """Turn ``Failed!A4`` into Excel's reference into another workbook.

    ``[week-fixed.xlsx]Failed!A4`` names the file the cell is in, so a message about
    a corrected sheet still points at the right cell once the job's own workbook
    has been rewritten. Names with spaces or quotes are quoted as Excel does.
    """
    sheet, _, address = cell.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    book_and_sheet = f"[{file_name}]{sheet}"
    if not re.fullmatch(r"[\w.\-\[\]]+", book_and_sheet):
        book_and_sheet = "'" + book_and_sheet.replace("'", "''") + "'"
    return f"{book_and_sheet}!{address}"


def _remap(
    results: Sequence[RowResult], mapping: dict[int, int], file_name: str
) -> list[RowResult]:
    remapped: list[RowResult] = []
    for result in results:
        original = mapping.get(result.row.row_number)
        if original is None:
            continue
        row = replace(result.row, row_number=original)
        request = result.request
        if request is not None:
            request = replace(request, row_number=original)
        issues = [
            replace(issue, cell=external_ref(file_name, issue.cell))
            if issue.cell
            else issue
            for issue in result.issues
        ]
        remapped.append(replace(result, row=row, request=request, issues=issues))
    return remapped


async def run_job(
    api: B2BApi,
    job: Job,
    config: Config,
    options: SheetOptions,
    *,
    stop: StopToken,
    correction: Path | None = None,
    copy_results_to: Path | None = None,
    on_outcome: Callable[[RowOutcome], None] | None = None,
    on_planned: Callable[[int], None] | None = None,
) -> RunResult:
    """Run one job: send what is not done yet, then rewrite its results workbook.

    With ``correction``, only the rows of that corrected sheet (matched to the job's
    rows by its ``row`` column) are validated and sent.
    """
    bound = log.bind(job=job.job_id)
    with Journal.open(job.journal_path) as journal:
        journal.acquire_lock()
        inputs = [(job.input_path, options)]
        if correction is not None:
            inputs.append((correction, correction_options(correction, options)))
        loaded, catalog = await read_store(api, inputs, config)
        sheet = loaded[0]
        results = validate_sheet(sheet, catalog, defaults=config.defaults)
        if correction is None:
            to_sync = results
        else:
            fixed = loaded[1]
            fixed_results = validate_sheet(fixed, catalog, defaults=config.defaults)
            job_rows = {row.row_number for row in sheet.rows}
            mapping = _original_row_numbers(fixed, job_rows, job.job_id)
            _reject_emails_of_other_rows(fixed, fixed_results, mapping, journal)
            to_sync = _remap(fixed_results, mapping, correction.name)
            bound.info("correction_loaded", file=correction.name, rows=len(to_sync))
        journal.sync(to_sync)
        # A run killed from here on leaves rows for a later run: mark the job open
        # now, so nightly retries it.
        job.update(state="open")
        # Reading and validating never yield to the event loop, so a signal that
        # came meanwhile is still queued: two turns of the loop run its handler.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        if stop.requested:
            # A signal that came while the sheet was read stops the run before any
            # send; the rows stay pending for the next run.
            bound.info("stopped_before_sending", reason=stop.reason)
            to_sync = [result for result in to_sync if result.request is None]
        requests: list[UserRequest] = [
            r.request for r in to_sync if r.request is not None
        ]
        if on_planned is not None:
            on_planned(len(requests))
        bound.info("dispatch_started", rows=len(sheet.rows), to_send=len(requests))
        if config.log_personal_data:
            on_outcome = _with_personal_detail(on_outcome, requests, bound)
        summary = await dispatch(
            requests,
            api=api,
            journal=journal,
            send=config.send,
            max_concurrency=config.rate.max_concurrency,
            max_attempts=config.rate.max_attempts,
            stop=stop,
            on_outcome=on_outcome,
        )
        outcomes = journal.outcomes()

    rows = _report_rows(results, outcomes)
    counts: Counter[str] = Counter(row.status for row in rows)
    report_summary = load_summary(
        sheet, str(job.meta.get("source_name", sheet.path.name))
    )
    report_summary["job_id"] = job.job_id
    report_summary["finished at"] = dt.datetime.now(dt.UTC).isoformat(
        timespec="seconds"
    )
    report_summary.update({f"rows {status}": count for status, count in counts.items()})
    if summary.stopped:
        report_summary["stopped"] = summary.stopped
    written = write_report(
        job.results_path, sheet, rows, summary=report_summary, copy_to=copy_results_to
    )
    job.update(
        state="done"
        if not (counts.get(Status.PENDING) or counts.get(Status.FAILED))
        else "open",
        counts=dict(counts),
        last_run=report_summary["finished at"],
    )
    result = RunResult(
        label=str(job.meta.get("source_name", job.job_id)),
        counts=counts,
        results=written,
        stopped=summary.stopped,
        auth_failed=summary.auth_failed,
        requests=api.stats.requests,
    )
    bound.info(
        "run_finished",
        **{str(k): v for k, v in counts.items()},
        stopped=summary.stopped,
    )
    return result


def _with_personal_detail(
    on_outcome: Callable[[RowOutcome], None] | None,
    requests: Sequence[UserRequest],
    bound: Any,
) -> Callable[[RowOutcome], None]:
    """Log each outcome with the row's email, for runs started with personal data on."""
    emails = {request.row_number: request.email for request in requests}

    def report(outcome: RowOutcome) -> None:
        bound.info(
            "row_detail",
            row=outcome.row_number,
            status=str(outcome.status),
            email=emails.get(outcome.row_number),
            message=outcome.message,
        )
        if on_outcome is not None:
            on_outcome(outcome)

    return report


def deadline_from(
    max_minutes: float | None, until: dt.time | None, *, now: dt.datetime | None = None
) -> float | None:
    """Return the number of seconds until the earlier of the two limits, or None."""
    current = now or dt.datetime.now()
    limits: list[float] = []
    if max_minutes is not None:
        limits.append(max_minutes * 60)
    if until is not None:
        target = current.replace(
            hour=until.hour, minute=until.minute, second=0, microsecond=0
        )
        if target <= current:
            target += dt.timedelta(days=1)
        limits.append((target - current).total_seconds())
    return min(limits) if limits else None


async def stop_at(stop: StopToken, seconds: float) -> None:
    await asyncio.sleep(seconds)
    stop.request("deadline")


def results_label(counts: Counter[str]) -> dict[str, Any]:
    return {str(status): count for status, count in counts.items()}
