"""The tone studio's player, files and loading, driven like a user."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import wavekit
from tests.studio.support import changes_of, heard, settle
from wavekit import InvalidSpecError, ToneSpec, to_bytes
from wavekit.audio.spec import Partial
from wavekit.studio import ManualScheduler, ToneStudio

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


# ----------------------------------------------------------------------------- packaging


def test_displays_as_a_widget(studio: ToneStudio) -> None:
    bundle = studio._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == studio.widget.model_id
