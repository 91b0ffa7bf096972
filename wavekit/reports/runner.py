"""Render a parameterised notebook to an HTML report (scheduling is :mod:`.scheduling`).

A report is a notebook run by papermill with parameters, exported by nbconvert without
code cells (plots are embedded as PNG data, so one HTML file is the whole report).

- **Idempotent**: the output path is a function of the notebook and its parameters; a
  rendered report is skipped unless ``force``.
- **Retried**: a failed render is tried again with backoff; after the last attempt a
  failure page naming the error and the failing cell is published in place of the
  report, the executed notebook is kept beside it, and :class:`ReportFailedError` is
  raised (the CLI exits non-zero).
- **Indexed**: ``<out>/index.html`` links every report, newest first, and
  ``<out>/latest.html`` points at the newest successful one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wavekit.clock import Clock, utc_now
from wavekit.errors import MissingExtraError, ReportError, ReportFailedError, ReportParameterError

REPORTS_DIR = Path("reports")
TABLES_PARAMETER = "tables_dir"
"""The runner sets this notebook parameter: where the notebook writes each table as CSV."""
DEFAULT_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "05_usage_report.ipynb"


def _papermill() -> Any:
    try:
        import papermill
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("papermill", "reports") from exc
    return papermill


IPC_PATH_ROOM = 60
"""Longest runtime directory for Unix-socket kernels: a socket path is that directory plus
``/wavekit-kernel-<12 hex>-<n>`` (31 characters) and must fit in 103 (macOS) or 107 (Linux)
bytes; the margin leaves room for multi-byte characters."""


def kernel_config() -> Any:
    """Run the report kernel on Unix sockets where they work, else on TCP.

    A headless report needs no network port: over local sockets no other user can read
    the kernel's traffic, and ipykernel has no reason to warn (on the terminal of
    ``make demo``) that TCP is unencrypted. Each call names its own socket files in the
    Jupyter runtime directory: jupyter_client's default (``kernel-ipc-<n>`` in the working
    directory) lets kernels started at the same moment take the same sockets. Windows, and
    runtime directories too long for a socket path, keep jupyter's default TCP transport.
    """
    import uuid

    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets.config import Config

    runtime = Path(jupyter_runtime_dir())
    if os.name != "posix" or len(str(runtime)) > IPC_PATH_ROOM:
        return Config()
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    prefix = runtime / f"wavekit-kernel-{uuid.uuid4().hex[:12]}"
    return Config({"KernelManager": {"transport": "ipc", "ip": str(prefix)}})


def notebook_parameters(notebook: Path) -> dict[str, Any]:
    """The parameters a notebook declares in its ``parameters`` cell, with defaults."""
    inspected = _papermill().inspect_notebook(str(notebook))
    return {name: info.get("default") for name, info in inspected.items()}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "report"


@dataclass(frozen=True)
class ReportRequest:
    """One report: which notebook, with which parameters, under which directory."""

    notebook: Path = DEFAULT_NOTEBOOK
    parameters: Mapping[str, Any] = field(default_factory=dict)
    out_dir: Path = REPORTS_DIR

    @property
    def name(self) -> str:
        """The notebook's name without its number prefix, e.g. ``usage_report``."""
        return re.sub(r"^\d+_", "", self.notebook.stem)

    @property
    def key(self) -> str:
        """Stable file name for these parameters: the window if given, plus a short hash."""
        canonical = json.dumps(dict(self.parameters), sort_keys=True, default=str)
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:8]
        start, end = self.parameters.get("start"), self.parameters.get("end")
        window = f"{start}_{end}_" if start and end else ""
        return _slug(f"{window}{digest}")

    @property
    def html_path(self) -> Path:
        return self.out_dir / self.name / f"{self.key}.html"

    @property
    def tables_dir(self) -> Path:
        return self.out_dir / self.name / f"{self.key}_tables"

    @property
    def executed_path(self) -> Path:
        return self.out_dir / self.name / f"{self.key}.ipynb"

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / self.name / f"{self.key}.json"


