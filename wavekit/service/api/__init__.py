"""The HTTP API of the WAV service (docs/design.md §4), the same locally and behind API
Gateway: FastAPI routers per resource (:mod:`.routes`), the bodies as models
(:mod:`.schemas`, so ``/openapi.json`` is the contract), one error mapping
(:mod:`.error_handlers`) and the request-log middleware (:mod:`.middleware`).

The app takes an :class:`ApiContext` and never builds adapters: ``wavekit.runtime``
does (``wavekit.server`` for uvicorn, ``wavekit.handlers.api`` for Lambda).
"""

from wavekit.service.api.app import create_app
from wavekit.service.api.context import ApiContext, Lifecycle

__all__ = ["ApiContext", "Lifecycle", "create_app"]
