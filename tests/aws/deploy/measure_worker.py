"""Measure the synthesis rate the worker's sizing assumes (``wavekit/deploy/limits.py``).

    .venv/bin/python -m tests.aws.deploy.measure_worker [seconds of audio, default 20]

Writes tones at the largest format (192 kHz, 8 channels, float32) for the spec families
that cost most, and prints MB written per second of *process CPU time* (other load on
the machine does not count; numpy's own threads do, which errs on the slow side). The
slowest family is the figure ``SYNTH_MEASURED_BYTES_PER_S`` should not exceed; rerun it
when synthesis changes. Not a test: it takes tens of seconds and its numbers depend on
the machine (``limits.SYNTH_SAFETY`` covers Lambda's slower arm64 core).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from wavekit.audio import wavfile
from wavekit.audio.spec import MAX_CHANNELS, MAX_SAMPLE_RATE, ToneSpec
from wavekit.deploy import limits


def families(duration: float) -> dict[str, ToneSpec]:
    base = {
        "duration": duration,
        "sample_rate": MAX_SAMPLE_RATE,
        "number_of_channels": MAX_CHANNELS,
        "bits_per_sample": "float32",
    }
    per_channel = [{"freq": 100 + 37 * i, "channel": i % MAX_CHANNELS} for i in range(32)]
    return {
        "one sine": ToneSpec(frequencies=[440], **base),
        "32 sines, one per channel": ToneSpec(frequencies=per_channel, **base),
        "32 square waves + brown noise": ToneSpec(
            frequencies=[{**p, "waveform": "square"} for p in per_channel],
            noise={"color": "brown"},
            **base,
        ),
        "32 log sweeps, one per channel": ToneSpec(
            frequencies=[{**p, "freq_end": 2000 + 11 * i} for i, p in enumerate(per_channel)],
            **base,
        ),
        "32 linear sweeps + pink noise": ToneSpec(
            frequencies=[
                {**p, "freq_end": 2000 + 11 * i, "sweep": "linear"}
                for i, p in enumerate(per_channel)
            ],
            noise={"color": "pink"},
            **base,
        ),
    }


def main(duration: float = 20.0) -> None:
    slowest = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tone.wav"
        for name, spec in families(duration).items():
            started = time.process_time()
            wavfile.write(spec, path)
            rate = path.stat().st_size / (time.process_time() - started)
            slowest = min(slowest, rate)
            print(f"{name:<34} {rate / 1e6:8.1f} MB/s")
    assumed = limits.SYNTH_MEASURED_BYTES_PER_S
    print(f"slowest {slowest / 1e6:.1f} MB/s; the sizing assumes {assumed / 1e6:.1f} MB/s")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 20.0)
