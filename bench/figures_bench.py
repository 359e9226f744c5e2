"""The figures dashboard benchmark: ``python -m bench.figures_bench`` from the repository
root (``make bench-figures``).

1. (Re)creates the PostgreSQL database ``onewindow_figures_bench`` (or the one named by
   ``FIGURES_BENCH_DATABASE_URL``; its name must contain ``bench``), applies the real
   migrations and the catalogue generator of :mod:`bench.catalogue` (200 members, 1,000
   offers, exchange rates), then fills a year of business with set-based SQL: 5,000
   patients, 25,000 journeys (residence and nationality from 15 countries, a third
   opened by a member), their transitions and quotes, 20,000 bookings of 5 lines each
   (100,000 lines: most confirmed, some cancelled with a fee kept, some declined by
   the member), the settlement ledger those lines post, payments and refunds, and
   10,000 reviews. Then ``VACUUM (ANALYZE)``.
2. Checks that the dashboard's money agrees with the ledger to the minor unit (the
   ledger's sums converted at the same stored rates, computed here in one plain query).
3. Measures, in one process through the real Flask app (request edge, session, Jinja,
   SQLAlchemy, psycopg, PostgreSQL), ``GET /figures`` for the whole year and with
   filters, and a one-query baseline route (one primary-key ``SELECT`` through the
   same stack): warm-up, then ``--runs`` sequential requests each; prints p50/p95/max
   and PASS/MISS against the target (p95 under 300 ms).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from datetime import date

import psycopg

from bench.catalogue import ROOT, Timer, build_catalogue, libpq_url

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/onewindow_figures_bench"
TARGET_P95_MS = 300.0
JOURNEYS, PATIENTS, LINES_PER_BOOKING = 25_000, 5_000, 5
MEMBERS, OFFERS = 200, 1_000
COUNTRIES = ["DE", "NO", "SE", "FI", "GB", "IE", "US", "IL", "AE", "UA", "PL", "LV", "EE",
             "DK", "NL"]

# Journeys: j % 10 == 0 a draft, j % 10 == 5 quoted and left to expire, else booked;
# of the booked, j % 4 in (0, 1) completed, 2 confirmed, 3 cancelled.
FILL = """
INSERT INTO user_account (id, email, password_hash, full_name, role, active, created_at)
SELECT g, 'patient' || g || '@bench.test', 'x', 'Patient ' || g, 'patient', true,
       now() - interval '400 days'
FROM generate_series(1, %(patients)s) g;
INSERT INTO user_account (id, email, password_hash, full_name, role, active, created_at)
VALUES (%(patients)s + 1, 'admin@bench.test', 'x', 'Bench Admin', 'admin', true, now());
SELECT setval(pg_get_serial_sequence('user_account', 'id'), %(patients)s + 1);

CREATE TEMP TABLE bench_j AS
SELECT j,
       now() - (j %% 365) * interval '1 day' - (j %% 997) * interval '1 minute' AS at,
       CASE WHEN j %% 10 = 0 THEN 'draft' WHEN j %% 10 = 5 THEN 'quoted'
            WHEN j %% 4 IN (0, 1) THEN 'completed' WHEN j %% 4 = 2 THEN 'confirmed'
            ELSE 'cancelled' END AS status,
       j %% 10 NOT IN (0, 5) AS booked
FROM generate_series(1, %(journeys)s) j;

INSERT INTO journey (id, patient_id, opened_by_id, entry_provider_id, adults, children,
                     nationality, residence, language, currency, status, reached,
                     created_at, updated_at)
SELECT j, 1 + j %% %(patients)s, 1 + j %% %(patients)s,
       CASE WHEN j %% 3 = 0 THEN 1 + j %% %(members)s END, 1, 0,
       (%(countries)s::text[])[1 + (j / 7) %% 15], (%(countries)s::text[])[1 + j %% 15],
       'en', 'EUR', status, CASE WHEN status = 'cancelled' THEN 'confirmed' ELSE status END,
       at, at
FROM bench_j;
SELECT setval(pg_get_serial_sequence('journey', 'id'), %(journeys)s);

