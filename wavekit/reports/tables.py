"""The usage report's tables for people, as pandas Stylers.

A query answers with machine columns (``p95_ms``, ``523.251131``, ``prev_rank`` as
``1.0`` or NaN); the report shows headers with units, thousands separators, one decimal
for milliseconds, megabytes, note names, whole ranks, ``▲ 2`` and ``new``. The data
stay numeric inside the :class:`~pandas.io.formats.style.Styler` (only their display is
formatted, by :mod:`.formatting`), the index is hidden, and the look is a few CSS rules
scoped to each table. The CSV tables written beside a report keep the raw values.

Each function takes a query's frame (or a leaderboard) and returns a Styler: a notebook
``display()``-s it, :meth:`Styler.to_html` renders it elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wavekit.errors import MissingExtraError
from wavekit.reports import formatting as fmt

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

    from wavekit.ports.analytics import Leaderboard

Formatter = Callable[[Any], str]

_BASE_STYLES: list[dict[str, str]] = [
    {
        "selector": "",
        "props": "border-collapse: collapse; margin: 0.25rem 0 1.25rem; font-size: 0.9rem;"
        " font-variant-numeric: tabular-nums;",
    },
    {
        "selector": "caption",
        "props": "caption-side: top; text-align: left; color: #555; padding-bottom: 0.35rem;",
    },
    {
        "selector": "th",
        "props": "font-weight: 600; border-bottom: 2px solid #444; padding: 0.4rem 0.75rem;"
        " vertical-align: bottom; background: none; max-width: 9rem;",
    },
    {
        "selector": "td",
        "props": "padding: 0.3rem 0.75rem; border-bottom: 1px solid #e3e3e3; white-space: nowrap;",
    },
    {"selector": "tbody tr:nth-child(even)", "props": "background: #f7f8fa;"},
    {"selector": "tbody tr:hover", "props": "background: #eef3fb;"},
    {"selector": "td.up", "props": "color: #1a7f37;"},
    {"selector": "td.down", "props": "color: #b3261e;"},
    {"selector": "td.new", "props": "color: #0b5cad; font-weight: 600;"},
    {"selector": "td.same", "props": "color: #777;"},
]


@dataclass(frozen=True)
class Column:
    """One column as people read it: where its values come from, its header, its format."""

    source: str
    header: str
    format: Formatter
    align: str = "right"
    """``right`` for numbers (digits line up), ``left`` for text, ``center`` for marks."""


def _styler(frame: pd.DataFrame) -> Styler:
    try:
        from pandas.io.formats.style import Styler
    except ImportError as exc:  # pragma: no cover - jinja2 comes with the reports extra
        raise MissingExtraError("jinja2", "reports") from exc
    return Styler(frame)


def people_table(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    name: str,
    caption: str | None = None,
    cell_classes: pd.DataFrame | None = None,
) -> Styler:
    """``frame``'s ``columns`` with people's headers and formats, no index, styled.

    Parameters
    ----------
    frame
        The query's rows (any index; it is not shown).
    columns
        What to show, in order.
    name
        The table's id in the page (``T_<name>``), so its CSS applies to it alone.
    caption
        A line above the table.
    cell_classes
        CSS classes per cell, indexed and labelled like the shown table (e.g. ``up``).

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    data = frame.loc[:, [c.source for c in columns]].reset_index(drop=True)
    data.columns = [c.header for c in columns]
    styler = _styler(data)
    styler.set_uuid(re.sub(r"[^A-Za-z0-9_-]", "_", name))
    styler.hide(axis="index")
    styler.format({c.header: c.format for c in columns}, escape="html")
    alignment = [
        {
            "selector": f"th.col{i}, td.col{i}",
            "props": f"text-align: {c.align};",
        }
        for i, c in enumerate(columns)
    ]
    styler.set_table_styles([*_BASE_STYLES, *alignment])
    if caption:
        styler.set_caption(caption)
    if cell_classes is not None:
        styler.set_td_classes(cell_classes)
    return styler


# -- the report's tables --------------------------------------------------------------------

LATENCY_COLUMNS = (
    Column("route", "Route", str, align="left"),
    Column("requests", "Requests", fmt.count),
    Column("p50_ms", "p50 (ms)", fmt.decimal),
    Column("p95_ms", "p95 (ms)", fmt.decimal),
    Column("p99_ms", "p99 (ms)", fmt.decimal),
    Column("max_ms", "Slowest (ms)", fmt.decimal),
)


def latency_table(latency: pd.DataFrame) -> Styler:
    """Latency percentiles per route, in milliseconds with one decimal."""
    return people_table(latency, LATENCY_COLUMNS, name="latency_by_route")


ERROR_COLUMNS = (
    Column("status_code", "HTTP status", lambda v: str(int(v))),
    Column("error_code", "Error code", str, align="left"),
    Column("requests", "Requests", fmt.count),
    Column("error_rate", "Share of all requests (%)", lambda v: fmt.percent(v).removesuffix(" %")),
)


