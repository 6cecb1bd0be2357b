"""A small bar chart drawn as SVG on the server: no chart library, no script, readable in print."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal


def bar_chart(
    bars: list[Bar], title: str, width: int = 760, bar_height: int = 22, unit: str = "£"
) -> str:
    """Horizontal bars around a zero line: gains right in green, losses left in red."""
    label_w, pad = 250, 8
    height = pad * 2 + max(1, len(bars)) * (bar_height + pad) + 20
    peak = max((abs(b.value) for b in bars), default=Decimal(1)) or Decimal(1)
    plot_w = width - label_w - 2 * pad
    zero_x = label_w + pad + plot_w / 2
    scale = (plot_w / 2 - 60) / float(peak)
    parts = [
        (
            f'<svg class="chart" role="img" aria-labelledby="chart-title" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        ),
        f'<title id="chart-title">{escape(title)}</title>',
        f'<line x1="{zero_x:.1f}" y1="{pad}" x2="{zero_x:.1f}" y2="{height - 20}" stroke="#0b0c0c"/>',
    ]
    for i, bar in enumerate(bars):
        y = pad + i * (bar_height + pad)
        length = abs(float(bar.value)) * scale
        cls = "gain" if bar.value > 0 else "loss" if bar.value < 0 else "same"
        x = zero_x if bar.value >= 0 else zero_x - length
        sign = "+" if bar.value > 0 else "−" if bar.value < 0 else ""
        text_x = zero_x + length + 4 if bar.value >= 0 else zero_x - length - 4
        anchor = "start" if bar.value >= 0 else "end"
        parts += [
            f'<text x="{label_w}" y="{y + bar_height * 0.7:.1f}" text-anchor="end">{escape(bar.label)}</text>',
            f'<rect class="{cls}" x="{x:.1f}" y="{y}" width="{max(length, 1):.1f}" height="{bar_height}"/>',
            (
                f'<text x="{text_x:.1f}" y="{y + bar_height * 0.7:.1f}" text-anchor="{anchor}">'
                f"{sign}{unit}{abs(bar.value):,.2f}</text>"
            ),
        ]
    parts.append(f'<text x="{zero_x:.1f}" y="{height - 4}" text-anchor="middle">no change</text>')
    parts.append("</svg>")
    return "".join(parts)
