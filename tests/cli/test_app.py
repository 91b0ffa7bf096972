"""The app itself: every group registered, ``--version``, and a ``--help`` that loads no
engine, SDK or web framework (commands import those when they run)."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from wavekit import __version__
from wavekit.cli import app

HEAVY = (
    "boto3", "botocore", "duckdb", "fastapi", "httpx", "matplotlib", "numpy", "pandas",
    "papermill", "pyarrow", "soundfile", "sqlglot", "tenacity", "uvicorn",
)  # fmt: skip
COMMANDS = (
    "synth", "info", "demo", "serve", "fetch", "clean", "traffic", "query", "leaderboard",
    "usage", "report", "deploy", "status", "outputs", "destroy", "logs",
)  # fmt: skip


def test_help_lists_every_group_and_loads_nothing_heavy() -> None:
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from wavekit.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        f"print(json.dumps([r.exit_code, r.output, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    exit_code, output, loaded = json.loads(done.stdout)
    assert exit_code == 0, output
    for command in COMMANDS:
        assert f" {command} " in output, command
    assert loaded == []


def test_version_through_python_m_wavekit() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wavekit", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == f"wavekit {__version__}"
    assert CliRunner().invoke(app, ["--version"]).output.strip() == f"wavekit {__version__}"
