"""Shared fixtures: tone specs built in code, and the SoX binary when installed."""

from __future__ import annotations

import shutil
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