INSERT INTO journey_transition (journey_id, from_status, to_status, at, reason)
SELECT j, NULL, s.state, at + s.n * interval '1 hour', ''
FROM bench_j CROSS JOIN LATERAL (VALUES (1, 'quoted'), (2, 'accepted'), (3, 'booked'),
     (4, 'confirmed'), (5, 'completed'), (6, 'cancelled')) AS s(n, state)
WHERE (status <> 'draft' AND s.n = 1)
   OR (booked AND s.n IN (2, 3, 4))
   OR (status = 'completed' AND s.n = 5) OR (status = 'cancelled' AND s.n = 6);

INSERT INTO quote (id, journey_id, version, currency, language, subtotal_minor, discount_minor,
                   total_minor, deposit_percent, deposit_minor, balance_minor, created_at,
                   expires_at, accepted_at)
SELECT j, j, 1, 'EUR', 'en', 0, 0, 0, 30, 0, 0, at, at + interval '3 days',
       CASE WHEN booked THEN at + interval '2 hours' END
FROM bench_j WHERE status <> 'draft';
SELECT setval(pg_get_serial_sequence('quote', 'id'), %(journeys)s);

INSERT INTO booking (id, reference, customer_ref, currency, total_minor, due_now_minor, status,
                     hold_group, expires_at, start_on, created_at)
SELECT j, 'quote:' || j, 'user:' || (1 + j %% %(patients)s),
       CASE WHEN j %% 10 = 3 THEN 'USD' ELSE 'EUR' END, 0, 0,
       CASE WHEN status = 'cancelled' THEN 'cancelled' ELSE 'confirmed' END,
       'bench-' || j, at + interval '3 hours', (at + interval '20 days')::date,
       at + interval '3 hours'
FROM bench_j WHERE booked;
SELECT setval(pg_get_serial_sequence('booking', 'id'), %(journeys)s);

INSERT INTO booking_line (id, booking_id, offer_id, provider_id, start_on, end_on, days,
                          quantity, amount_minor, value_minor, instant, status, chain_link,
                          respond_by, decided_at, ended_by, kept_minor)
SELECT (b.id - 1) * %(lines)s + k, b.id, o.id, o.provider_id, b.start_on, b.start_on + 1, 1,
       1, o.base_price_minor, o.base_price_minor, false,
       CASE WHEN b.status = 'cancelled' OR (b.id + k) %% 23 = 0 THEN 'cancelled'
            WHEN (b.id + k) %% 37 = 0 THEN 'declined' ELSE 'confirmed' END,
       o.chain_link, b.created_at + interval '48 hours',
       b.created_at + ((b.id * 7 + k * 13) %% 60) * interval '1 hour'
                    + ((b.id + k) %% 59) * interval '1 minute',
       CASE WHEN (b.id + k) %% 37 = 0 AND NOT (b.status = 'cancelled' OR (b.id + k) %% 23 = 0)
            THEN 'member' WHEN b.status = 'cancelled' OR (b.id + k) %% 23 = 0 THEN 'patient'
       END,
       CASE WHEN b.status = 'cancelled' OR (b.id + k) %% 23 = 0 THEN o.base_price_minor / 5
            ELSE 0 END
FROM booking b CROSS JOIN generate_series(1, %(lines)s) k
JOIN offer o ON o.id = 1 + (b.id * %(lines)s + k * 7) %% %(offers)s;
SELECT setval(pg_get_serial_sequence('booking_line', 'id'),
              (SELECT max(id) FROM booking_line));

-- The ledger those lines post: gross and 10 %% commission when confirmed; for a
-- cancelled line the reversal and the fee kept (with its commission).
INSERT INTO ledger_entry (posting, booking_id, line_id, provider_id, kind, amount_minor,
                          currency, at)
SELECT 'line:' || l.id || p.suffix, l.booking_id, l.id, l.provider_id, p.kind,
       CASE p.suffix
         WHEN ':gross' THEN l.value_minor
         WHEN ':commission' THEN -(l.value_minor / 10)
         WHEN ':gross:reversal' THEN -l.value_minor
         WHEN ':commission:reversal' THEN l.value_minor / 10
         WHEN ':fee' THEN l.kept_minor
         WHEN ':fee:commission' THEN -(l.kept_minor / 10) END,
       b.currency, b.created_at + interval '1 day' + p.n * interval '1 day'
