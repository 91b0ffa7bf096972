"""The tone studio, driven like a user: edits become audio, plots and messages.

Time is a ManualScheduler, so debouncing is tested without sleeping: the clock moves only
in ``clock.advance``.
"""

from __future__ import annotations

import asyncio
import io
import random
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.studio.support import (
    InlineExecutor,
    QueuedExecutor,
    changes_of,
    decode,
    expected_pngs,
    heard,
    settle,
)
from wavekit import InvalidSpecError, to_bytes
from wavekit.audio.measure import to_dbfs
from wavekit.studio import (
    DEBOUNCE_S,
    MAX_PARTIALS,
    PLOT_DELAY_S,
    PRESETS,
    ManualScheduler,
    ToneStudio,
    random_partials,
)

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
