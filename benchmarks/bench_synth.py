"""Synthesis benchmarks, printed as ratios against references measured in the same run.

    python benchmarks/bench_synth.py            # everything (writes ~1 GB temp files)
    python benchmarks/bench_synth.py --no-long  # skip the 1-hour streaming runs

Every case is a 60 s 44.1 kHz stereo 16-bit WAV, as ``sox -n -r 44100 -b 16 -c 2 out.wav
synth 60 ...`` makes it. Goals (issue 14; DESIGN.md §6):

- sine 440+445 Hz within 1.5× of writing the same samples with soundfile alone, and
  ≥ 10× faster than SoX; ≥ 50 % of the throughput of a bare float32 ``np.sin``;
- square 440+445 Hz (band-limited) ≥ 10× SoX (whose square aliases);
- pink noise and a 20 Hz → 20 kHz log sweep ≥ 3× SoX;
- an hour-long 48 kHz stereo 24-bit file of every kind streamed with flat memory
  (peak RSS under 100 MB), each in a fresh process.

The cases are timed round-robin (one run of each per round, median over rounds), so a
busy machine slows every case alike instead of skewing one ratio. Each run's CPU time
(user + system, this process plus its children: SoX runs as a child) is recorded too:
on a machine busier than its cores, wall time mostly measures waiting for a core, and
the CPU ratios are the steadier comparison of the work each tool does.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from wavekit import ToneSpec, to_bytes, write

MINUTE: dict[str, Any] = {"duration": 60, "sample_rate": 44_100, "number_of_channels": 2}
HOUR: dict[str, Any] = {
    "duration": 3600,
    "sample_rate": 48_000,
    "number_of_channels": 2,
    "bits_per_sample": 24,
}


@dataclass(frozen=True)
class Case:
    name: str
    frequencies: list[Any]
    noise: str | None
    sox: list[str] | None  # the synth arguments after "synth 60"; None: no SoX twin
    goal: str

    def spec(self, **format_fields: Any) -> ToneSpec:
        return ToneSpec(frequencies=self.frequencies, noise=self.noise, volume=0.8, **format_fields)


def square(freq: Any) -> dict[str, Any]:
    return {"freq": freq, "waveform": "square"}


CASES = [
    Case("sine 440+445", [440, 445], None, ["sine", "440", "sine", "445"], "≥ 10× SoX"),
    Case(
        "square 440+445",
        [square(440), square(445)],
        None,
        ["square", "440", "square", "445"],
        "≥ 10× SoX",
    ),
    Case("pink noise", [], "pink", ["pinknoise"], "≥ 3× SoX"),
    Case(
        "log sweep 20→20k",
        [{"freq": 20, "freq_end": 20_000}],
        None,
        ["sine", "20/20000"],
        "≥ 3× SoX",
    ),
    # no short period: sample by sample (tiles; Taylor tables for the square)
    Case("sine C#5+E5", ["C#5", "E5"], None, None, "(information)"),
    Case("square C#5+E5", [square("C#5"), square("E5")], None, None, "(information)"),
]

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


@dataclass(frozen=True)
class Timings:
    """Seconds per run name: wall-clock median and best, CPU-time median."""

    median: dict[str, float]
    best: dict[str, float]
    cpu: dict[str, float]


def cpu_seconds() -> float:
    """User + system time of this process and its finished children (SoX), to the µs."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def round_robin(runs: dict[str, Callable[[], object]], rounds: int, tmp: Path) -> Timings:
    """Median and best seconds of each run, timed one of each per round after a warm-up.

    Every run writes a new file: the files of the previous round are deleted, untimed,
    before each round (overwriting would time freeing the old file's blocks too, which
    costs a rename more than an in-place truncation). The median is what a user sees on
    this machine now; the best round is the least disturbed by other processes (2 shared
    cores), closest to the intrinsic cost.
    """
    for run in runs.values():
        run()  # warm-up: imports, caches, page faults
    times: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            for old in tmp.glob("*.wav"):
                old.unlink()
            started, cpu_started = time.perf_counter(), cpu_seconds()
            run()
            times[name].append(time.perf_counter() - started)
            cpu[name].append(cpu_seconds() - cpu_started)
    return Timings(
        median={name: statistics.median(values) for name, values in times.items()},
        best={name: min(values) for name, values in times.items()},
        cpu={name: statistics.median(values) for name, values in cpu.items()},
    )


