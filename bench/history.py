"""Run history of the benchmarks and a small SVG chart of it.

Every run of ``bench.catalogue``, ``bench.quote`` and ``bench.contention`` appends one
line to ``bench/results/history.jsonl`` (through ``bench.catalogue.write_results``)::

    {"benchmark": "catalogue", "at": "2026-11-22T10:04:51+00:00", "commit": "a362848",
     "busy": false, "targets": [{"name": "...", "value": 0.42, "target": 0.4,
                                 "pass": true, "better": "higher", "shown": "42%"}, ...]}

and redraws ``bench/results/<benchmark>.svg`` from that benchmark's last 20 runs.

The chart plots, for each target with a figure, its **score**: measured ÷ target when
higher is better (a throughput ratio), target ÷ measured when lower is better (p99
latency, a slow-down factor). So every line reads the same way: 1 is the target (the
dashed line), above it PASS, below it MISS, and 2 means twice as good as needed. The
y axis is logarithmic (so 0.5 and 2 are as far from the target). Pass/fail checks
without a figure (contention's sold/oversold/errors) are listed in the legend only.

``render_chart`` is a pure function (runs in, SVG text out) and uses only the standard
library: no fonts, scripts or styles from outside the file.
"""

from __future__ import annotations

import json
import math
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parent.parent
HISTORY_NAME = "history.jsonl"
CHART_RUNS = 20

# Okabe–Ito colours (distinguishable with the common colour-vision deficiencies).
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
PASS_COLOUR, MISS_COLOUR, MUTED = "#1a7f37", "#cf222e", "#6e7781"
SCORE_LIMITS = (2.0 ** -10, 2.0 ** 10)  # a p99 of 0 ms would otherwise score infinity

# Layout, in viewBox units (the chart is 640 wide; its height grows with the legend).
WIDTH = 640
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 58, WIDTH - 46, 48, 210
LEGEND_TOP, LEGEND_ROW = PLOT_BOTTOM + 58, 17
NAME_CHARS = 78  # legend text beyond this is cut (the whole of it is in a tooltip)


# --- history ---------------------------------------------------------------------------

def git_commit(cwd: Path = ROOT) -> str:
    """The checkout's short commit hash, or "" when git cannot tell."""
    try:
        result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cwd,
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def history_entry(benchmark: str, summary: dict, *, at: str | None = None,
                  commit: str | None = None) -> dict:
    """One history line for a run whose summary has ``targets`` (see the module doc)."""
    return {
        "benchmark": benchmark,
        "at": at or datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit() if commit is None else commit,
        "busy": bool(summary.get("machine_busy_warning")),
        "targets": [{"name": t["name"], "value": t.get("value"), "target": t.get("target"),
                     "pass": bool(t["pass"]),
                     "better": direction(t) if score(t) is not None else None,
                     "shown": t.get("shown")}
                    for t in summary["targets"]],
    }


def append_history(path: Path, entry: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as history:
        history.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")


def read_history(path: Path, benchmark: str | None = None) -> list[dict]:
    """The runs in ``path``, oldest first, optionally of one benchmark; lines that are not
    a JSON object with targets (a hand edit, a torn write) are skipped."""
    if not path.exists():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            run = json.loads(line)
        except ValueError:
            continue
        if not isinstance(run, dict) or not isinstance(run.get("targets"), list):
            continue
        if benchmark is None or run.get("benchmark") == benchmark:
            runs.append(run)
    return runs


def record_run(output: Path, summary: dict, *, at: str | None = None) -> Path:
    """Append the run to the history next to ``output`` (the run's JSON file) and redraw
    the benchmark's chart beside it; the benchmark is named after the JSON file."""
    benchmark = output.stem
    history = output.parent / HISTORY_NAME
    append_history(history, history_entry(benchmark, summary, at=at))
    chart = output.with_suffix(".svg")
    chart.write_text(render_chart(read_history(history, benchmark), title=benchmark),
                     encoding="utf-8")
    return chart


# --- scores ----------------------------------------------------------------------------

def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def direction(target: dict) -> str:
    """"higher" or "lower" (is better): the target's own word, else the comparison in
    its name ("p99 < 50 ms", ">= 40 % of baseline"), else higher."""
    if target.get("better") in ("higher", "lower"):
        return target["better"]
    name = str(target.get("name", ""))
    if any(op in name for op in (">=", "≥", ">")):
        return "higher"
    if any(op in name for op in ("<=", "≤", "<")):
        return "lower"
    return "higher"


def score(target: dict) -> float | None:
    """Measured ÷ target (inverted when lower is better): >= 1 meets the target. None for
    a check without a figure."""
    value, goal = _number(target.get("value")), _number(target.get("target"))
    if value is None or goal is None or goal <= 0 or value < 0:
        return None
    if direction(target) == "higher":
        ratio = value / goal
    else:
        ratio = goal / value if value > 0 else math.inf
    return min(max(ratio, SCORE_LIMITS[0]), SCORE_LIMITS[1])


# --- chart -----------------------------------------------------------------------------

def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, content: str, **attrs) -> str:
    extra = "".join(f" {k.rstrip('_').replace('_', '-')}={quoteattr(str(v))}"
                    for k, v in attrs.items())
    return f'<text x="{_fmt(x)}" y="{_fmt(y)}"{extra}>{escape(content)}</text>'


