"""Fixtures of the studio tests: a clock that moves only when told, and a studio on it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.studio.support import InlineExecutor
from wavekit.studio import ManualScheduler, ToneStudio


@pytest.fixture
def clock() -> ManualScheduler:
    return ManualScheduler()


@pytest.fixture
def studio(clock: ManualScheduler, tmp_path: Path) -> ToneStudio:
    return ToneStudio(
        scheduler=clock, save_dir=tmp_path, rng=random.Random(7), plot_executor=InlineExecutor()
    )