def sox_command(sox: str, target: Path, synth_args: list[str]) -> list[str]:
    return [sox, "-n", "-r", "44100", "-b", "16", "-c", "2", str(target), "synth", "60",
            *synth_args]  # fmt: skip


def bench_minute(tmp: Path, rounds: int) -> None:
    sine = CASES[0].spec(**MINUTE)
    stored, _ = sf.read(io.BytesIO(to_bytes(sine)), dtype="int16", always_2d=True)
    samples = stored.size

    def soundfile_via_python_file() -> None:
        with open(tmp / "sfb.wav", "wb", buffering=1 << 20) as target:
            sf.write(target, stored, 44_100, subtype="PCM_16", format="WAV")

    phases = np.linspace(0, 2 * np.pi * 440 * 60, samples, dtype=np.float32)
    runs: dict[str, Callable[[], object]] = {
        # by path, as a user would: libsndfile's close fsyncs the file
        "soundfile alone": lambda: sf.write(tmp / "sf.wav", stored, 44_100, subtype="PCM_16"),
        # as wavekit writes: through a Python file, no fsync (like SoX)
        "soundfile, Python file": soundfile_via_python_file,
        "bare float32 np.sin": lambda: np.sin(phases),
    }
    sox = shutil.which("sox")
    for case in CASES:
        spec = case.spec(**MINUTE)
        runs[f"wavekit {case.name}"] = lambda spec=spec: write(spec, tmp / "w.wav")
        if sox and case.sox:
            command = sox_command(sox, tmp / "s.wav", case.sox)
            runs[f"sox {case.name}"] = lambda c=command: subprocess.run(c, check=True)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    timed = round_robin(runs, rounds, tmp)
    medians, best, cpu = timed.median, timed.best, timed.cpu
    print(
        f"60 s 44.1 kHz stereo 16-bit ({samples:,} samples), {rounds} rounds:"
        " wall median (best), CPU median"
    )
    for name, value in medians.items():
        rate = samples / value / 1e6
        print(
            f"  {name:28s} {value * 1e3:7.1f} ms ({best[name] * 1e3:6.1f})"
            f"  CPU {cpu[name] * 1e3:6.1f} ms  {rate:6.1f} M samples/s"
        )
    print("ratios: wall median (best) [CPU median]")

    def ratio(numerator: str, denominator: str) -> str:
        cpu_ratio = cpu[numerator] / cpu[denominator] if cpu[denominator] > 0 else math.nan
        return (
            f"{medians[numerator] / medians[denominator]:6.2f}×"
            f" ({best[numerator] / best[denominator]:5.2f}×) [{cpu_ratio:5.2f}×]"
        )

    sine_name = f"wavekit {CASES[0].name}"
    print(f"  sine vs soundfile alone       {ratio(sine_name, 'soundfile alone')}  (goal ≤ 1.5)")
    print(f"  sine vs soundfile, Python file{ratio(sine_name, 'soundfile, Python file')}")
    print(
        f"  np.sin time / sine time       {ratio('bare float32 np.sin', sine_name)}  (goal ≥ 0.5)"
    )
    if not sox:
        print("  sox not installed (apt-get install sox): no SoX ratios")
        return
    for case in CASES:
        if case.sox:
            name = f"{case.name} vs SoX"
            print(f"  {name:28s}  {ratio(f'sox {case.name}', f'wavekit {case.name}')}"
                  f" faster (goal {case.goal})")  # fmt: skip


def bench_hour(tmp: Path) -> None:
    print("1 h 48 kHz stereo 24-bit, streamed to disk, each in a fresh process")
    for case in CASES:
        spec = case.spec(**HOUR)
        target = tmp / "hour.wav"
        done = subprocess.run(
            [sys.executable, "-c", STREAM_CHILD, spec.canonical_json(), str(target)],
            check=True,
            capture_output=True,
            text=True,
        )
        seconds, base_kib, peak_kib = (float(v) for v in done.stdout.split())
        size = target.stat().st_size
        target.unlink()
        print(
            f"  {case.name:18s} {size / 2**30:.2f} GiB in {seconds:6.1f} s "
            f"({size / seconds / 2**20:4.0f} MiB/s); peak RSS {peak_kib / 1024:4.0f} MiB "
            f"(after imports {base_kib / 1024:.0f} MiB; goal < 100)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-long", action="store_true", help="skip the 1-hour streams")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_minute(Path(tmp), args.rounds)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if not args.no_long:
            bench_hour(Path(tmp))


if __name__ == "__main__":
    main()
