"""Tone studio latency: slider change → new Audio widget value, next to synthesis alone.

    python benchmarks/bench_studio.py              # in-process and through a real kernel
    python benchmarks/bench_studio.py --no-kernel  # in-process only

Goal (docs/design.md §7): for a 2 s, 44.1 kHz tone the Audio value is replaced within 15 ms
(median) of a slider change. Measured two ways:

- in-process: set the slider's ``value`` as the widget machinery does when a message
  arrives, and time until the ``Audio.value`` change is observed;
- kernel: start a Jupyter kernel, send the ``comm_msg`` a browser sends when a slider
  moves, and time until the kernel publishes the Audio update (zmq, message
  (de)serialisation and the kernel's dispatch included; the browser's own decoding is not).

Changes are spaced beyond the debounce window, so each is an isolated edit rendered at
once (the leading edge); the plots, drawn afterwards, are not part of the latency. The
in-process runs are repeated for a richer tone (a square row, a log sweep row and pink
noise: the controls of issue 14), which costs more to synthesise.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from wavekit import ToneSpec, render, to_bytes
from wavekit.studio import DEBOUNCE_S, ManualScheduler, ToneStudio

GOAL_MS = 15.0
SPEC = ToneSpec(frequencies=[440, 445], volume="-20dB", duration=2.0, sample_rate=44_100)
RICH = ToneSpec(
    frequencies=[{"freq": 440, "waveform": "square"}, {"freq": 445, "freq_end": 4450}],
    noise={"color": "pink", "amplitude": 0.3},
    volume="-20dB",
    duration=2.0,
    sample_rate=44_100,
)
"""The same length with the issue-14 controls in use: a square row, a log sweep row, pink noise."""


def median_ms(run: Callable[[], object], repeat: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def slider_to_audio_in_process(repeat: int, while_plotting: bool, spec: ToneSpec = SPEC) -> float:
    """Median ms from ``slider.value = f`` to the Audio value change.

    ``while_plotting``: the change comes just as the previous tone's plots start drawing
    on the plot thread (the worst case in a drag: the GIL is shared).
    """
    clock = ManualScheduler()
    studio = ToneStudio(spec, scheduler=clock)
    slider = studio.rows[1].frequency
    arrived: list[float] = []
    studio.audio.observe(lambda _change: arrived.append(time.perf_counter()), names="value")
    latencies = []
    for i in range(repeat + 1):
        clock.advance(1.0)  # quiet: the next change is an isolated edit; plots start here
        if while_plotting:
            time.sleep(0.03)  # the plot thread is now mid-drawing (a figure takes ~0.1 s)
        else:
            studio.flush()  # wait for the plots
        arrived.clear()
        started = time.perf_counter()
        slider.value = 446.0 + (i % 50) * 0.5
        latencies.append(arrived[0] - started)
    studio.flush()
    return statistics.median(latencies[1:]) * 1e3


KERNEL_SETUP = """
from wavekit import ToneSpec
from wavekit.studio import ToneStudio
studio = ToneStudio(ToneSpec.parse({spec!r}))
ids = [studio.rows[1].frequency, studio.audio, studio.waveform_image, studio.spectrum_image]
print(*(w.model_id for w in ids))
"""


def slider_to_audio_through_kernel(repeat: int) -> float:
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        ids: list[str] = []

        def collect(message: dict[str, Any]) -> None:
            if message["msg_type"] == "stream":
                ids.extend(message["content"]["text"].split())

        client.execute_interactive(
            KERNEL_SETUP.format(spec=SPEC.canonical_json()), timeout=120, output_hook=collect
        )
        slider_id, audio_id, *image_ids = ids[:4]

        def binary_update(content: dict[str, Any]) -> bool:
            return ["value"] in content.get("data", {}).get("buffer_paths", [])

        latencies = []
        for i in range(repeat + 1):
            time.sleep(DEBOUNCE_S * 2)  # an isolated edit, as when a user clicks the track
            update = {"method": "update", "state": {"value": 446.0 + i}, "buffer_paths": []}
            message = client.session.msg("comm_msg", {"comm_id": slider_id, "data": update})
            started = time.perf_counter()
            client.shell_channel.send(message)
            waiting = set(image_ids)
            while waiting:  # the audio update, then both plots (so the next edit is isolated)
                content = client.get_iopub_msg(timeout=30)["content"]
                if not binary_update(content):
                    continue
                if content["comm_id"] == audio_id:
                    latencies.append(time.perf_counter() - started)
                waiting.discard(content["comm_id"])
        return statistics.median(latencies[1:]) * 1e3
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-kernel", action="store_true", help="skip the real-kernel run")
    args = parser.parse_args()

    wav = to_bytes(SPEC)
    print(f"2 s 44.1 kHz 16-bit mono, 440 + 445 Hz ({len(wav):,} bytes), median of {args.repeat}")
    rows = [
        ("synth only (render)", median_ms(lambda: render(SPEC), args.repeat), ""),
        ("synth + WAV encode (to_bytes)", median_ms(lambda: to_bytes(SPEC), args.repeat), ""),
        ("  square + sweep + pink noise", median_ms(lambda: to_bytes(RICH), args.repeat), ""),
        (
            "slider → Audio.value, in-process",
            slider_to_audio_in_process(args.repeat, False),
            "goal",
        ),
        (
            "  same, while plots are drawing",
            slider_to_audio_in_process(args.repeat, True),
            "goal",
        ),
        (
            "  square + sweep + pink noise",
            slider_to_audio_in_process(args.repeat, False, RICH),
            "goal",
        ),
        (
            "  same, while plots are drawing",
            slider_to_audio_in_process(args.repeat, True, RICH),
            "goal",
        ),
    ]
    if not args.no_kernel:
        kernel_ms = slider_to_audio_through_kernel(args.repeat)
        rows.append(("slider → Audio update, real kernel", kernel_ms, "goal"))
    for name, ms, goal in rows:
        verdict = ""
        if goal:
            verdict = f"  {'ok' if ms < GOAL_MS else 'MISSED'} (goal < {GOAL_MS:g} ms)"
        print(f"  {name:36s} {ms:7.2f} ms{verdict}")


if __name__ == "__main__":
    main()
