"""Bars of one report column, drawn as SVG on the server (no script, no external resource); the
page puts the same figures in a table beside it for screen readers."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Any


def bars(rows: list[list[Any]], label: int, value: int, title: str, chart_id: str, width: int = 560) -> str:
    points = [(str(r[label]), Decimal(str(r[value]))) for r in rows if r[value] is not None]
    label_w, bar_h, pad = 200, 18, 6
    height = pad * 2 + max(1, len(points)) * (bar_h + pad)
    peak = max((abs(v) for _, v in points), default=Decimal(1)) or Decimal(1)
    scale = (width - label_w - 90) / float(peak)
    parts = [f'<svg class="chart" role="img" aria-labelledby="{chart_id}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{chart_id}">{escape(title)}</title>']
    for i, (name, v) in enumerate(points):
        y = pad + i * (bar_h + pad)
        length = max(abs(float(v)) * scale, 1.0)
        parts += [f'<text x="{label_w - 6}" y="{y + bar_h * 0.75:.1f}" text-anchor="end">{escape(name[:32])}</text>',
                  f'<rect class="{"loss" if v < 0 else "gain"}" x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}"/>',
                  f'<text x="{label_w + length + 4:.1f}" y="{y + bar_h * 0.75:.1f}">{v:,}</text>']
    parts.append("</svg>")
    return "".join(parts)
