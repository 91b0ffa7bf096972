"""Synthesis benchmarks, printed as ratios against references measured in the same run.

    python benchmarks/bench_synth.py            # everything (writes a ~1 GB temp file)
    python benchmarks/bench_synth.py --no-long  # skip the 1-hour streaming run

Goals (DESIGN.md §6): a 60 s 44.1 kHz stereo 16-bit 440+445 Hz WAV ≥ 10× faster than
SoX and ≥ 50 % of the throughput of a bare float32 ``np.sin`` over the same number of
samples (frames × channels); a 1 h 48 kHz stereo 24-bit file streamed with peak RSS
under 100 MB.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from wavekit import ToneSpec, to_bytes, write

SPEC_60S = ToneSpec(
    frequencies=[440, 445], duration=60, sample_rate=44_100, number_of_channels=2, volume=0.8
)
SPEC_1H = ToneSpec(
    frequencies=[440, 445],
    duration=3600,
    sample_rate=48_000,
    number_of_channels=2,
    bits_per_sample=24,
    volume=0.8,
)
# Runs in a fresh process; VmHWM is that process's own peak RSS (ru_maxrss would
# include the parent's, inherited through fork).
STREAM_CHILD = """
import re, sys, time
from pathlib import Path
from wavekit import ToneSpec, write
def hwm_kib():
    return int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1))
spec = ToneSpec.parse(sys.argv[1])
base = hwm_kib()
t = time.perf_counter()
write(spec, sys.argv[2])
print(time.perf_counter() - t, base, hwm_kib())
"""


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    run()  # warm-up: imports, caches, page faults
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_60s(tmp: Path, repeat: int) -> None:
    samples = SPEC_60S.frames * SPEC_60S.number_of_channels
    phases = np.linspace(0, 2 * np.pi * 440 * 60, samples, dtype=np.float32)
    t_sin = median_seconds(lambda: np.sin(phases), repeat)
    t_bytes = median_seconds(lambda: to_bytes(SPEC_60S), repeat)
    t_file = median_seconds(lambda: write(SPEC_60S, tmp / "w.wav"), repeat)
    print(f"60 s 44.1 kHz stereo 16-bit 440+445 Hz ({samples:,} samples = frames × channels)")
    for name, seconds in [
        ("bare float32 np.sin", t_sin),
        ("wavekit to_bytes", t_bytes),
        ("wavekit write (file)", t_file),
    ]:
        rate = samples / seconds / 1e6
        print(f"  {name:25s} {seconds * 1e3:8.1f} ms  {rate:7.1f} M samples/s")
    print(f"  throughput vs np.sin      {t_sin / t_file:8.2f}×  (goal ≥ 0.5, file write)")
    sox = shutil.which("sox")
    if sox is None:
        print("  sox                       not installed: apt-get install sox")
        return
    command = [sox, "-n", "-r", "44100", "-b", "16", "-c", "2", str(tmp / "s.wav"),
               "synth", "60", "sine", "440", "sine", "445"]  # fmt: skip
    t_sox = median_seconds(lambda: subprocess.run(command, check=True), max(3, repeat // 2))
    print(f"  sox {' '.join(command[1:8])} ... {t_sox * 1e3:8.1f} ms")
    print(f"  speed-up vs SoX           {t_sox / t_file:8.1f}×  (goal ≥ 10, file write)")


def bench_1h_stream(tmp: Path) -> None:
    target = tmp / "hour.wav"
    done = subprocess.run(
        [sys.executable, "-c", STREAM_CHILD, SPEC_1H.canonical_json(), str(target)],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds, base_kib, peak_kib = (float(v) for v in done.stdout.split())
    peak_mib = peak_kib / 1024
    size = target.stat().st_size
    print("1 h 48 kHz stereo 24-bit, streamed to disk")
    print(f"  file {size / 2**30:.2f} GiB in {seconds:.1f} s ({size / seconds / 2**20:.0f} MiB/s)")
    print(f"  peak RSS {peak_mib:.0f} MiB (after imports: {base_kib / 1024:.0f} MiB; goal < 100)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-long", action="store_true", help="skip the 1-hour stream")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_60s(Path(tmp), args.repeat)
        if not args.no_long:
            bench_1h_stream(Path(tmp))


if __name__ == "__main__":
    main()
