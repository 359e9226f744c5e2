"""Where does one catalogue search spend its time? ``python -m bench.explain [PATH ...]``

Runs search requests in-process against the benchmark database (``BENCH_DATABASE_URL``,
default ``onewindow_bench``, as left by ``python -m bench.catalogue``), records every SQL
statement they issue with its time, and prints ``EXPLAIN (ANALYZE, BUFFERS)`` for the
slowest distinct statements. Without PATH it takes the first lines of
``bench/results/search-paths.txt``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict

from sqlalchemy import event

from bench.catalogue import DEFAULT_DATABASE_URL, RESULTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--requests", type=int, default=20,
                        help="search paths to time when none are given")
    parser.add_argument("--plans", type=int, default=3, help="EXPLAIN the N slowest statements")
    args = parser.parse_args(argv)

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    paths = args.paths or (RESULTS / "search-paths.txt").read_text().split()[:args.requests]

    from journey.app import create_app
    from journey.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    for path in paths[:3]:  # warm caches and the connection pool
        client.get(path)

    calls: list[tuple[str, object, float]] = []
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["bench_started"].pop()
        calls.append((statement, parameters, time.perf_counter() - started))

    request_ms = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        request_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            print(f"GET {path}: {response.status_code} {response.get_data(as_text=True)[:300]}")
            return 1
    event.remove(engine, "before_cursor_execute", _before)
    event.remove(engine, "after_cursor_execute", _after)

    per_statement: dict[str, list[float]] = defaultdict(list)
    example: dict[str, tuple[float, object]] = {}  # the slowest call's parameters
    for statement, parameters, seconds in calls:
        per_statement[statement].append(seconds)
        if seconds > example.get(statement, (-1.0, None))[0]:
            example[statement] = (seconds, parameters)
    sql_ms = sum(s for _, _, s in calls) * 1000
    print(f"{len(paths)} requests: {sum(request_ms) / len(paths):.1f} ms each on average, "
          f"{len(calls) / len(paths):.1f} SQL statements each, "
          f"{sql_ms / len(paths):.1f} ms of them in SQL (driver round trips included)\n")
    ranked = sorted(per_statement.items(), key=lambda kv: -sum(kv[1]))
    print("statements by total time (ms total / calls / ms per call):")
    for statement, times in ranked[:12]:
        first_line = " ".join(statement.split())[:110]
        print(f"  {sum(times) * 1000:8.1f} {len(times):5d} {sum(times) / len(times) * 1000:7.2f}"
              f"  {first_line}")

    with app.app_context():
        connection = db.session.connection()
        for statement, _times in ranked[:args.plans]:
            print("\n" + "=" * 100)
            print(statement)
            seconds, parameters = example[statement]
            print(f"-- slowest call {seconds * 1000:.1f} ms, parameters: {parameters}")
            plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement,
                                              parameters).all()
            print("\n".join(row[0] for row in plan))
        db.session.rollback()
    return 0


if __name__ == "__main__":
    sys.exit(main())