FROM booking_line l JOIN booking b ON b.id = l.booking_id
CROSS JOIN (VALUES (0, ':gross', 'gross'), (0, ':commission', 'commission'),
                   (1, ':gross:reversal', 'gross'), (1, ':commission:reversal', 'commission'),
                   (1, ':fee', 'fee'), (1, ':fee:commission', 'commission')) AS p(n, suffix, kind)
WHERE l.status IN ('confirmed', 'cancelled')
  AND (p.n = 0 OR l.status = 'cancelled');

INSERT INTO payment (id, booking_id, kind, amount_minor, currency, status, captured_minor,
                     refunded_minor, created_at, updated_at)
SELECT b.id, b.id, 'deposit', t.total, b.currency, 'captured', t.total,
       CASE WHEN b.status = 'cancelled' THEN t.total - t.kept ELSE 0 END,
       b.created_at, b.created_at
FROM booking b JOIN (SELECT booking_id, sum(value_minor) AS total, sum(kept_minor) AS kept
                     FROM booking_line GROUP BY booking_id) t ON t.booking_id = b.id;
SELECT setval(pg_get_serial_sequence('payment', 'id'), %(journeys)s);

INSERT INTO refund (booking_id, payment_id, amount_minor, currency, status, reason, created_at)
SELECT p.booking_id, p.id, p.refunded_minor, p.currency, 'succeeded', '',
       p.created_at + interval '5 days'
FROM payment p WHERE p.refunded_minor > 0;

INSERT INTO review (journey_id, provider_id, author_id, overall, ratings, text, language,
                    anonymous, chain_link, chain_links, created_at, state, hidden_note)
SELECT j.j, l.provider_id, 1 + j.j %% %(patients)s, 1 + (j.j * 3 + l.id) %% 5,
       '{}', 'Bench review', 'en', false, l.chain_link, '[]',
       j.at + interval '25 days', 'published', ''
FROM bench_j j JOIN booking_line l ON l.id = (j.j - 1) * %(lines)s + 1
WHERE j.status = 'completed';
"""


def fill(url: str) -> dict[str, float]:
    timings: dict[str, float] = {}
    params = {"patients": PATIENTS, "journeys": JOURNEYS, "members": MEMBERS,
              "offers": OFFERS, "lines": LINES_PER_BOOKING, "countries": COUNTRIES}
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        with Timer(timings, "a year of journeys, bookings, ledger, reviews"), \
                conn.transaction():
            for statement in _statements(FILL):
                conn.execute(statement, params)
            # the lines were written by SQL, not the booking engine: count their units
            # in the calendar as the migration that introduced the count does
            conn.execute(_usage_backfill())
        with Timer(timings, "vacuum analyze"):
            conn.execute("VACUUM (ANALYZE)")
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                  for table in ("journey", "booking", "booking_line", "ledger_entry",
                                "review")}
    print("  rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()), flush=True)
    return timings


def _usage_backfill() -> str:
    """The UPDATE that sets ``capacity_day.used`` from the holds and booked lines, from
    the migration that introduced the column."""
    path = ROOT / "migrations" / "versions" / "c2a1e0000014_capacity_day_used.py"
    spec = importlib.util.spec_from_file_location("capacity_day_used", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.backfill("postgresql")


def _statements(script: str) -> list[str]:
    """The script's statements (split at ``;`` ending a line; comments dropped)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";\n") if s.strip().strip(";")]


def _app(url: str):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("RUN_SCHEDULER", "0")
    from flask import jsonify

    from journey.app import create_app, freeze_start_up
    from journey.builder.models import Journey
    from journey.core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RUN_SCHEDULER": False})

    freeze_start_up()  # as wsgi.py does

    @app.get("/bench/figures-baseline/<int:journey_id>")
    def figures_baseline(journey_id: int):  # one primary-key SELECT through the same stack
        journey = db.session.get(Journey, journey_id)
        return jsonify(id=journey.id, status=journey.status.value)

    return app


