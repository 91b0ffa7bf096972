"""The local adapters: files, SQLite, a Parquet lake and DuckDB; zero cloud."""

from wavekit.backends.local.adapters import *  # noqa: F403  (split per concern in this redesign)