@dataclass(frozen=True)
class ReportResult:
    request: ReportRequest
    html: Path
    skipped: bool
    attempts: int

    @property
    def tables(self) -> list[Path]:
        return sorted(self.request.tables_dir.glob("*.csv"))


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _document_title(notebook: Any, fallback: str) -> str:
    """The report's first level-1 heading (a markdown cell or output), for the page title."""
    for cell in notebook.cells:
        texts = [str(cell.source)] if cell.cell_type == "markdown" else [
            str(o.get("data", {}).get("text/markdown", "")) for o in cell.get("outputs", [])
        ]  # fmt: skip
        for text in texts:
            if match := re.match(r"#\s+(.+)", text.strip()):
                return match.group(1).strip()
    return fallback


def _export_html(executed: Path, fallback_title: str) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True)  # type: ignore[no-untyped-call]
    exporter.exclude_output_prompt = True
    notebook = nbformat.read(executed, as_version=4)  # type: ignore[no-untyped-call]
    resources = {"metadata": {"name": _document_title(notebook, fallback_title)}}
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return str(body)


_PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


def _failing_cell(executed: Path) -> tuple[int | None, str]:
    """Index (in the source notebook, 0-based) and source of the first failing cell.

    Cells papermill adds (injected parameters, its error banner) are not counted, so
    the index points at the cell the author wrote.
    """
    try:
        import nbformat

        notebook = nbformat.read(executed, as_version=4)  # type: ignore[no-untyped-call]
    except (OSError, ValueError):
        return None, ""
    authored = [
        c
        for c in notebook.cells
        if not _PAPERMILL_TAGS & set(c.get("metadata", {}).get("tags", []))
    ]
    for index, cell in enumerate(authored):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return index, str(cell.source)
    return None, ""


def _failure_page(request: ReportRequest, error: BaseException, attempts: int) -> str:
    index, source = _failing_cell(request.executed_path)
    name = html.escape(request.name)
    parameters = html.escape(json.dumps(dict(request.parameters), indent=2, default=str))
    where = (
        f"cell {index} of {request.notebook.name} (0-based)"
        if index is not None
        else "before any cell ran"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Report failed: {name}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}}
