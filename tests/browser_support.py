"""Real Jupyter and a real browser for end-to-end tests.

- :func:`jupyter_env`: environment variables that isolate a Jupyter process from the
  user's own configuration and make the ``python3`` kernel this interpreter.
- :func:`running_jupyterlab`: JupyterLab on 127.0.0.1 (free port, random token), with a
  bounded start-up wait and guaranteed teardown (REST shutdown, then the process group).
- :func:`launch_chromium`: the system Chromium (Debian package) driven by playwright;
  never ``playwright install`` (no browser downloads here).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
"""Screenshots and logs of browser tests (gitignored; CI keeps them)."""

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM_MISSING = (
    f"{CHROMIUM} is not installed (apt-get install chromium); .ci/run installs it in CI"
)

# JupyterLab settings that keep a test run offline and the page deterministic.
_LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Render every cell, so widgets far down the page exist in the DOM.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def python_kernel_dir() -> Path:
    """Where ``ipykernel install --sys-prefix`` puts this interpreter's kernelspec."""
    return Path(sys.prefix) / "share" / "jupyter"


def ensure_python_kernel() -> None:
    """Make sure the ``python3`` kernelspec under ``sys.prefix`` starts this interpreter.

    ipykernel's wheel ships one whose command is ``python``, which jupyter_client
    replaces with the running interpreter; install our own only if none is there.
    """
    spec_file = python_kernel_dir() / "kernels" / "python3" / "kernel.json"
    if not spec_file.is_file():
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
            check=True,
            capture_output=True,
        )
    command = json.loads(spec_file.read_text())["argv"][0]
    if command not in {"python", "python3", sys.executable}:
        raise RuntimeError(f"{spec_file} starts {command}, not {sys.executable}")


def jupyter_env(base: Path) -> dict[str, str]:
    """Variables for a Jupyter process confined to ``base``, using this interpreter's kernel.

    ``JUPYTER_PATH`` comes first in Jupyter's search path, so the user's own kernelspecs
    and settings cannot take over.
    """
    ensure_python_kernel()
    settings = base / "lab-settings"
    for name, values in _LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {
        "JUPYTER_PATH": str(python_kernel_dir()),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "IPYTHONDIR": str(base / "ipython"),
        "MPLBACKEND": "agg",
        "PYTHONUNBUFFERED": "1",
    }
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    # No news feed from the internet (null cannot be given on the command line).
    server_config = {"LabApp": {"news_url": None}}
    (base / "config" / "jupyter_server_config.json").write_text(json.dumps(server_config))
    return env


def free_port() -> int:
    """A TCP port nobody listens on right now (the server refuses to fall back to another)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class JupyterLab:
    url: str
    token: str
    root_dir: Path
    log: Path

    def lab_url(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 5.0) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def running_jupyterlab(
    root_dir: Path, base: Path, log: Path, start_timeout: float = 90.0
) -> Iterator[JupyterLab]:
    """JupyterLab serving ``root_dir`` on 127.0.0.1 until the block exits.

    Raises
    ------
    RuntimeError
        If the server does not answer within ``start_timeout`` seconds (with its log).
    """
    port = free_port()
    token = secrets.token_hex(16)
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # the default one queries PyPI
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=root_dir,
            env={**os.environ, **jupyter_env(base)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown reaches every child
        )
    lab = JupyterLab(f"http://127.0.0.1:{port}", token, root_dir, log)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({process.returncode}):\n{lab.log_tail()}")
            try:
                lab.api("/api/status", timeout=2.0)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"JupyterLab did not start in {start_timeout:g} s:\n{lab.log_tail()}"
                    ) from None
                time.sleep(0.25)
        yield lab
    finally:
        _stop(process, lab)


def _stop(process: subprocess.Popen[bytes], lab: JupyterLab) -> None:
    """Shut down kernels and server politely, then by signal; never leave them running."""
    if process.poll() is None:
        try:
            lab.api("/api/shutdown", method="POST", timeout=5.0)
            process.wait(timeout=15)
        except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
            pass
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def launch_chromium(**context: Any) -> Iterator[Any]:
    """A playwright page in the system Chromium; browser closed on exit.

    Keyword arguments go to ``browser.new_page`` (e.g. ``viewport``).
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=60_000
        )
        try:
            yield browser.new_page(**context)
        finally:
            browser.close()
