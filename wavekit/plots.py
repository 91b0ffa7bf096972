"""Figures of a tone: the waveform (its start and its envelope) and the magnitude spectrum.

Plain functions from numpy arrays to :class:`matplotlib.figure.Figure`, used by the
tone studio and, later, by reports. They never touch ``pyplot``: a ``Figure`` built
directly has no global state and no GUI backend, so the same code works in JupyterLab,
the classic notebook, VS Code, papermill and headless tests. :func:`figure_png`
renders a figure to PNG bytes (Agg) for an ``ipywidgets.Image`` or an HTML report.

Passing ``fig=`` redraws into an existing figure, so a caller that updates often (the
studio) reuses one figure instead of building a new one each time.
"""

from __future__ import annotations

import io

import numpy as np

from wavekit.audio.measure import spectrum, strongest_frequencies
from wavekit.errors import MissingExtraError

try:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise MissingExtraError("matplotlib", "studio") from exc

HEAD_SECONDS = 0.02
"""How much of the start the waveform panel shows: a few periods of audible tones."""
ENVELOPE_BINS = 800
"""Columns of the min/max overview of the whole tone (about one per pixel)."""
SPECTRUM_MAX_FRAMES = 1 << 18
"""Frames analysed for the spectrum plot: ~6 s at 44.1 kHz, resolution < 0.2 Hz."""
SPECTRUM_POINTS = 1500
"""Points drawn on the log-frequency axis (peak-preserving decimation)."""
DEFAULT_FIGSIZE = (6.0, 3.6)
DEFAULT_DPI = 80

_LINE = "#1f5fa8"
_FILL = "#8fb3de"


def _channels(signal: np.ndarray) -> np.ndarray:
    """Shape ``(frames, channels)``, with identical channels collapsed into one.

    Most tones carry the same signal on every channel; drawing it eight times would only
    hide it.
    """
    x = np.asarray(signal)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"signal must be 1-D or (frames, channels), not shape {x.shape}")
    if x.shape[1] > 1 and all(np.array_equal(x[:, 0], x[:, c]) for c in range(1, x.shape[1])):
        x = x[:, :1]
    return x


def envelope(signal: np.ndarray, bins: int = ENVELOPE_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum of a 1-D signal in ``bins`` equal slices (an overview).

    This is what audio editors draw for a long signal: every peak survives, so beats and
    fades show at any zoom, unlike plain subsampling which can miss them.

    Parameters
    ----------
    signal
        1-D samples.
    bins
        Number of slices; fewer when the signal is shorter.

    Returns
    -------
    (low, high)
        Arrays of length ``min(bins, len(signal))``.
    """
    x = np.asarray(signal)
    n = len(x)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    bins = max(1, min(bins, n))
    edges = np.linspace(0, n, bins + 1).astype(np.intp)[:-1]
    return np.minimum.reduceat(x, edges), np.maximum.reduceat(x, edges)


def log_decimate(
    freqs: np.ndarray, values: np.ndarray, points: int = SPECTRUM_POINTS, min_freq: float = 20.0
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the largest value in each of ``points`` log-spaced frequency bands.

    A log axis squeezes tens of thousands of high bins into a few pixels; taking each
    band's maximum keeps every spectral line visible while drawing ~1500 points.

    Parameters
    ----------
    freqs
        Ascending bin frequencies (Hz).
    values
        One value per bin (e.g. dB).
    points
        Number of bands.
    min_freq
        Bins below this are dropped (0 Hz has no place on a log axis).

    Returns
    -------
    (freqs, values)
        For each non-empty band, the frequency and value of its largest bin.
    """
    keep = freqs >= min_freq
    f, v = freqs[keep], values[keep]
    if len(f) <= points:
        return f, v
    edges = np.geomspace(f[0], f[-1] * (1 + 1e-9), points + 1)
    starts = np.unique(np.searchsorted(f, edges[:-1]))
    starts = starts[starts < len(f)]
    sizes = np.diff(np.append(starts, len(f)))
    band = np.repeat(np.arange(len(starts)), sizes)
    # Sorted by band, then by value descending: each band's maximum comes first.
    best = np.lexsort((-v, band))[starts]
    return f[best], v[best]


def _new_or_cleared(fig: Figure | None, figsize: tuple[float, float], dpi: float) -> Figure:
    """A blank figure. Margins are fixed rather than computed by a layout engine, which
    would double the drawing time of these small, always-alike figures."""
    if fig is None:
        fig = Figure(figsize=figsize, dpi=dpi)
    else:
        fig.clear()
    return fig


def _margins(fig: Figure, **extra: float) -> None:
    """Room for tick labels and titles, in inches (so any figure size looks the same)."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=0.75 / width,
        right=1 - 0.15 / width,
        bottom=0.45 / height,
        top=1 - 0.3 / height,
        **extra,
    )


def waveform_figure(
    signal: np.ndarray,
    sample_rate: int,
    *,
    head_seconds: float = HEAD_SECONDS,
    bins: int = ENVELOPE_BINS,
    fig: Figure | None = None,
    figsize: tuple[float, float] = DEFAULT_FIGSIZE,
    dpi: float = DEFAULT_DPI,
) -> Figure:
    """The first ``head_seconds`` of a tone above a min/max envelope of all of it.

    The top panel shows the shape of the wave (and the fade-in); the bottom one shows
    what the ear hears as loudness over time, e.g. the 5 Hz beats of 440 + 445 Hz.

    Parameters
    ----------
    signal
        Samples in -1..1, 1-D or ``(frames, channels)``; differing channels are overlaid.
    sample_rate
        Frames per second.
    head_seconds
        Length of the top panel.
    bins
        Columns of the envelope.
    fig
        Redraw into this figure instead of creating one.
    figsize, dpi
        Size of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = _channels(signal)
    fig = _new_or_cleared(fig, figsize, dpi)
    gap = 0.7  # inches between the panels: the upper x label and the lower title
    usable = fig.get_size_inches()[1] - 0.75
    _margins(fig, hspace=2 * gap / max(usable - gap, 0.1))
    head_ax, env_ax = fig.subplots(2, 1)
    frames = x.shape[0]
    head = min(frames, max(1, round(head_seconds * sample_rate)))
    t_ms = np.arange(head) * (1000.0 / sample_rate)
    limit = max(1e-6, float(np.max(np.abs(x))) if frames else 0.0) * 1.1
    for c in range(x.shape[1]):
        label = f"ch {c + 1}" if x.shape[1] > 1 else None
        head_ax.plot(t_ms, x[:head, c], lw=1.0, color=None if label else _LINE, label=label)
        low, high = envelope(x[:, c], bins)
        t_s = (np.arange(len(low)) + 0.5) * (frames / max(1, len(low)) / sample_rate)
        env_ax.fill_between(
            t_s, low, high, color=None if label else _FILL, alpha=0.9 if not label else 0.4, lw=0
        )
    head_ax.set(xlim=(0, t_ms[-1] if head > 1 else 1), ylim=(-limit, limit))
    head_ax.set_xlabel("time (ms)")
    head_ax.set_title(f"waveform: first {head_seconds * 1000:g} ms", fontsize="medium")
    env_ax.set(xlim=(0, frames / sample_rate), ylim=(-limit, limit))
    env_ax.set_xlabel("time (s)")
    env_ax.set_title("envelope of the whole tone (beats show here)", fontsize="medium")
    if x.shape[1] > 1:
        head_ax.legend(loc="upper right", fontsize="x-small", ncols=min(4, x.shape[1]))
    for ax in (head_ax, env_ax):
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize="small")
    return fig


