"""The results workbook and its CSV copy.

``write_results`` writes ``<stem>.xlsx`` with four sheets and ``<stem>.csv``:

* ``Results``: one row per source row, in source order. The columns ``row``,
  ``status``, ``userId``, ``bcId`` and ``error`` come first, then the original
  columns with their headers and cell values (text stays text, numbers stay
  numbers, dates keep their number format). Cells with a problem are filled and
  carry a comment that names the problem and the fix.
* ``Failed``: only the rows that need attention or a retry, with the original
  columns followed by ``row`` and ``error``. A person corrects the cells and feeds
  the workbook back to ``provisioner run``; the loader ignores the result columns.
  Original columns keep their place, so column letters in error messages such as
  ``Users!C17`` point at the same column.
* ``Summary``: key/value lines about the run, the counts by status and the notes
  the loader made.
* ``Problems``: one line per issue code, errors first, each sorted by the number
  of rows affected, with the first cells or rows affected and an example
  message (see ``provisioner.stats``). Only the header when nothing went wrong.

The CSV file is a copy of ``Results`` in UTF-8 with a byte-order mark (so Excel
reads accented names right) and CRLF line endings. Both files are written
atomically with mode 0600, and text that a spreadsheet could evaluate as a formula
is escaped (see ``provisioner.safety``). The job id, when the summary has one, is
stored in the workbook's custom document properties; ``read_job_marker`` reads it.
"""

from __future__ import annotations

from provisioner.report.marker import JOB_MARKER_PROPERTY, read_job_marker
from provisioner.report.rows import (
    FAILED_SHEET,
    FAILED_STATUSES,
    PROBLEMS_SHEET,
    RESULTS_SHEET,
    SUMMARY_SHEET,
    ReportRow,
    ResultPaths,
)
from provisioner.report.writer import write_results

__all__ = [
    "FAILED_SHEET",
    "FAILED_STATUSES",
    "JOB_MARKER_PROPERTY",
    "PROBLEMS_SHEET",
    "RESULTS_SHEET",
    "SUMMARY_SHEET",
    "ReportRow",
    "ResultPaths",
    "read_job_marker",
    "write_results",
]
