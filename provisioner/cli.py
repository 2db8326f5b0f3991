"""The ``provisioner`` command: parse options, wire the stages, map exit codes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import signal
import sqlite3
import sys
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import structlog

from provisioner import __version__
from provisioner.api.client import B2BClient
from provisioner.config import Config, Secret, load_config, read_token
from provisioner.dispatch import StopToken
from provisioner.errors import (
    ApiError,
    AuthError,
    ConfigError,
    InputFileError,
    JobLockedError,
    ProvisionerError,
    StopBeforeSending,
)
from provisioner.exitcodes import ExitCode
from provisioner.jobs import (
    CORRECTIONS_DIR,
    Job,
    correction_seen,
    file_sha256,
    find_job,
    list_jobs,
    locked,
    resolve_job_for_sheet,
    store_correction,
)
from provisioner.journal import Journal
from provisioner.logsetup import configure_logging
from provisioner.model import RowOutcome
from provisioner.report import read_job_marker
from provisioner.runner import (
    RunResult,
    SheetOptions,
    deadline_from,
    exit_code_for,
    offline_validate,
    plan_sheet,
    run_job,
    stop_at,
)

T = TypeVar("T")
log = structlog.get_logger("provisioner.cli")


def fail(message: str, code: ExitCode) -> NoReturn:
    click.echo(f"provisioner: {message}", err=True)
    sys.exit(int(code))


@contextlib.contextmanager
def error_exits() -> Iterator[None]:
    """Turn the provisioner's errors into a message and a documented exit code."""
    try:
        yield
    except StopBeforeSending as exc:
        fail(str(exc), ExitCode.INPUT_OR_CONFIG)
    except JobLockedError as exc:
        fail(str(exc), ExitCode.LOCKED)
    except AuthError as exc:
        fail(f"{exc} Rows not sent stay pending.", ExitCode.API_UNAVAILABLE)
    except ApiError as exc:
        fail(
            f"the B2B API is unavailable: {exc} Try again later.",
            ExitCode.API_UNAVAILABLE,
        )
    except ProvisionerError as exc:
        fail(str(exc), ExitCode.INPUT_OR_CONFIG)
    except KeyboardInterrupt:
        fail("interrupted before anything was sent.", ExitCode.INTERRUPTED)
    except sqlite3.DatabaseError as exc:
        fail(
            f"a job journal cannot be read ({exc}). The file is damaged: move that "
            "job's folder out of the jobs folder, then run again; its sheet can be "
            "run again as a new job, and users it created are found as existing.",
            ExitCode.INPUT_OR_CONFIG,
        )
    except (SystemExit, click.exceptions.Exit, click.ClickException):
        raise
    except Exception as exc:
        # A bug: show where without local variables, which could hold the token.
        summary = traceback.format_exception(
            type(exc), exc, exc.__traceback__, limit=-8
        )
        log.error("internal_error", error=type(exc).__name__, trace="".join(summary))
        fail(
            f"internal error ({type(exc).__name__}). This is a bug in provisioner; "
            "the log above has the details. Nothing already recorded is lost: "
            "re-run the same command to carry on.",
            ExitCode.INTERNAL,
        )


