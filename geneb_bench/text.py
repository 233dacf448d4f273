"""Numbers as people write them, shared by the terminal listings and the HTML report."""

from __future__ import annotations


def human_count(value: float) -> str:
    """Parameter counts as papers print them: 117M, 3B, 2.5B, 850K."""
    for factor, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{unit}"
    return f"{value:g}"


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"
