"""Quote benchmark: ``python -m bench.quote`` from the repository root.

1. Reuses the large catalogue that ``python -m bench.catalogue`` leaves in
   ``onewindow_bench`` (or ``BENCH_DATABASE_URL``) when it has the expected size and its
   capacity calendar reaches far enough, else builds it with the same loader; then
   applies the migrations (a no-op at head).
2. Clears what an earlier run left (accounts, settings, journeys, quotes) and sets up
   through the application's own services: an admin (who sets the cluster settings), a
   patient with a bearer token, and 200 journeys of a seven-link package each — visa
   support, arrival transfer, 12 nights, consultation, surgery, 10 days of
   rehabilitation, an excursion — with offers of one city per journey (the 50 cities in
   turn), free on the package's dates, and arrivals spread over four months.
3. Serves ``bench.wsgi:app`` with gunicorn, checks one quote over HTTP, and loads it with
   wrk: the same-run baseline (one primary-key ``SELECT``), then
   ``POST /api/v1/journeys/<id>/quotes`` rotating over the journeys (bench/quote.lua).
4. Prints the table and PASS/MISS per target and writes ``bench/results/quote.json``.

``--profile`` replaces steps 3 and 4: quotes are priced in-process (Flask's test client,
the same request edge), first timed with every SQL statement recorded (the split between
SQL and Python), then again under ``cProfile`` (where the Python time goes); the slowest
statements are explained with ``EXPLAIN (ANALYZE, BUFFERS)``.

See bench/README.md for how to read the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import secrets
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import select, update

from bench.catalogue import (
    BENCH,
    CAPACITY_DAYS,
    CITIES,
    DEFAULT_DATABASE_URL,
    RATES,
    RESULTS,
    ROOT,
    BenchError,
    Scenario,
    Server,
    WrkResult,
    add_load_arguments,
    baseline_args,
    build_catalogue,
    database_name,
    http_request,
    libpq_url,
    measure_interleaved,
    migrate,
    paced_latency,
    paced_note,
    print_table,
    print_verdicts,
    run_settings,
    table_counts,
    table_json,
    write_results,
)
from bench.catalogue import LUA as CATALOGUE_LUA
from bench.explain import print_plans, print_statements, recorded_statements
from bookings.services.availability import Line, line_available
from journey.app import create_app
from journey.builder.models import Journey
from journey.builder.services.composition import journey_violations
from journey.builder.services.journeys import add_item, open_journey
from journey.builder.services.quotes import create_quote
from journey.builder.services.settings import update_settings
from journey.core.accounts.services import bootstrap_admin, issue_token, register_patient
from journey.core.errors import DomainError
from journey.core.extensions import db
from journey.core.types import today_in
from providers.models import ChainLink, Offer, Provider
from providers.services.offers import public_condition

LUA = BENCH / "quote.lua"

# Targets (see bench/README.md).
TARGET_THROUGHPUT_RATIO = 0.20  # quote req/s >= 20 % of the baseline's, same run
TARGET_P99_MS = 100.0           # quote p99 latency under load

JOURNEYS = 200
NIGHTS = 12
REHABILITATION_DAYS = 10
FIRST_ARRIVAL_DAYS = 30  # the earliest arrival, days from today
ARRIVAL_SPREAD_DAYS = 120  # arrivals spread over this many days
#: The package, placed relative to the arrival day A (departure on A + NIGHTS):
#: (link, first day - A, days). Visa support ends five days before arrival; the
#: transfer meets the patient on arrival; the nights cover A .. departure - 1 exactly;
#: the consultation precedes the surgery; rehabilitation starts the day after it and
#: ends on the departure day; the excursion falls after the three recovery days; the
#: departure comes after the seven fit-to-fly days.
PACKAGE = (
    (ChainLink.VISA_SUPPORT, -10, 5),
    (ChainLink.TRANSFER, 0, 1),
    (ChainLink.ACCOMMODATION, 0, NIGHTS),
    (ChainLink.CONSULTATION, 1, 1),
    (ChainLink.TREATMENT, 2, 1),
    (ChainLink.REHABILITATION, 3, REHABILITATION_DAYS),
    (ChainLink.LEISURE, 8, 1),
)
#: Realistic medical fields for the offers the journeys use (the catalogue loader leaves
#: them at false / 0): the surgery needs a consultation first, three recovery days
#: without leisure and seven days before flying; rehabilitation starts a day after it.
MEDICAL_FIELDS = {
    ChainLink.TREATMENT: {"requires_consultation": True, "recovery_days": 3,
                          "fit_to_fly_days": 7},
    ChainLink.REHABILITATION: {"min_days_after_treatment": 1},
}
LANGUAGES = ("en", "de", "lt", "ru")  # ru has no offer texts: the fallback chain is used
CURRENCIES = ("EUR", "NOK")  # NOK: every line is converted
VISA_FREE = ["AT", "CZ", "DE", "DK", "EE", "FI", "HU", "LT", "LV", "PL", "SE"]
#: Left by an earlier run of this benchmark; cleared before the set-up (CASCADE takes
#: the journeys, their items, transitions, quotes and lines, the tokens and any reviews
#: with them; the members' kept ratings are cleared with the reviews).
CLEARED_TABLES = ("user_account", "cluster_settings", "package_template", "login_failure",
                  "member_rating")


@dataclass
class Setup:
    token: str
    journey_ids: list[int]
    seconds: float
    sample: dict  # one journey, for the record


# --- the catalogue ---------------------------------------------------------------------

def catalogue_problem(url: str, members: int, offers: int, last_day: date) -> str | None:
    """Why the existing database cannot serve as the large catalogue, or None."""
    try:
        counts = table_counts(url)
        with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
            calendar_end = conn.execute("SELECT max(day) FROM capacity_day").fetchone()[0]
    except psycopg.Error as error:
        return f"no usable catalogue ({str(error).strip().splitlines()[0]})"
    expected = {"provider": members, "offer": offers, "offer_text": 3 * offers,
                "price_rule": 3 * offers, "capacity_day": offers * CAPACITY_DAYS,
                "exchange_rate": 12 * len(RATES)}
    wrong = [f"{table} {counts.get(table, 0):,} (expected {n:,})"
             for table, n in expected.items() if counts.get(table) != n]
    if wrong:
        return "different size: " + ", ".join(wrong)
    if calendar_end is None or calendar_end < last_day:
        return f"capacity calendar ends on {calendar_end}, before {last_day}"
    return None


def ensure_catalogue(args, url: str, last_day: date) -> dict:
    """Reuse the large catalogue when it fits, else build it; migrate to head."""
    problem = catalogue_problem(url, args.members, args.large, last_day)
    if problem is None and not args.rebuild:
        print(f"  reusing the catalogue in {database_name(url)} ({args.members:,} members, "
              f"{args.large:,} offers)", flush=True)
        started = time.perf_counter()
        migrate(url)  # a no-op when the catalogue run used the same migrations
        return {"reused": True, "migrate_seconds": round(time.perf_counter() - started, 2)}
    print(f"  building the catalogue: {'--rebuild' if problem is None else problem}",
          flush=True)
    build_seconds, steps, counts = build_catalogue(url, args.members, args.large,
                                                   parallel=args.load_parallel)
    return {"reused": False, "build_seconds": build_seconds, "build_steps": steps,
            "counts": counts}


def clear_earlier_runs(url: str) -> None:
    """Drop an earlier run's accounts and journeys, and its medical fields on offers."""
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute("TRUNCATE " + ", ".join(CLEARED_TABLES) + " RESTART IDENTITY CASCADE")
        conn.execute("""UPDATE offer SET requires_consultation = false, recovery_days = 0,
                                         fit_to_fly_days = 0, min_days_after_treatment = 0
                        WHERE requires_consultation OR recovery_days <> 0
                           OR fit_to_fly_days <> 0 OR min_days_after_treatment <> 0""")


