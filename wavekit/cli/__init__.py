"""The ``wavekit`` command line: the app is :data:`wavekit.cli.main.app`.

Layout: :mod:`~wavekit.cli.main` builds the app and registers each command group;
:mod:`~wavekit.cli.errors` holds the one error → exit-code rule; every other module is one
group (``synth``, ``service``, ``analytics``, ``reports``, ``deploy``, ``demo``) and imports
its engine inside the commands, so ``wavekit --help`` loads no SDK.
"""

from wavekit.cli.main import app

__all__ = ["app"]
