"""Streaming keeps memory flat for every kind of tone (the hour-long RSS is in bench_synth)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from wavekit import ToneSpec, write

KINDS: dict[str, dict[str, Any]] = {
    "sine": {"frequencies": [440, 445]},
    "square": {"frequencies": [{"freq": 440, "waveform": "square"}]},
    "square-notes": {"frequencies": [{"freq": "C#5", "waveform": "square"}]},
    "pink": {"frequencies": [], "noise": "pink"},
    "brown-and-sine": {"frequencies": ["A3"], "noise": {"color": "brown", "amplitude": 0.5}},
    "sweep": {"frequencies": [{"freq": 20, "freq_end": 3000}]},
}


def peak_bytes(spec: ToneSpec, path: Path) -> int:
    tracemalloc.start()
    try:
        write(spec, path, block_frames=8 * 4096)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_memory_does_not_grow_with_duration(tmp_path: Path, kind: str) -> None:
    base = {"sample_rate": 8000, "number_of_channels": 2, "bits_per_sample": 24, **KINDS[kind]}
    short = ToneSpec(duration=20, **base)
    long = ToneSpec(duration=160, **base)
    write(short, tmp_path / "warm.wav", block_frames=8 * 4096)  # caches, imports
    small, large = peak_bytes(short, tmp_path / "s.wav"), peak_bytes(long, tmp_path / "l.wav")
    assert sf.info(str(tmp_path / "l.wav")).frames == long.frames
    assert large < small * 1.2 + 256 * 1024  # 8× the frames, the same memory