def settle(url: str) -> None:
    """Statistics for the tables just written, and a checkpoint now, so that a timed
    one does not write out the catalogue load's pages during the measurement."""
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute("VACUUM (ANALYZE) user_account, api_token, cluster_settings, journey, "
                     "journey_item, journey_transition, quote, quote_line, offer")
        conn.execute("CHECKPOINT")


# --- the journeys ----------------------------------------------------------------------

def arrival_of(number: int, today: date) -> date:
    return today + timedelta(days=FIRST_ARRIVAL_DAYS + (number * 7) % ARRIVAL_SPREAD_DAYS)


def last_needed_day(today: date) -> date:
    """The last calendar day any journey occupies."""
    return today + timedelta(days=FIRST_ARRIVAL_DAYS + ARRIVAL_SPREAD_DAYS + NIGHTS)


def _candidates(links) -> dict[tuple[str, ChainLink], list[int]]:
    """Public offer ids by (city, link)."""
    rows = db.session.execute(
        select(Provider.city, Offer.chain_link, Offer.id).join(Provider)
        .where(public_condition(), Offer.chain_link.in_(links))
        .order_by(Offer.id))
    found: dict[tuple[str, ChainLink], list[int]] = defaultdict(list)
    for city, link, offer_id in rows:
        found[(city, link)].append(offer_id)
    return found


