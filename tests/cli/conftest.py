"""A generated event lake for the analytics commands (the same traffic as tests/analytics)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

END = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
"""Where the generated traffic ends (exclusive) and the default 'now' of the tests."""


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from wavekit.analytics import generate_traffic

    root = tmp_path_factory.mktemp("lake")
    generate_traffic(24_000, 400, root, seed=7, end=END)
    return root
