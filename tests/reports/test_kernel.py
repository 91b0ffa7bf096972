"""Reports run on this interpreter's kernel, whatever ``python3`` kernel the user has
(jupyter_core prefers a virtualenv's kernelspecs to the user's own)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from wavekit.reports import ReportRequest, render
from wavekit.reports.runner import IPC_PATH_ROOM


def test_a_users_own_python3_kernel_does_not_hijack_the_report(
    tiny_notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_data = tmp_path / "user-jupyter"
    spec_dir = user_data / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "someone else's Python", "language": "python",
    }))  # fmt: skip
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(user_data))
    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    result = render(ReportRequest(tiny_notebook, {"start": "a", "end": "b"}, tmp_path / "out"))
    assert "window a b" in result.html.read_text()


@pytest.mark.skipif(os.name != "posix", reason="Unix sockets")
def test_report_kernel_listens_on_no_tcp_port(
    tiny_notebook: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], python_kernel: str
) -> None:
    """ipykernel warns on stderr (the terminal of `make demo`) when it serves over TCP."""
    from jupyter_core.paths import jupyter_runtime_dir

    if len(jupyter_runtime_dir()) > IPC_PATH_ROOM:
        pytest.skip("runtime directory too long for a socket path: TCP is kept")
    result = render(
        ReportRequest(tiny_notebook, {"start": "a", "end": "b"}, tmp_path),
        kernel_name=python_kernel,
    )
    assert "window a b" in result.html.read_text()
    assert "without encryption" not in capfd.readouterr().err
