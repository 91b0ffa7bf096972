"""Shared fixtures: tone specs built in code, the system tools, and the CI rule.

The system programs the tests use are listed once, in ``.ci/tools``, which ``.ci/run``
reads too. Under ``CI=true`` nothing may skip: a skipped test is reported as a failure,
so a missing tool can never pass silently.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def ci_tools() -> dict[str, list[str]]:
    """``.ci/tools``: executable → the Debian packages that provide it."""
    tools: dict[str, list[str]] = {}
    for line in (ROOT / ".ci" / "tools").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, *packages = line.split()
            tools[name] = packages
    return tools


def find_tool(name: str) -> str | None:
    """The path of a tool from ``.ci/tools`` (asking for an unlisted one is a bug)."""
    assert name in ci_tools(), f"{name} is not listed in .ci/tools"
    return shutil.which(name)


def missing_tool(name: str) -> str:
    packages = " ".join(ci_tools()[name])
    return f"{name} is not installed (apt-get install {packages}); .ci/run installs it"


SOX = find_tool("sox")

requires_sox = pytest.mark.skipif(SOX is None, reason=missing_tool("sox"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    """Under CI=true a skip is a failure: CI must run every test."""
    report = yield
    if CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under CI=true, which must run every test: {reason}"
    return report


@pytest.fixture
def sox() -> str:
    if SOX is None:
        pytest.skip(missing_tool("sox"))
    return SOX


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def python_kernel() -> Iterator[str]:
    """The ``python3`` kernel of this interpreter (.venv), for papermill runs.

    ipykernel installs its spec under ``sys.prefix``; its command is ``python``, which
    jupyter_client swaps for this interpreter. Putting that directory first keeps a
    user-level ``python3`` spec from taking over.
    """
    import json
    import sys

    share = Path(sys.prefix) / "share" / "jupyter"
    spec = json.loads((share / "kernels" / "python3" / "kernel.json").read_text())
    assert spec["argv"][0] in {"python", "python3", sys.executable}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(share))
        patch.delenv("MPLBACKEND", raising=False)
        yield "python3"
