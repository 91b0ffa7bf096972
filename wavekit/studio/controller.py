"""The tone studio's controller: edits in, sound and pictures out.

:class:`ToneStudio` wires the controls of :class:`~wavekit.studio.layout.StudioLayout`
to the work: every edit goes through a :class:`~wavekit.studio.timing.Debouncer`; a
render builds a :class:`~wavekit.audio.spec.ToneSpec`, encodes it with
:func:`wavekit.audio.wavfile.to_bytes` and hands those bytes to the ``ipywidgets.Audio``
player (the player holds exactly the bytes "Save WAV" writes). Plots are drawn
afterwards, on a plot thread, in a step that a newer edit cancels, so drawing never
delays the audio. Renders hold a lock, so a cell calling the studio while the browser
drags a slider is safe.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from functools import partial, update_wrapper
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import soundfile as sf

from wavekit import plots
from wavekit.audio import wavfile
from wavekit.audio.measure import to_dbfs
from wavekit.audio.spec import Partial, ToneSpec
from wavekit.errors import FieldProblem, InvalidSpecError
from wavekit.studio.layout import PartialRow, StudioLayout, message_html
from wavekit.studio.limits import (
    MAX_FREQ,
    MAX_PARTIALS,
    MIN_FREQ,
    MIN_VOLUME_DB,
    NOISE_OFF,
    VOLUME_STEP_DB,
)
from wavekit.studio.music import amplitude_on_grid, is_echo, on_grid
from wavekit.studio.presets import DEFAULT_SPEC, PRESETS, random_partials
from wavekit.studio.reading import Rendered, StudioReading, measure_rendered, summary_line
from wavekit.studio.timing import (
    DEBOUNCE_S,
    MAX_WAIT_S,
    PLOT_DELAY_S,
    Debouncer,
    Scheduler,
    default_scheduler,
)

__all__ = ["ToneStudio"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


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


class ToneStudio(StudioLayout):
    """An ipywidgets tone designer: partial rows, noise, level, format, player, plots.

    Display it as the last expression of a cell (or ``display(studio)``). The controls
    are public attributes, so code and tests can drive it exactly like a user:
    ``studio.rows[0].frequency.value = 445``, ``studio.rows[0].waveform.value = "square"``,
    ``studio.noise_color.value = "pink"``, ``studio.preset_buttons["A major chord"].click()``.

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
        super().__init__(autoplay=autoplay)
        self._wire_controls()
        self.load(spec if spec is not None else DEFAULT_SPEC, render=False)
        self.refresh()

    def _wire_controls(self) -> None:
        """Connect the layout's buttons and value changes to the handlers below."""
        for name, button in self.preset_buttons.items():
            button.on_click(lambda _b, name=name: self._on_preset(name))
        self.random_button.on_click(lambda _b: self._on_random())
        self.add_button.on_click(lambda _b: self._on_add())
        self.play_button.on_click(lambda _b: self.play())
        self.stop_button.on_click(lambda _b: self.stop())
        self.autoplay.observe(self._on_autoplay, names="value")
        self.loop.observe(self._on_loop, names="value")
        self.save_button.on_click(lambda _b: self._on_save())
        self.copy_button.on_click(lambda _b: self._on_copy())
        self.volume.observe(self._on_volume, names="value")
        self.noise_amplitude.observe(self._on_noise_amplitude, names="value")
        self.noise_color.observe(self._on_noise_color, names="value")
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

    # ------------------------------------------------------------------ state

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Change many controls without a render per change."""
        self._suppress += 1
        try:
            yield
        finally:
            self._suppress -= 1

    def _set_rows(self, partials: Sequence[Partial], *, muted: bool = False) -> None:
        if not 1 <= len(partials) <= MAX_PARTIALS:
            raise InvalidSpecError.single(
                "frequencies", f"the studio edits 1 to {MAX_PARTIALS} partials, not {len(partials)}"
            )
        problems = [
            FieldProblem(
                f"frequencies[{i}].{name}",
                f"{hz:g} Hz is outside the studio's range {MIN_FREQ:g} Hz – {MAX_FREQ:g} Hz",
            )
            for i, p in enumerate(partials)
            for name, hz in (("freq", p.freq), ("freq_end", p.freq_end))
            if hz is not None and not MIN_FREQ <= hz <= MAX_FREQ
        ]
        if problems:
            raise InvalidSpecError(problems)
        top = max(p.amplitude for p in partials)
        scale = 1.0 / top if top > 1.0 else 1.0  # relative levels; the sliders stop at 1
        with self._quiet():
            self.rows = [
                PartialRow(
                    p.model_copy(update={"amplitude": amplitude_on_grid(p.amplitude * scale)})
                )
                for p in partials
            ]
            for row in self.rows:
                row.mute.value = muted
                self._wire(row)
            self._relabel()

    def _wire(self, row: PartialRow) -> None:
        row.connect(self._edited)
        row.remove.on_click(lambda _b: self._on_remove(row))

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
        volume_db = on_grid(volume_db, VOLUME_STEP_DB)
        with self._quiet():
            # noise alone: one muted row, so there is a partial to unmute
            self._set_rows(spec.frequencies or [Partial(freq=440.0)], muted=not spec.frequencies)
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
            self.noise_color.value = spec.noise.color if spec.noise else NOISE_OFF
            if spec.noise:
                self._noise_amplitude = amplitude_on_grid(spec.noise.amplitude)
                self.noise_amplitude.value = self._noise_amplitude
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
            self._show_problems(problems)
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
            self._set_status(summary_line(self._rendered))
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
        return measure_rendered(self._rendered)

    # ------------------------------------------------------------------ callbacks

    def _on_change(self, _change: Any) -> None:
        self._edited()

    def _on_volume(self, change: Any) -> None:
        if is_echo(change["new"], self._volume_db):
            return
        self._volume_db = float(change["new"])
        self._edited()

    def _on_noise_color(self, change: Any) -> None:
        self.noise_amplitude.disabled = change["new"] == NOISE_OFF
        self._edited()

    def _on_noise_amplitude(self, change: Any) -> None:
        if is_echo(change["new"], self._noise_amplitude):
            return
        self._noise_amplitude = float(change["new"])
        if self.noise_color.value != NOISE_OFF:
            self._edited()

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
            self.save_message.value = message_html(str(exc))
            return
        size = path.stat().st_size
        self.save_message.value = f"saved <code>{html.escape(str(path))}</code> ({size:,} bytes)"

    @_guarded
    def _on_copy(self) -> None:
        self.flush()
        if not self._valid:
            self.spec_hint.value = message_html("fix the values marked ⚠ first")
            return
        self.spec_text.value = self.spec_json()
        self.spec_text.layout.display = None
        self.spec_hint.value = (
            "the JSON body <code>POST /waves</code> accepts: select it and copy (Ctrl/⌘+C)"
        )
