"""The tone studio: design a tone by ear with ipywidgets sliders in a notebook.

>>> from wavekit.studio import ToneStudio
>>> studio = ToneStudio()   # 440 + 445 Hz at -20 dBFS; the last line of a cell shows it

How an edit becomes sound
-------------------------
Every control change goes through a :class:`Debouncer`. An isolated change renders at
once (the *leading* edge), so the player updates within milliseconds; the changes of a
drag that follow within ``debounce`` seconds collapse into one trailing render of the
latest values, so a fast drag never queues stale renders. The render builds a
:class:`~wavekit.audio.spec.ToneSpec`, encodes it with :func:`wavekit.audio.wavfile.to_bytes` and
hands those bytes to the ``ipywidgets.Audio`` player: the player holds exactly the
bytes "Save WAV" writes. Plots (waveform, envelope, spectrum) are drawn afterwards, in
a separate step that a newer edit cancels, so drawing never delays the audio.

Time comes from a :class:`Scheduler`. In a kernel, timers go to the asyncio loop of
the thread that handled the widget message (a subshell thread in JupyterLab 4, see
:class:`EventLoopScheduler`); in plain Python, to timer threads; in tests and
benchmarks, to a :class:`ManualScheduler` whose clock moves only when told. Renders
hold a lock, so a cell calling the studio while the browser drags a slider is safe.

A bad value never raises into the notebook: the message appears next to the control
(``frequencies[1].freq`` → the second partial's row) and the player keeps the last
valid tone.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial, update_wrapper
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import numpy as np
import soundfile as sf

from wavekit.audio import wavfile
from wavekit.audio.measure import Peak, strongest_frequencies, to_dbfs
from wavekit.audio.spec import BitDepth, Partial, ToneSpec, midi_to_hz, parse_frequency
from wavekit.errors import FieldProblem, InvalidSpecError, MissingExtraError

try:
    import ipywidgets as widgets
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise MissingExtraError("ipywidgets", "studio") from exc

from wavekit import plots

__all__ = [
    "MAX_PARTIALS",
    "PRESETS",
    "Debouncer",
    "EventLoopScheduler",
    "ManualScheduler",
    "Scheduler",
    "StudioReading",
    "ThreadScheduler",
    "ToneStudio",
    "beat_rates",
    "default_scheduler",
    "random_partials",
]

logger = logging.getLogger(__name__)

MIN_FREQ = 20.0
MAX_FREQ = 20_000.0
MAX_PARTIALS = 8
"""Partial rows the studio shows (the spec itself allows 32)."""
MIN_VOLUME_DB = -60.0
DEFAULT_VOLUME_DB = -20.0
"""A safe starting level: loud enough to hear, far from hurting on headphones."""
LOUD_DB = -3.0
"""Above this peak the studio warns before you listen."""
MAX_STUDIO_SECONDS = 30.0
MAX_STUDIO_BYTES = 64 << 20
"""The player sends the whole file to the browser; longer tones belong in ``wavekit synth``."""
AMPLITUDE_STEP = 0.01
VOLUME_STEP_DB = 0.1
DEBOUNCE_S = 0.08
MAX_WAIT_S = 0.3
PLOT_DELAY_S = 0.05
SAMPLE_RATES = (8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 192_000)
BIT_DEPTH_OPTIONS: tuple[tuple[str, BitDepth], ...] = (
    ("8-bit", 8),
    ("16-bit", 16),
    ("24-bit", 24),
    ("32-bit int", 32),
    ("32-bit float", "float32"),
)
CHANNEL_OPTIONS = (("mono", 1), ("stereo", 2), *((str(n), n) for n in range(3, 9)))

PRESETS: dict[str, tuple[Partial, ...]] = {
    "beat 440/445": (Partial(freq=440.0), Partial(freq=445.0)),
    "A major chord": tuple(Partial(freq=round(midi_to_hz(n), 3)) for n in (69, 73, 76)),
    "octave stack": tuple(
        Partial(freq=110.0 * 2**k, amplitude=round(1 / (k + 1), 2)) for k in range(5)
    ),
}
"""Named sets of partials; loading one keeps level, duration and format."""

DEFAULT_SPEC = ToneSpec(
    frequencies=PRESETS["beat 440/445"], volume=10 ** (DEFAULT_VOLUME_DB / 20), duration=2.0
)

_CSS_ERROR = "color:#b00020"
_FIELD_INDEX = re.compile(r"^frequencies\[(\d+)\]")

P = ParamSpec("P")
R = TypeVar("R")


# --------------------------------------------------------------------------- scheduling


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """A clock and delayed calls: where debounced work runs. Injected so tests own time."""

    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable: ...


class ThreadScheduler:
    """Delayed calls on timer threads, for plain Python where no event loop runs."""

    def now(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        timer = threading.Timer(delay, callback)
        timer.daemon = True
        timer.start()
        return timer


class EventLoopScheduler(ThreadScheduler):
    """Delayed calls on the asyncio loop of the thread that asks; timer threads otherwise.

    In a Jupyter kernel, widget messages are handled on a running asyncio loop, but
    not always the main one: with JupyterLab 4 and ipykernel 7 they arrive on a
    *subshell* thread with its own loop. A timer must go to the loop of the thread that
    handled the edit: ``call_later`` on another thread's loop does not wake it, and the
    trailing render would wait for the next message. Callbacks then run on that same
    thread, between that thread's messages.
    """

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return super().call_later(delay, callback)
        # asyncio's clock is time.monotonic, like now(); the handle cancels from this thread.
        return loop.call_later(delay, callback)


class _ManualCall:
    def __init__(self, when: float, order: int, callback: Callable[[], None]) -> None:
        self.when = when
        self.order = order
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """A scheduler whose clock moves only in :meth:`advance`: deterministic tests.

    Examples
    --------
    >>> clock = ManualScheduler()
    >>> fired = []
    >>> _ = clock.call_later(0.1, lambda: fired.append(clock.now()))
    >>> clock.advance(0.05), fired
    (0, [])
    >>> clock.advance(0.05), fired
    (1, [0.1])
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._calls: list[_ManualCall] = []
        self._order = 0

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        self._order += 1
        call = _ManualCall(self._now + max(0.0, delay), self._order, callback)
        self._calls.append(call)
        return call

    @property
    def pending(self) -> int:
        """Calls scheduled and not yet run or cancelled."""
        return sum(not c.cancelled for c in self._calls)

    def advance(self, seconds: float = 0.0) -> int:
        """Move the clock forward, running every call that falls due, in time order.

        Calls scheduled by those calls run too if they fall due before the new time.
        Returns how many calls ran.
        """
        target = self._now + seconds
        ran = 0
        while True:
            self._calls = [c for c in self._calls if not c.cancelled]
            due = [c for c in self._calls if c.when <= target]
            if not due:
                break
            call = min(due, key=lambda c: (c.when, c.order))
            self._calls.remove(call)
            self._now = max(self._now, call.when)
            call.callback()
            ran += 1
        self._now = target
        return ran


