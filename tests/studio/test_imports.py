"""What importing the studio loads: the pure parts need no widget toolkit."""

from __future__ import annotations

import subprocess
import sys

import wavekit
from wavekit.studio import ToneStudio


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


PURE_MODULES = ("limits", "music", "presets", "reading", "timing")


def test_pure_modules_import_without_widgets_or_plots() -> None:
    modules = ", ".join(f"wavekit.studio.{name}" for name in PURE_MODULES)
    code = (
        f"import sys, {modules}\n"
        "import wavekit.studio as studio\n"
        "loaded = sorted(m for m in ('ipywidgets', 'IPython', 'matplotlib') if m in sys.modules)\n"
        "print(loaded, studio.Debouncer.__module__, studio.PRESETS['beat 440/445'][1].freq)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "wavekit.studio.timing", "445.0"]


def test_pure_modules_work_where_ipywidgets_is_missing() -> None:
    code = (
        "import sys\n"
        "sys.modules['ipywidgets'] = None\n"
        "from wavekit.studio.music import beat_rates\n"
        "from wavekit.studio.timing import ManualScheduler, Debouncer\n"
        "clock = ManualScheduler()\n"
        "runs = []\n"
        "debounce = Debouncer(lambda: runs.append(clock.now()), wait=0.1, scheduler=clock)\n"
        "debounce(); debounce(); clock.advance(1.0)\n"
        "print(beat_rates([440.0, 445.0]), runs)\n"
        "try:\n    from wavekit.studio import ToneStudio\n"
        "except ImportError as exc:\n    print(type(exc).__name__, exc.extra)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[5.0] [0.0, 0.1]", "MissingExtraError studio"]
