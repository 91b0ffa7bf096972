"""The studio's music maths, without widgets."""

from __future__ import annotations

import math

import pytest

from wavekit.studio.music import (
    amplitude_on_grid,
    beat_rates,
    db_to_linear,
    format_hz,
    is_echo,
    on_grid,
)


def test_beat_rates() -> None:
    assert beat_rates([440.0, 445.0, 880.0]) == [5.0]
    assert beat_rates([440.0, 441.0, 443.0]) == [1.0, 2.0, 3.0]
    assert beat_rates([440.0, 460.0]) == []
    assert beat_rates([440.0, 440.0]) == []


def test_format_hz_shows_at_most_two_decimals() -> None:
    assert format_hz(440.0) == "440"
    assert format_hz(554.365) == "554.37"
    assert format_hz(1500.5) == "1500.5"
    assert format_hz(20.0) == "20"


def test_db_to_linear() -> None:
    assert db_to_linear(0.0) == 1.0
    assert db_to_linear(-20.0) == pytest.approx(0.1)
    assert db_to_linear(-6.0) == pytest.approx(0.501187, abs=1e-6)


def test_is_echo_ignores_float_rounding_only() -> None:
    assert is_echo(440.0 * (1 + 4e-16), 440.0)
    assert is_echo(10 ** math.log10(440.0), 440.0)
    assert is_echo(0.0, 1e-13)
    assert not is_echo(440.01, 440.0)
    assert not is_echo(0.0, 0.01)


def test_values_snap_to_the_slider_grids() -> None:
    assert on_grid(-6.0206, 0.1) == -6.0
    assert on_grid(0.3333, 0.01) == 0.33
    assert amplitude_on_grid(1 / 3) == 0.33
    assert amplitude_on_grid(0.001) == 0.01  # a quiet partial stays audible
    assert amplitude_on_grid(0.0) == 0.0