def _hz_label(value: float, _pos: object = None) -> str:
    return f"{value / 1000:g}k" if value >= 1000 else f"{value:g}"


def spectrum_figure(
    signal: np.ndarray,
    sample_rate: int,
    *,
    floor_db: float = -120.0,
    min_freq: float = 20.0,
    peaks: int = 8,
    max_frames: int = SPECTRUM_MAX_FRAMES,
    points: int = SPECTRUM_POINTS,
    fig: Figure | None = None,
    figsize: tuple[float, float] = DEFAULT_FIGSIZE,
    dpi: float = DEFAULT_DPI,
    title: str = "magnitude spectrum (dBFS)",
) -> Figure:
    """Magnitude spectrum in dBFS on a log-frequency axis, with the strongest peaks marked.

    A full-scale sine reads 0 dBFS at its frequency (Blackman-Harris window, see
    :func:`wavekit.audio.measure.spectrum`), so the level of each partial can be read off.

    Parameters
    ----------
    signal
        Samples in -1..1, 1-D or ``(frames, channels)``; channel 1 is analysed.
    sample_rate
        Frames per second.
    floor_db
        Bottom of the y axis.
    min_freq
        Left end of the x axis (Hz); the right end is the Nyquist frequency.
    peaks
        How many of the strongest peaks to mark and list (0 for none).
    max_frames
        Analyse at most this many frames from the start (bounds time and memory).
    points
        Points drawn (peak-preserving log decimation).
    fig
        Redraw into this figure instead of creating one.
    figsize, dpi
        Size of a new figure.
    title
        Above the plot; the default names the unit of the y axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = _channels(signal)[:max_frames, 0].astype(np.float64)
    fig = _new_or_cleared(fig, figsize, dpi)
    _margins(fig)
    ax = fig.subplots()
    nyquist = sample_rate / 2
    if len(x) >= 8:
        freqs, amplitude = spectrum(x, sample_rate)
        db = 20.0 * np.log10(np.maximum(amplitude, 10 ** (floor_db / 20) / 10))
        f, v = log_decimate(freqs, db, points, min_freq)
        ax.plot(f, v, lw=0.9, color=_LINE)
        found = strongest_frequencies(x, sample_rate, peaks) if peaks else []
        shown = [p for p in found if p.freq >= min_freq and p.dbfs > floor_db]
        if shown:
            ax.plot([p.freq for p in shown], [p.dbfs for p in shown], "o", ms=4, color="#c0392b")
            listing = "\n".join(
                f"{p.freq:8.1f} Hz {p.dbfs:6.1f} dB" for p in sorted(shown, key=lambda p: p.freq)
            )
            ax.text(
                0.99,
                0.97,
                listing,
                transform=ax.transAxes,
                ha="right",
                va="top",
                family="monospace",
                fontsize="x-small",
                bbox={"boxstyle": "round", "fc": "white", "ec": "0.8", "alpha": 0.85},
            )
    ax.set_xscale("log")
    ax.set(xlim=(min_freq, max(nyquist, min_freq * 2)), ylim=(floor_db, 6.0))
    ax.xaxis.set_major_formatter(FuncFormatter(_hz_label))
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("level (dBFS)")
    ax.set_title(title, fontsize="medium")
    ax.grid(True, which="both", alpha=0.25)
    ax.tick_params(labelsize="small")
    return fig


def figure_png(fig: Figure, dpi: float | None = None) -> bytes:
    """Render a figure to PNG bytes with Agg (no display, no pyplot).

    Parameters
    ----------
    fig
        The figure.
    dpi
        Resolution; the figure's own by default.

    Returns
    -------
    bytes
        A PNG image.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi if dpi is not None else fig.dpi)
    return buffer.getvalue()
