"""The tone studio, driven like a user: set widget values, click buttons, decode the audio.

Time is a ManualScheduler, so debouncing is tested without sleeping: the clock moves only
in ``clock.advance``.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

import wavekit
from wavekit import InvalidSpecError, ToneSpec, plots, to_bytes
from wavekit.audio.measure import strongest_frequencies, to_dbfs
from wavekit.audio.spec import Partial
from wavekit.studio import (
    DEBOUNCE_S,
    MAX_PARTIALS,
    PLOT_DELAY_S,
    PRESETS,
    Debouncer,
    EventLoopScheduler,
    ManualScheduler,
    ToneStudio,
    beat_rates,
    random_partials,
)

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


@pytest.fixture
def clock() -> ManualScheduler:
    return ManualScheduler()


@pytest.fixture
def studio(clock: ManualScheduler, tmp_path: Path) -> ToneStudio:
    return ToneStudio(
        scheduler=clock, save_dir=tmp_path, rng=random.Random(7), plot_executor=InlineExecutor()
    )


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


# ----------------------------------------------------------------------------- audio


def test_starts_with_the_beat_preset_at_a_safe_level(studio: ToneStudio) -> None:
    info = sf.info(io.BytesIO(studio.audio.value))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (
        44_100,
        1,
        "PCM_16",
        88_200,
    )
    assert heard(studio.audio.value) == pytest.approx([440.0, 445.0], abs=0.01)
    signal, _ = decode(studio.audio.value)
    assert to_dbfs(np.max(np.abs(signal))) == pytest.approx(-20.0, abs=0.01)
    assert studio.meter.value == pytest.approx(-20.0, abs=0.01)
    assert studio.level_warning.value == ""
    assert studio.audio.format == "wav"
    assert not studio.audio.autoplay
    assert "beats 5 Hz" in studio.status.value
    assert bytes(studio.waveform_image.value).startswith(b"\x89PNG")
    assert bytes(studio.spectrum_image.value).startswith(b"\x89PNG")


def test_moving_a_frequency_slider_changes_the_audio(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    studio.rows[1].frequency.value = 523.25
    # An isolated change renders at once, without waiting for the clock.
    assert heard(studio.audio.value) == pytest.approx([440.0, 523.25], abs=0.01)
    assert studio.rows[1].entry.value == "523.25"
    settle(clock)
    studio.rows[0].frequency.value = 2_500.0
    assert heard(studio.audio.value) == pytest.approx([523.25, 2_500.0], abs=0.01)


def test_player_bytes_are_exactly_what_the_writer_produces(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    studio.sample_rate.value = 48_000
    studio.bits.value = 24
    studio.channels.value = 2
    studio.dither.value = True
    studio.duration.value = 0.5
    settle(clock)
    assert studio.audio.value == to_bytes(studio.spec)
    info = sf.info(io.BytesIO(studio.audio.value))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (
        48_000,
        2,
        "PCM_24",
        24_000,
    )
    studio.bits.value = 8
    studio.dither.value = True
    settle(clock)
    assert studio.audio.value == to_bytes(studio.spec)
    assert studio.spec.dither
    assert sf.info(io.BytesIO(studio.audio.value)).subtype == "PCM_U8"


def test_typed_entry_accepts_hz_and_note_names(studio: ToneStudio, clock: ManualScheduler) -> None:
    studio.rows[0].entry.value = "A5"
    assert studio.rows[0].frequency.value == pytest.approx(880.0)
    assert studio.rows[0].entry.value == "880"
    assert heard(studio.audio.value) == pytest.approx([445.0, 880.0], abs=0.01)
    settle(clock)
    studio.rows[1].entry.value = "1.5kHz"
    assert heard(studio.audio.value) == pytest.approx([880.0, 1500.0], abs=0.01)


@pytest.mark.parametrize(
    ("text", "message"),
    [("banana", "is not a frequency"), ("5", "outside 20 Hz"), ("25kHz", "outside 20 Hz")],
)
def test_bad_typed_entry_shows_a_message_next_to_it(
    studio: ToneStudio, text: str, message: str
) -> None:
    before = studio.audio.value
    studio.rows[1].entry.value = text
    assert message in studio.rows[1].message.value
    assert studio.rows[0].message.value == ""
    assert studio.rows[1].frequency.value == 445.0
    assert studio.audio.value == before
    studio.rows[1].entry.value = "446"  # a good value clears the message
    assert studio.rows[1].message.value == ""
    assert heard(studio.audio.value) == pytest.approx([440.0, 446.0], abs=0.01)


def test_frequency_above_nyquist_is_reported_on_its_row(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    studio.sample_rate.value = 8_000
    settle(clock)
    valid = studio.audio.value
    studio.rows[1].frequency.value = 5_000.0
    settle(clock)
    assert "Nyquist frequency 4000 Hz" in studio.rows[1].message.value
    assert studio.rows[0].message.value == ""
    assert "not updated" in studio.status.value
    assert studio.audio.value == valid  # the player keeps the last good tone
    with pytest.raises(InvalidSpecError) as raised:
        _ = studio.spec
    assert raised.value.fields == ["frequencies[1].freq"]
    studio.sample_rate.value = 44_100
    settle(clock)
    assert studio.rows[1].message.value == ""
    assert heard(studio.audio.value) == pytest.approx([440.0, 5_000.0], abs=0.01)


def test_errors_on_muted_rows_point_at_the_right_row(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    studio.add_partial(660.0)
    studio.rows[0].mute.value = True
    studio.sample_rate.value = 8_000
    studio.rows[2].frequency.value = 6_000.0  # spec index 1, row index 2
    settle(clock)
    assert "Nyquist" in studio.rows[2].message.value
    assert studio.rows[1].message.value == ""


@pytest.mark.parametrize(
    ("control", "value", "message"),
    [
        ("duration", 0.0, "greater than 0"),
        ("duration", -1.0, "greater than 0"),
        ("duration", 120.0, "at most 30 s"),
        ("fade_in", -5.0, "greater than or equal to 0"),
        ("fade_in", 1_999.0, "must not exceed duration"),
    ],
)
def test_bad_values_show_a_message_next_to_the_control(
    studio: ToneStudio, clock: ManualScheduler, control: str, value: float, message: str
) -> None:
    before = studio.audio.value
    getattr(studio, control).value = value
    settle(clock)
    label = studio.messages["fade" if control.startswith("fade") else control]
    assert message in label.value
    assert studio.audio.value == before
    assert "not updated" in studio.status.value


def test_player_size_is_limited(studio: ToneStudio, clock: ManualScheduler) -> None:
    studio.sample_rate.value = 192_000
    studio.channels.value = 8
    studio.bits.value = "float32"
    studio.duration.value = 20.0
    settle(clock)
    assert "MiB" in studio.messages["duration"].value


def test_mute_removes_a_partial_and_all_muted_is_silence(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    studio.rows[1].mute.value = True
    assert heard(studio.audio.value) == pytest.approx([440.0], abs=0.01)
    settle(clock)
    studio.rows[0].mute.value = True
    signal, _ = decode(studio.audio.value)
    assert not signal.any()
    assert "silence" in studio.status.value
    assert studio.peak_label.value == "−∞ dBFS"


def test_loud_levels_warn(studio: ToneStudio, clock: ManualScheduler) -> None:
    studio.volume.value = -1.0
    signal, _ = decode(studio.audio.value)
    assert to_dbfs(np.max(np.abs(signal))) == pytest.approx(-1.0, abs=0.01)
    assert "above -3 dBFS" in studio.level_warning.value
    assert studio.meter.bar_style == "danger"
    settle(clock)
    studio.volume.value = -6.0
    assert studio.level_warning.value == ""
    assert studio.meter.value == pytest.approx(-6.0, abs=0.01)


# ----------------------------------------------------------------------------- presets


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_load_their_partials_and_keep_the_rest(
    studio: ToneStudio, clock: ManualScheduler, name: str
) -> None:
    studio.volume.value = -12.0
    studio.sample_rate.value = 48_000
    settle(clock)
    studio.preset_buttons[name].click()
    settle(clock)
    spec = studio.spec
    assert spec.frequencies == PRESETS[name]
    assert (spec.volume, spec.sample_rate) == (pytest.approx(10 ** (-12 / 20)), 48_000)
    assert len(studio.rows) == len(PRESETS[name])
    expected = sorted(p.freq for p in PRESETS[name])
    assert heard(studio.audio.value) == pytest.approx(expected, abs=0.01)


def test_preset_contents() -> None:
    assert [p.freq for p in PRESETS["beat 440/445"]] == [440.0, 445.0]
    assert [p.freq for p in PRESETS["A major chord"]] == pytest.approx(
        [440.0, 554.365, 659.255], abs=0.001
    )
    stack = PRESETS["octave stack"]
    assert [p.freq for p in stack] == [110.0, 220.0, 440.0, 880.0, 1760.0]
    assert [p.amplitude for p in stack] == [1.0, 0.5, 0.33, 0.25, 0.2]


def test_random_button_loads_a_reproducible_random_chord(
    studio: ToneStudio, clock: ManualScheduler, tmp_path: Path
) -> None:
    studio.random_button.click()
    settle(clock)
    partials = studio.spec.frequencies
    assert 2 <= len(partials) <= 4
    assert partials == random_partials(random.Random(7))
    assert heard(studio.audio.value) == pytest.approx(sorted(p.freq for p in partials), abs=0.02)
    other = ToneStudio(
        scheduler=ManualScheduler(),
        save_dir=tmp_path,
        rng=random.Random(7),
        plot_executor=InlineExecutor(),
    )
    other.random_button.click()
    assert other.spec.frequencies == partials


def test_random_chords_fit_the_sample_rate() -> None:
    rng = random.Random(3)
    for _ in range(200):
        partials = random_partials(rng, max_freq=4_000.0)
        assert 2 <= len(partials) <= 4
        assert all(20.0 <= p.freq < 4_000.0 and 0.3 <= p.amplitude <= 1.0 for p in partials)


# ----------------------------------------------------------------------------- rows


def test_add_and_remove_partials(studio: ToneStudio, clock: ManualScheduler) -> None:
    studio.rows[1].mute.value = True
    settle(clock)
    studio.add_button.click()
    assert len(studio.rows) == 3
    assert studio.rows[1].mute.value  # existing rows keep their state
    assert studio.rows[2].frequency.value == pytest.approx(445.0 * 1.5)
    assert heard(studio.audio.value) == pytest.approx([440.0, 667.5], abs=0.01)
    for _ in range(10):
        studio.add_button.click()
    assert len(studio.rows) == MAX_PARTIALS
    assert studio.add_button.disabled
    with pytest.raises(InvalidSpecError):
        studio.add_partial()
    studio.rows[0].remove.click()
    assert len(studio.rows) == MAX_PARTIALS - 1
    assert not studio.add_button.disabled
    assert [r.frequency.description for r in studio.rows] == [f"#{i}" for i in range(1, 8)]
    while len(studio.rows) > 1:
        studio.rows[-1].remove.click()
    assert studio.rows[0].remove.disabled
    studio.rows[0].remove.click()  # disabled in the browser; harmless here
    assert len(studio.rows) == 1
    assert studio.rows[0].frequency.value == 445.0
    settle(clock)
    assert "not updated" not in studio.status.value


# ----------------------------------------------------------------------------- debounce


def test_a_burst_of_changes_collapses_into_one_trailing_render(
    tmp_path: Path,
) -> None:
    clock = ManualScheduler()
    studio = ToneStudio(
        scheduler=clock,
        save_dir=tmp_path,
        leading=False,
        max_wait=None,
        plot_executor=InlineExecutor(),
    )
    rendered = changes_of(studio.audio)
    for freq in np.linspace(450.0, 500.0, 20):
        studio.rows[1].frequency.value = float(freq)
        clock.advance(DEBOUNCE_S / 4)
    assert rendered == []  # nothing stale was rendered during the drag
    clock.advance(DEBOUNCE_S)
    assert len(rendered) == 1
    assert heard(rendered[0]) == pytest.approx([440.0, 500.0], abs=0.01)
    settle(clock)
    assert len(rendered) == 1


def test_leading_edge_renders_the_first_change_at_once_then_only_the_last(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    settle(clock)
    rendered = changes_of(studio.audio)
    freqs = [450.0, 460.0, 470.0, 480.0, 490.0]
    for freq in freqs:
        studio.rows[1].frequency.value = freq
    assert len(rendered) == 1  # the first change, immediately
    settle(clock)
    assert len(rendered) == 2
    assert heard(rendered[0]) == pytest.approx([440.0, 450.0], abs=0.01)
    assert heard(rendered[1]) == pytest.approx([440.0, 490.0], abs=0.01)


def test_a_long_drag_still_updates_now_and_then(studio: ToneStudio, clock: ManualScheduler) -> None:
    settle(clock)
    rendered = changes_of(studio.audio)
    values = [float(f) for f in np.linspace(450.0, 1000.0, 60)]
    for freq in values:  # one event every 20 ms for 1.2 s: never 80 ms of quiet
        studio.rows[1].frequency.value = freq
        clock.advance(0.02)
    during = len(rendered)
    settle(clock)
    assert 3 <= during <= 6  # the leading render plus one at most every max_wait (0.3 s)
    assert len(rendered) == during + 1
    assert heard(rendered[-1]) == pytest.approx([440.0, 1000.0], abs=0.01)
    # Each render used the value current at that moment, never an older queued one.
    for data in rendered:
        assert min(abs(heard(data)[1] - v) for v in values) < 0.01


def test_audio_updates_before_plots_and_newer_edits_cancel_stale_plots(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    settle(clock)
    waveforms = changes_of(studio.waveform_image)
    spectra = changes_of(studio.spectrum_image)
    audio = changes_of(studio.audio)
    studio.rows[1].frequency.value = 600.0
    assert len(audio) == 1
    assert (waveforms, spectra) == ([], [])  # audio first; plots not drawn yet
    clock.advance(PLOT_DELAY_S / 2)
    studio.rows[1].frequency.value = 700.0  # cancels the pending plots of 600 Hz
    clock.advance(PLOT_DELAY_S)
    assert (waveforms, spectra) == ([], [])
    settle(clock)
    assert len(audio) == 2
    assert (len(waveforms), len(spectra)) == (1, 1)
    assert bytes(studio.waveform_image.value).startswith(b"\x89PNG")


def expected_pngs(studio: ToneStudio) -> tuple[bytes, bytes]:
    """The plots of the tone in the player, drawn independently from its bytes."""
    signal, rate = sf.read(io.BytesIO(studio.audio.value), dtype="float32", always_2d=True)
    return (
        plots.figure_png(plots.waveform_figure(signal, rate)),
        plots.figure_png(plots.spectrum_figure(signal, rate)),
    )


def test_plots_show_the_tone_in_the_player(studio: ToneStudio, clock: ManualScheduler) -> None:
    studio.rows[1].frequency.value = 1234.5
    settle(clock)
    images = (bytes(studio.waveform_image.value), bytes(studio.spectrum_image.value))
    assert images == expected_pngs(studio)


def test_plots_of_a_tone_that_changed_meanwhile_are_dropped(tmp_path: Path) -> None:
    clock, executor = ManualScheduler(), QueuedExecutor()
    studio = ToneStudio(scheduler=clock, save_dir=tmp_path, plot_executor=executor)
    settle(clock)
    executor.holding = True
    spectra = changes_of(studio.spectrum_image)
    studio.rows[1].frequency.value = 600.0
    clock.advance(PLOT_DELAY_S)
    assert len(executor.jobs) == 1  # the plot thread is busy with the 600 Hz plots...
    studio.rows[1].frequency.value = 700.0  # ...when the tone changes again
    executor.run_all()
    assert spectra == []  # 600 Hz plots were not shown
    settle(clock)
    executor.run_all()
    assert len(spectra) == 1
    assert bytes(studio.spectrum_image.value) == expected_pngs(studio)[1]
    assert heard(studio.audio.value) == pytest.approx([440.0, 700.0], abs=0.01)


def test_plots_are_drawn_off_the_loop_and_shown_on_it(tmp_path: Path) -> None:
    # In a kernel the thread handling widget messages runs an asyncio loop; plots are
    # drawn on a worker thread and the images set back on that loop's thread.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        studio = ToneStudio(save_dir=tmp_path, plot_delay=0.0)
        shown_on: list[threading.Thread] = []
        shown = threading.Event()

        def on_spectrum(_change: Any) -> None:
            shown_on.append(threading.current_thread())
            shown.set()

        studio.spectrum_image.observe(on_spectrum, names="value")
        loop.call_soon_threadsafe(lambda: setattr(studio.rows[1].frequency, "value", 900.0))
        assert shown.wait(timeout=30)
        assert shown_on == [thread]
        assert bytes(studio.spectrum_image.value) == expected_pngs(studio)[1]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def test_debouncer_leading_trailing_flush_and_cancel() -> None:
    clock = ManualScheduler()
    runs: list[float] = []
    debounce = Debouncer(lambda: runs.append(clock.now()), wait=0.1, scheduler=clock)
    debounce()
    assert runs == [0.0]
    clock.advance(0.05)
    debounce()
    clock.advance(0.05)
    debounce()
    assert debounce.pending
    clock.advance(0.09)
    assert runs == [0.0]
    clock.advance(0.01)
    assert runs == [0.0, pytest.approx(0.2)]
    assert not debounce.pending
    clock.advance(1.0)
    debounce()  # quiet again: leading
    assert len(runs) == 3
    debounce()
    assert debounce.flush()
    assert len(runs) == 4
    assert not debounce.flush()
    debounce()
    debounce.cancel()
    clock.advance(1.0)
    assert len(runs) == 4
    assert clock.pending == 0


def test_debouncer_max_wait_caps_the_delay() -> None:
    clock = ManualScheduler()
    runs: list[float] = []
    debounce = Debouncer(
        lambda: runs.append(clock.now()), wait=0.125, scheduler=clock, leading=False, max_wait=0.25
    )
    for _ in range(20):  # binary fractions: the clock adds up exactly
        debounce()
        clock.advance(0.0625)
    # Each run covers the calls since the previous one; the next burst starts right after.
    assert runs[:3] == pytest.approx([0.25, 0.5, 0.75])


def test_without_an_event_loop_timers_run_on_threads() -> None:
    done = threading.Event()
    debounce = Debouncer(done.set, wait=0.01, scheduler=EventLoopScheduler(), leading=False)
    debounce()
    assert done.wait(timeout=10)


def test_timers_run_on_the_loop_of_the_thread_that_handled_the_edit() -> None:
    # JupyterLab 4 + ipykernel 7 deliver widget messages on a subshell thread running
    # its own asyncio loop. The trailing render must be scheduled on that loop: a timer
    # put on another thread's loop does not wake it, and the render would wait for the
    # next message. Here nothing else ever wakes the thread's loop.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    ran_on: list[threading.Thread] = []
    done = threading.Event()

    def render() -> None:
        ran_on.append(threading.current_thread())
        done.set()

    debounce = Debouncer(render, wait=0.01, scheduler=EventLoopScheduler(), leading=False)
    try:
        loop.call_soon_threadsafe(debounce)
        assert done.wait(timeout=10)
        assert ran_on == [thread]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def test_manual_scheduler_runs_calls_in_time_order() -> None:
    clock = ManualScheduler()
    order: list[str] = []
    clock.call_later(0.2, lambda: order.append("b"))

    def first() -> None:
        order.append("a")
        clock.call_later(0.05, lambda: order.append("a2"))  # scheduled by a call: runs too

    clock.call_later(0.1, first)
    cancelled = clock.call_later(0.12, lambda: order.append("never"))
    cancelled.cancel()
    assert clock.advance(0.3) == 3
    assert order == ["a", "a2", "b"]
    assert clock.now() == pytest.approx(0.3)


# ----------------------------------------------------------------------------- player


def test_play_and_stop_reload_the_player(studio: ToneStudio) -> None:
    value = studio.audio.value
    autoplay = changes_of(studio.audio, "autoplay")
    loop = changes_of(studio.audio, "loop")
    studio.play_button.click()
    assert autoplay == [True]
    studio.play_button.click()  # already playing: off then on restarts it
    assert autoplay == [True, False, True]
    studio.stop_button.click()
    assert autoplay[-1] is False
    studio.stop_button.click()  # autoplay already off: two reloads through `loop`
    assert loop == [True, False]
    assert studio.audio.value == value


def test_autoplay_toggle_applies_to_new_renders(studio: ToneStudio, clock: ManualScheduler) -> None:
    studio.autoplay.value = True
    assert studio.audio.autoplay
    studio.rows[0].frequency.value = 441.0
    assert studio.audio.autoplay
    studio.autoplay.value = False
    studio.play()
    settle(clock)
    studio.rows[0].frequency.value = 442.0  # a render restores the toggle's setting
    assert not studio.audio.autoplay
    studio.loop.value = True
    assert studio.audio.loop


# ----------------------------------------------------------------------------- files


def test_save_wav_writes_the_player_bytes(studio: ToneStudio, tmp_path: Path) -> None:
    studio.rows[1].frequency.value = 447.0
    studio.save_path.value = "beats"
    studio.save_button.click()
    path = tmp_path / "beats.wav"
    assert path.read_bytes() == studio.audio.value
    assert str(path) in studio.save_message.value
    assert f"{path.stat().st_size:,} bytes" in studio.save_message.value
    assert wavekit.read_spec(path) == studio.spec


@pytest.mark.parametrize("name", ["tone.mp3", "file/in/a/file.wav"])
def test_save_problems_show_a_message_not_a_traceback(
    studio: ToneStudio, tmp_path: Path, name: str
) -> None:
    (tmp_path / "file").write_text("not a directory")
    studio.save_path.value = name
    studio.save_button.click()
    assert "⚠" in studio.save_message.value
    assert not (tmp_path / name).exists()


def test_save_refuses_while_a_value_is_bad(studio: ToneStudio, clock: ManualScheduler) -> None:
    studio.duration.value = -1.0
    studio.save_button.click()
    assert "fix the values" in studio.save_message.value
    with pytest.raises(InvalidSpecError):
        studio.save()


def test_copy_spec_shows_json_the_service_accepts(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    studio.rows[1].frequency.value = 446.5
    studio.channels.value = 2
    studio.copy_button.click()
    text = studio.spec_text.value
    assert studio.spec_text.layout.display is None  # shown
    assert ToneSpec.parse(text) == studio.spec
    assert ToneSpec.parse(json.loads(text)).spec_hash == studio.spec.spec_hash
    assert heard(studio.audio.value) == pytest.approx([440.0, 446.5], abs=0.01)
    settle(clock)
    studio.rows[0].frequency.value = 300.0  # once shown, the JSON follows the tone
    assert ToneSpec.parse(studio.spec_text.value) == studio.spec


# ----------------------------------------------------------------------------- loading


def test_load_round_trips_a_spec(studio: ToneStudio, clock: ManualScheduler) -> None:
    spec = ToneSpec(
        frequencies=[
            {"freq": 300.0, "amplitude": 0.5, "phase": 1.0, "channel": 1},
            {"freq": 450.0, "amplitude": 1.0},
        ],
        volume="-9dB",
        duration=1.25,
        sample_rate=22_050,
        # Not float32: libsndfile stamps float WAVs with the time (PEAK chunk), so two
        # writes in different seconds differ in those bytes.
        bits_per_sample=24,
        number_of_channels=2,
        fade_in=0.01,
        fade_out=0.02,
    )
    studio.load(spec)
    settle(clock)
    assert studio.spec == spec
    assert studio.audio.value == to_bytes(spec)


def test_load_keeps_relative_amplitudes_within_the_sliders(studio: ToneStudio) -> None:
    studio.load(ToneSpec(frequencies=[{"freq": 440, "amplitude": 4}, {"freq": 660, "amp": 2}]))
    assert [row.amplitude.value for row in studio.rows] == [1.0, 0.5]
    assert [p.amplitude for p in studio.spec.frequencies] == [1.0, 0.5]


def test_load_puts_levels_on_the_slider_grids(studio: ToneStudio) -> None:
    # A browser slider snaps its value to its step and sends it back; values already on
    # the grid are not moved by that.
    studio.load(
        ToneSpec(
            frequencies=[{"freq": 440, "amplitude": 1 / 3}, {"freq": 660, "amp": 0.001}],
            volume=0.5,
        )
    )
    assert [p.amplitude for p in studio.spec.frequencies] == [0.33, 0.01]
    assert studio.volume.value == -6.0
    assert studio.spec.volume == pytest.approx(10 ** (-6 / 20))


def test_slider_echoes_from_the_browser_change_nothing(studio: ToneStudio) -> None:
    # ipywidgets slider views send their value back after drawing it, with float
    # rounding (10 ** log10(440) is not always 440): that must not move the tone.
    audio = changes_of(studio.audio)
    spec = studio.spec
    studio.rows[0].frequency.value = 440.0 * (1 + 4e-16)
    studio.rows[1].amplitude.value = 1.0 - 1e-16
    studio.volume.value = -20.0 * (1 + 1e-15)
    assert audio == []
    assert studio.spec == spec
    assert studio.spec.frequencies[0].freq == 440.0


def test_load_with_an_unknown_sample_rate_adds_it(studio: ToneStudio) -> None:
    studio.load(ToneSpec(frequencies=[440], sample_rate=12_345))
    assert studio.spec.sample_rate == 12_345


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (ToneSpec(frequencies=list(range(100, 1000, 100))), "frequencies"),
        (ToneSpec(frequencies=[440, 15]), "frequencies[1].freq"),
        (ToneSpec(frequencies=[440], volume=0.0), "volume"),
    ],
)
def test_load_rejects_what_the_controls_cannot_show(
    studio: ToneStudio, spec: ToneSpec, field: str
) -> None:
    with pytest.raises(InvalidSpecError) as raised:
        studio.load(spec)
    assert raised.value.fields == [field]


def test_measure_reads_the_player_bytes(studio: ToneStudio) -> None:
    studio.load_partials([Partial(freq=500.0), Partial(freq=507.0)])
    reading = studio.measure()
    assert [p.freq for p in reading.strongest] == pytest.approx([500.0, 507.0], abs=0.01)
    assert reading.beats == pytest.approx([7.0], abs=0.01)
    assert reading.peak_dbfs == pytest.approx(-20.0, abs=0.01)
    assert "beats: 7.0 Hz" in str(reading)


def test_beat_rates() -> None:
    assert beat_rates([440.0, 445.0, 880.0]) == [5.0]
    assert beat_rates([440.0, 441.0, 443.0]) == [1.0, 2.0, 3.0]
    assert beat_rates([440.0, 460.0]) == []
    assert beat_rates([440.0, 440.0]) == []


# ----------------------------------------------------------------------------- packaging


def test_displays_as_a_widget(studio: ToneStudio) -> None:
    bundle = studio._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == studio.widget.model_id


def test_tone_studio_is_exported_lazily() -> None:
    assert wavekit.ToneStudio is ToneStudio
    code = (
        "import sys, wavekit\n"
        "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported'\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
        "sys.modules['ipywidgets'] = None\n"
        "try:\n    wavekit.ToneStudio\n"
        "except wavekit.MissingExtraError as exc:\n    print(exc.extra, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("studio ")
    assert "'ipywidgets' is not installed" in out.stdout
