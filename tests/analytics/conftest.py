"""Lakes generated from code: one realistic lake for the session, small hand-made ones per test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from wavekit.analytics import generate_traffic
from wavekit.backends.local import DuckDBWarehouse

from . import reference

END = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
"""Where the generated traffic ends (exclusive) and the default 'now' of the tests."""
DAYS = 400
EVENTS = 24_000
SPECS_SINCE = END - dt.timedelta(days=45)
"""Downloads carry their spec from then on; older ones need the look-up of their request, so
the month board's previous period and the longer windows see both kinds."""


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    generate_traffic(EVENTS, DAYS, root, seed=7, end=END, specs_on_downloads_since=SPECS_SINCE)
    return root


@pytest.fixture(scope="session")
def warehouse(lake: Path) -> Iterator[DuckDBWarehouse]:
    with DuckDBWarehouse(lake) as w:
        yield w


@pytest.fixture(scope="session")
def events(lake: Path) -> pd.DataFrame:
    return reference.load_events(lake)
