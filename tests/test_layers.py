"""The layer rules of docs/design.md, enforced by the import-linter contracts in pyproject.toml.

The first test checks the package as it is; the others plant one violation of each kind
in a copy of the package and check that the contracts catch it, so the rules cannot
silently stop biting (a contract naming a module that no longer exists fails too).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(package_parent: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter with the repository's contracts on the ``wavekit`` under
    ``package_parent`` (grimp finds the package through ``sys.path``)."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--config",
            str(ROOT / "pyproject.toml"),
            "--no-cache",
        ],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(package_parent)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_package_keeps_its_layer_rules(tmp_path: Path) -> None:
    result = lint_imports(ROOT, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    assert "0 broken" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        (
            "backends/local/__init__.py",
            "from wavekit.service import jobs as _jobs",
            "Adapters use core and ports only",
        ),
        ("audio/synth.py", "import boto3 as _boto3", "Core and ports import no cloud SDK"),
        ("ports/jobs.py", "import fastapi as _fastapi", "Core and ports import no cloud SDK"),
        (
            "service/worker.py",
            "from wavekit.backends.local import LocalBlobStore as _Store",
            "The service and the analytics use ports, never an adapter",
        ),
        (
            "audio/spec.py",
            "import wavekit.audio.wavfile as _wavfile",
            "No import cycles between modules or packages",
        ),
    ],
)
def test_a_planted_violation_is_caught(
    tmp_path: Path, module: str, planted: str, contract: str
) -> None:
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "wavekit", copy / "wavekit", ignore=shutil.ignore_patterns("__pycache__")
    )
    target = copy / "wavekit" / module
    target.write_text(target.read_text() + f"\n{planted}  # planted by the test\n")
    result = lint_imports(copy, tmp_path)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if "BROKEN" in line]
    assert any(contract in line for line in broken), result.stdout