def default_scheduler() -> Scheduler:
    """The scheduler a studio uses unless told otherwise: :class:`EventLoopScheduler`."""
    return EventLoopScheduler()


class Debouncer:
    """Collapse a burst of calls into few runs of ``callback``, always with the latest state.

    A call after ``wait`` seconds of quiet runs at once when ``leading`` (an isolated
    edit is heard immediately). Calls within ``wait`` of the previous one schedule a
    single trailing run ``wait`` after the last of them, or at most ``max_wait`` after
    the first unrendered call, so a long drag still updates now and then. The callback
    reads the current state when it runs, so it never renders a stale value.

    Parameters
    ----------
    callback
        The work; it takes no arguments.
    wait
        Quiet period in seconds.
    scheduler
        Clock and timer.
    leading
        Run the first call of a burst at once.
    max_wait
        Longest delay of a trailing run after the first call it covers (``None``: no cap).
    """

    def __init__(
        self,
        callback: Callable[[], None],
        *,
        wait: float,
        scheduler: Scheduler,
        leading: bool = True,
        max_wait: float | None = None,
    ) -> None:
        self.callback = callback
        self.wait = wait
        self.leading = leading
        self.max_wait = max_wait
        self.scheduler = scheduler
        self._lock = threading.Lock()
        self._handle: Cancellable | None = None
        self._last_call: float | None = None
        self._burst_start: float | None = None

    @property
    def pending(self) -> bool:
        """Whether a trailing run is scheduled."""
        return self._handle is not None

    def __call__(self) -> None:
        """Note that the state changed."""
        with self._lock:
            now = self.scheduler.now()
            quiet = self._last_call is None or now - self._last_call >= self.wait
            self._last_call = now
            run_now = self.leading and quiet and self._handle is None
            if not run_now:
                if self._burst_start is None:
                    self._burst_start = now
                deadline = now + self.wait
                if self.max_wait is not None:
                    deadline = min(deadline, self._burst_start + self.max_wait)
                if self._handle is not None:
                    self._handle.cancel()
                self._handle = self.scheduler.call_later(deadline - now, self._fire)
        if run_now:  # outside the lock: the callback may trigger other debouncers
            self.callback()

    def _fire(self) -> None:
        with self._lock:
            self._handle = None
            self._burst_start = None
        self.callback()

    def flush(self) -> bool:
        """Run a scheduled trailing call now; return whether there was one."""
        with self._lock:
            handle, self._handle = self._handle, None
            self._burst_start = None
        if handle is None:
            return False
        handle.cancel()
        self.callback()
        return True

    def cancel(self) -> None:
        """Drop a scheduled trailing call."""
        with self._lock:
            handle, self._handle = self._handle, None
            self._burst_start = None
        if handle is not None:
            handle.cancel()


# --------------------------------------------------------------------------- helpers


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


def random_partials(rng: random.Random, max_freq: float = MAX_FREQ) -> tuple[Partial, ...]:
    """A random chord: 2–4 notes a consonant interval from a random root, slightly detuned.

    Random but pleasant (and, with the detuning, often beating).

    Parameters
    ----------
    rng
        Source of randomness; seed it for a repeatable chord.
    max_freq
        Notes are kept below this (use the Nyquist frequency of a low sample rate).

    Returns
    -------
    tuple of Partial
    """
    count = rng.randint(2, 4)
    root = rng.randint(40, 72)  # E2 .. C5
    intervals = rng.sample([3, 4, 5, 7, 9, 12, 16, 19], count - 1)
    partials = []
    for note in [root, *(root + i for i in intervals)]:
        freq = midi_to_hz(note + rng.uniform(-0.1, 0.1))
        freq = round(min(max(freq, MIN_FREQ), max_freq * 0.95), 2)
        partials.append(Partial(freq=freq, amplitude=round(rng.uniform(0.3, 1.0), 2)))
    return tuple(partials)


def format_hz(freq: float) -> str:
    """``440`` → ``"440"``, ``554.365`` → ``"554.37"``: what the typed entry shows."""
    return f"{freq:.2f}".rstrip("0").rstrip(".")