def _tick_label(exponent: int) -> str:
    return f"{2.0 ** exponent:.3g}"


def _run_time(run: dict) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(run.get("at", "")))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment


def _date_labels(runs: list[dict]) -> list[str]:
    times = [_run_time(r) for r in runs]
    days = [t.strftime("%Y-%m-%d") if t else "?" for t in times]
    if len(set(days)) == len(days):
        return days
    return [t.strftime("%m-%d %H:%M") if t else "?" for t in times]  # several a day


def _shorten(text: str, limit: int = NAME_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def render_chart(runs: list[dict], *, title: str = "benchmark", limit: int = CHART_RUNS) -> str:
    """An SVG line chart of the targets' scores over the last ``limit`` runs (oldest
    first in ``runs``): one polyline per target with a figure, the dashed target line at
    1, dates under the x axis, and a legend with each target's PASS/MISS in the latest
    run. Targets missing from some runs are drawn through the runs that have them."""
    runs = list(runs)[-limit:]
    names: list[str] = []  # every target of the shown runs, in order of first appearance
    for run in runs:
        for target in run.get("targets", []):
            if target.get("name") not in names:
                names.append(str(target.get("name")))
    by_name = [{str(t.get("name")): t for t in run.get("targets", [])} for run in runs]
    charted = [n for n in names if any(score(r[n]) is not None for r in by_name if n in r)]
    checks = [n for n in names if n not in charted]
    latest = by_name[-1] if by_name else {}

    scores = [s for r in by_name for t in r.values() if (s := score(t)) is not None]
    low = min(min(scores, default=1.0), 1.0)
    high = max(max(scores, default=1.0), 1.0)
    bottom_exp = min(math.floor(math.log2(low) + 1e-9), -1)
    top_exp = max(math.ceil(math.log2(high) - 1e-9), 1)

    def y_of(value: float) -> float:
        share = (math.log2(value) - bottom_exp) / (top_exp - bottom_exp)
        return PLOT_BOTTOM - share * (PLOT_BOTTOM - PLOT_TOP)

    inner = 14  # keep the first and last points off the axes

    def x_of(index: int) -> float:
        if len(runs) <= 1:
            return (PLOT_LEFT + PLOT_RIGHT) / 2
        span = PLOT_RIGHT - PLOT_LEFT - 2 * inner
        return PLOT_LEFT + inner + index * span / (len(runs) - 1)

    busy_shown = any(run.get("busy") for run in runs)
    legend_rows = len(charted) + len(checks) + (1 if busy_shown else 0) or 1
    height = LEGEND_TOP + legend_rows * LEGEND_ROW + 6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="11" '
        f'role="img" aria-labelledby="chart-title">',
        f'<title id="chart-title">{escape(f"{title}: measured vs target, last {len(runs)} runs")}'
        "</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        _text(PLOT_LEFT, 18, f"{title} — measured vs target, last {len(runs)} "
              f"run{'s' if len(runs) != 1 else ''}", font_size=14, font_weight="bold",
              fill="#1f2328"),
        _text(PLOT_LEFT, 34, "Each line: measured ÷ target (target ÷ measured where lower is "
              "better). On or above the dashed line = PASS.", font_size=10.5, fill=MUTED),
    ]

    # y axis: log scale, a grid line and label per power of two (fewer when the range is wide)
    step = max(1, math.ceil((top_exp - bottom_exp) / 6))
    for exponent in range(bottom_exp, top_exp + 1):
        if exponent % step:
            continue
        y = y_of(2.0 ** exponent)
        if exponent != 0:
            out.append(f'<line x1="{PLOT_LEFT}" y1="{_fmt(y)}" x2="{PLOT_RIGHT}" y2="{_fmt(y)}" '
                       'stroke="#d8dee4" stroke-width="1"/>')
        out.append(_text(PLOT_LEFT - 6, y + 4, _tick_label(exponent), text_anchor="end",
                         fill="#1f2328" if exponent == 0 else MUTED))
    middle = (PLOT_TOP + PLOT_BOTTOM) / 2
    out.append(_text(14, middle, "measured ÷ target (log)", text_anchor="middle",
                     transform=f"rotate(-90 14 {_fmt(middle)})", fill="#1f2328"))
    out.append(f'<line x1="{PLOT_LEFT}" y1="{PLOT_TOP}" x2="{PLOT_LEFT}" y2="{PLOT_BOTTOM}" '
               'stroke="#57606a" stroke-width="1"/>')
    out.append(f'<line x1="{PLOT_LEFT}" y1="{PLOT_BOTTOM}" x2="{PLOT_RIGHT}" '
               f'y2="{PLOT_BOTTOM}" stroke="#57606a" stroke-width="1"/>')

    # x axis: run dates, at most seven labels, always the first and the latest run
    labels = _date_labels(runs)
    every = max(1, math.ceil(len(runs) / 7))
    for index, label in enumerate(labels):
        if index % every and index != len(runs) - 1:
            continue
        if index != len(runs) - 1 and len(runs) - 1 - index < every:
            continue  # would overlap the latest run's label
        x = x_of(index)
        out.append(f'<line x1="{_fmt(x)}" y1="{PLOT_BOTTOM}" x2="{_fmt(x)}" '
                   f'y2="{PLOT_BOTTOM + 4}" stroke="#57606a"/>')
        out.append(_text(x, PLOT_BOTTOM + 16, label, text_anchor="middle", fill=MUTED,
                         font_size=10))
    out.append(_text((PLOT_LEFT + PLOT_RIGHT) / 2, PLOT_BOTTOM + 33,
                     "run date (UTC), oldest to latest", text_anchor="middle",
                     fill="#1f2328"))

    # the target
    target_y = _fmt(y_of(1.0))
    out.append(f'<line class="target" x1="{PLOT_LEFT}" y1="{target_y}" x2="{PLOT_RIGHT}" '
               f'y2="{target_y}" stroke="#1f2328" stroke-width="1.2" stroke-dasharray="6 4"/>')
    out.append(_text(PLOT_RIGHT + 4, float(target_y) + 4, "target", fill="#1f2328",
                     font_size=10))

    # one polyline per charted target, a marker per run (hollow when the machine was busy)
    for number, name in enumerate(charted):
        colour = COLOURS[number % len(COLOURS)]
        points = []
        for index, run in enumerate(by_name):
            if name in run and (value := score(run[name])) is not None:
                points.append((index, x_of(index), y_of(value), run[name]))
        out.append(f'<polyline data-target={quoteattr(name)} fill="none" stroke="{colour}" '
                   'stroke-width="2" stroke-linejoin="round" points="'
                   + " ".join(f"{_fmt(x)},{_fmt(y)}" for _, x, y, _ in points) + '"/>')
        for index, x, y, target in points:
            busy = runs[index].get("busy")
            tip = (f"{labels[index]} {runs[index].get('commit') or ''}: {name}: "
                   f"{target.get('shown') or target.get('value')} "
                   f"({'PASS' if target.get('pass') else 'MISS'}"
                   f"{', machine busy' if busy else ''})")
            out.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="3.5" stroke="{colour}" '
                       f'stroke-width="1.5" fill="{"#ffffff" if busy else colour}">'
                       f"<title>{escape(tip)}</title></circle>")

    # legend: the latest run's verdict per target
    row_y = LEGEND_TOP
    out.append(_text(PLOT_LEFT - 40, row_y - 16, "latest run:", fill="#1f2328",
                     font_weight="bold"))
    for number, name in enumerate(charted + checks):
        target = latest.get(name)
        if target is None:
            verdict, verdict_colour = "—", MUTED
        else:
            verdict = "PASS" if target.get("pass") else "MISS"
            verdict_colour = PASS_COLOUR if target.get("pass") else MISS_COLOUR
        swatch_x = PLOT_LEFT - 40
        if name in charted:
            colour = COLOURS[number % len(COLOURS)]
            out.append(f'<line x1="{swatch_x}" y1="{row_y - 4}" x2="{swatch_x + 24}" '
                       f'y2="{row_y - 4}" stroke="{colour}" stroke-width="2"/>')
            out.append(f'<circle cx="{swatch_x + 12}" cy="{row_y - 4}" r="3" fill="{colour}"/>')
        else:
            out.append(_text(swatch_x + 12, row_y, "check", text_anchor="middle", fill=MUTED,
                             font_size=9))
        out.append(_text(swatch_x + 32, row_y, verdict, fill=verdict_colour,
                         font_weight="bold", class_="verdict"))
        shown = ""
        if target is not None and target.get("shown") is not None:
            shown = f": {target['shown']}"
        elif target is None:
            shown = " (not in the latest run)"
        label = _shorten(name, max(NAME_CHARS - len(shown), 24)) + shown
        out.append(f"<g><title>{escape(name + shown)}</title>"
                   + _text(swatch_x + 70, row_y, label, fill="#1f2328") + "</g>")
        row_y += LEGEND_ROW
    if busy_shown:
        out.append(f'<circle cx="{PLOT_LEFT - 28}" cy="{row_y - 4}" r="3.5" fill="#ffffff" '
                   f'stroke="{MUTED}" stroke-width="1.5"/>')
        out.append(_text(PLOT_LEFT + 30, row_y, "hollow marker: other processes kept the "
                         "machine busy during that run (figures unreliable)", fill=MUTED))
    if not runs:
        out.append(_text((PLOT_LEFT + PLOT_RIGHT) / 2, middle, "no runs recorded yet",
                         text_anchor="middle", fill=MUTED))
    out.append("</svg>")
    return "\n".join(out) + "\n"
