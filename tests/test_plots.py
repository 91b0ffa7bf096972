"""Figures of a tone: the data drawn is the signal's, axes are as documented, PNGs render."""

from __future__ import annotations

import io
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from wavekit import ToneSpec, render
from wavekit.plots import (
    envelope,
    figure_png,
    log_decimate,
    spectrum_figure,
    waveform_figure,
)

RATE = 44_100
BEAT = ToneSpec(frequencies=[440, 445], volume="-20dB", duration=2.0, sample_rate=RATE)


def test_envelope_is_min_and_max_of_each_slice() -> None:
    low, high = envelope(np.arange(10.0), bins=5)
    assert low.tolist() == [0, 2, 4, 6, 8]
    assert high.tolist() == [1, 3, 5, 7, 9]
    low, high = envelope(np.array([3.0, -1.0]), bins=100)  # never more bins than samples
    assert low.tolist() == [3.0, -1.0]
    assert high.tolist() == [3.0, -1.0]


def test_envelope_shows_the_beats() -> None:
    signal = render(BEAT)[:, 0]
    _, high = envelope(signal, bins=400)
    # 440 + 445 Hz swell 5 times a second: 10 quiet dips in 2 s.
    quiet = high < 0.2 * high.max()
    dips = np.count_nonzero(quiet[1:] & ~quiet[:-1]) + int(quiet[0])
    assert dips == 10


def test_log_decimate_keeps_every_spectral_line() -> None:
    rng = np.random.default_rng(0)
    freqs = np.linspace(0, 22_050, 100_001)
    values = rng.uniform(-120, -100, len(freqs))
    lines = [50.0, 440.0, 445.0, 15_000.0]
    for f in lines:
        values[np.argmin(abs(freqs - f))] = -20.0
    f, v = log_decimate(freqs, values, points=500, min_freq=20.0)
    assert len(f) <= 500
    assert np.all(np.diff(f) > 0)
    assert f[0] >= 20.0
    assert np.count_nonzero(v == -20.0) == len(lines)
    for line in lines:
        assert np.min(abs(f[v == -20.0] - line)) < 0.25


def test_waveform_figure_draws_the_first_20_ms_and_the_envelope() -> None:
    signal = render(BEAT)
    fig = waveform_figure(signal, RATE)
    head_ax, env_ax = fig.axes
    (line,) = head_ax.get_lines()
    head = round(0.02 * RATE)
    np.testing.assert_array_equal(line.get_ydata(), signal[:head, 0])
    assert line.get_xdata()[-1] == pytest.approx((head - 1) * 1000 / RATE)
    assert env_ax.get_xlim() == pytest.approx((0, 2.0))
    assert any(isinstance(c, PolyCollection) for c in env_ax.collections)


def test_waveform_figure_overlays_channels_only_when_they_differ() -> None:
    same = render(BEAT.with_changes(number_of_channels=2))
    assert len(waveform_figure(same, RATE).axes[0].get_lines()) == 1
    split = render(
        BEAT.with_changes(
            number_of_channels=2,
            frequencies=[{"freq": 440, "channel": 0}, {"freq": 660, "channel": 1}],
        )
    )
    assert len(waveform_figure(split, RATE).axes[0].get_lines()) == 2


def test_spectrum_figure_shows_partials_at_their_level_on_a_log_axis() -> None:
    spec = ToneSpec(frequencies=[1000.0], volume="-20dB", duration=1.0, sample_rate=RATE)
    fig = spectrum_figure(render(spec), RATE)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    assert ax.get_xlim() == pytest.approx((20.0, RATE / 2))
    curve, markers = ax.get_lines()
    x, y = curve.get_xdata(), curve.get_ydata()
    assert x[np.argmax(y)] == pytest.approx(1000.0, abs=1.0)
    assert y.max() == pytest.approx(-20.0, abs=0.1)  # a −20 dBFS sine reads −20 dB
    assert markers.get_xdata() == pytest.approx([1000.0], abs=0.01)


def test_spectrum_resolves_the_two_beating_partials() -> None:
    fig = spectrum_figure(render(BEAT), RATE)
    markers = fig.axes[0].get_lines()[1]
    assert sorted(markers.get_xdata()) == pytest.approx([440.0, 445.0], abs=0.01)


def test_redrawing_into_a_figure_replaces_its_contents() -> None:
    signal = render(BEAT)
    fig = waveform_figure(signal, RATE)
    again = waveform_figure(signal[:, 0] * 0.5, RATE, fig=fig)
    assert again is fig
    assert len(fig.axes) == 2
    spec_fig = spectrum_figure(signal, RATE)
    assert spectrum_figure(signal, RATE, fig=spec_fig) is spec_fig
    assert len(spec_fig.axes) == 1


def test_silence_and_tiny_signals_still_plot() -> None:
    silence = np.zeros((100, 1), dtype=np.float32)
    assert isinstance(waveform_figure(silence, RATE), Figure)
    assert isinstance(spectrum_figure(silence, RATE), Figure)
    assert isinstance(spectrum_figure(silence[:3], RATE), Figure)


def test_figure_png_is_a_png_of_the_figure_size() -> None:
    fig = waveform_figure(render(BEAT), RATE, figsize=(5.0, 2.5), dpi=40)
    data = figure_png(fig)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert image.shape[:2] == (100, 200)


def test_bad_signal_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="1-D or"):
        waveform_figure(np.zeros((2, 2, 2)), RATE)


def test_missing_matplotlib_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from wavekit.errors import MissingExtraError\n"
        "try:\n    import wavekit.plots\n"
        "except MissingExtraError as exc:\n    print(exc.extra, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("studio ")
    assert "pip install 'wavekit[studio]'" in out.stdout
