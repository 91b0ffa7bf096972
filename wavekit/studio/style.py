"""How the studio shows things on its widgets: warning text and label widths.

Shared by the layout and the partial rows (no ipywidgets import needed).
"""

from __future__ import annotations

import html

__all__ = ["message_html", "style"]

_CSS_ERROR = "color:#b00020"


def message_html(text: str) -> str:
    """A warning shown next to a control (HTML-escaped); empty text clears it."""
    return f'<span style="{_CSS_ERROR}">⚠ {html.escape(text)}</span>' if text else ""


def style() -> dict[str, str]:
    """Widget style: descriptions as wide as their text (ipywidgets cuts them otherwise)."""
    return {"description_width": "initial"}
