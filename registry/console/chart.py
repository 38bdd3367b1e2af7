"""Line charts drawn as SVG on the server: no chart library, nothing loaded by the page."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: list[float | None]
    css_class: str


def _fmt(value: float) -> str:
    return f"{value * 100:.0f}%"


def line_chart(months: list[str], series: list[Series], title: str) -> str:
    """A percent line chart, one line per series, months along the bottom."""
    peak = max((v for s in series for v in s.values if v is not None), default=0.0)
    top = max(0.05, min(1.0, (int(peak * 20) + 1) / 20))  # the next 5% above the highest value
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(months) - 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(5):
        v = top * k / 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{_fmt(v)}</text>'
        )
    for i, month in enumerate(months):
        parts.append(
            f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{month[2:]}</text>'
        )
    for s in series:
        points = [(x(i), y(v)) for i, v in enumerate(s.values) if v is not None]
        if points:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline class="{s.css_class}" fill="none" points="{path}"/>')
            parts.extend(f'<circle class="{s.css_class}" cx="{px:.1f}" cy="{py:.1f}" r="3"/>' for px, py in points)
    for k, s in enumerate(series):
        lx = LEFT + k * 200
        parts.append(
            f'<rect class="{s.css_class}" x="{lx}" y="{HEIGHT - 14}" width="12" height="4"/>'
            f'<text class="legend" x="{lx + 18}" y="{HEIGHT - 8}">{escape(s.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
