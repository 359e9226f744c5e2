"""Bar charts drawn on the server as SVG (no script, no external file).

Time runs left to right on every page, Arabic included: the ``<svg>`` carries
``dir="ltr"`` (as a printed calendar's timeline does), and the page's table beside it
gives the same numbers in the reader's direction. The chart is one image to assistive
technology (``role="img"`` and an ``aria-label`` that says what it shows); the table is
the data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 24, 8, 24, 28  # room for the axis labels


@dataclass(frozen=True)
class Bar:
    value: int
    label: str = ""  # under the bar (only some bars are labelled)
    title: str = ""  # the bar's tooltip: its label and its value, as the page writes them


def axis_top(value: int) -> int:
    """A round top for the axis: 1, 2, 5, 10, 20, 50, ... at least ``value``."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def bar_chart(bars: Sequence[Bar], *, label: str, top_label: str | None = None,
              css_class: str = "chart") -> Markup:
    """``bars`` as an SVG bar chart scaled to the largest value; ``label`` is what the
    chart shows (its accessible name); ``top_label`` writes the axis' top value (the
    page formats it in its locale; the plain number otherwise)."""
    top = axis_top(max((bar.value for bar in bars), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(bars), 1)
    gap = min(slot * 0.2, 4)
    parts = [
        f'<svg class="{escape(css_class)}" dir="ltr" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMidYMid meet">',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<line class="grid" x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"/>',
        f'<text class="tick" x="{LEFT}" y="{TOP - 6}" text-anchor="start">'
        f'{escape(top_label if top_label is not None else str(top))}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for index, bar in enumerate(bars):
        height = plot_h * bar.value / top if top else 0
        x = LEFT + index * slot + gap / 2
        y = TOP + plot_h - height
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot - gap:.1f}" '
                     f'height="{height:.1f}"><title>{escape(bar.title)}</title></rect>')
        if bar.label:
            parts.append(f'<text class="tick" x="{x + (slot - gap) / 2:.1f}" '
                         f'y="{HEIGHT - 8}" text-anchor="middle">{escape(bar.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escaped above
