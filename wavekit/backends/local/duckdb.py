"""The local warehouse: DuckDB over the Parquet lake, the same Athena SQL via sqlglot.

The DDL (``athena/table_events.sql``) becomes a DuckDB view over
``<lake>/dt=*/*.parquet`` with hive partitioning (``dt`` kept as text, as in Athena),
each column cast to the DDL's type; files written before a column was added read it as
null (``union_by_name``; the schema only grows); the views are transpiled and created;
every query runs in a UTC session with profiling on, so results report the bytes and files read.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wavekit import sqlcatalog as catalog
from wavekit.errors import LakeNotFoundError, MissingExtraError, QueryError
from wavekit.ports.analytics import QueryResult, normalise_frame
from wavekit.sqlcatalog import ParamValue, TableDefinition


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("duckdb", "analytics") from exc
    return duckdb


def _column(name: str, found: str | None, wanted: str) -> str:
    """A column as the DDL types it, cast only where the files differ (null if none has it).

    The files' ``timestamp(ms, UTC)`` reads as TIMESTAMPTZ; in our UTC session it behaves
    exactly like Athena's ``timestamp`` (UTC wall time), and leaving it uncast keeps
    DuckDB's filter pushdown on ``ts`` (a cast per row cost a third of a leaderboard).
    """
    if found is None:  # a column added to the contract after every file was written
        return f'CAST(NULL AS {wanted}) AS "{name}"'
    if found == wanted or (wanted == "TIMESTAMP" and found == "TIMESTAMP WITH TIME ZONE"):
        return f'"{name}"'
    return f'CAST("{name}" AS {wanted}) AS "{name}"'


class DuckDBWarehouse:
    """The local warehouse: an in-memory DuckDB reading the Parquet lake in place.

    Parameters
    ----------
    lake
        The lake directory (``<lake>/dt=YYYY-MM-DD/*.parquet``); it must exist, but may
        be empty (queries then return no rows).
    threads
        DuckDB worker threads; ``None`` lets DuckDB use every core.

    Raises
    ------
    LakeNotFoundError
        If ``lake`` is not a directory.
    """

    engine = "duckdb"

    def __init__(self, lake: str | os.PathLike[str], *, threads: int | None = None) -> None:
        self.lake = Path(lake)
        if not self.lake.is_dir():
            raise LakeNotFoundError(
                f"event lake {str(self.lake)!r} does not exist; create one with "
                f"`wavekit traffic --out {self.lake}` or point --lake at the service's lake"
            )
        duckdb = _duckdb()
        self._lock = threading.RLock()
        self._view_files: tuple[str, ...] | None = None  # None: the whole lake's glob
        self._con = duckdb.connect(database=":memory:")
        self._con.execute("SET TimeZone = 'UTC'")
        if threads is not None:
            self._con.execute(f"SET threads = {int(threads)}")
        self._con.execute("SET enable_profiling = 'no_output'")
        # Long queries drew a progress bar on stdout, under the CLI's JSON too. In a Jupyter
        # kernel without ipywidgets DuckDB refuses the setting, and draws no bar there.
        with contextlib.suppress(duckdb.Error):
            self._con.execute("SET enable_progress_bar = false")
        self.table = catalog.parse_table_ddl(catalog.load(catalog.names(catalog.TABLE_PREFIX)[0]))
        self.schema: dict[str, dict[str, str]] = {
            self.table.name: dict(self.table.columns + self.table.partitions)
        }
        self._empty_view = False
        self._create_table_view()
        for name in catalog.names(catalog.VIEW_PREFIX):
            text = catalog.load(name)
            self._execute(name, catalog.to_duckdb(text, self.schema), {})
            self.schema[catalog.view_name(text)] = catalog.select_columns(text, self.schema)

    # --- set-up -------------------------------------------------------------------------

    def _glob(self) -> str:
        return str(self.lake / "dt=*" / "*.parquet").replace("'", "''")

    def _has_files(self) -> bool:
        return any(self.lake.glob("dt=*/*.parquet"))

    def _day_files(self, bound: Mapping[str, object]) -> tuple[str, ...] | None:
        """The files of the days a catalog query may read, from its ``*_dt`` parameters.

        Every scan in ``athena/`` filters ``dt BETWEEN :x_dt AND :end_dt`` (ADR 0002, a
        test checks it), so no row outside the parameters' first and last day is read.
        DuckDB prunes those days too, but pays ~30 us per lake file per scan first: a
        month board on a year of history paid for every day of it.
        """
        days = sorted(str(v) for k, v in bound.items() if k.endswith("_dt"))
        if not days:
            return None
        first, last = f"dt={days[0]}", f"dt={days[-1]}"
        return tuple(
            str(path)
            for directory in sorted(self.lake.glob("dt=*"))
            if first <= directory.name <= last
            for path in sorted(directory.glob("*.parquet"))
        )

    def _use_files(self, files: tuple[str, ...] | None) -> None:
        """Point the ``events`` view at ``files`` (None: the whole lake), if it is not already."""
        if files != self._view_files or (self._empty_view and self._has_files()):
            self._create_table_view(files)

    def _union(self, first: Path) -> str:
        """``union_by_name`` only when the first file lacks a column of the contract.

        DuckDB takes the columns from the first file of the glob (the oldest day); files
        written before a column was added lack it. Matching by name costs a footer read
        of every file in every query, so it is used only on such a lake;
        :func:`wavekit.events.compact_lake` rewrites old days with every column.
        """
        path = str(first).replace("'", "''")
        names = {
            str(row[0])
            for row in self._con.execute(
                f"DESCRIBE SELECT * FROM read_parquet('{path}')"
            ).fetchall()
        }
        return "" if names >= {name for name, _ in self.table.columns} else "union_by_name = true, "

    def _create_table_view(self, files: tuple[str, ...] | None = None) -> None:
        definition: TableDefinition = self.table
        types = definition.duckdb_types()
        partitions = ", ".join(f'"{column}"' for column, _ in definition.partitions)
        self._view_files = files
        first = (
            Path(files[0])
            if files
            else min(self.lake.glob("dt=*/*.parquet"), key=lambda p: (p.parent.name, p.name))
            if files is None and self._has_files()
            else None
        )
        if first is not None:
            hive_types = ", ".join(
                f"'{column}': '{types[column]}'" for column, _ in definition.partitions
            )
            listed = (
                f"'{self._glob()}'"
                if files is None
                else "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
            )
            source = (
                f"read_parquet({listed}, hive_partitioning = true, "
                f"{self._union(first)}hive_types = {{{hive_types}}})"
            )
            found = {
                str(row[0]): str(row[1])
                for row in self._con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            }
            columns = ", ".join(
                _column(name, found.get(name), types[name]) for name, _ in definition.columns
            )
            body = f"SELECT {columns}, {partitions} FROM {source}"
            self._empty_view = False
        else:
            nulls = ", ".join(
                f'CAST(NULL AS {types[column]}) AS "{column}"'
                for column, _ in definition.columns + definition.partitions
            )
            body = f"SELECT {nulls} WHERE false"
            self._empty_view = True
        self._con.execute(f'CREATE OR REPLACE VIEW "{definition.name}" AS {body}')

    # --- running ------------------------------------------------------------------------

    def run(self, name: str, params: Mapping[str, ParamValue] | None = None) -> QueryResult:
        """Run ``athena/<name>.sql``; see :meth:`run_sql`."""
        return self.run_sql(catalog.load(name), params, name=name, catalog_query=True)

    def run_sql(
        self,
        sql: str,
        params: Mapping[str, ParamValue] | None = None,
        *,
        name: str = "adhoc",
        catalog_query: bool = False,
    ) -> QueryResult:
        """Transpile Athena SQL to DuckDB, bind ``params`` and run it over the lake.

        Parameters
        ----------
        sql
            One Athena-dialect statement with ``:name`` placeholders.
        params
            Values for the placeholders (extra keys are ignored).
        name
            How errors and results name the query.
        catalog_query
            A query from ``athena/``, whose scans all filter ``dt`` between its ``*_dt``
            parameters: the lake's view then lists only those days' files.

        Returns
        -------
        QueryResult
            The frame, plus ``bytes_scanned`` and ``files_read`` from DuckDB's profiler.

        Raises
        ------
        ParameterError, UnsupportedSQLError, QueryError
        """
        bound = catalog.bind(sql, params)
        translated = catalog.to_duckdb(sql, self.schema)
        with self._lock:  # the view and the query that reads it, together
            started = time.perf_counter()
            self._use_files(self._day_files(bound) if catalog_query else None)
            frame = self._execute(name, translated, bound)
            elapsed = time.perf_counter() - started
            profile = self._profile()
        return QueryResult(
            name=name,
            engine=self.engine,
            frame=normalise_frame(frame),
            elapsed_s=elapsed,
            bytes_scanned=profile[0],
            files_read=profile[1],
            files_count=profile[2],
            sql=translated,
        )

    def _execute(self, name: str, sql: str, params: Mapping[str, object]) -> Any:
        duckdb = _duckdb()
        with self._lock:
            try:
                relation = (
                    self._con.execute(sql, dict(params)) if params else self._con.execute(sql)
                )
                if not relation.description:
                    return None
                with warnings.catch_warnings():
                    # duckdb's own timestamp-with-time-zone conversion calls a pandas 3.1
                    # deprecated keyword; not ours to fix, and harmless.
                    warnings.filterwarnings(
                        "ignore", message="The inplace keyword", category=DeprecationWarning
                    )
                    return relation.df()
            except duckdb.Error as exc:
                raise QueryError(self.engine, name, str(exc).splitlines()[0]) from exc

    def _profile(self) -> tuple[int | None, tuple[str, ...], int]:
        """Bytes read, file names listed (DuckDB abbreviates long lists) and files read."""
        with self._lock:
            try:
                info = json.loads(self._con.get_profiling_information(format="json"))
            except Exception:  # pragma: no cover - profiling output is best-effort
                return None, (), 0
        files: list[str] = []
        counted = 0

        def walk(node: Mapping[str, Any]) -> None:
            nonlocal counted
            extra = node.get("extra_info", {})
            counted += int(extra.get("Total Files Read", 0) or 0)
            listed = extra.get("Filename(s)")
            if listed:
                names = (f.strip() for f in str(listed).split(","))
                files.extend(f for f in names if f and f != "..." and "*" not in f)
            for child in node.get("children", []):
                walk(child)

        for operator in info.get("operator", []):
            walk(operator)
        read = info.get("io", {}).get("total_bytes_read")
        return (int(read) if read is not None else None), tuple(sorted(set(files))), counted

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> DuckDBWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
