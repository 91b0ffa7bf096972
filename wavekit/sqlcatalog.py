"""The SQL catalog (``athena/*.sql``), its parameter convention and the Athena → DuckDB translation.

Parameter convention (one text, two engines): queries name their parameters as
``:name``. For DuckDB, sqlglot turns them into ``$name`` and we bind a dict. For Athena,
:func:`to_qmark` replaces each occurrence, in order, with ``?`` and returns the matching
list of SQL literals, which Athena binds server-side (execution parameters). Values are
plain strings and numbers: timestamps travel as ``'YYYY-MM-DD HH:MM:SS.fff'`` text (UTC)
that the SQL casts, so both engines parse the same literal.

The files live in the repository's ``athena/`` folder (the source of truth); the wheel
carries a copy as ``wavekit/athena_sql`` (hatch ``force-include``).

This is core (SQL text and its translation, no engine): both warehouse adapters
(:mod:`wavekit.backends.local.duckdb`, :mod:`wavekit.backends.aws.athena`) and the
analytics read it, so it sits below both.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from wavekit.errors import (
    AnalyticsError,
    MissingExtraError,
    ParameterError,
    UnknownQueryError,
    UnsupportedSQLError,
)

ParamValue = str | int | float | bool | dt.datetime | dt.date
"""What a query parameter may be bound to."""

TABLE_PREFIX = "table_"
VIEW_PREFIX = "view_"
LEADERBOARD_PREFIX = "leaderboard_"
USAGE_PREFIX = "usage_"

_PLACEHOLDER = re.compile(
    r"""'(?:[^']|'')*'          # string literal
      | "(?:[^"]|"")*"          # quoted identifier
      | --[^\n]*                # line comment
      | /\*.*?\*/               # block comment
      | (?<![:\w]):([A-Za-z_]\w*)""",
    re.VERBOSE | re.DOTALL,
)


def sqlglot() -> Any:
    """Import sqlglot, or say which extra installs it."""
    try:
        import sqlglot as module
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("sqlglot", "analytics") from exc
    return module


# --- the catalog ------------------------------------------------------------------------


def _packaged_root() -> Traversable | None:
    root = resources.files("wavekit") / "athena_sql"
    return root if root.is_dir() else None


def sql_root() -> Traversable:
    """Where the ``.sql`` files are: inside the installed package, else the source tree."""
    packaged = _packaged_root()
    if packaged is not None:
        return packaged
    source = Path(__file__).resolve().parents[1] / "athena"
    if source.is_dir():
        return source
    raise AnalyticsError(
        "the athena/*.sql files are missing: neither wavekit/athena_sql (wheel) "
        f"nor {source} (source tree) exists"
    )


@cache
def _catalog() -> dict[str, str]:
    return {
        entry.name.removesuffix(".sql"): entry.read_text(encoding="utf-8")
        for entry in sql_root().iterdir()
        if entry.name.endswith(".sql")
    }


def names(prefix: str = "") -> list[str]:
    """Sorted names (file stems) of the catalog's SQL files starting with ``prefix``."""
    return sorted(n for n in _catalog() if n.startswith(prefix))


def load(name: str) -> str:
    """The text of ``athena/<name>.sql``.

    Raises
    ------
    UnknownQueryError
        If there is no such file; the message lists the names there are.
    """
    try:
        return _catalog()[name]
    except KeyError:
        raise UnknownQueryError(name, names()) from None


# --- parameters -------------------------------------------------------------------------


def parameters(sql: str) -> list[str]:
    """Distinct ``:name`` placeholders in order of first use (strings and comments skipped)."""
    seen: dict[str, None] = {}
    for match in _PLACEHOLDER.finditer(sql):
        if match.group(1):
            seen.setdefault(match.group(1))
    return list(seen)


