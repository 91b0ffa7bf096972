"""Command-line values shared by several command groups."""

from __future__ import annotations


def number_or_text(value: str) -> float | str:
    """``"440"`` → ``440.0``; ``"A4"`` or ``"-20dB"`` stay text for the spec to parse."""
    try:
        return float(value)
    except ValueError:
        return value
