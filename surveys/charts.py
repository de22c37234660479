"""Server-rendered SVG charts (no JavaScript, no CDN). Every chart has a <title>/<desc> and the page shows the same
numbers in a table, so screen readers and people without colour vision get the figures too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .intervals import Interval

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 44, 16, 36


@dataclass(frozen=True)
class TrendPoint:
    label: str  # x-axis label, e.g. "3 Mar"
    bar: int  # a count (bars, right axis), e.g. responses
    line: float | None  # a percentage 0–100 (line, left axis); None = no data that week
    band: Interval | None = None  # the line's 95% interval, drawn as a band behind it


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _band_text(band: Interval | None) -> str:
    return f" (95% interval {_fmt(band.low)}–{_fmt(band.high)}%)" if band else ""


def trend_chart(points: Sequence[TrendPoint], *, title: str, line_name: str, bar_name: str) -> SafeString:
    """Bars (counts) with a line (percent) over them, one group per point, and the line's interval as a band behind
    it over the same stretch as the line (points with a line but no band take the line's value)."""
    n = max(len(points), 1)
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / n
    bar_max = max([p.bar for p in points] + [1])

    def y_of(pct: float) -> float:  # the left axis' scale
        return PAD_TOP + plot_h * (1 - pct / 100)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="t-{id(points)}" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="t-{id(points)}">{escape(title)}</title>',
    ]
    for pct in (0, 50, 100):  # grid and left axis (percent)
        y = y_of(pct)
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>')
    parts.append(
        f'<text class="axis" x="{WIDTH - PAD_RIGHT + 6}" y="{PAD_TOP + 4}" text-anchor="start">{bar_max}</text>'
    )
    parts.append(
        f'<text class="axis" x="{WIDTH - PAD_RIGHT + 6}" y="{PAD_TOP + plot_h + 4}" text-anchor="start">0</text>'
    )
    line_points = []
    for i, point in enumerate(points):
        x = PAD_LEFT + step * i
        bar_h = plot_h * point.bar / bar_max
        parts.append(
            f'<rect class="bar" x="{x + step * 0.2:.1f}" y="{PAD_TOP + plot_h - bar_h:.1f}" '
            f'width="{step * 0.6:.1f}" height="{bar_h:.1f}"><title>{escape(point.label)}: {point.bar} '
            f"{escape(bar_name)}</title></rect>"
        )
        if i % 2 == 0 or n <= 8:
            parts.append(
                f'<text class="axis" x="{x + step / 2:.1f}" y="{HEIGHT - 12}" text-anchor="middle">'
                f"{escape(point.label)}</text>"
            )
        if point.line is not None:
            line_points.append((x + step / 2, y_of(point.line), point))
    if len(line_points) > 1 and any(p.band for _, _, p in line_points):  # behind the line: drawn first
        upper = [(x, y_of(p.band.high) if p.band else y) for x, y, p in line_points]
        lower = [(x, y_of(p.band.low) if p.band else y) for x, y, p in reversed(line_points)]
        band = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower)
        parts.append(f'<polygon class="band" points="{band}"><title>95% interval of the line</title></polygon>')
    if len(line_points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in line_points)
        parts.append(f'<polyline class="line" points="{path}"/>')
    for x, y, point in line_points:
        parts.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="4"><title>{escape(point.label)}: '
            f"{_fmt(point.line or 0)}% {escape(line_name)}{_band_text(point.band)}</title></circle>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def distribution_chart(counts: Sequence[tuple[int, int]], *, title: str, good_from: int) -> SafeString:
    """Horizontal bars, one per score (highest first); scores >= good_from are drawn in the 'good' colour."""
    row_h, label_w, width = 26, 40, 360
    height = row_h * len(counts) + 8
    top = max([count for _, count in counts] + [1])
    total = sum(count for _, count in counts)
    parts = [
        f'<svg class="chart dist" viewBox="0 0 {width} {height}" role="img" aria-labelledby="d-{id(counts)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="d-{id(counts)}">{escape(title)}</title>',
    ]
    for row, (score, count) in enumerate(sorted(counts, reverse=True)):
        y = 4 + row * row_h
        w = (width - label_w - 70) * count / top
        kind = "good" if score >= good_from else "poor"
        share = f"{round(100 * count / total)}%" if total else "–"
        parts.append(f'<text class="axis" x="{label_w - 10}" y="{y + 17}" text-anchor="end">{score}</text>')
        parts.append(
            f'<rect class="bar {kind}" x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 8}">'
            f"<title>Score {score}: {count} ({share})</title></rect>"
        )
        parts.append(f'<text class="axis" x="{label_w + w + 6:.1f}" y="{y + 17}">{count} · {share}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - only numbers and escaped text are interpolated