def errors_table(errors: pd.DataFrame) -> Styler:
    """Failed requests by status and stable error code, with their share of all requests."""
    return people_table(errors, ERROR_COLUMNS, name="errors_by_code")


TONE_KIND_COLUMNS = (
    Column("dimension", "Made of", str.capitalize, align="left"),
    Column("value", "Kind", str, align="left"),
    Column("requests", "Requests", fmt.count),
)
"""The columns before ``Audio (MB)``, whose decimals depend on the table's values."""


def tone_kinds_table(kinds: pd.DataFrame) -> Styler:
    """Accepted tone requests by waveform, noise colour and sweep (``usage_tone_kinds``),
    megabytes to one set of decimals so the points line up."""
    places = fmt.megabyte_places(kinds["audio_bytes"])
    columns = [
        *TONE_KIND_COLUMNS,
        Column("audio_bytes", "Audio (MB)", lambda v: fmt.megabytes_number(v, places)),
    ]
    return people_table(kinds, columns, name="tone_kinds")


def _key_column(board: Leaderboard) -> Column:
    key = board.key_columns[0] if board.key_columns else ""
    if key == "frequency":
        return Column(key, "Frequency", fmt.frequency_label, align="left")
    if key == "chord":
        return Column(key, "Chord", fmt.chord_label, align="left")
    if key == "frequencies":
        return Column(key, "Tone", fmt.chord_label, align="left")
    if key == "client_id":
        return Column(key, "Client", str, align="left")
    return Column(key, key.replace("_", " ").capitalize(), str, align="left")


def board_metric(board: Leaderboard) -> str:
    """What a board ranks by: ``requests`` or ``bytes`` (the suffix of its name)."""
    return board.board.rsplit("_by_", 1)[-1]


def board_title(board: Leaderboard) -> str:
    """``frequencies_by_requests`` → ``Top frequencies by requests``."""
    kind, metric = board.board.rsplit("_by_", 1)
    return f"Top {kind} by {'data (MB)' if metric == 'bytes' else metric}"


def _change_class(change: Any) -> str:
    if fmt.is_missing(change):
        return "new"
    return "up" if change > 0 else "down" if change < 0 else "same"


def board_table(board: Leaderboard) -> Styler:
    """One leaderboard: rank, its change (▲ ▼ – new), the entry with units, both measures.

    The previous period's value is in the unit of what the board ranks by.
    """
    import pandas as pd

    frame = board.to_frame()
    by_bytes = board_metric(board) == "bytes"
    sizes = [*frame["bytes"], *(frame["prev_value"] if by_bytes else [])]
    places = fmt.megabyte_places(sizes)

    def megabytes(size: Any) -> str:
        return fmt.megabytes_number(size, places)

    previous = (
        Column("prev_value", "Previous period (MB)", megabytes)
        if by_bytes
        else Column("prev_value", "Previous period (requests)", fmt.count)
    )
    columns = (
        Column("rank", "Rank", fmt.rank),
        Column("rank_change", "Change", fmt.rank_change, align="center"),
        _key_column(board),
        Column("requests", "Requests", fmt.count),
        Column("bytes", "Data (MB)", megabytes),
        previous,
    )
    classes = pd.DataFrame("", index=range(len(frame)), columns=[c.header for c in columns])
    classes["Change"] = [_change_class(v) for v in frame["rank_change"]]
    return people_table(frame, columns, name=board.board, cell_classes=classes)


def cost_table(cost: pd.DataFrame) -> Styler:
    """Estimated cost per day at list prices, with a total row.

    Every money column shows as many decimals as the cheapest day needs for two
    significant digits (:func:`.formatting.money_places`), so a cheap week reads
    ``0.00054``, not ``0.00``.
    """
    import pandas as pd

    money = ("lambda_request_usd", "lambda_compute_usd", "api_gateway_usd", "total_usd")
    total = {"day": "Total", **{c: cost[c].sum() for c in ("requests", "gb_seconds", *money)}}
    frame = pd.concat([cost, pd.DataFrame([total])], ignore_index=True) if len(cost) else cost
    places = fmt.money_places(cost["total_usd"])

    def dollars(value: Any) -> str:
        return fmt.money_number(value, places)

    def day(value: Any) -> str:
        return value if value == "Total" else fmt.day(value)

    columns = (
        Column("day", "Day (UTC)", day, align="left"),
        Column("requests", "Requests", fmt.count),
        Column("gb_seconds", "Lambda compute (GB-s)", lambda v: fmt.decimal(v, 2)),
        Column("lambda_request_usd", "Lambda requests ($)", dollars),
        Column("lambda_compute_usd", "Lambda compute ($)", dollars),
        Column("api_gateway_usd", "API Gateway requests ($)", dollars),
        Column("total_usd", "Total ($)", dollars),
    )
    styler = people_table(frame, columns, name="cost_per_day")
    if len(cost):
        styler.set_table_styles(
            [{"selector": f"tbody tr:nth-child({len(frame)}) td",
              "props": "font-weight: 600; border-top: 2px solid #444;"}],
            overwrite=False,
        )  # fmt: skip
    return styler
