"""``wavekit serve``, ``wavekit fetch`` and ``wavekit clean``: run, ask and tidy the service.

Heavy imports (FastAPI, uvicorn, httpx) happen inside the commands, so ``wavekit
--help`` stays fast and works without the ``service`` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wavekit.cli.values import number_or_text


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    data_dir: Annotated[
        Path | None, typer.Option(help="Files, SQLite and the event lake (default .wavekit).")
    ] = None,
    cors_origin: Annotated[
        list[str] | None, typer.Option(help="Allowed browser origin; repeat.")
    ] = None,
    worker_mode: Annotated[
        str, typer.Option(help="'process' (default): synthesis in a child process; 'thread'.")
    ] = "process",
) -> None:
    """Run the WAV service (API, worker, cleaner) until Ctrl-C."""
    from wavekit.server import serve as run
    from wavekit.settings import Settings

    overrides: dict[str, object] = {"worker_mode": worker_mode}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if cors_origin:
        overrides["cors_origins"] = cors_origin
    settings = Settings(**overrides)  # type: ignore[arg-type]
    typer.echo(f"wavekit service on http://{host}:{port}  (data in {settings.data_dir})")
    run(settings, host, port)


def fetch(
    freq: Annotated[list[str], typer.Option("--freq", "-f", help="Hz, note or midi:N.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save the WAV.")],
    server: Annotated[str, typer.Option(help="Service URL.")] = "http://127.0.0.1:8000",
    duration: Annotated[float, typer.Option(help="Seconds.")] = 1.0,
    rate: Annotated[int, typer.Option(help="Sample rate in Hz.")] = 44_100,
    bits: Annotated[str, typer.Option(help="8, 16, 24, 32 or float32.")] = "16",
    channels: Annotated[int, typer.Option(help="Number of channels.")] = 1,
    volume: Annotated[str, typer.Option(help="Peak, 0..1 or dBFS such as -20dB.")] = "0.5",
    chunks: Annotated[bool, typer.Option(help="Download in base64 chunks.")] = False,
    client_id: Annotated[str | None, typer.Option(help="X-Client-Id to send.")] = None,
) -> None:
    """Ask a running service for a tone and save it."""
    from wavekit.client import WaveClient

    spec = {
        "frequencies": [number_or_text(f) for f in freq],
        "duration": duration,
        "sample_rate": rate,
        "bits_per_sample": bits,
        "number_of_channels": channels,
        "volume": number_or_text(volume),
    }
    with WaveClient(server, client_id=client_id) as client:
        path = client.generate(spec, output, via="chunks" if chunks else "url")
    assert isinstance(path, Path)
    typer.echo(f"saved {path} ({path.stat().st_size:,} bytes) from {server}")


def clean(
    data_dir: Annotated[Path | None, typer.Option(help="The service's data directory.")] = None,
    max_age_hours: Annotated[
        float | None, typer.Option(help="Expire files older than this (default 48).")
    ] = None,
) -> None:
    """Expire old files and delete downloaded ones, once (the server also does it hourly)."""
    from wavekit.runtime import Runtime
    from wavekit.settings import Settings

    overrides: dict[str, object] = {"worker_threads": 0}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if max_age_hours is not None:
        overrides["retention_s"] = max_age_hours * 3600
    runtime = Runtime.local(Settings(**overrides))  # type: ignore[arg-type]
    try:
        report = runtime.service.clean()
    finally:
        runtime.close()
    typer.echo(f"expired {report.expired} job(s), deleted {report.deleted_blobs} file(s)")


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``fetch`` and ``clean`` to the ``wavekit`` app."""
    app.command()(serve)
    app.command()(fetch)
    app.command()(clean)
