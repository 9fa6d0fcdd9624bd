"""Line charts as inline SVG, drawn on the server: readable without JavaScript."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from switchman.controller.promql.values import Series

WIDTH, HEIGHT, PAD = 640, 180, 34
DOTS_UP_TO = 20
COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")


@dataclass(frozen=True)
class Line:
    label: str
    ts: Sequence[int]
    vs: Sequence[float]


def lines_of(series: Sequence[Series], limit: int = 8) -> list[Line]:
    out = []
    for s in series[:limit]:
        shown = {k: v for k, v in s.labels.items() if k != "__name__"}
        label = ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or s.labels.get("__name__", "value")
        out.append(Line(label, s.ts, s.vs))
    return out


def _tick(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.3g}G"
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    return f"{v:.3g}"


def svg(title: str, lines: Sequence[Line]) -> str:
    """A chart with a y axis (min, max), one path per line and a legend."""
    finite = [v for line in lines for v in line.vs if math.isfinite(v)]
    times = [t for line in lines for t in line.ts]
    head = f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
    if not finite or not times:
        return head + '<p class="empty">no data in this window</p></figure>'
    lo, hi = min(finite), max(finite)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    t0, t1 = min(times), max(times)
    span = max(1, t1 - t0)

    def x(t: int) -> float:
        return PAD + (WIDTH - PAD - 4) * (t - t0) / span

    def y(v: float) -> float:
        return 4 + (HEIGHT - 20) * (1 - (v - lo) / (hi - lo))

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" class="chart-svg">',
        f'<line x1="{PAD}" y1="{HEIGHT - 16}" x2="{WIDTH}" y2="{HEIGHT - 16}" class="axis"/>',
        f'<text x="2" y="12" class="tick">{escape(_tick(hi))}</text>',
        f'<text x="2" y="{HEIGHT - 18}" class="tick">{escape(_tick(lo))}</text>',
    ]
    legend = []
    for i, line in enumerate(lines):
        colour = COLOURS[i % len(COLOURS)]
        segments, pen = [], "M"
        for t, v in zip(line.ts, line.vs, strict=False):
            if not math.isfinite(v):
                pen = "M"
                continue
            segments.append(f"{pen}{x(t):.1f},{y(v):.1f}")
            pen = "L"
        parts.append(f'<path d="{" ".join(segments)}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        if len(segments) <= DOTS_UP_TO:  # a few points: show each one, a lone point has no line
            parts += [
                f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"/>'
                for t, v in zip(line.ts, line.vs, strict=False)
                if math.isfinite(v)
            ]
        last = next((v for v in reversed(line.vs) if math.isfinite(v)), math.nan)
        legend.append(
            f'<li><span class="swatch" style="background:{colour}"></span>{escape(line.label)}'
            f" <b>{escape(_tick(last))}</b></li>"
        )
    parts.append("</svg>")
    return head + "".join(parts) + '<ul class="legend">' + "".join(legend) + "</ul></figure>"