def format_timestamp(value: dt.datetime) -> str:
    """UTC text both engines cast to ``timestamp``; naive datetimes are refused (ambiguous)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ParameterError(f"timestamp {value.isoformat()} has no time zone; pass an aware one")
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond // 1000:03d}"


def plain_value(name: str, value: ParamValue) -> str | int | float | bool:
    """A parameter as the scalar both engines bind (datetimes and dates become text)."""
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"parameter {name!r} must be finite, got {value!r}")
    if isinstance(value, str | int | float | bool):
        return value
    raise ParameterError(
        f"parameter {name!r} has unsupported type {type(value).__name__}; "
        "use str, int, float, bool, datetime or date"
    )


def bind(sql: str, params: Mapping[str, ParamValue] | None) -> dict[str, str | int | float | bool]:
    """The values of the parameters ``sql`` uses (extra keys are ignored, missing ones fail)."""
    params = params or {}
    wanted = parameters(sql)
    missing = [name for name in wanted if name not in params]
    if missing:
        raise ParameterError(
            f"missing query parameter(s): {', '.join(missing)}; "
            f"this query uses: {', '.join(wanted)}"
        )
    return {name: plain_value(name, params[name]) for name in wanted}


def athena_literal(value: str | int | float | bool) -> str:
    """A bound value as the SQL literal Athena's execution parameters expect."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def to_qmark(sql: str, params: Mapping[str, ParamValue] | None) -> tuple[str, list[str]]:
    """Rewrite ``:name`` to ``?`` (each occurrence) and list the literals in the same order."""
    bound = bind(sql, params)
    ordered: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not name:
            return match.group(0)
        ordered.append(athena_literal(bound[name]))
        return "?"

    return _PLACEHOLDER.sub(replace, sql), ordered


# --- Athena -> DuckDB ---------------------------------------------------------------------


@dataclass(frozen=True)
class TableDefinition:
    """What the DDL says: table name, data columns and partition columns with Athena types."""

    name: str
    columns: tuple[tuple[str, str], ...]
    partitions: tuple[tuple[str, str], ...]

    def duckdb_types(self) -> dict[str, str]:
        glot = sqlglot()
        return {
            column: glot.exp.DataType.build(kind, dialect="athena").sql("duckdb")
            for column, kind in self.columns + self.partitions
        }


def parse_table_ddl(ddl: str) -> TableDefinition:
    """Read the columns and partitions out of a ``CREATE EXTERNAL TABLE`` statement."""
    glot = sqlglot()
    exp = glot.exp
    tree = glot.parse_one(ddl, read="athena")
    if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema):
        raise AnalyticsError("expected a CREATE EXTERNAL TABLE statement with columns")

    def columns(schema: Any) -> tuple[tuple[str, str], ...]:
        return tuple(
            (c.name, c.args["kind"].sql("athena"))
            for c in schema.expressions
            if isinstance(c, exp.ColumnDef)
        )

    partitioned = tree.find(exp.PartitionedByProperty)
    partitions = columns(partitioned.this) if partitioned is not None else ()
    return TableDefinition(tree.this.this.name, columns(tree.this), partitions)


def _check_constructs(tree: Any) -> None:
    """Refuse constructs whose DuckDB translation is known to be wrong (see TIPS.md)."""
    exp = sqlglot().exp
    for node in tree.find_all(exp.ApproxQuantile):
        if node.args.get("weight") is not None or node.args.get("accuracy") is not None:
            raise UnsupportedSQLError(
                "approx_percentile with a weight or accuracy argument has no DuckDB "
                "equivalent (sqlglot drops the weight); use the unweighted form"
            )
    for node in tree.find_all(exp.Anonymous):
        if node.name.lower() in {"format_datetime", "parse_datetime", "map_agg"}:
            raise UnsupportedSQLError(
                f"{node.name} is not translated to DuckDB; use date_format / date_parse "
                "or restructure the query"
            )


def _duckdb_overrides(tree: Any) -> Any:
    """Small rewrites where sqlglot's DuckDB output differs from Athena in value or type.

    * ``approx_percentile(x, p)`` → exact ``quantile_cont(x, p)``: local data is small,
      and exact values are what tests (and analysts comparing runs) can check.
    * ``count_if(...)`` → ``CAST(count_if(...) AS BIGINT)``: Athena returns BIGINT,
      DuckDB HUGEINT, which pandas turns into float.
    """
    exp = sqlglot().exp

    def swap(node: Any) -> Any:
        if isinstance(node, exp.ApproxQuantile):
            return exp.Anonymous(
                this="quantile_cont", expressions=[node.this.copy(), node.args["quantile"].copy()]
            )
        if isinstance(node, exp.CountIf) and not isinstance(node.parent, exp.Cast):
            return exp.Cast(this=node.copy(), to=exp.DataType.build("BIGINT"))
        return node

    return tree.transform(swap)


