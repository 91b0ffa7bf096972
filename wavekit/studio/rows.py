"""One partial's row of controls: frequency, wave, amplitude, sweep, mute, remove.

A :class:`PartialRow` keeps its own controls consistent (the typed entry follows the
slider, the sweep's end slider shows only while sweeping, echoes of the browser's
sliders are ignored) and tells the controller only that the partial changed, through
the callback given to :meth:`PartialRow.connect`. The controller then debounces and
renders, so every control here is as responsive as the frequency slider.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from wavekit.audio.spec import Partial, parse_frequency
from wavekit.errors import MissingExtraError
from wavekit.studio.limits import (
    AMPLITUDE_STEP,
    MAX_FREQ,
    MIN_FREQ,
    STEADY,
    SWEEP_KINDS,
    SWEEP_OPTIONS,
    WAVEFORM_OPTIONS,
)
from wavekit.studio.music import format_hz, is_echo
from wavekit.studio.style import message_html, style

try:
    import ipywidgets as widgets
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise MissingExtraError("ipywidgets", "studio") from exc

__all__ = ["PartialRow", "default_sweep_end"]


def default_sweep_end(freq: float) -> float:
    """Where a new sweep ends: two octaves up, or two down when that leaves the range."""
    return freq * 4 if freq * 4 <= MAX_FREQ else max(freq / 4, MIN_FREQ)


def _log_slider(value: float, description: str, width: str) -> widgets.FloatLogSlider:
    return widgets.FloatLogSlider(
        value=value,
        base=10,
        min=math.log10(MIN_FREQ),
        max=math.log10(MAX_FREQ),
        step=None,  # continuous: a step grid would move exact values like 440 Hz
        continuous_update=True,
        description=description,
        style=style(),
        layout=widgets.Layout(width=width),
    )


class PartialRow:
    """The controls of one partial, and the exact values they stand for.

    ``freq``, ``freq_end`` and ``amplitude_value`` are the accepted values; see
    :func:`~wavekit.studio.music.is_echo` for why the sliders' own values are not
    trusted. Phase and channel are not edited here but are kept, so a loaded spec
    round-trips. ``freq_end`` is kept while the row is steady, so switching the sweep
    off and on again restores it.
    """

    def __init__(self, partial: Partial) -> None:
        self.freq = partial.freq
        self.amplitude_value = partial.amplitude
        self.phase = partial.phase
        self.channel = partial.channel
        self.freq_end = partial.freq_end or default_sweep_end(partial.freq)
        self._edited: Callable[[], None] = lambda: None
        self._quiet = False
        self.frequency = _log_slider(partial.freq, "#1", "22em")
        self.frequency.readout = False
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
            style=style(),
            layout=widgets.Layout(width="14em"),
        )
        self.mute = widgets.Checkbox(value=False, description="mute", indent=False)
        self.mute.layout.width = "5em"
        self.remove = widgets.Button(
            description="✕", tooltip="remove this partial", layout=widgets.Layout(width="2.6em")
        )
        self.message = widgets.HTML()
        self.waveform = widgets.Dropdown(
            options=list(WAVEFORM_OPTIONS),
            value=partial.waveform,
            description="wave",
            tooltip="band-limited: the exact harmonics below Nyquist, no aliasing",
            style=style(),
            layout=widgets.Layout(width="11em"),
        )
        self.waveform.add_class("wavekit-waveform-choice")
        self.sweep = widgets.Dropdown(
            options=list(SWEEP_OPTIONS),
            value=partial.sweep or STEADY,
            tooltip="sweep the frequency over the whole tone (a sweep is a sine)",
            layout=widgets.Layout(width="9em"),
        )
        self.sweep.add_class("wavekit-sweep-choice")
        self.sweep_end = _log_slider(self.freq_end, "to (Hz)", "24em")
        self.sweep_end.readout_format = ".0f"
        self.sweep_end.add_class("wavekit-sweep-end")
        self.sweep_end.layout.display = None if self.is_sweep else "none"
        self.box = widgets.VBox(
            [
                widgets.HBox(
                    [
                        self.frequency,
                        self.entry,
                        self.unit,
                        self.amplitude,
                        self.mute,
                        self.remove,
                        self.message,
                    ]
                ),
                widgets.HBox([self.waveform, self.sweep, self.sweep_end]),
            ]
        )

    @property
    def is_sweep(self) -> bool:
        return str(self.sweep.value) != STEADY

    def partial(self) -> Partial:
        """The partial the controls describe (``Partial`` validates the values)."""
        sweeping = self.is_sweep
        return Partial(
            freq=self.freq,
            amplitude=self.amplitude_value,
            phase=self.phase,
            channel=self.channel,
            waveform=self.waveform.value,
            freq_end=self.freq_end if sweeping else None,
            sweep=SWEEP_KINDS[str(self.sweep.value)] if sweeping else None,
        )

    def connect(self, edited: Callable[[], None]) -> None:
        """Observe every control; ``edited`` is called whenever the partial changed."""
        self._edited = edited
        self.frequency.observe(self._on_frequency, names="value")
        self.entry.observe(self._on_entry, names="value")
        self.amplitude.observe(self._on_amplitude, names="value")
        self.sweep_end.observe(self._on_sweep_end, names="value")
        self.sweep.observe(self._on_sweep, names="value")
        for control in (self.mute, self.waveform):
            control.observe(lambda _change: self._edited(), names="value")

    # ------------------------------------------------------------------ callbacks

    def _on_frequency(self, change: Any) -> None:
        if is_echo(change["new"], self.freq):
            return
        self.freq = float(change["new"])
        self._show_entry(self.freq)
        self.message.value = ""
        self._edited()

    def _on_entry(self, change: Any) -> None:
        if self._quiet:
            return
        text = str(change["new"])
        try:
            freq = parse_frequency(text)
        except ValueError as exc:
            self.message.value = message_html(str(exc))
            return
        if not MIN_FREQ <= freq <= MAX_FREQ:
            self.message.value = message_html(
                f"{freq:g} Hz is outside {MIN_FREQ:g} Hz – {MAX_FREQ / 1000:g} kHz"
            )
            return
        self.message.value = ""
        if freq == self.freq:
            self._show_entry(freq)
        else:
            self.frequency.value = freq  # → _on_frequency → edited

    def _show_entry(self, freq: float) -> None:
        """Write ``freq`` into the text entry without it being read back as an edit."""
        self._quiet = True
        try:
            self.entry.value = format_hz(freq)
        finally:
            self._quiet = False

    def _on_amplitude(self, change: Any) -> None:
        if is_echo(change["new"], self.amplitude_value):
            return
        self.amplitude_value = float(change["new"])
        self._edited()

    def _on_sweep_end(self, change: Any) -> None:
        if is_echo(change["new"], self.freq_end):
            return
        self.freq_end = float(change["new"])
        if self.is_sweep:
            self._edited()

    def _on_sweep(self, change: Any) -> None:
        self.sweep_end.layout.display = None if self.is_sweep else "none"
        self._edited()
