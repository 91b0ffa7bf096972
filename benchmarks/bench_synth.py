"""Synthesis benchmarks, printed as ratios against references measured in the same run.

    python benchmarks/bench_synth.py            # everything (writes ~1 GB temp files)
    python benchmarks/bench_synth.py --no-long  # skip the 1-hour streaming runs
    python benchmarks/bench_synth.py --quality  # only: the signals of wavekit and SoX compared

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


# -- signal quality, wavekit against SoX (--quality) ----------------------------------------

QUALITY_RATE = 44_100


def sox_float(
    sox: str,
    target: Path,
    seconds: float,
    synth: list[str],
    *extra: str,
    options: tuple[str, ...] = (),
) -> np.ndarray:
    """``sox -n`` mono 44.1 kHz into ``target`` (32-bit float unless ``extra`` says), read back."""
    encoding = list(extra) or ["-b", "32", "-e", "floating-point"]
    command = [sox, *options, "-n", "-r", str(QUALITY_RATE), "-c", "1", *encoding, str(target),
               "synth", str(seconds), *synth]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return np.asarray(sf.read(str(target), dtype="float64")[0])


def wavekit_float(spec: dict[str, Any]) -> np.ndarray:
    fields = {"sample_rate": QUALITY_RATE, "bits_per_sample": "float32", "volume": 1.0,
              "fade_in": 0, "fade_out": 0, **spec}  # fmt: skip
    return np.asarray(sf.read(io.BytesIO(to_bytes(ToneSpec.parse(fields))), dtype="float64")[0])


def square_report(x: np.ndarray, freq: float) -> tuple[float, float]:
    """Largest error of harmonics 3..9 against 1/n (dB) and the strongest component that
    is not a harmonic (dB re the fundamental), Kaiser β 20 (-150 dB sidelobes)."""
    from scipy import signal as sps

    window = sps.get_window(("kaiser", 20.0), len(x))
    db = 20 * np.log10(np.abs(np.fft.rfft(x * window)) + 1e-300)
    per_hz = len(x) / QUALITY_RATE
    harmonics = freq * np.arange(1, int(QUALITY_RATE / 2 / freq) + 1)
    top = db[round(freq * per_hz)]
    errors = [abs(db[round(n * freq * per_hz)] - top - 20 * np.log10(1 / n)) for n in (3, 5, 7, 9)]
    bins = np.arange(len(db)) / per_hz
    away = np.min(np.abs(bins[:, None] - harmonics[None, :]), axis=1) > 10  # off main lobes
    away &= bins > 20  # above DC (SoX's square has a small offset)
    return float(max(errors)), float(db[away].max() - top)


def psd_slope(x: np.ndarray) -> float:
    """Welch PSD slope over 100 Hz - 10 kHz, dB per octave (as the tests measure it)."""
    from scipy import signal as sps

    freqs, psd = sps.welch(x, QUALITY_RATE, window=("kaiser", 8.0), nperseg=8192)
    band = (freqs >= 100) & (freqs <= 10_000)
    return float(np.polyfit(np.log2(freqs[band]), 10 * np.log10(psd[band]), 1)[0])


def sweep_error(x: np.ndarray, f0: float, f1: float) -> float:
    """Largest relative error (%) of the Hilbert instantaneous frequency against the
    exponential law, over the middle 90 % (64-sample moving average)."""
    from scipy import signal as sps

    phase = np.unwrap(np.angle(sps.hilbert(x)))
    inst = np.convolve(np.diff(phase), np.ones(64) / 64, mode="same") * QUALITY_RATE / (2 * np.pi)
    t = (np.arange(len(inst)) + 0.5) / QUALITY_RATE
    seconds = len(x) / QUALITY_RATE
    law = f0 * (f1 / f0) ** (t / seconds)
    inner = slice(int(0.05 * len(inst)), int(0.95 * len(inst)))
    return float(100 * np.max(np.abs(inst[inner] / law[inner] - 1)))


def sine_snr(x: np.ndarray, freq: float) -> float:
    """SNR (dB) against a least-squares sine fit at ``freq`` (frequency refined too)."""
    from scipy.optimize import least_squares

    n = np.arange(len(x), dtype=np.float64)

    def basis(f: float) -> np.ndarray:
        w = 2 * np.pi * f / QUALITY_RATE
        return np.column_stack([np.sin(w * n), np.cos(w * n), np.ones_like(n)])

    coef, *_ = np.linalg.lstsq(basis(freq), x, rcond=None)
    fit = least_squares(
        lambda p: basis(p[3]) @ p[:3] - x,
        [*coef, freq],
        x_scale=[1, 1, 1, 1e-6],
        xtol=1e-15,
        ftol=1e-15,
    )
    model = basis(fit.x[3]) @ fit.x[:3]
    return float(10 * np.log10(np.sum((model - fit.x[2]) ** 2) / np.sum((x - model) ** 2)))


def bench_quality(tmp: Path) -> None:
    """The README's "wavekit vs SoX synth" measurements, both tools analysed alike."""
    sox = shutil.which("sox")
    if sox is None:
        print("sox not installed (apt-get install sox): nothing to compare")
        return
    version = subprocess.run([sox, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"signal quality, 44.1 kHz mono, scipy analysis ({version})")
    target = tmp / "q.wav"
    for wave in ("square", "sawtooth", "triangle"):
        for freq in (440.0, 1234.5):
            theory = "" if wave == "sawtooth" else " (odd harmonics)"
            ours = square_report(wavekit_float({"frequencies": [
                {"freq": freq, "waveform": wave}], "duration": 2}), freq)  # fmt: skip
            theirs = square_report(sox_float(sox, target, 2, [wave, f"{freq:g}"]), freq)
            if wave != "square":
                print(f"  {wave} {freq:g} Hz{theory}: strongest non-harmonic re fundamental"
                      f" wavekit {ours[1]:7.1f} dB, SoX {theirs[1]:7.1f} dB")  # fmt: skip
                continue
            print(f"  {wave} {freq:g} Hz{theory}: harmonics 3-9 vs 1/n within"
                  f" wavekit {ours[0]:.3f} dB, SoX {theirs[0]:.2f} dB; strongest non-harmonic"
                  f" wavekit {ours[1]:7.1f} dB, SoX {theirs[1]:7.1f} dB")  # fmt: skip
    for color, ideal in (("white", 0.0), ("pink", -3.01), ("brown", -6.02)):
        ours = psd_slope(wavekit_float({"frequencies": [], "noise": color, "duration": 20}))
        theirs = psd_slope(sox_float(sox, target, 20, [f"{color}noise"]))
        print(f"  {color} noise PSD slope 100 Hz-10 kHz (ideal {ideal:+.2f} dB/octave):"
              f" wavekit {ours:+.2f}, SoX {theirs:+.2f}")  # fmt: skip
    ours = sweep_error(wavekit_float({"frequencies": [{"freq": 20, "freq_end": 20_000}],
                                      "duration": 10}), 20, 20_000)  # fmt: skip
    theirs = sweep_error(sox_float(sox, target, 10, ["sine", "20/20000"]), 20, 20_000)
    print(f"  log sweep 20 Hz-20 kHz, 10 s: instantaneous frequency within wavekit {ours:.3f} %,"
          f" SoX {theirs:.3f} % of the exponential law")  # fmt: skip
    # SNR by sine fit against the quantisation limit at the signal's own level (SoX's synth
    # peaks at 0.705, wavekit's here at 1.0); over the whole second and without its first
    # and last 10 ms (SoX's first and last few samples stray from the sine).
    for bits in (16, 24):
        x = np.asarray(sf.read(io.BytesIO(to_bytes(ToneSpec(
            frequencies=[997.0], volume=1.0, fade_in=0, fade_out=0, bits_per_sample=bits,
            sample_rate=QUALITY_RATE))), dtype="float64")[0])  # fmt: skip
        tools = {
            "wavekit": x,
            "SoX": sox_float(sox, target, 1, ["sine", "997"], "-b", str(bits)),
            "SoX -D": sox_float(sox, target, 1, ["sine", "997"], "-b", str(bits), "-D"),
        }
        edge = QUALITY_RATE // 100
        print(f"  {bits}-bit 997 Hz sine, SNR by sine fit - (6.02·N + 1.76 + 20·log10 peak):")
        for name, y in tools.items():
            limit = 6.02 * bits + 1.76 + 20 * np.log10(np.max(np.abs(y)))
            whole, middle = sine_snr(y, 997.0) - limit, sine_snr(y[edge:-edge], 997.0) - limit
            print(f"    {name:8s} peak {np.max(np.abs(y)):.3f}: whole {whole:+7.2f} dB,"
                  f" middle {middle:+6.2f} dB")  # fmt: skip
    for options in ((), ("-R",)):
        runs = [
            sox_float(sox, tmp / f"r{i}.wav", 1, ["pinknoise"], options=options).tobytes()
            for i in range(2)
        ]
        same = "the same samples" if runs[0] == runs[1] else "different samples"
        print(f"  SoX pinknoise run twice {' '.join(options) or 'without -R'}: {same}")
    print("  wavekit: the same bytes for the same spec (noise seeded from its hash; tested)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-long", action="store_true", help="skip the 1-hour streams")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--quality", action="store_true", help="only compare the signals")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.quality:
            bench_quality(Path(tmp))
            return
        bench_minute(Path(tmp), args.rounds)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if not args.no_long:
            bench_hour(Path(tmp))


if __name__ == "__main__":
    main()
