"""Exit codes, fixed and documented in the README, so cron can tell runs apart."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """Every row was created or already existed."""

    ROWS_NEED_ATTENTION = 1
    """The run finished; some rows are invalid or were rejected and need a person."""

    INPUT_OR_CONFIG = 2
    """The input file, an option or the configuration is wrong; nothing was sent."""

    API_UNAVAILABLE = 3
    """The API was unreachable, kept failing, or rejected the credentials; rows that
    were not sent stay pending for the next run."""

    INTERRUPTED = 4
    """A signal, --max-minutes or --until stopped the run; the next run carries on."""

    LOCKED = 5
    """Another provisioner process is working on the same job or inbox."""

    INTERNAL = 70
    """A bug in the provisioner; the message names the log file with the details."""
