"""The tone studio: design a tone by ear with ipywidgets sliders in a notebook.

>>> from wavekit.studio import ToneStudio
>>> studio = ToneStudio()   # 440 + 445 Hz at -20 dBFS; the last line of a cell shows it

The package, from the ground up:

- :mod:`~wavekit.studio.limits`, :mod:`~wavekit.studio.presets`,
  :mod:`~wavekit.studio.music`, :mod:`~wavekit.studio.timing`,
  :mod:`~wavekit.studio.reading`: pure parts (ranges, preset tones, beat and level
  maths, debounce timing, the rendered tone and its measurement); they import no
  ipywidgets, IPython or matplotlib, so they are tested without a notebook;
- :mod:`~wavekit.studio.rows`: one partial's row (frequency, wave, amplitude, sweep,
  mute), which keeps its own controls consistent and reports each change;
- :mod:`~wavekit.studio.layout`: the widget tree (rows, noise, level, format, player,
  plots) and how values and problems are shown;
- :mod:`~wavekit.studio.controller`: :class:`ToneStudio`, which wires events to
  rendering, audio, plots, saving and measuring.

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

Importing this package loads only the pure parts; the widget classes (``ToneStudio``,
``StudioLayout``, ``PartialRow``) are imported on first use (PEP 562), so
``wavekit.studio.timing`` and friends work where ipywidgets is not installed.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from wavekit.studio.limits import (
    AMPLITUDE_STEP,
    BIT_DEPTH_OPTIONS,
    CHANNEL_OPTIONS,
    DEFAULT_VOLUME_DB,
    LOUD_DB,
    MAX_FREQ,
    MAX_PARTIALS,
    MAX_STUDIO_BYTES,
    MAX_STUDIO_SECONDS,
    MIN_FREQ,
    MIN_VOLUME_DB,
    SAMPLE_RATES,
    VOLUME_STEP_DB,
)
from wavekit.studio.music import beat_rates, format_hz
from wavekit.studio.presets import DEFAULT_SPEC, PRESETS, random_partials
from wavekit.studio.reading import Rendered, StudioReading
from wavekit.studio.timing import (
    DEBOUNCE_S,
    MAX_WAIT_S,
    PLOT_DELAY_S,
    Cancellable,
    Debouncer,
    EventLoopScheduler,
    ManualScheduler,
    Scheduler,
    ThreadScheduler,
    default_scheduler,
)

if TYPE_CHECKING:
    from wavekit.studio.controller import ToneStudio
    from wavekit.studio.layout import StudioLayout
    from wavekit.studio.rows import PartialRow

__all__ = [
    "AMPLITUDE_STEP",
    "BIT_DEPTH_OPTIONS",
    "CHANNEL_OPTIONS",
    "DEBOUNCE_S",
    "DEFAULT_SPEC",
    "DEFAULT_VOLUME_DB",
    "LOUD_DB",
    "MAX_FREQ",
    "MAX_PARTIALS",
    "MAX_STUDIO_BYTES",
    "MAX_STUDIO_SECONDS",
    "MAX_WAIT_S",
    "MIN_FREQ",
    "MIN_VOLUME_DB",
    "PLOT_DELAY_S",
    "PRESETS",
    "SAMPLE_RATES",
    "VOLUME_STEP_DB",
    "Cancellable",
    "Debouncer",
    "EventLoopScheduler",
    "ManualScheduler",
    "PartialRow",
    "Rendered",
    "Scheduler",
    "StudioLayout",
    "StudioReading",
    "ThreadScheduler",
    "ToneStudio",
    "beat_rates",
    "default_scheduler",
    "format_hz",
    "random_partials",
]

_WIDGET_CLASSES = {
    "ToneStudio": "wavekit.studio.controller",
    "PartialRow": "wavekit.studio.rows",
    "StudioLayout": "wavekit.studio.layout",
}


def __getattr__(name: str) -> Any:
    """Import the widget classes on first use (PEP 562); they need the ``studio`` extra.

    Raises
    ------
    MissingExtraError
        If ipywidgets or matplotlib is not installed.
    """
    module = _WIDGET_CLASSES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
