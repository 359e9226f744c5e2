"""Where does one catalogue search spend its time? ``python -m bench.explain [PATH ...]``

Runs search requests in-process against the benchmark database (``BENCH_DATABASE_URL``,
default ``onewindow_bench``, as left by ``python -m bench.catalogue``), records every SQL
statement they issue with its time, and prints ``EXPLAIN (ANALYZE, BUFFERS)`` for the
slowest distinct statements. Without PATH it takes the first lines of
``bench/results/search-paths.txt``.

``python -m bench.quote --profile`` does the same for quotes (with ``cProfile``), using
:func:`recorded_statements`, :func:`print_statements` and :func:`print_plans`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

from bench.catalogue import DEFAULT_DATABASE_URL, RESULTS

Call = tuple[str, object, float]  # statement, parameters, seconds


@contextmanager
def recorded_statements(engine) -> Iterator[list[Call]]:
    """Every statement ``engine`` runs inside the block, with its parameters and time
    (driver round trip included)."""
    calls: list[Call] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["bench_started"].pop()
        calls.append((statement, parameters, time.perf_counter() - started))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield calls
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def print_statements(calls: list[Call], request_ms: list[float], top: int = 12
                     ) -> list[tuple[str, list[float], object]]:
    """Per request: time, statements, SQL time; then the statements by total time.
    Returns them ranked as ``(statement, times, parameters of the slowest call)``."""
    requests = len(request_ms)
    per_statement: dict[str, list[float]] = defaultdict(list)
    example: dict[str, tuple[float, object]] = {}  # the slowest call's parameters
    for statement, parameters, seconds in calls:
        per_statement[statement].append(seconds)
        if seconds > example.get(statement, (-1.0, None))[0]:
            example[statement] = (seconds, parameters)
    sql_ms = sum(s for _, _, s in calls) * 1000
    print(f"{requests} requests: {sum(request_ms) / requests:.1f} ms each on average, "
          f"{len(calls) / requests:.1f} SQL statements each, "
          f"{sql_ms / requests:.1f} ms of them in SQL (driver round trips included)\n")
    ranked = sorted(per_statement.items(), key=lambda kv: -sum(kv[1]))
    print("statements by total time (ms per request / calls per request / ms per call):")
    for statement, times in ranked[:top]:
        first_line = " ".join(statement.split())[:110]
        print(f"  {sum(times) * 1000 / requests:8.2f} {len(times) / requests:5.1f} "
              f"{sum(times) / len(times) * 1000:7.2f}  {first_line}")
    return [(statement, times, example[statement][1]) for statement, times in ranked]


def print_plans(app, ranked: list[tuple[str, list[float], object]], plans: int) -> None:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the first ``plans`` statements (rolled back)."""
    from journey.core.extensions import db

    with app.app_context():
        connection = db.session.connection()
        for statement, times, parameters in ranked[:plans]:
            print("\n" + "=" * 100)
            print(statement)
            print(f"-- slowest call {max(times) * 1000:.1f} ms, parameters: {parameters}")
            try:
                with connection.begin_nested():
                    plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement,
                                                      parameters).all()
            except DBAPIError as refused:
                # a write run again with its recorded parameters (a quote's version the
                # recorded call took): the plan without running it
                print(f"-- not run again ({type(refused.orig).__name__}): the plan only")
                plan = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
            print("\n".join(row[0] for row in plan))
        db.session.rollback()


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
    from journey.core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    for path in paths[:3]:  # warm caches and the connection pool
        client.get(path)

    with app.app_context():
        engine = db.engine
    request_ms = []
    with recorded_statements(engine) as calls:
        for path in paths:
            started = time.perf_counter()
            response = client.get(path)
            request_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                print(f"GET {path}: {response.status_code} "
                      f"{response.get_data(as_text=True)[:300]}")
                return 1
    print_plans(app, print_statements(calls, request_ms), args.plans)
    return 0


if __name__ == "__main__":
    sys.exit(main())