def check_minutes(value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(
            f"{value} is not a number of minutes, like 90.", param_hint="--max-minutes"
        )


def parse_until(value: str | None) -> dt.time | None:
    if value is None:
        return None
    try:
        return dt.datetime.strptime(value, "%H:%M").time()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time like 06:30.") from None


@contextlib.asynccontextmanager
async def signal_stop(stop: StopToken) -> AsyncIterator[None]:
    """Let SIGINT and SIGTERM stop new sends instead of killing the run."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.request, f"signal {signum.name}")
            installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


@contextlib.contextmanager
def api_target(config: Config, use_sandbox: bool) -> Iterator[tuple[Config, Secret]]:
    """Yield the configuration and token for the store, or an in-process sandbox."""
    if not use_sandbox:
        yield config, read_token(config)
        return
    from provisioner.sandbox import SandboxOptions, start_sandbox

    options = SandboxOptions()
    with start_sandbox(options) as sandbox:
        click.echo(f"Sandbox B2B API running at {sandbox.base_url}", err=True)
        configured = config.with_api(
            base_url=sandbox.base_url, store_hash=options.store_hash
        )
        yield configured, Secret(options.token)


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(factory())


class Progress:
    """A progress bar on a terminal; nothing otherwise (the JSON log has each row)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def start(self, total: int) -> None:
        if not sys.stderr.isatty() or total == 0:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("sending", total=total)

    def advance(self, outcome: RowOutcome) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def terminal_level(log_level: str | None) -> str | None:
    """Return the terminal's log level: warnings only, unless --log-level is given."""
    return "warning" if log_level is None and sys.stderr.isatty() else None


def setup(config_path: Path | None, *, log_level: str | None, personal: bool) -> Config:
    config = load_config(config_path)
    if personal:
        from dataclasses import replace

        config = replace(config, log_personal_data=True)
    configure_logging(
        level=log_level or config.log_level, personal_data=config.log_personal_data
    )
    return config


CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML settings file (see config.example.toml). Default: built-in settings.",
)
SANDBOX_OPTION = click.option(
    "--sandbox",
    is_flag=True,
    help="Run against a sandbox B2B API started inside this process, not the store.",
)
SHEET_ARGUMENT = click.argument(
    "sheet_path", metavar="SHEET", type=click.Path(path_type=Path, dir_okay=False)
)


def sheet_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "--sheet", "sheet_name", help="Name of the worksheet to read (XLSX)."
    )(function)
    function = click.option(
        "--header-row", type=click.IntRange(min=1), help="Row number of the header row."
    )(function)
    function = click.option(
        "--encoding",
        help="Text encoding of a CSV file, e.g. cp1252; default: detected.",
    )(function)
    function = click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning", "error"]),
        help="Log detail on stderr and in the job log.",
    )(function)
    return function


@click.group()
@click.version_option(__version__, prog_name="provisioner")
def main() -> None:
    """Create BigCommerce B2B Edition Company users from a spreadsheet."""


@main.command()
@SHEET_ARGUMENT
@CONFIG_OPTION
@SANDBOX_OPTION
@click.option(
    "--results",
    "results_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the results workbook here (the job folder always has a copy).",
)
@click.option(
    "--mode", type=click.Choice(["bulk", "single"]), help="Override send.mode."
)
@click.option(
    "--max-minutes", type=click.FloatRange(min=0), help="Stop sending after N minutes."
)
@click.option(
    "--until", "until_text", metavar="HH:MM", help="Stop sending at this time."
)
@click.option(
    "--log-personal-data", is_flag=True, help="Allow emails and names in the logs."
)
@sheet_options
def run(
    sheet_path: Path,
    config_path: Path | None,
    sandbox: bool,
    results_path: Path | None,
    mode: str | None,
    max_minutes: float | None,
    until_text: str | None,
    log_personal_data: bool,
    sheet_name: str | None,
    header_row: int | None,
    encoding: str | None,
    log_level: str | None,
) -> None:
    """Create the users in SHEET and write the results workbook.

    Re-running the same sheet resumes its job: rows already done are not sent again.
    """
    until = parse_until(until_text)
    check_minutes(max_minutes)
    options = SheetOptions(sheet=sheet_name, header_row=header_row, encoding=encoding)
    with error_exits():
        check_results_path(results_path, sheet_path)
        config = setup(config_path, log_level=log_level, personal=log_personal_data)
        if mode:
            from dataclasses import replace

            config = replace(config, send=replace(config.send, mode=mode))
        job, resumed, correction = pick_job(config, sheet_path)
        configure_logging(
            level=log_level or config.log_level,
            json_file=job.log_path,
            personal_data=config.log_personal_data,
        )
        click.echo(
            f"{'Resuming' if resumed else 'Started'} job {job.job_id} in {job.path}",
            err=True,
        )
        with api_target(config, sandbox) as (target, token):
            configure_logging(
                level=log_level or config.log_level,
                json_file=job.log_path,
                secrets=[token.reveal()],
                personal_data=config.log_personal_data,
                stream_level=terminal_level(log_level),
            )
            result = run_async(
                lambda: _run_one(
                    target,
                    token,
                    job,
                    options,
                    results_path,
                    max_minutes,
                    until,
                    correction,
                )
            )
    click.echo(result.summary_line())
    if result.results is not None:
        click.echo(f"Results: {results_path or result.results.xlsx}")
    sys.exit(int(result.exit_code))


