"""The benchmarks' run history and its SVG chart (bench/history.py), without a benchmark."""

import json
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from bench.history import (
    append_history,
    direction,
    history_entry,
    read_history,
    record_run,
    render_chart,
    score,
)

SVG = "{http://www.w3.org/2000/svg}"
THROUGHPUT = "search throughput >= 40% of baseline (50,000 offers)"
P99 = "search p99 < 50 ms (50,000 offers)"
SCALE = "search at 50,000 offers <= 1.5x slower than at 1,000 (throughput)"


def target(name, value, goal, passed, better=None, shown=None):
    entry = {"name": name, "value": value, "target": goal, "pass": passed, "shown": shown}
    if better:
        entry["better"] = better
    return entry


def run(day, *targets, busy=False):
    return {"benchmark": "catalogue", "at": f"2026-11-{day:02d}T10:00:00+00:00",
            "commit": "abc1234", "busy": busy, "targets": list(targets)}


def parse(svg):
    return ET.fromstring(svg)  # noqa: S314 - the SVG this test just rendered


def polylines(root):
    return root.findall(f".//{SVG}polyline")


def verdicts(root):
    return [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "verdict"]


def all_text(root):
    return " ".join(t.text or "" for t in root.iter(f"{SVG}text"))


def three_runs():
    return [
        run(20, target(THROUGHPUT, 0.31, 0.4, False, "higher"),
            target(P99, 88.0, 50.0, False, "lower"), busy=True),
        run(21, target(THROUGHPUT, 0.38, 0.4, False, "higher"),
            target(P99, 47.5, 50.0, True, "lower"), target(SCALE, 1.9, 1.5, False, "lower")),
        run(22, target(THROUGHPUT, 0.46, 0.4, True, "higher", "46%"),
            target(P99, 41.2, 50.0, True, "lower", "41.2 ms"),
            target(SCALE, 1.42, 1.5, True, "lower", "1.42x")),
    ]


def test_a_valid_svg_with_one_polyline_per_target_and_the_target_line():
    root = parse(render_chart(three_runs(), title="catalogue"))
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox").startswith("0 0 640 ")
    assert [p.get("data-target") for p in polylines(root)] == [THROUGHPUT, P99, SCALE]
    dashed = [line for line in root.iter(f"{SVG}line") if line.get("class") == "target"]
    assert len(dashed) == 1 and dashed[0].get("stroke-dasharray")
    assert "run date (UTC)" in all_text(root)
    assert "2026-11-20" in all_text(root) and "2026-11-22" in all_text(root)
    assert not root.findall(f".//{SVG}script") and "http" not in \
        "".join(root.itertext()) + "".join(e.get("href", "") for e in root.iter())


def test_the_legend_gives_the_latest_runs_verdicts():
    runs = three_runs()
    runs[-1]["targets"][1] = target(P99, 63.0, 50.0, False, "lower", "63.0 ms")
    root = parse(render_chart(runs))
    assert verdicts(root) == ["PASS", "MISS", "PASS"]
    assert "63.0 ms" in all_text(root)


def test_scores_are_comparable_whichever_way_a_target_points():
    assert score(target(THROUGHPUT, 0.6, 0.4, True, "higher")) == pytest.approx(1.5)
    assert score(target(P99, 25.0, 50.0, True, "lower")) == 2.0
    assert score(target(P99, 100.0, 50.0, False)) == 0.5  # direction from the name
    assert score(target("sold = 100", None, None, True)) is None
    assert direction({"name": SCALE}) == "lower" and direction({"name": THROUGHPUT}) == "higher"
    # a better figure draws higher: lower p99 -> smaller y coordinate
    fast, slow = (parse(render_chart([run(1, target(P99, ms, 50.0, ms < 50, "lower"))]))
                  for ms in (25.0, 100.0))
    y = [float(r.find(f".//{SVG}circle").get("cy")) for r in (fast, slow)]
    assert y[0] < y[1]


