"""Run the service with uvicorn: in the foreground (``wavekit serve``) or in a
background thread (:class:`LocalServer`, for notebooks, demos and tests).

An entry point, not part of the service layer: :func:`create_app` builds the local
runtime (:mod:`wavekit.runtime`) and hands it to the API factory, which owns its
worker and cleaner threads for the app's lifetime.
"""

from __future__ import annotations

import gc
import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from wavekit.runtime import Runtime
from wavekit.service import api
from wavekit.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app of a server process: the local runtime's app (:func:`build_app`), with the
    garbage collector tuned for serving (:func:`tune_gc_for_serving`);
    ``uvicorn --factory wavekit.server:create_app`` and ``wavekit serve`` use it."""
    app = build_app(settings)
    tune_gc_for_serving()
    return app


def build_app(settings: Settings | None = None) -> FastAPI:
    """The app over the local runtime (files, SQLite, a Parquet lake), started and
    stopped with the app."""
    runtime = Runtime.local(settings or Settings())
    return api.create_app(runtime, lifecycle=runtime)


GC_THRESHOLDS = (50_000, 20, 10)
"""Young-generation threshold 50 000 allocations (CPython's default is 700)."""


def tune_gc_for_serving() -> None:
    """Fewer, cheaper garbage collections in a server process (ADR 0007).

    Under load a request allocates hundreds of container objects, and with CPython's
    default thresholds the collector ran ~100 young collections a second and a full
    one every second or so, each walking the ~100 000 objects the imports left: 10-15 %
    of the event loop's time went to collection (measured with ``gc.callbacks``), and
    every full collection stalled all requests for ~100 ms. ``gc.freeze`` moves what
    exists after start-up (modules, the app) out of the collector's sight, and larger
    thresholds collect in bigger, rarer steps. Only for a process that is the server:
    :class:`LocalServer` runs inside someone else's process and leaves its GC alone.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


GRACEFUL_SHUTDOWN_S = 1
"""How long a stop waits for open responses (a slow client's download) before uvicorn
cancels them; the runtime then stops all its parts within
:data:`wavekit.runtime.STOP_BUDGET_S`, so SIGTERM ends the server well within 5 s."""


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until SIGTERM or SIGINT (Ctrl-C): shuts down within seconds, flushes events."""
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        access_log=False,  # every request is a request-log event already (ADR 0007)
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )


class LocalServer:
    """The service on ``127.0.0.1`` in a daemon thread; ``port=0`` picks a free port.

    >>> with LocalServer(Settings(data_dir=tmp)) as server:  # doctest: +SKIP
    ...     WaveClient(server.url).generate({"frequencies": [440]})
    """

    def __init__(self, settings: Settings, host: str = "127.0.0.1", port: int = 0) -> None:
        self.settings = settings
        config = uvicorn.Config(
            build_app(settings), host=host, port=port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="wavekit-server", daemon=True)
        self.host = host

    @property
    def port(self) -> int:
        socket = self._server.servers[0].sockets[0]
        return int(socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 30.0) -> LocalServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the wavekit server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
