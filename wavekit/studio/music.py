"""The studio's small maths: beats between partials, level and grid conversions.

Pure functions, so they are tested without widgets; the controller and the layout
call them on every edit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from wavekit.studio.limits import AMPLITUDE_STEP

__all__ = [
    "amplitude_on_grid",
    "beat_rates",
    "db_to_linear",
    "format_hz",
    "is_echo",
    "on_grid",
]


def beat_rates(frequencies: Sequence[float], below: float = 20.0) -> list[float]:
    """Beat frequencies heard between pairs of partials: ``|f1 - f2|`` below ``below`` Hz.

    Two close sines sum to one tone whose loudness swells ``|f1 - f2|`` times a second
    (440 + 445 Hz beat at 5 Hz); farther apart, the ear hears two notes instead.

    Parameters
    ----------
    frequencies
        Partial frequencies in Hz.
    below
        Largest difference still heard as beating.

    Returns
    -------
    list of float
        Distinct rates, ascending, rounded to 0.01 Hz.
    """
    rates = {
        round(abs(a - b), 2)
        for i, a in enumerate(frequencies)
        for b in frequencies[i + 1 :]
        if 0 < abs(a - b) < below
    }
    return sorted(rates)


def format_hz(freq: float) -> str:
    """``440`` → ``"440"``, ``554.365`` → ``"554.37"``: what the typed entry shows."""
    return f"{freq:.2f}".rstrip("0").rstrip(".")


def db_to_linear(db: float) -> float:
    """Decibels (re full scale) to a linear gain: ``-20`` → ``0.1``."""
    return float(10.0 ** (db / 20.0))


def is_echo(new: float, accepted: float) -> bool:
    """Whether a slider value from the browser only repeats the accepted one.

    ipywidgets 8 slider views send their value back whenever they are drawn or set from
    the kernel, after a round trip through ``10 ** log10(x)`` (log slider) or the step
    grid. Accepting those would turn 440 Hz into 440.00000000000006 Hz and re-render
    for nothing, so values within float rounding of the accepted one are ignored. (The
    kernel keeps exact values on the sliders' grids, so the grid never moves them.)
    """
    return math.isclose(new, accepted, rel_tol=1e-9, abs_tol=1e-12)


def on_grid(value: float, step: float) -> float:
    """``value`` snapped to the nearest multiple of ``step``, as a browser slider would."""
    return round(round(value / step) * step, 10)


def amplitude_on_grid(amplitude: float) -> float:
    """Relative amplitude on the slider's 0.01 grid; a quiet partial stays audible."""
    return max(on_grid(amplitude, AMPLITUDE_STEP), AMPLITUDE_STEP) if amplitude > 0 else 0.0