def test_a_single_run_is_drawn():
    root = parse(render_chart(three_runs()[-1:]))
    assert len(polylines(root)) == 3
    assert len(root.findall(f".//{SVG}polyline/../{SVG}circle")) >= 3
    assert verdicts(root) == ["PASS", "PASS", "PASS"]


def test_targets_missing_from_older_runs():
    root = parse(render_chart(three_runs()))
    scale = next(p for p in polylines(root) if p.get("data-target") == SCALE)
    assert len(scale.get("points").split()) == 2  # only the two runs that have it
    throughput = next(p for p in polylines(root) if p.get("data-target") == THROUGHPUT)
    assert len(throughput.get("points").split()) == 3


def test_a_target_missing_from_the_latest_run_and_checks_without_figures():
    runs = three_runs()
    runs[-1]["targets"] = runs[-1]["targets"][:2] + [
        {"name": "oversold = 0", "value": None, "target": None, "pass": False, "shown": "3"}]
    root = parse(render_chart(runs))
    assert len(polylines(root)) == 3  # the check has no line
    assert verdicts(root) == ["PASS", "PASS", "—", "MISS"]
    assert "not in the latest run" in all_text(root) and "oversold = 0: 3" in all_text(root)


def test_names_are_escaped():
    name = 'p99 <&> "quoted" ms'
    svg = render_chart([run(1, target(name, 10.0, 50.0, True, "lower", "<10 & fast>"))],
                       title="a <b> & c")
    root = parse(svg)
    assert polylines(root)[0].get("data-target") == name
    assert f"{name}: <10 & fast>" in all_text(root)
    assert "<b>" not in svg and "&lt;&amp;&gt;" in svg


def test_only_the_last_twenty_runs_are_drawn():
    runs = [run(1 + i % 28, target(THROUGHPUT, 0.3 + i / 100, 0.4, False, "higher"))
            for i in range(25)]
    root = parse(render_chart(runs))
    assert len(polylines(root)[0].get("points").split()) == 20


def test_no_runs():
    root = parse(render_chart([]))
    assert polylines(root) == [] and "no runs recorded yet" in all_text(root)


def test_history_lines_and_the_chart_beside_the_json(tmp_path):
    summary = {"targets": three_runs()[-1]["targets"], "machine_busy_warning": True}
    entry = history_entry("catalogue", summary, at="2026-11-22T10:00:00+00:00", commit="")
    assert entry["busy"] is True and entry["commit"] == ""
    assert set(entry["targets"][0]) >= {"name", "value", "target", "pass"}

    output = tmp_path / "results" / "quote.json"
    output.parent.mkdir()
    append_history(output.parent / "history.jsonl", entry)  # another benchmark's run
    (output.parent / "history.jsonl").open("a").write("not json\n")
    chart = record_run(output, summary, at="2026-11-23T10:00:00+00:00")
    assert chart == tmp_path / "results" / "quote.svg"
    lines = (output.parent / "history.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[-1])["benchmark"] == "quote"
    assert isinstance(json.loads(lines[-1])["commit"], str)
    assert [r["benchmark"] for r in read_history(output.parent / "history.jsonl")] == \
        ["catalogue", "quote"]
    assert len(polylines(parse(chart.read_text()))[0].get("points").split()) == 1


def test_write_results_keeps_history_and_chart(tmp_path):
    from bench.catalogue import write_results

    output = tmp_path / "catalogue.json"
    summary = {"targets": three_runs()[-1]["targets"]}
    args = SimpleNamespace(output=output, strict=True)
    assert write_results(args, {"at": "2026-11-22T10:00:00+00:00", **summary}, summary) == 0
    assert json.loads(output.read_text())["targets"][0]["name"] == THROUGHPUT
    assert (tmp_path / "catalogue.svg").exists()
    assert len((tmp_path / "history.jsonl").read_text().splitlines()) == 1