def default_output(sheet_path: Path, kind: str) -> Path:
    """Name the workbook in the current folder after the sheet and its format."""
    suffix = sheet_path.suffix.lower().lstrip(".")
    stem = f"{sheet_path.stem}-{suffix}" if suffix else sheet_path.stem
    return Path(f"{stem}-{kind}.xlsx")


def check_results_path(results_path: Path | None, sheet_path: Path) -> None:
    """Reject a results path that would overwrite the input or needs a new folder."""
    if results_path is None:
        return
    if results_path.suffix.lower() != ".xlsx":
        raise ConfigError(
            f"--results {results_path} must end in .xlsx; the CSV copy is written "
            "beside it."
        )
    for written in (results_path, results_path.with_suffix(".csv")):
        if sheet_path.exists() and written.exists() and written.samefile(sheet_path):
            raise ConfigError(
                f"--results {results_path} would overwrite the input sheet "
                f"{sheet_path}, because the results go to {results_path.name} and "
                f"{results_path.with_suffix('.csv').name}. Choose another file name."
            )
    if not results_path.parent.is_dir():
        raise ConfigError(
            f"--results {results_path}: the folder {results_path.parent} does not "
            "exist. Create it first or choose another path."
        )


def pick_job(config: Config, sheet_path: Path) -> tuple[Job, bool, Path | None]:
    """Find the job for a sheet: its own, or the one a results workbook came from."""
    if not sheet_path.is_file():
        raise InputFileError(f"{sheet_path} does not exist or is not a file.")
    try:
        marker = read_job_marker(sheet_path)
    except (OSError, ValueError, ProvisionerError):
        marker = None
    linked = find_job(config.jobs.jobs_dir, marker) if marker else None
    if linked is not None and linked.input_path.exists():
        sha256 = file_sha256(sheet_path)
        if correction_seen(linked, sha256):
            stored = next(
                entry["file"]
                for entry in linked.meta["corrections"]
                if entry.get("sha256") == sha256
            )
            return linked, True, linked.path / CORRECTIONS_DIR / stored
        return linked, True, store_correction(linked, sheet_path, move=False)
    job, resumed = resolve_job_for_sheet(config.jobs.jobs_dir, sheet_path)
    return job, resumed, None


async def _run_one(
    config: Config,
    token: Secret,
    job: Job,
    options: SheetOptions,
    results_path: Path | None,
    max_minutes: float | None,
    until: dt.time | None,
    correction: Path | None,
) -> RunResult:
    stop = StopToken()
    progress = Progress()
    deadline = deadline_from(max_minutes, until)
    timer = (
        asyncio.create_task(stop_at(stop, deadline)) if deadline is not None else None
    )
    try:
        async with signal_stop(stop), B2BClient.from_config(config, token) as api:
            return await run_job(
                api,
                job,
                config,
                options,
                stop=stop,
                correction=correction,
                copy_results_to=results_path,
                on_outcome=progress.advance,
                on_planned=progress.start,
            )
    finally:
        progress.close()
        if timer is not None:
            timer.cancel()


@main.command()
@SHEET_ARGUMENT
@CONFIG_OPTION
@click.option(
    "--results",
    "results_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the annotated workbook. Default: NAME-EXT-validation.xlsx.",
)
@sheet_options
def validate(
    sheet_path: Path,
    config_path: Path | None,
    results_path: Path | None,
    sheet_name: str | None,
    header_row: int | None,
    encoding: str | None,
    log_level: str | None,
) -> None:
    """Check SHEET without contacting the store, and mark every bad cell.

    Company, role and channel names are checked by `provisioner plan`, which reads
    the store.
    """
    options = SheetOptions(sheet=sheet_name, header_row=header_row, encoding=encoding)
    target = results_path or default_output(sheet_path, "validation")
    with error_exits():
        check_results_path(target, sheet_path)
        config = setup(config_path, log_level=log_level, personal=False)
        result, sheet = offline_validate(sheet_path, config, options, target)
        from provisioner.runner import describe_load

        click.echo(describe_load(sheet), err=True)
    click.echo(result.summary_line())
    click.echo(f"Results: {target}")
    sys.exit(int(result.exit_code))


