"""The studio's widgets: the ipywidgets tree, and how values and problems are shown on it.

:class:`StudioLayout` builds every control and arranges them; it holds no behaviour
beyond reading the controls into a spec and writing results back onto them. The
controller (:class:`~wavekit.studio.controller.ToneStudio`) subclasses it and wires
the events, so code and tests reach each control as a plain attribute
(``studio.volume``, ``studio.rows[0].frequency``).
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

from wavekit.audio import wavfile
from wavekit.audio.measure import to_dbfs
from wavekit.audio.spec import Noise, ToneSpec
from wavekit.errors import FieldProblem, InvalidSpecError, MissingExtraError
from wavekit.studio.limits import (
    AMPLITUDE_STEP,
    BIT_DEPTH_OPTIONS,
    CHANNEL_OPTIONS,
    DEFAULT_NOISE_AMPLITUDE,
    DEFAULT_VOLUME_DB,
    LOUD_DB,
    MAX_PARTIALS,
    MAX_STUDIO_BYTES,
    MAX_STUDIO_SECONDS,
    MIN_VOLUME_DB,
    NOISE_COLORS,
    NOISE_OFF,
    NOISE_OPTIONS,
    SAMPLE_RATES,
    VOLUME_STEP_DB,
)
from wavekit.studio.music import db_to_linear
from wavekit.studio.presets import PRESETS
from wavekit.studio.reading import Rendered
from wavekit.studio.rows import PartialRow
from wavekit.studio.style import message_html, style

try:
    import ipywidgets as widgets
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise MissingExtraError("ipywidgets", "studio") from exc

__all__ = ["PartialRow", "StudioLayout", "message_html"]

_FIELD_INDEX = re.compile(r"^frequencies\[(\d+)\]")


class StudioLayout:
    """Every control of the studio and the tree that arranges them; no event handling.

    ``rows`` are the partial rows shown (the controller replaces them); ``_volume_db``
    is the accepted volume, exact where the slider's own value may carry rounding.
    """

    def __init__(self, *, autoplay: bool) -> None:
        self.rows: list[PartialRow] = []
        self._volume_db = DEFAULT_VOLUME_DB
        self.preset_buttons = {
            name: widgets.Button(description=name, tooltip=f"load the {name} preset")
            for name in PRESETS
        }
        self.random_button = widgets.Button(
            description="random", icon="random", tooltip="a random chord"
        )

        self.partials_box = widgets.VBox()
        self.add_button = widgets.Button(
            description="add partial", icon="plus", tooltip=f"up to {MAX_PARTIALS} partials"
        )
        self.partials_message = widgets.HTML()

        self._noise_amplitude = DEFAULT_NOISE_AMPLITUDE
        self.noise_color = widgets.Dropdown(
            options=list(NOISE_OPTIONS),
            value=NOISE_OFF,
            description="noise",
            tooltip="white, pink (-3 dB/octave) or brown (-6 dB/octave) noise, mixed in",
            style=style(),
            layout=widgets.Layout(width="12em"),
        )
        self.noise_color.add_class("wavekit-noise-color")
        self.noise_amplitude = widgets.FloatSlider(
            value=DEFAULT_NOISE_AMPLITUDE,
            min=0.0,
            max=1.0,
            step=AMPLITUDE_STEP,
            description="noise amp",
            readout_format=".2f",
            tooltip="the power of a sine partial of this amplitude",
            disabled=True,  # until a colour is chosen
            style=style(),
            layout=widgets.Layout(width="18em"),
        )
        self.noise_amplitude.add_class("wavekit-noise-amplitude")

        self.volume = widgets.FloatSlider(
            value=DEFAULT_VOLUME_DB,
            min=MIN_VOLUME_DB,
            max=0.0,
            step=VOLUME_STEP_DB,
            description="volume (dBFS)",
            readout_format=".1f",
            style=style(),
            layout=widgets.Layout(width="24em"),
        )
        self.meter = widgets.FloatProgress(
            value=MIN_VOLUME_DB,
            min=MIN_VOLUME_DB,
            max=0.0,
            description="peak",
            bar_style="success",
            style=style(),
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
            style=style(),
            layout=widgets.Layout(width="12em"),
        )
        self.sample_rate = widgets.Dropdown(
            options=list(SAMPLE_RATES),
            value=44_100,
            description="rate (Hz)",
            style=style(),
            layout=widgets.Layout(width="12em"),
        )
        self.bits = widgets.Dropdown(
            options=list(BIT_DEPTH_OPTIONS),
            value=16,
            description="depth",
            style=style(),
            layout=widgets.Layout(width="11em"),
        )
        self.channels = widgets.Dropdown(
            options=list(CHANNEL_OPTIONS),
            value=1,
            description="channels",
            style=style(),
            layout=widgets.Layout(width="10em"),
        )
        self.fade_in = widgets.FloatText(
            value=5.0,
            step=1.0,
            description="fade in (ms)",
            style=style(),
            layout=widgets.Layout(width="11em"),
        )
        self.fade_out = widgets.FloatText(
            value=5.0,
            step=1.0,
            description="fade out (ms)",
            style=style(),
            layout=widgets.Layout(width="11em"),
        )
        self.dither = widgets.Checkbox(value=False, description="dither", indent=False)
        self.dither.layout.width = "6em"
        self.messages: dict[str, widgets.HTML] = {
            name: widgets.HTML()
            for name in ("volume", "duration", "sample_rate", "bits", "channels", "fade", "noise")
        }

        self.audio = widgets.Audio(format="wav", autoplay=False, loop=False, controls=True)
        self.audio.add_class("wavekit-audio")
        self.play_button = widgets.Button(description="play", icon="play")
        self.stop_button = widgets.Button(description="stop", icon="stop")
        self.autoplay = widgets.Checkbox(value=autoplay, description="autoplay", indent=False)
        self.autoplay.layout.width = "7em"
        self.loop = widgets.Checkbox(value=False, description="loop", indent=False)
        self.loop.layout.width = "5em"
        self.status = widgets.HTML()
        self.status.add_class("wavekit-status")

        self.save_path = widgets.Text(
            value="tone.wav", description="file", style=style(), layout={"width": "22em"}
        )
        self.save_button = widgets.Button(description="Save WAV", icon="save")
        self.save_message = widgets.HTML()
        self.save_message.add_class("wavekit-save-message")
        self.copy_button = widgets.Button(description="Copy spec", icon="copy")
        self.spec_text = widgets.Textarea(
            description="spec JSON",
            style=style(),
            layout=widgets.Layout(width="48em", height="14em", display="none"),
        )
        self.spec_hint = widgets.HTML()

        self.waveform_image = widgets.Image(format="png", layout={"width": "480px"})
        self.waveform_image.add_class("wavekit-waveform")
        self.spectrum_image = widgets.Image(format="png", layout={"width": "480px"})
        self.spectrum_image.add_class("wavekit-spectrum")
        self.widget = self._arrange()

    def _arrange(self) -> widgets.VBox:
        """The tree, top to bottom: presets, partials, level, format, player, files, plots."""

        def with_message(control: widgets.Widget, key: str) -> widgets.VBox:
            return widgets.VBox([control, self.messages[key]])

        tree = widgets.VBox(
            [
                widgets.HTML("<b>Tone studio</b> — presets:"),
                widgets.HBox([*self.preset_buttons.values(), self.random_button]),
                self.partials_box,
                widgets.HBox([self.add_button, self.partials_message]),
                widgets.HBox(
                    [
                        self.noise_color,
                        self.noise_amplitude,
                        self.messages["noise"],
                    ]
                ),
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
        tree.add_class("wavekit-studio")
        return tree

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Display as the widget (JupyterLab, classic notebook, VS Code)."""
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ reading

    def _relabel(self) -> None:
        """Show ``rows``: number them, and enable add/remove as the limits allow."""
        for i, row in enumerate(self.rows):
            row.frequency.description = f"#{i + 1}"
            row.remove.disabled = len(self.rows) == 1
        self.add_button.disabled = len(self.rows) >= MAX_PARTIALS
        self.partials_box.children = [row.box for row in self.rows]

    def _noise(self) -> Noise | None:
        color = NOISE_COLORS.get(str(self.noise_color.value))
        return None if color is None else Noise(color=color, amplitude=self._noise_amplitude)

    def _spec_from_controls(
        self,
    ) -> tuple[ToneSpec | None, list[tuple[widgets.HTML, FieldProblem]]]:
        """Build the spec; on failure, each problem paired with the label next to its control.

        Muted rows are left out; with every row muted the tone is the noise alone, or
        silence (every partial at volume 0) when there is no noise either.
        """
        noise = self._noise()
        active = [row for row in self.rows if not row.mute.value]
        silent = not active and noise is None
        rows = self.rows if silent else active
        duration = float(self.duration.value)
        fields = {
            "volume": self.messages["volume"],
            "duration": self.messages["duration"],
            "sample_rate": self.messages["sample_rate"],
            "bits_per_sample": self.messages["bits"],
            "number_of_channels": self.messages["channels"],
            "fade_in": self.messages["fade"],
            "fade_out": self.messages["fade"],
            "noise": self.messages["noise"],
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
                volume=0.0 if silent else db_to_linear(self._volume_db),
                duration=duration,
                sample_rate=self.sample_rate.value,
                bits_per_sample=self.bits.value,
                number_of_channels=self.channels.value,
                fade_in=self.fade_in.value / 1000,
                fade_out=self.fade_out.value / 1000,
                dither=self.dither.value,
                noise=noise,
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

    # ------------------------------------------------------------------ showing

    def _all_messages(self) -> list[widgets.HTML]:
        return [*self.messages.values(), self.partials_message, *(r.message for r in self.rows)]

    def _show_problems(self, problems: list[tuple[widgets.HTML, FieldProblem]]) -> None:
        """Put each problem next to its control; clear the labels that have none."""
        shown: dict[int, list[str]] = {}
        for label, problem in problems:
            shown.setdefault(id(label), []).append(problem.message)
        for label in self._all_messages():
            text = "; ".join(shown.get(id(label), []))
            if label.value != message_html(text):
                label.value = message_html(text)

    def _show_level(self, rendered: Rendered) -> None:
        peak_db = to_dbfs(rendered.peak)
        self.meter.value = max(MIN_VOLUME_DB, min(0.0, peak_db))
        self.meter.bar_style = (
            "danger" if peak_db > LOUD_DB else "warning" if peak_db > -12 else "success"
        )
        shown = "−∞" if math.isinf(peak_db) else f"{peak_db:.1f}".replace("-", "−")
        self.peak_label.value = f"{shown} dBFS"
        self.level_warning.value = (
            message_html(f"loud: peak above {LOUD_DB:g} dBFS, turn your speakers down")
            if peak_db > LOUD_DB
            else ""
        )

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.status.value = message_html(text) if error else html.escape(text)