pre{{background:#f6f6f6;padding:1rem;overflow:auto}}</style></head>
<body><h1>Report failed: {name}</h1>
<p>{attempts} attempt(s) failed; the last error was in <strong>{where}</strong>.</p>
<h2>Error</h2><pre>{html.escape(f"{type(error).__name__}: {error}")}</pre>
<h2>Failing cell</h2><pre>{html.escape(source) or "(none)"}</pre>
<h2>Parameters</h2><pre>{parameters}</pre>
<p>The executed notebook is kept at <code>{html.escape(str(request.executed_path))}</code>.</p>
</body></html>"""


def _check_parameters(request: ReportRequest) -> None:
    declared = notebook_parameters(request.notebook)
    unknown = sorted(set(request.parameters) - set(declared))
    if unknown:
        from wavekit.errors import FieldProblem

        allowed = ", ".join(sorted(set(declared) - {TABLES_PARAMETER}))
        problem = f"is not a parameter of {request.notebook.name}; allowed: {allowed}"
        raise ReportParameterError([FieldProblem(name, problem) for name in unknown])


def render(
    request: ReportRequest,
    *,
    force: bool = False,
    attempts: int = 3,
    backoff_s: float = 1.0,
    progress: bool = False,
    kernel_name: str = "python3",
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock = utc_now,
) -> ReportResult:
    """Execute the notebook with papermill and publish it as HTML (tables as CSV beside it).

    Raises
    ------
    ReportParameterError
        A parameter the notebook does not declare.
    ReportFailedError
        Every attempt failed; a failure page was published at the report's path.
    """
    if not request.notebook.is_file():
        raise ReportError(f"notebook: no such file {request.notebook}")
    if request.html_path.exists() and not force:
        write_index(request.out_dir)
        return ReportResult(request, request.html_path, skipped=True, attempts=0)
    _check_parameters(request)
    papermill = _papermill()
    request.tables_dir.mkdir(parents=True, exist_ok=True)
    parameters = {**request.parameters, TABLES_PARAMETER: str(request.tables_dir)}
    tried = 0

    def attempt() -> None:
        nonlocal tried
        tried += 1
        papermill.execute_notebook(
            str(request.notebook),
            str(request.executed_path),
            parameters=parameters,
            kernel_name=kernel_name,
            progress_bar=progress,
            cwd=str(Path.cwd()),
            config=kernel_config(),
        )

    from tenacity import RetryError, Retrying, stop_after_attempt, wait_exponential

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=backoff_s, max=30 * backoff_s),
        sleep=sleep,
        reraise=False,
    )
    try:
        retrying(attempt)
    except RetryError as exc:
        error = exc.last_attempt.exception() or exc
        _atomic_write(request.html_path, _failure_page(request, error, tried))
        _write_manifest(request, "failed", clock(), str(error))
        write_index(request.out_dir)
        raise ReportFailedError(
            f"{request.name}: {tried} attempt(s) failed: {type(error).__name__}: "
            f"{str(error).strip().splitlines()[-1] if str(error).strip() else ''} "
            f"— see {request.html_path}",
            request.html_path,
            request.executed_path,
        ) from None
    _atomic_write(request.html_path, _export_html(request.executed_path, request.name))
    _write_manifest(request, "ok", clock(), None)
    write_index(request.out_dir)
    return ReportResult(request, request.html_path, skipped=False, attempts=tried)


def _write_manifest(
    request: ReportRequest, status: str, rendered_at: dt.datetime, error: str | None
) -> None:
    manifest = {
        "name": request.name,
        "html": request.html_path.name,
        "status": status,
        "rendered_at": rendered_at.isoformat(),
        "parameters": dict(request.parameters),
        "error": error,
    }
    _atomic_write(request.manifest_path, json.dumps(manifest, indent=2, default=str))


def _manifests(out_dir: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in out_dir.glob("*/*.json"):
        try:
            yield path, json.loads(path.read_text())
        except (OSError, ValueError):
            continue


def write_index(out_dir: Path) -> Path:
    """``index.html`` listing every report newest first, and ``latest.html`` → newest ok."""
    entries = sorted(_manifests(out_dir), key=lambda item: item[1]["rendered_at"], reverse=True)
    rows = []
    for path, manifest in entries:
        link = f"{path.parent.name}/{manifest['html']}"
        params = manifest.get("parameters", {})
        span = f"{params.get('start', '')} – {params.get('end', '')}" if params.get("start") else ""
        status = "" if manifest["status"] == "ok" else ' <strong class="failed">failed</strong>'
        rows.append(
            f'<li><a href="{html.escape(link)}">{html.escape(manifest["name"])}'
            f" {html.escape(str(params.get('title', '')))} {html.escape(span)}</a>"
            f" <small>rendered {html.escape(manifest['rendered_at'][:19])} UTC</small>{status}</li>"
        )
    newest_ok = next((p for p, m in entries if m["status"] == "ok"), None)
    latest_link = (
        f"{newest_ok.parent.name}/{json.loads(newest_ok.read_text())['html']}" if newest_ok else ""
    )
    if latest_link:
        _atomic_write(
            out_dir / "latest.html",
            f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url='
            f'{html.escape(latest_link)}"><a href="{html.escape(latest_link)}">latest report</a>',
        )
    latest = '<p><a href="latest.html">latest</a></p>' if latest_link else "<p>no report yet</p>"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wavekit reports</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}}
.failed{{color:#b00}}</style></head>
<body><h1>wavekit reports</h1>{latest}<ol>
{chr(10).join(rows)}
</ol></body></html>"""
    index = out_dir / "index.html"
    _atomic_write(index, page)
    return index