def _typed(tree: Any, schema: Mapping[str, Mapping[str, str]]) -> Any:
    """Athena's ``int / int`` truncates; DuckDB's ``/`` does not. sqlglot emits the right
    thing (``CAST(TRUNC(a / b) AS BIGINT)``) only for divisions whose operand types it
    knows, so qualify and annotate the statement against the DDL/view schema first."""
    glot = sqlglot()
    exp = glot.exp
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    def typed(query: Any) -> Any:
        qualified = qualify(
            query,
            schema=dict(schema),
            dialect="athena",
            quote_identifiers=False,
            validate_qualify_columns=False,  # unknown columns: let the engine name them
        )
        return annotate_types(qualified, schema=dict(schema), dialect="athena")

    if isinstance(tree, exp.Create) and isinstance(tree.expression, exp.Query):
        tree.set("expression", typed(tree.expression))
        return tree
    if isinstance(tree, exp.Query):
        return typed(tree)
    return tree


def to_duckdb(sql: str, schema: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """Transpile one Athena statement to DuckDB, with our fixes for sqlglot's gaps.

    Parameters
    ----------
    sql
        One statement in Athena (Trino) dialect, ``:name`` placeholders allowed.
    schema
        ``{table: {column: athena_type}}`` used to type integer division.

    Returns
    -------
    str
        DuckDB SQL with ``$name`` placeholders.

    Notes
    -----
    Translations are cached by text and schema: qualifying and typing a board's query
    takes tens of milliseconds, as long as DuckDB takes to scan a million events, and
    the same few catalog texts are run again at every refresh.
    """
    frozen = tuple((table, tuple(columns.items())) for table, columns in (schema or {}).items())
    return _to_duckdb(sql, frozen)


@lru_cache(maxsize=256)
def _to_duckdb(sql: str, schema: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> str:
    glot = sqlglot()
    try:
        tree = glot.parse_one(sql, read="athena")
    except glot.errors.ParseError as exc:
        raise UnsupportedSQLError(f"not valid Athena SQL: {exc}") from exc
    _check_constructs(tree)
    if schema:
        tree = _typed(tree, {table: dict(columns) for table, columns in schema})
    tree = _duckdb_overrides(tree)
    return str(tree.sql("duckdb"))


def select_columns(sql: str, schema: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Output columns and Athena types of a SELECT (or of a CREATE VIEW's SELECT)."""
    glot = sqlglot()
    exp = glot.exp
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    tree = glot.parse_one(sql, read="athena")
    if isinstance(tree, exp.Create):
        tree = tree.expression
    typed = annotate_types(
        qualify(tree, schema=dict(schema), dialect="athena", quote_identifiers=False),
        schema=dict(schema),
        dialect="athena",
    )
    return {s.alias_or_name: s.type.sql("athena") for s in typed.selects}


def statement_kind(sql: str) -> str:
    """``"create_table"``, ``"create_view"`` or ``"select"``: what a catalog file does."""
    glot = sqlglot()
    exp = glot.exp
    tree = glot.parse_one(sql, read="athena")
    if isinstance(tree, exp.Create):
        return "create_view" if str(tree.args.get("kind")).upper() == "VIEW" else "create_table"
    return "select"


def view_name(sql: str) -> str:
    exp = sqlglot().exp
    tree = sqlglot().parse_one(sql, read="athena")
    table = tree.find(exp.Table)
    if table is None:  # pragma: no cover - catalog files are tested
        raise AnalyticsError("CREATE VIEW without a name")
    return str(table.name)


def ordered(names_: Sequence[str]) -> list[str]:
    """Catalog setup order: tables, then views (views may build on views, alphabetically)."""
    return [n for n in names_ if n.startswith(TABLE_PREFIX)] + [
        n for n in names_ if n.startswith(VIEW_PREFIX)
    ]