def _rebuild_sums(app) -> None:
    """The figures' monthly sums of the ledger the fill wrote with SQL (what the
    postings and the scheduled compaction keep in a running cluster)."""
    from sqlalchemy import text

    from journey.core.extensions import db
    from journey.figures import rollup

    timings: dict[str, float] = {}
    with app.app_context(), Timer(timings, "rebuild"):
        sales, window = rollup.rebuild()
        db.session.commit()
        db.session.execute(text("ANALYZE sales_month, window_month"))
        db.session.commit()
    print(f"  monthly sums rebuilt from the ledger: {sales:,} sales rows, {window:,} "
          f"one-window rows in {timings['rebuild']:.2f} s", flush=True)


def _check_ledger(app) -> bool:
    """The dashboard's sales and commission against the ledger's, to the minor unit."""
    from sqlalchemy import text

    from journey.core.accounts.models import User
    from journey.core.extensions import db
    from journey.core.money import convert_minor
    from journey.core.types import utcnow
    from journey.figures import dashboard as board
    from journey.figures.services import Period
    from providers.services.rates import rates_in_force, require_rate

    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.email == "admin@bench.test"))
        period = Period.last_days(365, today=utcnow().date())
        money = board.member_money(admin, board.Filters(period), currency="EUR")
        first, after = period.bounds()
        table = rates_in_force(period.end)
        sales = commission = 0
        for kind, currency, amount in db.session.execute(text(
                "SELECT kind, currency, sum(amount_minor) FROM ledger_entry WHERE at >= :a "
                "AND at < :b AND kind IN ('gross', 'discount', 'fee', 'commission') "
                "GROUP BY kind, currency"), {"a": first, "b": after}):
            value = int(amount) if currency == "EUR" else convert_minor(
                int(amount), currency, "EUR", require_rate(table, currency, "EUR").rate)
            if kind == "commission":
                commission -= value
            else:
                sales += value
        agree = (money.sales_minor, money.commission_minor) == (sales, commission)
        print(f"  ledger: sales {sales} commission {commission} (minor units, EUR); "
              f"dashboard: {money.sales_minor} {money.commission_minor} -> "
              f"{'AGREE' if agree else 'DISAGREE'}", flush=True)
        return agree


def _measure(client, path: str, runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        assert client.get(path).status_code == 200, path
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18]


def measure(app, runs: int) -> bool:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(PATIENTS + 1)
        session["_fresh"] = True
    start = date.fromordinal(date.today().toordinal() - 180).isoformat()
    scenarios = [
        ("baseline (one SELECT)", "/bench/figures-baseline/12345", None),
        ("dashboard, whole year", "/figures", TARGET_P95_MS),
        ("dashboard, one member", "/figures?member=7", TARGET_P95_MS),
        ("dashboard, link + country, 6 months",
         f"/figures?link=treatment&country=DE&start={start}", TARGET_P95_MS),
        ("CSV of the members table", "/figures?format=csv&table=members", TARGET_P95_MS),
    ]
    ok = True
    print(f"\n  {'scenario':<40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target")
    for name, path, target in scenarios:
        times = _measure(client, path, runs)
        p95 = _p95(times)
        verdict = "" if target is None else ("PASS" if p95 < target else "MISS")
        ok = ok and verdict != "MISS"
        print(f"  {name:<40} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f}  "
              f"{'' if target is None else f'p95 < {target:.0f} ms '}{verdict}", flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="measured requests per scenario")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database a previous run left (no rebuild)")
    args = parser.parse_args(argv)
    url = os.environ.get("FIGURES_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    if not args.reuse:
        print("Building a year of the cluster's business ...", flush=True)
        build_catalogue(url, MEMBERS, OFFERS)
        for step, seconds in fill(url).items():
            print(f"  build {step:<45} {seconds:8.2f} s", flush=True)
    app = _app(url)
    _rebuild_sums(app)
    agree = _check_ledger(app)
    fast = measure(app, args.runs)
    print("\nfigures agree with the ledger: " + ("PASS" if agree else "MISS"))
    return 0 if agree and fast else 1


if __name__ == "__main__":
    sys.exit(main())
