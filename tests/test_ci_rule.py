"""The CI rule of tests/conftest.py: under CI=true a skipped test fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, ci_tools

SKIPPING_TEST = """
import pytest

def test_needs_a_missing_tool():
    pytest.skip("frobnicator is not installed")

@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False
"""


def run_pytest(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_skip.py").write_text(SKIPPING_TEST)
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.conftest"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(CI=ci, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-o", "addopts=", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_skip_fails_under_ci(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "true")
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout, result.stdout
    assert "1 xfailed" in result.stdout, result.stdout
    assert "frobnicator is not installed" in result.stdout


def test_a_skip_is_a_skip_elsewhere(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout, result.stdout
    assert "1 xfailed" in result.stdout, result.stdout


def test_ci_run_installs_what_the_tests_look_for() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert ".ci/tools" in script
    assert {"sox", "chromium", "npm"} <= set(ci_tools())


def test_the_github_workflow_runs_the_one_entry_point() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    (job,) = workflow["jobs"].values()
    runs = [step.get("run", "").strip() for step in job["steps"]]
    assert runs[-1] == "bash .ci/run"  # the same entry point as every other CI
    assert job["container"].startswith("debian:")  # .ci/run installs with apt, as root
    assert job["env"]["CI"] == "true"  # nothing may skip there either
