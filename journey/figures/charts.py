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
    parts = _frame(label, css_class, top_label if top_label is not None else str(top))
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


#: How many series a stacked chart colours apart (the rest are added up as "other").
SERIES = 6


@dataclass(frozen=True)
class Stack:
    """One bar of a stacked chart: a value per series, bottom first."""

    values: tuple[int, ...]
    label: str = ""
    title: str = ""  # the whole bar's tooltip


@dataclass(frozen=True)
class Point:
    value: float
    label: str = ""
    title: str = ""


def _frame(label: str, css_class: str, top_text: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    return [
        f'<svg class="{escape(css_class)}" dir="ltr" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMidYMid meet">',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<line class="grid" x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"/>',
        f'<text class="tick" x="{LEFT}" y="{TOP - 6}" text-anchor="start">'
        f'{escape(top_text)}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]


def stacked_bar_chart(stacks: Sequence[Stack], *, label: str, top_label: str | None = None,
                      css_class: str = "chart") -> Markup:
    """``stacks`` as stacked bars (series ``n`` drawn with the class ``series-n``); the
    page writes the legend beside it (:func:`legend`)."""
    top = axis_top(max((sum(stack.values) for stack in stacks), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(stacks), 1)
    gap = min(slot * 0.2, 6)
    parts = _frame(label, css_class, top_label if top_label is not None else str(top))
    for index, stack in enumerate(stacks):
        x = LEFT + index * slot + gap / 2
        base = TOP + plot_h
        parts.append(f"<g><title>{escape(stack.title)}</title>")
        for series, value in enumerate(stack.values):
            height = plot_h * value / top if top else 0
            if height <= 0:
                continue
            base -= height
            parts.append(f'<rect class="bar series-{series % SERIES}" x="{x:.1f}" '
                         f'y="{base:.1f}" width="{slot - gap:.1f}" height="{height:.1f}"/>')
        parts.append("</g>")
        if stack.label:
            parts.append(f'<text class="tick" x="{x + (slot - gap) / 2:.1f}" '
                         f'y="{HEIGHT - 8}" text-anchor="middle">{escape(stack.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escaped above


def line_chart(points: Sequence[Point], *, label: str, top: float,
               top_label: str | None = None, css_class: str = "chart") -> Markup:
    """``points`` joined by a line from 0 to ``top`` (e.g. ratings 1 to 5: ``top=5``)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    parts = _frame(label, css_class, top_label if top_label is not None else str(top))
    coords = [(LEFT + (index + .5) * slot,
               TOP + plot_h - (plot_h * point.value / top if top else 0))
              for index, point in enumerate(points)]
    if len(coords) > 1:
        parts.append('<polyline class="line" fill="none" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords) + '"/>')
    for (x, y), point in zip(coords, points, strict=True):
        parts.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="4">'
                     f'<title>{escape(point.title)}</title></circle>')
        if point.label:
            parts.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 8}" '
                         f'text-anchor="middle">{escape(point.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escaped above


def legend(names: Sequence[str]) -> Markup:
    """The series' names with their colours, in the page's direction."""
    items = "".join(f'<li><span class="swatch series-{index % SERIES}" aria-hidden="true">'
                    f"</span>{escape(name)}</li>" for index, name in enumerate(names))
    return Markup(f'<ul class="legend">{items}</ul>')  # noqa: S704 - escaped above


@dataclass(frozen=True)
class Row:
    """One bar of a horizontal chart: its name on the left, its value written after it."""

    value: float
    label: str
    value_label: str = ""
    title: str = ""


ROW_HEIGHT, LABEL_SHARE, NAME_CHARS = 30, 0.36, 18
#: The width of a character of a bar's name or value at the largest font (user units).
TICK_CHAR_WIDTH = 11


def hbar_chart(rows: Sequence[Row], *, label: str, css_class: str = "chart hbars") -> Markup:
    """``rows`` as horizontal bars scaled to the largest value, each named on its left
    and its value written after it (long names are cut with an ellipsis; the table
    beside has them whole)."""
    height = TOP // 2 + ROW_HEIGHT * max(len(rows), 1) + 4
    label_w = WIDTH * LABEL_SHARE
    # room for the longest value after its bar, at the largest font the page uses
    # (figures.css: 20 units on a phone, some 11 units a character)
    value_w = 12 + TICK_CHAR_WIDTH * max((len(row.value_label) for row in rows), default=6)
    plot_w = max(WIDTH - label_w - value_w, WIDTH * .2)
    top = max((row.value for row in rows), default=0)
    parts = [
        f'<svg class="{escape(css_class)}" dir="ltr" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMidYMid meet">',
        f'<line class="axis" x1="{label_w:.1f}" y1="{TOP // 2 - 4}" x2="{label_w:.1f}" '
        f'y2="{height - 4}"/>',
    ]
    for index, row in enumerate(rows):
        y = TOP // 2 + index * ROW_HEIGHT
        width = plot_w * row.value / top if top else 0
        name = row.label if len(row.label) <= NAME_CHARS else row.label[:NAME_CHARS - 1] + "…"
        parts.append(
            f'<g><title>{escape(row.title or row.label)}</title>'
            f'<text class="tick" x="{label_w - 6:.1f}" y="{y + ROW_HEIGHT * .62:.1f}" '
            f'text-anchor="end">{escape(name)}</text>'
            f'<rect class="bar" x="{label_w:.1f}" y="{y + 4}" width="{width:.1f}" '
            f'height="{ROW_HEIGHT - 8}"/>'
            f'<text class="tick value" x="{label_w + width + 6:.1f}" '
            f'y="{y + ROW_HEIGHT * .62:.1f}" text-anchor="start">'
            f"{escape(row.value_label)}</text></g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escaped above
