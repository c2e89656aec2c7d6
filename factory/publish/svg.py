"""Three small chart kinds as inline SVG: horizontal bars, a histogram, a heatmap.

Hand-made rather than a plotting library: the report stays one self-contained HTML file with
no extra dependency, and the elements (one ``rect`` per bar or cell, with a ``data-value``)
can be checked in the rendered page.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

FONT = "font-family='system-ui, sans-serif' font-size='13'"
INK = "#222"
MUTED = "#777"


def bars(
    items: Sequence[tuple[str, float]],
    *,
    color: str = "#3b6fb6",
    label_width: int = 190,
    width: int = 680,
    fmt: str = "{:,.0f}",
    css_class: str = "bar",
) -> str:
    """Horizontal bars, one per ``(label, value)``, longest value spanning the plot."""
    row = 28
    height = row * len(items) + 10
    top = max((value for _, value in items), default=0) or 1
    span = width - label_width - 70
    parts = [_open(width, height)]
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        length = max(1.0, span * value / top) if value else 0.0
        parts.append(
            f"<text x='{label_width - 8}' y='{y + 18}' text-anchor='end' {FONT} "
            f"fill='{INK}'>{escape(label)}</text>"
            f"<rect class='{css_class}' data-label='{escape(label)}' data-value='{value:g}' "
            f"x='{label_width}' y='{y + 4}' width='{length:.1f}' height='{row - 8}' "
            f"rx='3' fill='{color}'/>"
            f"<text x='{label_width + length + 6:.1f}' y='{y + 18}' {FONT} "
            f"fill='{MUTED}'>{escape(fmt.format(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    values: Sequence[float],
    *,
    bins: int = 10,
    low: float = 0.0,
    high: float = 1.0,
    color: str = "#4c9a6a",
    width: int = 680,
    height: int = 220,
) -> str:
    """Counts of ``values`` in ``bins`` equal bins over [low, high] (high is inclusive)."""
    counts = [0] * bins
    for value in values:
        index = int((value - low) / (high - low) * bins)
        counts[min(max(index, 0), bins - 1)] += 1
    top = max(counts) or 1
    left, bottom, pad = 40, 30, 22  # pad: room above the tallest bar for its count
    plot_w, plot_h = width - left - 10, height - bottom - pad
    base = pad + plot_h
    step = plot_w / bins
    parts = [_open(width, height)]
    parts.append(f"<line x1='{left}' y1='{base}' x2='{width - 10}' y2='{base}' stroke='{MUTED}'/>")
    for i, count in enumerate(counts):
        h = plot_h * count / top
        x = left + i * step
        edge = low + (high - low) * i / bins
        parts.append(
            f"<rect class='bin' data-value='{count}' x='{x + 2:.1f}' y='{base - h:.1f}' "
            f"width='{step - 4:.1f}' height='{h:.1f}' fill='{color}'/>"
            f"<text x='{x + step / 2:.1f}' y='{height - 10}' text-anchor='middle' {FONT} "
            f"fill='{MUTED}'>{edge:.1f}</text>"
        )
        if count:
            parts.append(
                f"<text x='{x + step / 2:.1f}' y='{base - h - 5:.1f}' "
                f"text-anchor='middle' {FONT} fill='{INK}'>{count}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: dict[tuple[str, str], int],
    *,
    label_width: int = 190,
    cell: int = 90,
) -> str:
    """A grid of ``values[(row, column)]``, darker for more; zero cells stand out in red."""
    row_h = 30
    width = label_width + cell * len(columns) + 10
    height = 30 + row_h * len(rows) + 10
    top = max(values.values(), default=0) or 1
    parts = [_open(width, height)]
    for j, column in enumerate(columns):
        parts.append(
            f"<text x='{label_width + j * cell + cell / 2}' y='20' text-anchor='middle' "
            f"{FONT} fill='{INK}'>{escape(column)}</text>"
        )
    for i, row in enumerate(rows):
        y = 30 + i * row_h
        parts.append(
            f"<text x='{label_width - 8}' y='{y + 19}' text-anchor='end' {FONT} "
            f"fill='{INK}'>{escape(row)}</text>"
        )
        for j, column in enumerate(columns):
            value = values.get((row, column), 0)
            shade = 0.15 + 0.85 * value / top
            fill = f"rgba(59,111,182,{shade:.2f})" if value else "#f6d5d5"
            parts.append(
                f"<rect class='cell' data-row='{escape(row)}' data-column='{escape(column)}' "
                f"data-value='{value}' x='{label_width + j * cell + 2}' y='{y + 2}' "
                f"width='{cell - 4}' height='{row_h - 4}' rx='3' fill='{fill}'/>"
                f"<text x='{label_width + j * cell + cell / 2}' y='{y + 19}' "
                f"text-anchor='middle' {FONT} fill='{INK if shade < 0.6 else '#fff'}'>"
                f"{value}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _open(width: float, height: float) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img'>"
    )


def scatter(
    points: Sequence[tuple[float, float, str]],
    *,
    width: int = 680,
    height: int = 420,
) -> str:
    """Points (x, y, group), one colour per group, with a legend on the right."""
    groups = sorted({group for _, _, group in points})
    palette = ["#3b6fb6", "#c0504d", "#4c9a6a", "#c28a2c", "#8a5bb4", "#2a9d9d", "#d17fb0"]
    colour = {group: palette[i % len(palette)] for i, group in enumerate(groups)}
    xs, ys = [p[0] for p in points] or [0.0], [p[1] for p in points] or [0.0]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    legend_w, pad = 170, 12
    plot_w, plot_h = width - legend_w - 2 * pad, height - 2 * pad
    parts = [_open(width, height)]
    for x, y, group in points:
        cx = pad + (x - min(xs)) / span_x * plot_w
        cy = pad + (1 - (y - min(ys)) / span_y) * plot_h
        parts.append(
            f"<circle class='point' data-group='{escape(group)}' cx='{cx:.1f}' cy='{cy:.1f}' "
            f"r='3' fill='{colour[group]}' fill-opacity='0.7'/>"
        )
    for i, group in enumerate(groups):
        y = pad + 10 + i * 18
        parts.append(
            f"<circle cx='{width - legend_w + 8}' cy='{y - 4}' r='5' fill='{colour[group]}'/>"
            f"<text x='{width - legend_w + 18}' y='{y}' {FONT} fill='{INK}'>{escape(group)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
