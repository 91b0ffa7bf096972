"""notebooks/02_service_client.ipynb runs headless under papermill against a real server."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import papermill
import pytest
import soundfile as sf

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "02_service_client.ipynb"


@pytest.mark.slow
def test_service_notebook_fetches_and_plays_tones(tmp_path: Path, python_kernel: str) -> None:
    out = tmp_path / "run.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"tones": ["A4", "E5"], "duration": 0.5},
        kernel_name=python_kernel,
        cwd=str(tmp_path),
        progress_bar=False,
    )
    cells = json.loads(out.read_text())["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert "refused: the file was already downloaded" in text
    # 0.5 s mono 16-bit at 44.1 kHz: 44,100 bytes of audio plus header and spec
    assert re.search(r"A4: 44,\d{3} bytes\nE5: 44,\d{3} bytes", text), text
    players = [o["data"]["text/html"] for o in outputs if "audio" in str(o.get("data", {}))]
    assert len(players) == 3  # two tones and the chord, playable inline
    tables = [o["data"]["text/html"] for o in outputs if "<table" in str(o.get("data", {}))]
    assert tables
    assert "ready" in "".join(tables[0])
    first = re.search(r'base64,([A-Za-z0-9+/=]+)"', "".join(players[0]))
    assert first is not None
    info = sf.info(io.BytesIO(base64.b64decode(first.group(1))))
    assert (info.samplerate, info.frames) == (44_100, 22_050)
