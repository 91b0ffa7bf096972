"""notebooks/06_impulse_response.ipynb: committed clean and thin, and the room comes back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "06_impulse_response.ipynb"


def test_notebook_is_committed_clean_and_thin() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "parameters" in code[0].metadata.get("tags", [])
    assert "def " not in "".join(cell.source for cell in code)  # the logic is in wavekit
    assert sum(len(cell.source.splitlines()) for cell in code) < 50


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["log", "linear"])
def test_notebook_recovers_the_simulated_room(
    tmp_path: Path, python_kernel: str, kind: str
) -> None:
    import papermill

    out = tmp_path / "run.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"duration": 3.0, "kind": kind},
        kernel_name=python_kernel,
        cwd=str(tmp_path),
        progress_bar=False,
    )
    cells = json.loads(out.read_text())["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) for o in outputs)
    error = re.search(r"recovered: error (-?\d+\.\d) dB", text)
    assert error is not None, text
    assert float(error.group(1)) < -40
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the plot
