"""notebooks/01_tone_studio.ipynb: committed clean and thin, and it runs headless."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.browser_support import ROOT, jupyter_env

NOTEBOOK = ROOT / "notebooks" / "01_tone_studio.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_notebook_is_committed_clean_with_a_parameters_cell() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = _code_cells(nb)
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "parameters" in code[0].metadata.get("tags", [])
    assert "import wavekit" in code[1].source
    # Thin: the logic lives in the package, the notebook only starts it.
    assert sum(len(cell.source.splitlines()) for cell in code) < 30
    assert "def " not in "".join(cell.source for cell in code)


@pytest.mark.slow
def test_notebook_runs_headless_under_papermill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import papermill

    for key, value in jupyter_env(tmp_path / "jupyter").items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"frequencies": [500.0, 507.0], "duration": 1.5},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
        execution_timeout=120,
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [output for cell in _code_cells(nb) for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(WIDGET_VIEW in o.get("data", {}) for o in outputs)  # the studio is shown
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    # Measured by FFT from the player's bytes, so the injected parameters reached it.
    assert "partials: 500.0 Hz, 507.0 Hz" in text
    assert "beats: 7.0 Hz" in text
    assert "peak: -20.0 dBFS" in text