def _db_to_linear(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def _message_html(text: str) -> str:
    return f'<span style="{_CSS_ERROR}">⚠ {html.escape(text)}</span>' if text else ""


def _guarded(
    method: Callable[Concatenate[ToneStudio, P], R],
) -> Callable[Concatenate[ToneStudio, P], R | None]:
    """Widget callbacks: show an unexpected error in the status line, never a traceback."""

    def wrapper(self: ToneStudio, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            logger.exception("tone studio: %s failed", method.__name__)
            self._set_status(f"{type(exc).__name__}: {exc}", error=True)
            return None

    update_wrapper(wrapper, method)
    return wrapper


@dataclass(frozen=True)
class Rendered:
    """What the player holds: the spec, its WAV bytes, and those bytes decoded."""

    spec: ToneSpec
    wav: bytes
    signal: np.ndarray
    seconds: float

    @property
    def peak(self) -> float:
        return float(np.max(np.abs(self.signal))) if self.signal.size else 0.0


@dataclass(frozen=True)
class StudioReading:
    """Measurements of the tone in the player, from its bytes rather than the settings.

    ``strongest`` are FFT peaks of channel 1; ``beats`` the differences between them
    that the ear hears as beating (:func:`beat_rates`).
    """

    spec: ToneSpec
    peak_dbfs: float
    strongest: list[Peak]
    beats: list[float]

    def __str__(self) -> str:
        heard = ", ".join(f"{p.freq:.1f} Hz" for p in sorted(self.strongest, key=lambda p: p.freq))
        beats = ", ".join(f"{b:.1f} Hz" for b in self.beats) or "none"
        return f"partials: {heard}\nbeats: {beats}\npeak: {self.peak_dbfs:.1f} dBFS"


# --------------------------------------------------------------------------- widgets


def _is_echo(new: float, accepted: float) -> bool:
    """Whether a slider value from the browser only repeats the accepted one.

    ipywidgets 8 slider views send their value back whenever they are drawn or set from
    the kernel, after a round trip through ``10 ** log10(x)`` (log slider) or the step
    grid. Accepting those would turn 440 Hz into 440.00000000000006 Hz and re-render
    for nothing, so values within float rounding of the accepted one are ignored. (The
    kernel keeps exact values on the sliders' grids, so the grid never moves them.)
    """
    return math.isclose(new, accepted, rel_tol=1e-9, abs_tol=1e-12)


def _on_grid(value: float, step: float) -> float:
    return round(round(value / step) * step, 10)


def _amplitude_on_grid(amplitude: float) -> float:
    """Relative amplitude on the slider's 0.01 grid; a quiet partial stays audible."""
    return max(_on_grid(amplitude, AMPLITUDE_STEP), AMPLITUDE_STEP) if amplitude > 0 else 0.0


def _style() -> dict[str, str]:
    return {"description_width": "initial"}


class PartialRow:
    """The controls of one partial: log-scale frequency slider, typed entry, amplitude, mute.

    ``freq`` and ``amplitude_value`` are the exact accepted values; see :func:`_is_echo`
    for why the sliders' own values are not trusted. Phase and channel are not edited
    here but are kept, so a loaded spec round-trips.
    """

    def __init__(self, partial: Partial) -> None:
        self.freq = partial.freq
        self.amplitude_value = partial.amplitude
        self.phase = partial.phase
        self.channel = partial.channel
        self.frequency = widgets.FloatLogSlider(
            value=partial.freq,
            base=10,
            min=math.log10(MIN_FREQ),
            max=math.log10(MAX_FREQ),
            step=None,  # continuous: a step grid would move exact values like 440 Hz
            readout=False,
            continuous_update=True,
            description="#1",
            style=_style(),
            layout=widgets.Layout(width="22em"),
        )
        self.frequency.add_class("wavekit-frequency")
        self.entry = widgets.Text(
            value=format_hz(partial.freq),
            placeholder="440, A4, 1.5kHz",
            continuous_update=False,
            tooltip="Hz, a note name (A4, C#5+15c) or midi:69; Enter to apply",
            layout=widgets.Layout(width="6.5em"),
        )
        self.entry.add_class("wavekit-frequency-entry")
        self.unit = widgets.Label("Hz")
        self.amplitude = widgets.FloatSlider(
            value=partial.amplitude,
            min=0.0,
            max=1.0,
            step=AMPLITUDE_STEP,
            description="amp",
            readout_format=".2f",
            style=_style(),
            layout=widgets.Layout(width="14em"),
        )
        self.mute = widgets.Checkbox(value=False, description="mute", indent=False)
        self.mute.layout.width = "5em"
        self.remove = widgets.Button(
            description="✕", tooltip="remove this partial", layout=widgets.Layout(width="2.6em")
        )
        self.message = widgets.HTML()
        self.box = widgets.HBox(
            [
                self.frequency,
                self.entry,
                self.unit,
                self.amplitude,
                self.mute,
                self.remove,
                self.message,
            ]
        )

    def partial(self) -> Partial:
        return Partial(
            freq=self.freq,
            amplitude=self.amplitude_value,
            phase=self.phase,
            channel=self.channel,
        )


class ToneStudio:
    """An ipywidgets tone designer: partial sliders, level, format, player, plots.

    Display it as the last expression of a cell (or ``display(studio)``). The controls
    are public attributes, so code and tests can drive it exactly like a user:
    ``studio.rows[0].frequency.value = 445``, ``studio.preset_buttons["A major chord"].click()``.

    Parameters
    ----------
    spec
        Starting tone; default 440 + 445 Hz, 2 s, 44.1 kHz, 16-bit mono at −20 dBFS.
    autoplay
        Play each new tone as soon as it is rendered.
    save_dir
        Where "Save WAV" resolves relative paths (default: the current directory).
    scheduler
        Clock and timers for debouncing; default :func:`default_scheduler`.
    debounce
        Quiet period (s) that separates edits; see :class:`Debouncer`.
    max_wait
        Longest delay (s) of the audio during a continuous drag.
    leading
        Render the first edit after a quiet period at once.
    plot_delay
        Delay (s) between a render and its plots (a newer edit cancels them).
    plot_executor
        Where plots are drawn; default one background thread, so drawing (~0.1 s per
        figure) never holds up the kernel thread that handles the next slider move.
        Plots of a tone that has since changed are dropped.
    rng
        Randomness of the "random" button.

    Raises
    ------
    InvalidSpecError
        If ``spec`` is outside what the controls can show (more than 8 partials,
        frequencies outside 20 Hz–20 kHz, volume below −60 dBFS).
    """

    def __init__(
        self,
        spec: ToneSpec | None = None,
        *,
        autoplay: bool = False,
        save_dir: str | Path = ".",
        scheduler: Scheduler | None = None,
        debounce: float = DEBOUNCE_S,
        max_wait: float | None = MAX_WAIT_S,
        leading: bool = True,
        plot_delay: float = PLOT_DELAY_S,
        plot_executor: Executor | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.scheduler = scheduler if scheduler is not None else default_scheduler()
        self.save_dir = Path(save_dir)
        self._rng = rng if rng is not None else random.Random()
        self._lock = threading.RLock()
        self._suppress = 0
        self._rendered: Rendered | None = None
        self._valid = False
        self._wave_fig: Any = None
        self._spec_fig: Any = None
        self._plot_executor = plot_executor
        self._plot_generation = 0
        self._plotted: Rendered | None = None
        self.rows: list[PartialRow] = []
        self._audio_debouncer = Debouncer(
            self._render_audio,
            wait=debounce,
            scheduler=self.scheduler,
            leading=leading,
            max_wait=max_wait,
        )
        self._plot_debouncer = Debouncer(
            self._request_plots, wait=plot_delay, scheduler=self.scheduler, leading=False
        )
        self._build(autoplay)
        self.load(spec if spec is not None else DEFAULT_SPEC, render=False)
        self.refresh()

    # ------------------------------------------------------------------ layout

    def _build(self, autoplay: bool) -> None:
        self.preset_buttons = {
            name: widgets.Button(description=name, tooltip=f"load the {name} preset")
            for name in PRESETS
        }
        for name, button in self.preset_buttons.items():
            button.on_click(lambda _b, name=name: self._on_preset(name))
        self.random_button = widgets.Button(
            description="random", icon="random", tooltip="a random chord"
        )
        self.random_button.on_click(lambda _b: self._on_random())

        self.partials_box = widgets.VBox()
        self.add_button = widgets.Button(
            description="add partial", icon="plus", tooltip=f"up to {MAX_PARTIALS} partials"
        )
        self.add_button.on_click(lambda _b: self._on_add())
        self.partials_message = widgets.HTML()

        self.volume = widgets.FloatSlider(
            value=DEFAULT_VOLUME_DB,
            min=MIN_VOLUME_DB,
            max=0.0,
            step=VOLUME_STEP_DB,
            description="volume (dBFS)",
            readout_format=".1f",
            style=_style(),
            layout=widgets.Layout(width="24em"),
        )
        self.meter = widgets.FloatProgress(
            value=MIN_VOLUME_DB,
            min=MIN_VOLUME_DB,
            max=0.0,
            description="peak",
            bar_style="success",
            style=_style(),
            layout=widgets.Layout(width="16em"),
        )
        self.meter.add_class("wavekit-meter")
        self.peak_label = widgets.HTML()
        self.level_warning = widgets.HTML()
        self.level_warning.add_class("wavekit-level-warning")

        self.duration = widgets.FloatText(
            value=2.0,
            step=0.1,
            description="duration (s)",
            style=_style(),
            layout=widgets.Layout(width="12em"),
        )
        self.sample_rate = widgets.Dropdown(
            options=list(SAMPLE_RATES),
            value=44_100,
            description="rate (Hz)",
            style=_style(),
            layout=widgets.Layout(width="12em"),
        )
        self.bits = widgets.Dropdown(
            options=list(BIT_DEPTH_OPTIONS),
            value=16,
            description="depth",
            style=_style(),
            layout=widgets.Layout(width="11em"),
        )
        self.channels = widgets.Dropdown(
            options=list(CHANNEL_OPTIONS),
            value=1,
            description="channels",
            style=_style(),
            layout=widgets.Layout(width="10em"),
        )
        self.fade_in = widgets.FloatText(
            value=5.0,
            step=1.0,
            description="fade in (ms)",
            style=_style(),
            layout=widgets.Layout(width="11em"),
        )
        self.fade_out = widgets.FloatText(
            value=5.0,
            step=1.0,
            description="fade out (ms)",
            style=_style(),
            layout=widgets.Layout(width="11em"),
        )
        self.dither = widgets.Checkbox(value=False, description="dither", indent=False)
        self.dither.layout.width = "6em"
        self.messages: dict[str, widgets.HTML] = {
            name: widgets.HTML()
            for name in ("volume", "duration", "sample_rate", "bits", "channels", "fade")
        }

        self.audio = widgets.Audio(format="wav", autoplay=False, loop=False, controls=True)
        self.audio.add_class("wavekit-audio")
        self.play_button = widgets.Button(description="play", icon="play")
        self.play_button.on_click(lambda _b: self.play())
        self.stop_button = widgets.Button(description="stop", icon="stop")
        self.stop_button.on_click(lambda _b: self.stop())
        self.autoplay = widgets.Checkbox(value=autoplay, description="autoplay", indent=False)
        self.autoplay.layout.width = "7em"
        self.autoplay.observe(self._on_autoplay, names="value")
        self.loop = widgets.Checkbox(value=False, description="loop", indent=False)
        self.loop.layout.width = "5em"
        self.loop.observe(self._on_loop, names="value")
        self.status = widgets.HTML()
        self.status.add_class("wavekit-status")

        self.save_path = widgets.Text(
            value="tone.wav", description="file", style=_style(), layout={"width": "22em"}
        )
        self.save_button = widgets.Button(description="Save WAV", icon="save")
        self.save_button.on_click(lambda _b: self._on_save())
        self.save_message = widgets.HTML()
        self.save_message.add_class("wavekit-save-message")
        self.copy_button = widgets.Button(description="Copy spec", icon="copy")
        self.copy_button.on_click(lambda _b: self._on_copy())
        self.spec_text = widgets.Textarea(
            description="spec JSON",
            style=_style(),
            layout=widgets.Layout(width="48em", height="14em", display="none"),
        )
        self.spec_hint = widgets.HTML()

        self.waveform_image = widgets.Image(format="png", layout={"width": "480px"})
        self.waveform_image.add_class("wavekit-waveform")
        self.spectrum_image = widgets.Image(format="png", layout={"width": "480px"})
        self.spectrum_image.add_class("wavekit-spectrum")

        self._volume_db = DEFAULT_VOLUME_DB
        self.volume.observe(self._on_volume, names="value")
        for control in (
            self.duration,
            self.sample_rate,
            self.bits,
            self.channels,
            self.fade_in,
            self.fade_out,
            self.dither,
        ):
            control.observe(self._on_change, names="value")

        def with_message(control: widgets.Widget, key: str) -> widgets.VBox:
            return widgets.VBox([control, self.messages[key]])

        self.widget = widgets.VBox(
            [
                widgets.HTML("<b>Tone studio</b> — presets:"),
                widgets.HBox([*self.preset_buttons.values(), self.random_button]),
                self.partials_box,
                widgets.HBox([self.add_button, self.partials_message]),
                widgets.HBox(
                    [
                        with_message(self.volume, "volume"),
                        self.meter,
                        self.peak_label,
                        self.level_warning,
                    ]
                ),
                widgets.HBox(
                    [
                        with_message(self.duration, "duration"),
                        with_message(self.sample_rate, "sample_rate"),
                        with_message(self.bits, "bits"),
                        with_message(self.channels, "channels"),
                    ]
                ),
                widgets.HBox(
                    [
                        with_message(widgets.HBox([self.fade_in, self.fade_out]), "fade"),
                        self.dither,
                    ]
                ),
                widgets.HBox(
                    [self.audio, self.play_button, self.stop_button, self.autoplay, self.loop]
                ),
                self.status,
                widgets.HBox([self.save_path, self.save_button, self.save_message]),
                widgets.HBox([self.copy_button, self.spec_hint]),
                self.spec_text,
                widgets.HBox([self.waveform_image, self.spectrum_image]),
            ]
        )
        self.widget.add_class("wavekit-studio")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Display as the widget (JupyterLab, classic notebook, VS Code)."""
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ state

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Change many controls without a render per change."""
        self._suppress += 1
        try:
            yield
        finally:
            self._suppress -= 1

    def _set_rows(self, partials: Sequence[Partial]) -> None:
        if not 1 <= len(partials) <= MAX_PARTIALS:
            raise InvalidSpecError.single(
                "frequencies", f"the studio edits 1 to {MAX_PARTIALS} partials, not {len(partials)}"
            )
        problems = [
            FieldProblem(
                f"frequencies[{i}].freq",
                f"{p.freq:g} Hz is outside the studio's range {MIN_FREQ:g} Hz – {MAX_FREQ:g} Hz",
            )
            for i, p in enumerate(partials)
            if not MIN_FREQ <= p.freq <= MAX_FREQ
        ]
        if problems:
            raise InvalidSpecError(problems)
        top = max(p.amplitude for p in partials)
        scale = 1.0 / top if top > 1.0 else 1.0  # relative levels; the sliders stop at 1
        with self._quiet():
            self.rows = [
                PartialRow(
                    p.model_copy(update={"amplitude": _amplitude_on_grid(p.amplitude * scale)})
                )
                for p in partials
            ]
            for row in self.rows:
                self._wire(row)
            self._relabel()

    def _wire(self, row: PartialRow) -> None:
        row.frequency.observe(lambda change: self._on_frequency(row, change), names="value")
        row.entry.observe(lambda change: self._on_entry(row, change), names="value")
        row.amplitude.observe(lambda change: self._on_amplitude(row, change), names="value")
        row.mute.observe(self._on_change, names="value")
        row.remove.on_click(lambda _b: self._on_remove(row))

    def _relabel(self) -> None:
        for i, row in enumerate(self.rows):
            row.frequency.description = f"#{i + 1}"
            row.remove.disabled = len(self.rows) == 1
        self.add_button.disabled = len(self.rows) >= MAX_PARTIALS
        self.partials_box.children = [row.box for row in self.rows]

    def load(self, spec: ToneSpec, *, render: bool = True) -> None:
        """Set every control from a spec (then render, unless ``render=False``).

        Raises
        ------
        InvalidSpecError
            If the spec is outside what the controls can show.
        """
        volume_db = to_dbfs(spec.volume)
        if volume_db < MIN_VOLUME_DB:
            raise InvalidSpecError.single(
                "volume", f"{volume_db:.1f} dBFS is below the studio's {MIN_VOLUME_DB:g} dBFS"
            )
        volume_db = _on_grid(volume_db, VOLUME_STEP_DB)
        with self._quiet():
            self._set_rows(spec.frequencies)
            self._volume_db = volume_db
            self.volume.value = volume_db
            self.duration.value = spec.duration
            if spec.sample_rate not in self.sample_rate.options:
                self.sample_rate.options = sorted({*self.sample_rate.options, spec.sample_rate})
            self.sample_rate.value = spec.sample_rate
            self.bits.value = spec.bits_per_sample
            self.channels.value = spec.number_of_channels
            self.fade_in.value = spec.fade_in * 1000
            self.fade_out.value = spec.fade_out * 1000
            self.dither.value = spec.dither
        if render:
            self._edited()

    def load_partials(self, partials: Sequence[Partial]) -> None:
        """Replace the partial rows (level, duration and format stay), then render."""
        self._set_rows(partials)
        self._edited()

    def apply_preset(self, name: str) -> None:
        """Load one of :data:`PRESETS` by name."""
        self.load_partials(PRESETS[name])

    def randomize(self) -> None:
        """Load a random chord (see :func:`random_partials`)."""
        nyquist = self.sample_rate.value / 2
        self.load_partials(random_partials(self._rng, max_freq=min(MAX_FREQ, nyquist)))

    def add_partial(self, freq: float | None = None) -> None:
        """Add a row (default: a fifth above the last partial), up to :data:`MAX_PARTIALS`."""
        if len(self.rows) >= MAX_PARTIALS:
            raise InvalidSpecError.single(
                "frequencies", f"the studio edits at most {MAX_PARTIALS} partials"
            )
        if freq is None:
            last = self.rows[-1].freq
            freq = last * 1.5 if last * 1.5 <= MAX_FREQ else last / 2
        if not MIN_FREQ <= freq <= MAX_FREQ:
            raise InvalidSpecError.single(
                f"frequencies[{len(self.rows)}].freq",
                f"{freq:g} Hz is outside the studio's range {MIN_FREQ:g} Hz – {MAX_FREQ:g} Hz",
            )
        row = PartialRow(Partial(freq=freq))
        self._wire(row)
        self.rows.append(row)
        self._relabel()
        self._edited()

    def remove_partial(self, index: int) -> None:
        """Remove row ``index`` (the last one cannot be removed)."""
        if len(self.rows) == 1:
            raise InvalidSpecError.single("frequencies", "a tone needs at least one partial")
        self.rows.pop(index)
        self._relabel()
        self._edited()

    @property
    def spec(self) -> ToneSpec:
        """The tone the controls describe now.

        Raises
        ------
        InvalidSpecError
            If a control holds a bad value.
        """
        spec, problems = self._spec_from_controls()
        if spec is None:
            raise InvalidSpecError([problem for _, problem in problems])
        return spec

    @property
    def rendered_spec(self) -> ToneSpec | None:
        """The spec of the tone in the player (the last valid one)."""
        return self._rendered.spec if self._rendered else None

    def spec_json(self) -> str:
        """The player's tone as the JSON body ``POST /waves`` accepts (sorted, indented)."""
        self.flush()
        if self._rendered is None:  # pragma: no cover - the constructor renders
            raise InvalidSpecError.single("spec", "nothing rendered yet")
        return self._spec_json(self._rendered.spec)

    @staticmethod
    def _spec_json(spec: ToneSpec) -> str:
        return json.dumps(spec.model_dump(mode="json"), indent=2, sort_keys=True)

    def _spec_from_controls(
        self,
    ) -> tuple[ToneSpec | None, list[tuple[widgets.HTML, FieldProblem]]]:
        """Build the spec; on failure, each problem paired with the label next to its control."""
        active = [row for row in self.rows if not row.mute.value]
        silent = not active
        rows = active or self.rows
        duration = float(self.duration.value)
        fields = {
            "volume": self.messages["volume"],
            "duration": self.messages["duration"],
            "sample_rate": self.messages["sample_rate"],
            "bits_per_sample": self.messages["bits"],
            "number_of_channels": self.messages["channels"],
            "fade_in": self.messages["fade"],
            "fade_out": self.messages["fade"],
        }
        if duration > MAX_STUDIO_SECONDS:
            problem = FieldProblem(
                "duration",
                f"the studio plays at most {MAX_STUDIO_SECONDS:g} s; "
                "use `wavekit synth` for longer tones",
            )
            return None, [(self.messages["duration"], problem)]
        try:
            spec = ToneSpec(
                frequencies=[row.partial() for row in rows],
                volume=0.0 if silent else _db_to_linear(self._volume_db),
                duration=duration,
                sample_rate=self.sample_rate.value,
                bits_per_sample=self.bits.value,
                number_of_channels=self.channels.value,
                fade_in=self.fade_in.value / 1000,
                fade_out=self.fade_out.value / 1000,
                dither=self.dither.value,
            )
        except InvalidSpecError as exc:
            located = []
            for problem in exc.problems:
                label = fields.get(problem.field.split(".")[0].split("[")[0], self.status)
                if match := _FIELD_INDEX.match(problem.field):
                    label = rows[int(match[1])].message
                elif problem.field == "frequencies":
                    label = self.partials_message
                located.append((label, problem))
            return None, located
        if wavfile.data_bytes(spec) > MAX_STUDIO_BYTES:
            problem = FieldProblem(
                "duration",
                f"{wavfile.data_bytes(spec) / 2**20:.0f} MiB is more than the player's "
                f"{MAX_STUDIO_BYTES >> 20} MiB; shorten the tone or lower the format",
            )
            return None, [(self.messages["duration"], problem)]
        return spec, []

    def _all_messages(self) -> list[widgets.HTML]:
        return [*self.messages.values(), self.partials_message, *(r.message for r in self.rows)]

    # ------------------------------------------------------------------ rendering

    def _edited(self) -> None:
        """A control changed: drop pending plots (they would be stale) and debounce audio."""
        if self._suppress:
            return
        self._plot_debouncer.cancel()
        self._plot_generation += 1  # plots being drawn now will be stale: drop them
        self._audio_debouncer()

    @_guarded
    def _render_audio(self) -> None:
        """Controls → spec → WAV bytes → player, then meter and status; plots come later."""
        with self._lock:
            started = time.perf_counter()
            spec, problems = self._spec_from_controls()
            shown: dict[int, list[str]] = {}
            for label, problem in problems:
                shown.setdefault(id(label), []).append(problem.message)
            for label in self._all_messages():
                text = "; ".join(shown.get(id(label), []))
                if label.value != _message_html(text):
                    label.value = _message_html(text)
            if spec is None:
                self._valid = False
                if any(label is self.status for label, _ in problems):
                    details = "; ".join(str(p) for label, p in problems if label is self.status)
                    self._set_status(f"not updated: {details}", error=True)
                else:
                    self._set_status(
                        "not updated: fix the value marked ⚠; the player keeps the last tone",
                        error=True,
                    )
                return
            data = wavfile.to_bytes(spec)
            with self.audio.hold_sync():
                self.audio.autoplay = self.autoplay.value
                self.audio.value = data
            signal, _ = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
            self._rendered = Rendered(spec, data, signal, time.perf_counter() - started)
            self._valid = True
            self._show_level(self._rendered)
            self._show_summary(self._rendered)
            if self.spec_text.layout.display != "none":  # shown by "Copy spec": keep it current
                self.spec_text.value = self._spec_json(spec)
        self._plot_debouncer()

    def _request_plots(self, *, wait: bool = False) -> None:
        """Have the plot thread draw the player's tone; the images follow when it is done.

        The finished PNGs are handed back to the asyncio loop of the calling thread (the
        one handling widget messages), so widgets are only changed between messages.
        With ``wait`` (or outside any loop) the plot thread sets them itself and this
        call waits for it.
        """
        with self._lock:
            rendered = self._rendered
            self._plot_generation += 1
            generation = self._plot_generation
        if rendered is None:  # pragma: no cover - the constructor renders
            return
        loop = None
        if not wait:
            with suppress(RuntimeError):
                loop = asyncio.get_running_loop()
        if self._plot_executor is None:
            self._plot_executor = ThreadPoolExecutor(1, thread_name_prefix="wavekit-plots")
        job = self._plot_executor.submit(self._draw_plots, rendered, generation, loop)
        if wait:
            job.result()

    def _draw_plots(
        self, rendered: Rendered, generation: int, loop: asyncio.AbstractEventLoop | None
    ) -> None:
        """On the plot thread: both figures to PNG, then deliver (unless superseded)."""
        if generation != self._plot_generation:
            return  # a newer tone is coming; do not spend 0.2 s on this one
        try:
            rate = rendered.spec.sample_rate
            self._wave_fig = plots.waveform_figure(rendered.signal, rate, fig=self._wave_fig)
            self._spec_fig = plots.spectrum_figure(rendered.signal, rate, fig=self._spec_fig)
            pngs = (plots.figure_png(self._wave_fig), plots.figure_png(self._spec_fig))
            deliver = partial(self._show_plots, rendered, generation, pngs)
        except Exception as exc:
            logger.exception("tone studio: drawing the plots failed")
            deliver = partial(self._set_status, f"plots failed: {exc}", error=True)
        if loop is None or loop.is_closed():
            deliver()
        else:
            loop.call_soon_threadsafe(deliver)

    @_guarded
    def _show_plots(self, rendered: Rendered, generation: int, pngs: tuple[bytes, bytes]) -> None:
        if generation != self._plot_generation:
            return
        self.waveform_image.value, self.spectrum_image.value = pngs
        self._plotted = rendered

    def _show_level(self, rendered: Rendered) -> None:
        peak_db = to_dbfs(rendered.peak)
        self.meter.value = max(MIN_VOLUME_DB, min(0.0, peak_db))
        self.meter.bar_style = (
            "danger" if peak_db > LOUD_DB else "warning" if peak_db > -12 else "success"
        )
        shown = "−∞" if math.isinf(peak_db) else f"{peak_db:.1f}".replace("-", "−")
        self.peak_label.value = f"{shown} dBFS"
        self.level_warning.value = (
            _message_html(f"loud: peak above {LOUD_DB:g} dBFS, turn your speakers down")
            if peak_db > LOUD_DB
            else ""
        )

    def _show_summary(self, rendered: Rendered) -> None:
        spec = rendered.spec
        freqs = [p.freq for p in spec.frequencies]
        parts = [
            f"{len(freqs)} partial{'s' * (len(freqs) != 1)}: "
            + ", ".join(format_hz(f) for f in freqs)
            + " Hz"
        ]
        if spec.volume == 0:
            parts.append("all muted (silence)")
        if beats := beat_rates(freqs):
            parts.append("beats " + ", ".join(f"{b:g}" for b in beats) + " Hz")
        parts.append(f"{len(rendered.wav):,} bytes")
        parts.append(f"rendered in {rendered.seconds * 1000:.1f} ms")
        self._set_status(" · ".join(parts))

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.status.value = _message_html(text) if error else html.escape(text)

    def flush(self) -> None:
        """Run a pending render and draw its plots now, waiting for both (scripts, tests)."""
        self._audio_debouncer.flush()
        if self._plotted is not self._rendered:
            self._plot_debouncer.cancel()
            self._request_plots(wait=True)

    def refresh(self) -> None:
        """Render audio and plots now, whatever is pending, and wait for them."""
        self._audio_debouncer.cancel()
        self._plot_debouncer.cancel()
        self._render_audio()
        self._plot_debouncer.cancel()
        self._request_plots(wait=True)

    # ------------------------------------------------------------------ player

    def play(self) -> None:
        """Play from the start. The browser reloads the player whenever its settings
        change, so setting ``autoplay`` (off first, if it was on) starts playback."""
        if self.audio.autoplay:
            self.audio.autoplay = False
        self.audio.autoplay = True

    def stop(self) -> None:
        """Stop playback: reload the player without autoplay.

        Toggling ``loop`` twice forces two reloads when autoplay was already off (the
        tone may have been started with the player's own button).
        """
        if self.audio.autoplay:
            self.audio.autoplay = False
        else:
            self.audio.loop = not self.audio.loop
            self.audio.loop = self.loop.value

    # ------------------------------------------------------------------ files

    def save(self, path: str | Path | None = None) -> Path:
        """Write the player's tone with :func:`wavekit.write`; the bytes are identical.

        Parameters
        ----------
        path
            Target file (``.wav`` is added when there is no suffix); default: the
            path in the "file" box. Relative paths resolve against ``save_dir``.

        Returns
        -------
        Path
            The absolute path written.

        Raises
        ------
        InvalidSpecError
            If a control holds a bad value (nothing is written).
        """
        self.flush()
        if not self._valid or self._rendered is None:
            raise InvalidSpecError.single("spec", "fix the values marked ⚠ before saving")
        target = Path(self.save_path.value if path is None else path).expanduser()
        if not target.suffix:
            target = target.with_suffix(".wav")
        if target.suffix.lower() != ".wav":
            raise InvalidSpecError.single("file", f"must end with .wav, not {target.suffix!r}")
        if not target.is_absolute():
            target = self.save_dir / target
        return wavfile.write(self._rendered.spec, target).resolve()

    def measure(self) -> StudioReading:
        """Measure the tone in the player from its bytes: peak, strongest partials, beats."""
        self.flush()
        if self._rendered is None:  # pragma: no cover - the constructor renders
            raise InvalidSpecError.single("spec", "nothing rendered yet")
        spec = self._rendered.spec
        strongest = strongest_frequencies(
            self._rendered.signal[:, 0], spec.sample_rate, count=len(spec.frequencies)
        )
        return StudioReading(
            spec=spec,
            peak_dbfs=to_dbfs(self._rendered.peak),
            strongest=strongest,
            beats=beat_rates([p.freq for p in strongest]),
        )

    # ------------------------------------------------------------------ callbacks

    def _on_change(self, _change: Any) -> None:
        self._edited()

    def _on_frequency(self, row: PartialRow, change: Any) -> None:
        if _is_echo(change["new"], row.freq):
            return
        row.freq = float(change["new"])
        with self._quiet():
            row.entry.value = format_hz(row.freq)
        row.message.value = ""
        self._edited()

    def _on_amplitude(self, row: PartialRow, change: Any) -> None:
        if _is_echo(change["new"], row.amplitude_value):
            return
        row.amplitude_value = float(change["new"])
        self._edited()

    def _on_volume(self, change: Any) -> None:
        if _is_echo(change["new"], self._volume_db):
            return
        self._volume_db = float(change["new"])
        self._edited()

    @_guarded
    def _on_entry(self, row: PartialRow, change: Any) -> None:
        if self._suppress:
            return
        text = str(change["new"])
        try:
            freq = parse_frequency(text)
        except ValueError as exc:
            row.message.value = _message_html(str(exc))
            return
        if not MIN_FREQ <= freq <= MAX_FREQ:
            row.message.value = _message_html(
                f"{freq:g} Hz is outside {MIN_FREQ:g} Hz – {MAX_FREQ / 1000:g} kHz"
            )
            return
        row.message.value = ""
        if freq == row.freq:
            with self._quiet():
                row.entry.value = format_hz(freq)
        else:
            row.frequency.value = freq  # → _on_frequency → render

    def _on_autoplay(self, change: Any) -> None:
        self.audio.autoplay = bool(change["new"])

    def _on_loop(self, change: Any) -> None:
        self.audio.loop = bool(change["new"])

    @_guarded
    def _on_preset(self, name: str) -> None:
        self.apply_preset(name)

    @_guarded
    def _on_random(self) -> None:
        self.randomize()

    @_guarded
    def _on_add(self) -> None:
        self.add_partial()

    @_guarded
    def _on_remove(self, row: PartialRow) -> None:
        if row in self.rows:
            self.remove_partial(self.rows.index(row))

    @_guarded
    def _on_save(self) -> None:
        try:
            path = self.save(None)
        except (InvalidSpecError, OSError) as exc:
            self.save_message.value = _message_html(str(exc))
            return
        size = path.stat().st_size
        self.save_message.value = f"saved <code>{html.escape(str(path))}</code> ({size:,} bytes)"

    @_guarded
    def _on_copy(self) -> None:
        self.flush()
        if not self._valid:
            self.spec_hint.value = _message_html("fix the values marked ⚠ first")
            return
        self.spec_text.value = self.spec_json()
        self.spec_text.layout.display = None
        self.spec_hint.value = (
            "the JSON body <code>POST /waves</code> accepts: select it and copy (Ctrl/⌘+C)"
        )
