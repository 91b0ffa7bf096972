"""Shared fixtures: tone specs built in code, and the SoX binary when installed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

SOX = shutil.which("sox")

requires_sox = pytest.mark.skipif(
    SOX is None, reason="SoX is not installed (apt-get install sox); .ci/run installs it"
)


@pytest.fixture
def sox() -> str:
    if SOX is None:
        pytest.skip("SoX is not installed (apt-get install sox); .ci/run installs it")
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
