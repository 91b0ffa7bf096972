"""Parameterised notebooks rendered to HTML reports: once, on a schedule, or over a range.

- :mod:`~wavekit.reports.runner`: papermill run, HTML export without code, retries, the
  failure page, the index (:func:`render`, :class:`ReportRequest`);
- :mod:`~wavekit.reports.scheduling`: intervals and cron lines, the foreground scheduler,
  backfill days (:func:`schedule`, :func:`next_run`, :func:`days`);
- :mod:`~wavekit.reports.usage`: what the usage report (``notebooks/05_usage_report.ipynb``)
  computes, and its headline; :mod:`~wavekit.reports.tables` its tables for people (pandas
  Stylers), :mod:`~wavekit.reports.charts` its charts, :mod:`~wavekit.reports.formatting`
  the one definition of each format (counts, ms, MB, $, note names, rank changes); import
  them as modules (``from wavekit.reports import usage``).

Importing this package loads neither papermill nor tenacity; rendering does (the
``reports`` extra).
"""

from wavekit.errors import ReportError, ReportFailedError, ReportParameterError
from wavekit.reports.runner import (
    DEFAULT_NOTEBOOK,
    REPORTS_DIR,
    TABLES_PARAMETER,
    ReportRequest,
    ReportResult,
    notebook_parameters,
    render,
    write_index,
)
from wavekit.reports.scheduling import days, next_run, schedule

__all__ = [
    "DEFAULT_NOTEBOOK",
    "REPORTS_DIR",
    "TABLES_PARAMETER",
    "ReportError",
    "ReportFailedError",
    "ReportParameterError",
    "ReportRequest",
    "ReportResult",
    "days",
    "next_run",
    "notebook_parameters",
    "render",
    "schedule",
    "write_index",
]