@main.command()
@SHEET_ARGUMENT
@CONFIG_OPTION
@SANDBOX_OPTION
@click.option(
    "--results",
    "results_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the plan workbook. Default: NAME-EXT-plan.xlsx.",
)
@sheet_options
def plan(
    sheet_path: Path,
    config_path: Path | None,
    sandbox: bool,
    results_path: Path | None,
    sheet_name: str | None,
    header_row: int | None,
    encoding: str | None,
    log_level: str | None,
) -> None:
    """Show what `run` would do with SHEET, reading the store but creating nothing."""
    options = SheetOptions(sheet=sheet_name, header_row=header_row, encoding=encoding)
    target = results_path or default_output(sheet_path, "plan")
    with error_exits():
        check_results_path(target, sheet_path)
        config = setup(config_path, log_level=log_level, personal=False)
        with api_target(config, sandbox) as (configured, token):
            configure_logging(
                level=log_level or config.log_level, secrets=[token.reveal()]
            )

            async def go() -> RunResult:
                async with B2BClient.from_config(configured, token) as api:
                    return await plan_sheet(
                        api, sheet_path, configured, options, target
                    )

            result = run_async(go)
    click.echo(result.summary_line())
    click.echo(f"Plan: {target}")
    sys.exit(int(exit_code_for([result])))


@main.command()
@click.argument(
    "path",
    required=False,
    default=Path("users-template.xlsx"),
    type=click.Path(path_type=Path, dir_okay=False),
)
@click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
def template(path: Path, force: bool) -> None:
    """Write an XLSX template with the expected headers and an instructions sheet."""
    from provisioner.template import write_template

    with error_exits():
        if path.exists() and not force:
            raise ConfigError(
                f"{path} already exists. Choose another file name, or add --force "
                "to replace it."
            )
        write_template(path)
    click.echo(f"Template: {path}")


@main.command()
@CONFIG_OPTION
@SANDBOX_OPTION
@click.option(
    "--max-minutes", type=click.FloatRange(min=0), help="Stop sending after N minutes."
)
@click.option(
    "--until", "until_text", metavar="HH:MM", help="Stop sending at this time."
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="Log detail on stderr and in the job logs.",
)
def nightly(
    config_path: Path | None,
    sandbox: bool,
    max_minutes: float | None,
    until_text: str | None,
    log_level: str | None,
) -> None:
    """Process every sheet in the inbox, then retry earlier jobs' transient failures."""
    from provisioner.nightly import NightlyResult, run_nightly

    until = parse_until(until_text)
    check_minutes(max_minutes)
    with error_exits():
        config = setup(config_path, log_level=log_level, personal=False)
        jobs_dir = config.jobs.jobs_dir
        if config.jobs.inbox.exists() and not config.jobs.inbox.is_dir():
            raise ConfigError(
                f"The inbox {config.jobs.inbox} is a file, not a folder. Set "
                "jobs.inbox (or PROVISIONER_INBOX) to a folder."
            )
        if not config.jobs.inbox.is_dir():
            click.echo(
                f"provisioner: the inbox {config.jobs.inbox} did not exist and was "
                "created; sales ops drop their sheets there. Check jobs.inbox in the "
                "configuration if this is not the folder you meant.",
                err=True,
            )
        with (
            locked(jobs_dir / "nightly.lock", what=f"The jobs folder {jobs_dir}"),
            api_target(config, sandbox) as (target, token),
        ):
            level = log_level or config.log_level

            progress = Progress()

            def on_job(job: Job) -> None:
                progress.close()
                configure_logging(
                    level=level,
                    json_file=job.log_path,
                    secrets=[token.reveal()],
                    personal_data=config.log_personal_data,
                    stream_level=terminal_level(log_level),
                )

            configure_logging(
                level=level,
                secrets=[token.reveal()],
                personal_data=config.log_personal_data,
            )

            async def go() -> NightlyResult:
                stop = StopToken()
                deadline = deadline_from(max_minutes, until)
                timer = (
                    asyncio.create_task(stop_at(stop, deadline))
                    if deadline is not None
                    else None
                )
                try:
                    async with (
                        signal_stop(stop),
                        B2BClient.from_config(target, token) as api,
                    ):
                        return await run_nightly(
                            api,
                            target,
                            stop=stop,
                            on_job=on_job,
                            on_outcome=progress.advance,
                            on_planned=progress.start,
                        )
                finally:
                    progress.close()
                    if timer is not None:
                        timer.cancel()

            result = run_async(go)
    for name, error in result.unreadable:
        prefix = "" if error.startswith(name) else f"{name}: "
        click.echo(f"provisioner: {prefix}{error}", err=True)
    click.echo(result.summary_line())
    sys.exit(int(result.exit_code))