def _pick_offer(candidates: list[int], start: date, days: int, rng: random.Random) -> int | None:
    """A candidate free for one unit on every day of the window (the app's own check)."""
    for offer_id in rng.sample(candidates, len(candidates)):
        if line_available(Line(offer_id, start, days, 1)):
            return offer_id
    return None


def set_up(url: str, journeys: int, today: date, seed: int = 20261122) -> Setup:
    """An admin, a patient with a token, and ``journeys`` valid seven-link journeys,
    made through the services and committed; every journey checked against the rules
    and the availability, and one quote priced (then rolled back)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        admin = bootstrap_admin(email="bench-admin@example.org",
                                password=secrets.token_urlsafe(18), full_name="Bench Admin")
        update_settings(admin, visa_free_nationalities=VISA_FREE)
        patient = register_patient(email="bench-patient@example.org",
                                   password=secrets.token_urlsafe(18),
                                   full_name="Bench Patient", locale="en", currency="NOK")
        token = issue_token(patient, name="quote benchmark", expires_in_days=1).token
        candidates = _candidates([link for link, _offset, _days in PACKAGE])
        journey_ids, medical = [], defaultdict(set)
        sample: dict = {}
        for number in range(journeys):
            city = CITIES[number % len(CITIES)][0]
            arrival = arrival_of(number, today)
            journey = open_journey(patient, nationality="NO", residence="NO", adults=1,
                                   language=LANGUAGES[number % len(LANGUAGES)],
                                   currency=CURRENCIES[number % len(CURRENCIES)],
                                   arrival_on=arrival,
                                   departure_on=arrival + timedelta(days=NIGHTS))
            for link, offset, days in PACKAGE:
                start = arrival + timedelta(days=offset)
                offer_id = _pick_offer(candidates.get((city, link), []), start, days, rng)
                if offer_id is None:
                    raise BenchError(f"no {link.value} offer in {city} is free from {start} "
                                     f"for {days} days")
                add_item(patient, journey.id, offer_id=offer_id, start_on=start, days=days)
                if link in MEDICAL_FIELDS:
                    medical[link].add(offer_id)
            journey_ids.append(journey.id)
            if not sample:
                sample = {"journey_id": journey.id, "city": city,
                          "arrival_on": arrival.isoformat(),
                          "items": [{"link": i.offer.chain_link.value, "offer_id": i.offer_id,
                                     "start_on": i.start_on.isoformat(), "days": i.days}
                                    for i in journey.items]}
        for link, offer_ids in medical.items():
            db.session.execute(update(Offer).where(Offer.id.in_(offer_ids))
                               .values(**MEDICAL_FIELDS[link]))
        db.session.commit()
        db.session.expire_all()

        for journey_id in journey_ids:
            journey = db.session.get(Journey, journey_id)
            blocking = [v for v in journey_violations(journey) if v.blocking]
            if blocking:
                raise BenchError(f"journey {journey_id} is not a valid plan:\n" + "\n".join(
                    f"  {v.code}: {v.message}" for v in blocking))
        try:
            quote = create_quote(patient, journey_ids[0])
        except DomainError as error:
            raise BenchError(f"create_quote({journey_ids[0]}) failed: {error.message}: "
                             f"{error.fields}") from error
        sample["quote"] = {"lines": len(quote.lines), "total_minor": quote.total_minor,
                           "currency": quote.currency}
        db.session.rollback()
    return Setup(token, journey_ids, round(time.perf_counter() - started, 1), sample)


# --- the run ---------------------------------------------------------------------------

def stored_quotes(url: str) -> int:
    with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
        return conn.execute("SELECT count(*) FROM quote").fetchone()[0]


def measure(args, url: str, setup: Setup) -> tuple[dict[str, WrkResult], dict, dict | None, int]:
    ids_file, token_file = RESULTS / "quote-journeys.txt", RESULTS / "quote-token.txt"
    ids_file.write_text("\n".join(str(i) for i in setup.journey_ids) + "\n")
    token_file.write_text(setup.token + "\n")  # not on wrk's command line
    token_file.chmod(0o600)
    with Server(url, "quote", args.workers, args.worker_threads) as server:
        try:
            status, body = http_request(
                f"{server.base}/api/v1/journeys/{setup.journey_ids[-1]}/quotes", method="POST",
                headers={"Authorization": f"Bearer {setup.token}"}, timeout=30)
            if status != 201:
                raise BenchError(f"POST quote: HTTP {status}: {body[:1000]!r}")
            answer = json.loads(body)
            print(f"  one quote over HTTP: {len(answer['lines'])} lines, total "
                  f"{answer['total']}", flush=True)
            quote_args = [str(ids_file), str(token_file), str(args.threads)]
            baseline = Scenario("baseline", server.base, baseline_args(args.large),
                                CATALOGUE_LUA)
            quote = Scenario("quote", server.base, quote_args, LUA, relative_to="baseline")
            results, other_cpu = measure_interleaved([baseline, quote], args)
            paced = (paced_latency(quote, baseline, results["quote"], args, share=args.paced)
                     if args.paced > 0 else None)
        except BenchError as error:
            raise BenchError(f"{error}\n(409: two quotes of one journey at once clashed on "
                             f"its version; 503: a lock timeout; server log: "
                             f"{server.log_path})") from error
    return results, other_cpu, paced, stored_quotes(url)


def report(args, results: dict[str, WrkResult], other_cpu: dict,
           paced: dict | None = None) -> dict:
    baseline, quote = results["baseline"], results["quote"]
    rows = [(name, args.large, r.rps, r.p50_ms, r.p99_ms, r.rps / baseline.rps)
            for name, r in (("baseline (PK SELECT)", baseline), ("quote (7 links)", quote))]
    print_table(rows)
    ratio = quote.rps / baseline.rps
    targets = [
        {"name": f"quote throughput >= {TARGET_THROUGHPUT_RATIO:.0%} of baseline "
                 f"({args.large:,} offers)",
         "value": round(ratio, 3), "target": TARGET_THROUGHPUT_RATIO,
         "pass": ratio >= TARGET_THROUGHPUT_RATIO, "better": "higher", "shown": f"{ratio:.1%}"},
        {"name": f"quote p99 < {TARGET_P99_MS:.0f} ms ({args.large:,} offers)",
         "value": quote.p99_ms, "target": TARGET_P99_MS, "pass": quote.p99_ms < TARGET_P99_MS,
         "better": "lower", "shown": f"{quote.p99_ms:.1f} ms (the baseline's p99 in this "
                                     f"run: {baseline.p99_ms:.1f} ms"
                                     f"{paced_note(paced, 'quote')})"},
    ]
    busy_warning = print_verdicts(targets, list(other_cpu.values()))
    return {"rows": table_json(rows), "targets": targets, "machine_busy_warning": busy_warning}


# --- where a quote spends its time ----------------------------------------------------

def profile(url: str, setup: Setup, requests: int, plans: int) -> int:
    """Quotes in-process: SQL against Python, then cProfile, then the slowest plans."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {setup.token}"}
    ids = setup.journey_ids

    def quote(journey_id: int) -> float:
        started = time.perf_counter()
        response = client.post(f"/api/v1/journeys/{journey_id}/quotes", headers=headers)
        if response.status_code != 201:
            raise BenchError(f"POST quote {journey_id}: {response.status_code} "
                             f"{response.get_data(as_text=True)[:500]}")
        return (time.perf_counter() - started) * 1000

    for journey_id in ids[:3]:  # warm caches and the connection pool
        quote(journey_id)
    with app.app_context():
        engine = db.engine
    timed, profiled = ids[3:3 + requests], ids[3 + requests:3 + 2 * requests]
    with recorded_statements(engine) as calls:
        request_ms = [quote(journey_id) for journey_id in timed]
    print(f"\n== where a quote spends its time (in-process, {len(timed)} journeys) ==\n")
    ranked = print_statements(calls, request_ms, top=25)
    sql_ms = sum(seconds for _, _, seconds in calls) * 1000 / len(timed)
    mean_ms = sum(request_ms) / len(timed)
    print(f"\nper quote: {mean_ms:.1f} ms = {sql_ms:.1f} ms waiting for SQL "
          f"({sql_ms / mean_ms:.0%}) + {mean_ms - sql_ms:.1f} ms of Python "
          f"({1 - sql_ms / mean_ms:.0%})")

    profiler = cProfile.Profile()
    profiler.enable()
    for journey_id in profiled:
        quote(journey_id)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.dump_stats(RESULTS / "quote.pstats")  # for pstats / snakeviz: every function
    count = len(profiled)
    lazy = sum(n for (path, _line, name), (_cc, n, _tt, _ct, _callers)
               in stats.stats.items() if name == "_emit_lazyload" and "sqlalchemy" in path)
    print(f"\ncProfile over {count} more quotes (times inflated by the profiler): "
          f"{lazy / count:.1f} lazy loads per quote")
    print("the project's functions by cumulative time (ms per quote / calls per quote):")
    own = [(ct, n, f"{Path(path).relative_to(ROOT)}:{line}({name})")
           for (path, line, name), (_cc, n, _tt, ct, _callers) in stats.stats.items()
           if path.startswith(str(ROOT)) and "/.venv/" not in path
           and not path.startswith(str(BENCH))]
    for cumulative, n, where in sorted(own, reverse=True)[:25]:
        print(f"  {cumulative * 1000 / count:8.2f} {n / count:6.1f}  {where}")
    print_plans(app, ranked, plans)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_arguments(parser)
    parser.add_argument("--journeys", type=int, default=JOURNEYS,
                        help="journeys the load rotates over")
    parser.add_argument("--rebuild", action="store_true",
                        help="build the catalogue even when the existing one fits")
    parser.add_argument("--output", type=Path, default=RESULTS / "quote.json",
                        help="where to write the figures as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--profile", type=int, nargs="?", const=40, metavar="N",
                        help="instead of the load: price N quotes in-process (default 40), "
                             "report SQL vs Python, cProfile, and the slowest plans")
    parser.add_argument("--plans", type=int, default=3,
                        help="with --profile: EXPLAIN the N slowest statements")
    args = parser.parse_args(argv)
    if args.journeys < 2 * args.connections:
        parser.error("--journeys must be at least twice --connections (version clashes)")

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    RESULTS.mkdir(parents=True, exist_ok=True)
    today = today_in()
    started = time.perf_counter()
    print(f"\n== quote: a seven-link package, {args.journeys} journeys, "
          f"{args.large:,} offers ==", flush=True)
    try:
        catalogue = ensure_catalogue(args, url, last_needed_day(today))
        clear_earlier_runs(url)
        setup = set_up(url, args.journeys, today)
        settle(url)
        print(f"  set-up {setup.seconds:.1f} s: admin, patient + token, {args.journeys} "
              f"journeys x {len(PACKAGE)} items, all valid; quote of journey "
              f"{setup.sample['journey_id']}: {setup.sample['quote']['lines']} lines",
              flush=True)
        if args.profile:
            return profile(url, setup, min(args.profile, (args.journeys - 3) // 2),
                           args.plans)
        results, other_cpu, paced, quotes = measure(args, url, setup)
    except BenchError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr)
        return 2
    summary = report(args, results, other_cpu, paced)
    elapsed = round(time.perf_counter() - started, 1)
    print(f"\n{quotes:,} quotes stored (each 201 is one); whole run {elapsed:.0f} s; "
          f"database {database_name(url)} kept")

    document = {
        "benchmark": "quote",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database_name(url),
        **run_settings(args),
        "catalogue": {"members": args.members, "offers": args.large, **catalogue},
        "package": [{"link": link.value, "day_after_arrival": offset, "days": days}
                    for link, offset, days in PACKAGE],
        "journeys": args.journeys,
        "setup_seconds": setup.seconds,
        "sample_journey": setup.sample,
        "quotes_stored": quotes,
        "other_cpu": other_cpu,
        "baseline": results["baseline"].__dict__,
        "quote": results["quote"].__dict__,
        "paced": paced,
        **summary,
        "elapsed_seconds": elapsed,
    }
    return write_results(args, document, summary)


if __name__ == "__main__":
    sys.exit(main())
