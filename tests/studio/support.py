"""Helpers for driving the studio in tests: executors that run plots when told, decoders."""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import numpy as np
import soundfile as sf

from wavekit import plots
from wavekit.audio.measure import strongest_frequencies
from wavekit.studio import ManualScheduler, ToneStudio

QUIET = 10.0
"""Seconds that certainly end any burst (far beyond debounce and plot delays)."""


class InlineExecutor(Executor):
    """Runs each job at once in the caller: plots appear exactly when the clock says."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class QueuedExecutor(InlineExecutor):
    """While ``holding``, keeps jobs until ``run_all``: a plot thread slow exactly when we say."""

    def __init__(self) -> None:
        self.holding = False
        self.jobs: list[Callable[[], Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if not self.holding:
            return super().submit(fn, *args, **kwargs)
        future: Future[Any] = Future()
        self.jobs.append(lambda: future.set_result(fn(*args, **kwargs)))
        return future

    def run_all(self) -> None:
        jobs, self.jobs = self.jobs, []
        for job in jobs:
            job()


def decode(data: bytes) -> tuple[np.ndarray, int]:
    signal, rate = sf.read(io.BytesIO(data), dtype="float64", always_2d=True)
    return signal, rate


def heard(data: bytes, count: int = 8) -> list[float]:
    """Frequencies in the WAV bytes, found by FFT (ascending)."""
    signal, rate = decode(data)
    return sorted(p.freq for p in strongest_frequencies(signal[:, 0], rate, count, floor_db=-50))


def settle(clock: ManualScheduler) -> None:
    clock.advance(QUIET)


def changes_of(widget: Any, name: str = "value") -> list[Any]:
    """Every new value the widget's trait takes from now on (what the browser is sent)."""
    seen: list[Any] = []
    widget.observe(lambda change: seen.append(change["new"]), names=name)
    return seen


def expected_pngs(studio: ToneStudio) -> tuple[bytes, bytes]:
    """The plots of the tone in the player, drawn independently from its bytes."""
    signal, rate = sf.read(io.BytesIO(studio.audio.value), dtype="float32", always_2d=True)
    return (
        plots.figure_png(plots.waveform_figure(signal, rate)),
        plots.figure_png(plots.spectrum_figure(signal, rate)),
    )