@main.command()
@click.argument("job_id", required=False)
@CONFIG_OPTION
def status(job_id: str | None, config_path: Path | None) -> None:
    """List the jobs with their counts, or the rows of JOB that need attention."""
    from provisioner.model import ATTENTION_STATUSES, RETRY_STATUSES, SourceRow
    from provisioner.report import ReportRow
    from provisioner.stats import problems_text

    with error_exits():
        config = load_config(config_path)
        jobs_dir = config.jobs.jobs_dir
        if job_id is None:
            jobs = list_jobs(jobs_dir)
            if not jobs:
                click.echo(f"No jobs in {jobs_dir}.")
                return
            for job in jobs:
                counts = job.meta.get("counts", {})
                if job.journal_path.exists():
                    # The journal is current even when a run was killed before it
                    # could update job.json.
                    try:
                        with Journal.open(job.journal_path) as journal:
                            counts = journal.counts()
                    except (sqlite3.DatabaseError, ProvisionerError) as exc:
                        click.echo(f"{job.job_id}  damaged journal: {exc}")
                        continue
                text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "-"
                state = job.meta.get("state", "?")
                click.echo(f"{job.job_id}  {state:<10}  {text}")
                if job.meta.get("error"):
                    click.echo(f"    {job.meta['error']}")
            return
        picked = find_job(jobs_dir, job_id)
        if picked is None:
            fail(
                f"no job {job_id!r} in {jobs_dir}. "
                "Run `provisioner status` to list the jobs.",
                ExitCode.INPUT_OR_CONFIG,
            )
        if not picked.journal_path.exists():
            state = picked.meta.get("state")
            click.echo(f"{picked.job_id}: {state}: {picked.meta.get('error', '')}")
            return
        with Journal.open(picked.journal_path) as journal:
            outcomes = journal.outcomes()
        wanted = ATTENTION_STATUSES | RETRY_STATUSES
        summary_rows = [
            ReportRow(
                number,
                outcome.status,
                outcome.user_id,
                outcome.bc_id,
                outcome.message,
                (),
                SourceRow(row_number=number, cells=()),
                code=outcome.code,
            )
            for number, outcome in sorted(outcomes.items())
        ]
        for line in problems_text(summary_rows):
            click.echo(line)
        shown = 0
        for number in sorted(outcomes):
            outcome = outcomes[number]
            if outcome.status in wanted:
                shown += 1
                message = (outcome.message or "").replace("\n", " ")
                click.echo(f"row {number}: {outcome.status.value}: {message}")
        if shown == 0:
            click.echo(f"{picked.job_id}: no rows need attention.")
        click.echo(f"Results: {picked.results_path}")


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Loopback address."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8787,
    show_default=True,
    help="TCP port; 0 picks a free one.",
)
@click.option(
    "--seed",
    "seed_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON or TOML seed file: Companies, roles, channels, extra fields, "
    "users. Default: the built-in demo store.",
)
@click.option(
    "--token",
    default="sandbox-token",
    show_default=True,
    help="The X-Auth-Token value the sandbox accepts.",
)
@click.option(
    "--store-hash",
    default="sandbox1",
    show_default=True,
    help="The X-Store-Hash value the sandbox accepts.",
)
@click.option(
    "--request-limit",
    type=click.IntRange(min=1),
    default=150,
    show_default=True,
    help="Requests allowed per window, reads included.",
)
@click.option(
    "--window-seconds",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Length of the rate-limit window in seconds.",
)
@click.option(
    "--rate-headers",
    type=click.Choice(["b2b", "core", "retry-after", "none"]),
    default="b2b",
    show_default=True,
    help="Which waiting hint a 429 carries.",
)
@click.option(
    "--max-concurrent",
    type=click.IntRange(min=1),
    help="Respond 429 above this many requests in progress.",
)
@click.option(
    "--bulk-failure-mode",
    type=click.Choice(["atomic", "partial"]),
    default="atomic",
    show_default=True,
    help="atomic: a bad item fails the whole batch; partial: valid items are created.",
)
@click.option(
    "--bulk-result-order",
    type=click.Choice(["input", "shuffled"]),
    default="input",
    show_default=True,
    help="Order of ids in a bulk response.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME=P",
    help="Inject a fault with probability P (0 to 1): error_5xx_before, "
    "reset_before, drop_after_create or slow_after_create. Repeatable.",
)
@click.option(
    "--slow-seconds",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="Delay of slow_after_create, in seconds.",
)
@click.option(
    "--faults-on-reads", is_flag=True, help="Also inject 5xx and resets into GETs."
)
@click.option(
    "--fault-seed",
    type=int,
    default=0,
    show_default=True,
    help="Random seed for fault injection.",
)
@click.option("--log-requests", is_flag=True, help="Print one line per API request.")
def sandbox(
    host: str,
    port: int,
    seed_path: Path | None,
    token: str,
    store_hash: str,
    request_limit: int,
    window_seconds: float,
    rate_headers: str,
    max_concurrent: int | None,
    bulk_failure_mode: str,
    bulk_result_order: str,
    faults: tuple[str, ...],
    slow_seconds: float,
    faults_on_reads: bool,
    fault_seed: int,
    log_requests: bool,
) -> None:
    """Run the sandbox B2B API on loopback until Ctrl+C, to rehearse a sheet.

    Point a run at it with PROVISIONER_BASE_URL (printed at start),
    PROVISIONER_STORE_HASH and PROVISIONER_AUTH_TOKEN.
    """
    from provisioner.sandbox import SandboxOptions, serve_forever

    fault_values: dict[str, float] = {}
    for item in faults:
        name, _, probability = item.partition("=")
        try:
            fault_values[name.strip()] = float(probability)
        except ValueError:
            raise click.BadParameter(
                f"{item!r} is not NAME=P, e.g. reset_before=0.05.", param_hint="--fault"
            ) from None
    with error_exits():
        configure_logging(level="info")
        try:
            options = SandboxOptions(
                host=host,
                port=port,
                seed=seed_path,
                token=token,
                store_hash=store_hash,
                request_limit=request_limit,
                window_seconds=window_seconds,
                rate_headers=rate_headers,  # type: ignore[arg-type]
                max_concurrent=max_concurrent,
                bulk_failure_mode=bulk_failure_mode,  # type: ignore[arg-type]
                bulk_result_order=bulk_result_order,  # type: ignore[arg-type]
                slow_seconds=slow_seconds,
                faults_on_reads=faults_on_reads,
                fault_seed=fault_seed,
                log_requests=log_requests,
            ).with_changes(fault_values)
        except (ValueError, TypeError) as exc:
            raise ConfigError(str(exc)) from None
        try:
            serve_forever(options)
        except OSError as exc:
            raise ConfigError(
                f"The sandbox cannot listen on {host}:{port}: {exc.strerror}. "
                "Choose another port with --port (0 picks a free one)."
            ) from None


if __name__ == "__main__":
    main()
