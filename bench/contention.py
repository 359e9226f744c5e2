"""Contended checkout benchmark: ``python -m bench.contention`` from the repository root.

1,000 checkouts from 32 concurrent clients race for the 100 units of one offer on one
day (a room night), on PostgreSQL, through the real app:

1. Recreates the database ``onewindow_bench_contention`` (or
   ``BENCH_CONTENTION_DATABASE_URL``; its name must contain ``bench``), applies the
   migrations with ``flask db upgrade`` and creates the baseline's ``bench_counter``
   table.
2. Sets up through the application's services: an admin, a verified hotel, one offer
   per round (capacity 100 on its day, nothing on the others), 1,000 patients with a
   bearer token each and, per round, one accepted quote per patient for one night of
   that round's offer.
3. Starts localstripe (a subprocess on a free loopback port) and serves
   ``bench.wsgi:app`` with gunicorn pointed at it, then alternates, round after round:
   - **baseline**: 1,000 ``POST /bench/claim/<id>``, one conditional ``UPDATE ... SET
     used = used + 1 WHERE id = :id AND used < capacity`` each, on a counter of 100;
   - **checkout**: 1,000 ``POST /api/v1/quotes/<id>/checkout``, each a different
     patient's quote with its own ``Idempotency-Key``, after resetting localstripe.
   Both are fired by the same harness: 32 threads, one keep-alive connection each.
4. After each round, counts from the database what was sold (bookings that got a hold),
   the units that live holds and booked lines use on the day (never above capacity),
   and the statuses; prints the medians, PASS/MISS per check and target, where the time
   went (CPU seconds per process, winners against losers, localstripe alone), and writes
   ``bench/results/contention.json``.

See bench/README.md for how to read the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import itertools
import json
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from bench.catalogue import (
    BUSY_WARNING,
    RESULTS,
    BenchError,
    Server,
    database_name,
    free_port,
    libpq_url,
    migrate,
    other_cpu_share,
    recreate_database,
    write_results,
)
from bench.explain import recorded_statements
from journey.app import create_app
from journey.builder.services.journeys import add_item, open_journey
from journey.builder.services.quotes import accept_quote, create_quote
from journey.core.accounts.services import bootstrap_admin, issue_token, register_patient
from journey.core.extensions import db
from journey.core.types import today_in
from providers.models import (
    CapacityUnit,
    ChainLink,
    ConfirmationMode,
    DurationUnit,
    MemberKind,
    MemberStatus,
    OfferStatus,
    PriceUnit,
)
from providers.services.availability import used_units
from providers.services.members import create_member, set_member_status
from providers.services.offers import create_offer, set_capacity

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/onewindow_bench_contention"

# Targets (see bench/README.md).
TARGET_THROUGHPUT_RATIO = 0.30  # checkout req/s >= 30 % of the baseline's, same run

CHECKOUTS = 1000
CLIENTS = 32
CAPACITY = 100
ROUNDS = 3
WARMUP_CHECKOUTS = 64  # a small race before the rounds: the workers' first requests
WARMUP_CAPACITY = 16
DAY_OFFSET = 30  # the night sold, days from today
PAYMENT_METHOD = "pm_card_visa"
STRIPE_PROBE = 20  # PaymentIntents created directly against localstripe, one at a time


# --- set-up ----------------------------------------------------------------------------

@dataclass
class Race:
    """One checkout race: an offer with ``capacity`` units on ``day`` and one accepted
    quote per patient for one unit of it."""

    name: str
    offer_id: int
    day: date
    capacity: int
    quotes: list[tuple[int, str]]  # (quote id, the patient's bearer token)


@dataclass
class Setup:
    warmup: Race
    rounds: list[Race]
    seconds: float
    counters: dict[str, int]  # baseline counter id per race name


def create_counters(url: str, names: list[str], capacities: dict[str, int]) -> dict[str, int]:
    """The baseline's own table: one counter per race, ``used`` 0 of ``capacity``."""
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_counter")
        conn.execute("""CREATE TABLE bench_counter (
                            id integer PRIMARY KEY,
                            capacity integer NOT NULL,
                            used integer NOT NULL DEFAULT 0 CHECK (used <= capacity))""")
        ids = {}
        for number, name in enumerate(names, start=1):
            conn.execute("INSERT INTO bench_counter (id, capacity) VALUES (%s, %s)",
                         (number, capacities[name]))
            ids[name] = number
    return ids


def set_up(url: str, checkouts: int, rounds: int, today: date) -> Setup:
    """Everything through the services, committed: an admin, a verified hotel, one offer
    per race with capacity on its one day, the patients and their tokens, and per race
    one accepted quote of one night per patient."""
    started = time.perf_counter()
    # The cheapest Argon2 profile only makes 1,000 registrations fast; nobody logs in
    # with a password here (the clients use bearer tokens).
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ARGON2_PROFILE": "CHEAPEST"})
    day = today + timedelta(days=DAY_OFFSET)
    with app.app_context():
        admin = bootstrap_admin(email="bench-admin@example.org",
                                password=secrets.token_urlsafe(18), full_name="Bench Admin")
        hotel = create_member(admin, name="Hotel Bench", kind=MemberKind.HOTEL, city="Vilnius",
                              country="LT", timezone="Europe/Vilnius", languages=["lt", "en"],
                              default_language="en", currency="EUR")
        set_member_status(admin, hotel.id, MemberStatus.VERIFIED)
        db.session.commit()

        plan = [("warm-up", WARMUP_CAPACITY, WARMUP_CHECKOUTS)]
        plan += [(f"round {n}", CAPACITY, checkouts) for n in range(1, rounds + 1)]
        offers = {}
        for name, capacity, _count in plan:
            offer = create_offer(
                admin, hotel.id, status=OfferStatus.PUBLISHED,
                texts={"en": {"title": f"Double room ({name})", "description": "One night."}},
                chain_link=ChainLink.ACCOMMODATION, price_unit=PriceUnit.NIGHT,
                base_price_minor=9000, capacity_unit=CapacityUnit.ROOM, duration_value=1,
                duration_unit=DurationUnit.NIGHTS, confirmation_mode=ConfirmationMode.INSTANT)
            set_capacity(admin, offer.id, start=day, end=day, capacity=capacity)
            offers[name] = offer.id
        db.session.commit()

        tokens = []
        for n in range(checkouts):
            patient = register_patient(email=f"bench-patient-{n:04d}@example.org",
                                       password=secrets.token_urlsafe(18),
                                       full_name=f"Bench Patient {n}", locale="en",
                                       currency="EUR")
            tokens.append((patient, issue_token(patient, name="contention benchmark",
                                                expires_in_days=1).token))
            if n % 100 == 99:
                db.session.commit()
        db.session.commit()
        print(f"  set-up: admin, hotel, {len(plan)} offers, {checkouts:,} patients with "
              f"tokens ({time.perf_counter() - started:.0f} s)", flush=True)

        races = []
        for name, capacity, count in plan:
            quotes = []
            for n, (patient, token) in enumerate(tokens[:count]):
                journey = open_journey(patient, nationality="DE", residence="DE", adults=1,
                                       language="en", currency="EUR", arrival_on=day,
                                       departure_on=day + timedelta(days=1))
                add_item(patient, journey.id, offer_id=offers[name], start_on=day, days=1)
                quote = create_quote(patient, journey.id)
                accept_quote(patient, quote.id)
                quotes.append((quote.id, token))
                if n % 100 == 99:
                    db.session.commit()
            db.session.commit()
            races.append(Race(name, offers[name], day, capacity, quotes))
            print(f"  set-up: {name}: {count:,} accepted quotes for offer {offers[name]} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    counters = create_counters(url, [r.name for r in races], {r.name: r.capacity for r in races})
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
    return Setup(races[0], races[1:], round(time.perf_counter() - started, 1), counters)


# --- localstripe -----------------------------------------------------------------------

class LocalStripe:
    """localstripe on a free loopback port, as a subprocess; always stopped on exit."""

    def __init__(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = RESULTS / "localstripe-contention.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> LocalStripe:
        binary = Path(sys.executable).with_name("localstripe")
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen([str(binary), "--port", str(self.port), "--from-scratch"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"localstripe exited; see {self.log_path}")
            try:
                self.reset()
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise BenchError(f"localstripe did not start; see {self.log_path}")

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.base}/_config/data",  # noqa: S310
                                         method="DELETE")
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - loopback

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        self.log.close()

    def __exit__(self, *exc) -> None:
        self.stop()


def probe_stripe(stripe: LocalStripe, count: int) -> float:
    """Milliseconds per PaymentIntent created and confirmed (what a winner asks for),
    one at a time from here with the stripe client, localstripe otherwise idle."""
    import stripe as stripe_lib

    client = stripe_lib.StripeClient("sk_test_localstripe",
                                     base_addresses={"api": stripe.base})
    times = []
    for n in range(count):
        started = time.perf_counter()
        client.v1.payment_intents.create(
            {"amount": 9000, "currency": "eur", "capture_method": "manual",
             "payment_method": PAYMENT_METHOD, "confirm": True},
            options={"idempotency_key": f"bench-probe-{n}-{secrets.token_hex(4)}"})
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


# --- CPU accounting --------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _machine_ticks() -> tuple[int, int]:
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    return sum(values), values[3] + values[4]


class CpuMeter:
    """CPU seconds that gunicorn (its workers), this database's PostgreSQL backends,
    localstripe, this client and everything else on the machine spend while a round
    runs (from /proc; approximate, but the same for both scenarios)."""

    def __init__(self, url: str, server: Server, stripe: LocalStripe):
        self.url, self.server, self.stripe = url, server, stripe

    def _backends(self) -> list[int]:
        with psycopg.connect(libpq_url(self.url), autocommit=True, connect_timeout=10) as conn:
            return [pid for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")]

    def _sample(self) -> dict[str, dict[int, float]]:
        groups = {"gunicorn": [self.server.proc.pid, *_children(self.server.proc.pid)],
                  "postgres": self._backends(), "localstripe": [self.stripe.proc.pid]}
        return {name: {pid: seconds for pid in pids
                       if (seconds := _cpu_seconds(pid)) is not None}
                for name, pids in groups.items()}

    def __enter__(self) -> CpuMeter:
        self.before = self._sample()
        self.client_before = time.process_time()
        self.machine_before = _machine_ticks()
        return self

    def __exit__(self, *exc) -> None:
        machine_after = _machine_ticks()
        client = time.process_time() - self.client_before
        after = self._sample()
        self.seconds = {name: round(sum(seconds - self.before[name].get(pid, 0.0)
                                        for pid, seconds in after[name].items()), 2)
                        for name in after}
        self.seconds["client"] = round(client, 2)
        total = machine_after[0] - self.machine_before[0]
        busy = (total - (machine_after[1] - self.machine_before[1])) / TICKS
        self.seconds["machine"] = round(busy, 2)
        self.seconds["others"] = round(busy - sum(v for k, v in self.seconds.items()
                                                  if k != "machine"), 2)


# --- the harness -----------------------------------------------------------------------

@dataclass
class Call:
    status: int  # 0: no HTTP answer (a socket error or timeout)
    started: float
    ms: float
    error: str = ""


@dataclass
class RoundResult:
    scenario: str
    race: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    created: int
    conflicts: int
    errors: int
    first_error: str
    winners_p50_ms: float | None
    losers_p50_ms: float | None
    cpu_seconds: dict[str, float]
    other_cpu_before: float | None
    checks: dict = field(default_factory=dict)


def _percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return round(ordered[int(rank) - 1], 2)


def fire(port: int, requests: list[tuple[str, dict, bytes]], clients: int) -> list[Call]:
    """POST every request once, from ``clients`` threads with one keep-alive connection
    each, as fast as the answers come; returns one Call per request, in order."""
    calls: list[Call | None] = [None] * len(requests)
    counter = itertools.count()
    start = threading.Barrier(clients)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        start.wait()
        while (i := next(counter)) < len(requests):
            path, headers, body = requests[i]
            began = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
                error = "" if status in (201, 409) else payload[:300].decode(errors="replace")
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                status, error = 0, repr(exc)
                conn.close()
            calls[i] = Call(status, began, (time.perf_counter() - began) * 1000, error)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return calls


def summarise(scenario: str, race: str, calls: list[Call], cpu: CpuMeter,
              busy: float | None) -> RoundResult:
    seconds = max(c.started + c.ms / 1000 for c in calls) - min(c.started for c in calls)
    statuses: dict[str, int] = {}
    for call in calls:
        statuses[str(call.status)] = statuses.get(str(call.status), 0) + 1
    won = [c.ms for c in calls if c.status == 201]
    lost = [c.ms for c in calls if c.status == 409]
    failed = [c for c in calls if c.status not in (201, 409)]
    first_error = f"HTTP {failed[0].status}: {failed[0].error}" if failed else ""
    latencies = [c.ms for c in calls]
    return RoundResult(
        scenario=scenario, race=race, requests=len(calls), seconds=round(seconds, 3),
        rps=round(len(calls) / seconds, 1), p50_ms=_percentile(latencies, 50),
        p99_ms=_percentile(latencies, 99), statuses=statuses, created=len(won),
        conflicts=len(lost), errors=len(failed), first_error=first_error,
        winners_p50_ms=_percentile(won, 50) if won else None,
        losers_p50_ms=_percentile(lost, 50) if lost else None,
        cpu_seconds=cpu.seconds, other_cpu_before=busy)


def checkout_requests(race: Race) -> list[tuple[str, dict, bytes]]:
    body = json.dumps({"payment_method": PAYMENT_METHOD}).encode()
    return [(f"/api/v1/quotes/{quote_id}/checkout",
             {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
              "Idempotency-Key": f"bench-contention-{race.offer_id}-{quote_id}"}, body)
            for quote_id, token in race.quotes]


def baseline_requests(counter_id: int, count: int) -> list[tuple[str, dict, bytes]]:
    return [(f"/bench/claim/{counter_id}", {"Content-Length": "0"}, b"")] * count


def run_round(scenario: str, race: str, port: int, requests, clients: int, meter: CpuMeter,
              quiet: bool = False) -> RoundResult:
    busy = other_cpu_share()
    if busy is not None and busy > BUSY_WARNING and not quiet:
        print(f"  WARNING: other processes keep {busy:.0%} of the CPUs busy; "
              "the figures below are unreliable", flush=True)
    with meter:
        calls = fire(port, requests, clients)
    return summarise(scenario, race, calls, meter, busy)


# --- checks ----------------------------------------------------------------------------

def check_checkout(url: str, app, race: Race) -> dict:
    """What the database says after a race: bookings that got a hold, the units that
    live holds and booked lines use on the day, against the capacity."""
    with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
        def one(query: str, *params):
            return conn.execute(query, params).fetchone()[0]

        capacity = one("SELECT capacity FROM capacity_day WHERE offer_id = %s AND day = %s",
                       race.offer_id, race.day)
        sold = one("SELECT count(DISTINCT group_key) FROM hold WHERE offer_id = %s",
                   race.offer_id)
        bookings = dict(conn.execute(
            """SELECT b.status, count(DISTINCT b.id) FROM booking b
               JOIN booking_line bl ON bl.booking_id = b.id
               WHERE bl.offer_id = %s GROUP BY b.status""", (race.offer_id,)).fetchall())
        payments = dict(conn.execute(
            """SELECT p.status, count(*) FROM payment p
               WHERE p.booking_id IN (SELECT booking_id FROM booking_line WHERE offer_id = %s)
               GROUP BY p.status""", (race.offer_id,)).fetchall())
        held = one("""SELECT coalesce(sum(quantity), 0) FROM hold
                      WHERE offer_id = %s AND start_on <= %s AND end_on > %s
                        AND released_at IS NULL AND expires_at > now()""",
                   race.offer_id, race.day, race.day)
        booked = one("""SELECT coalesce(sum(bl.quantity), 0) FROM booking_line bl
                        JOIN booking b ON b.id = bl.booking_id
                        WHERE bl.offer_id = %s AND bl.start_on <= %s AND bl.end_on > %s
                          AND bl.status IN ('requested', 'confirmed')
                          AND b.status IN ('authorised', 'confirmed')""",
                     race.offer_id, race.day, race.day)
    with app.app_context():  # the application's own count, for comparison
        app_used = used_units(race.offer_id, race.day, race.day).get(race.day, 0)
    used = held + booked
    return {"capacity": capacity, "sold": sold, "bookings": bookings, "payments": payments,
            "units_held": held, "units_booked": booked, "units_used": used,
            "units_used_by_the_app": app_used, "oversold": max(0, used - capacity)}


def check_baseline(url: str, counter_id: int) -> dict:
    with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
        capacity, used = conn.execute("SELECT capacity, used FROM bench_counter WHERE id = %s",
                                      (counter_id,)).fetchone()
    return {"capacity": capacity, "sold": used, "oversold": max(0, used - capacity)}


# --- the run ---------------------------------------------------------------------------

def measure(args, url: str, setup: Setup) -> tuple[list[RoundResult], float, dict]:
    check_app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    results: list[RoundResult] = []
    with LocalStripe() as stripe:
        os.environ["STRIPE_API_BASE"] = stripe.base  # the server's environment
        with Server(url, "contention", args.workers, args.worker_threads) as server:
            meter = CpuMeter(url, server, stripe)
            try:
                # Warm-up: every worker thread's first requests, both routes.
                warm = setup.warmup
                run_round("baseline", warm.name, server.port,
                          baseline_requests(setup.counters[warm.name], WARMUP_CHECKOUTS),
                          args.clients, meter, quiet=True)
                warmed = run_round("checkout", warm.name, server.port,
                                   checkout_requests(warm), args.clients, meter, quiet=True)
                if not warmed.created:
                    raise BenchError(f"warm-up: no checkout succeeded, statuses "
                                     f"{warmed.statuses}; {warmed.first_error}")
                print(f"  warm-up: {WARMUP_CHECKOUTS} checkouts for {warm.capacity} units: "
                      f"{warmed.created} x 201, {warmed.conflicts} x 409, other "
                      f"{warmed.errors}{' (oversold!)' if warmed.created > warm.capacity else ''}",
                      flush=True)
                for race in setup.rounds:
                    base = run_round("baseline", race.name, server.port,
                                     baseline_requests(setup.counters[race.name],
                                                       len(race.quotes)),
                                     args.clients, meter)
                    base.checks = check_baseline(url, setup.counters[race.name])
                    print_round(base)
                    results.append(base)
                    stripe.reset()
                    checkout = run_round("checkout", race.name, server.port,
                                         checkout_requests(race), args.clients, meter)
                    checkout.checks = check_checkout(url, check_app, race)
                    print_round(checkout)
                    results.append(checkout)
                stripe.reset()
                stripe_ms = probe_stripe(stripe, STRIPE_PROBE)
            except BenchError as error:
                raise BenchError(f"{error}\n(server log: {server.log_path})") from error
    return results, stripe_ms, {"localstripe_log": str(stripe.log_path)}


def print_round(r: RoundResult) -> None:
    c = r.checks
    cpu = ", ".join(f"{k} {v:.1f}" for k, v in r.cpu_seconds.items())
    print(f"  {r.race} {r.scenario:<8} {r.rps:8.1f} req/s  p50 {r.p50_ms:7.1f} ms  "
          f"p99 {r.p99_ms:7.1f} ms  {r.seconds:5.2f} s | 201 x {r.created}, 409 x "
          f"{r.conflicts}, other {r.errors} | sold {c['sold']}/{c['capacity']}, oversold "
          f"{c['oversold']} | CPU s: {cpu}", flush=True)
    if r.errors:
        print(f"    first error: {r.first_error}", flush=True)


def median_of(results: list[RoundResult], scenario: str, key: str) -> float:
    return round(statistics.median(getattr(r, key) for r in results
                                   if r.scenario == scenario), 2)


def report(results: list[RoundResult], stripe_ms: float, clients: int) -> dict:
    rows = {s: {k: median_of(results, s, k) for k in ("rps", "p50_ms", "p99_ms", "seconds")}
            for s in ("baseline", "checkout")}
    ratio = rows["checkout"]["rps"] / rows["baseline"]["rps"]
    rounds = len([r for r in results if r.scenario == "checkout"])
    print(f"\nmedians of {rounds} rounds, {results[0].requests:,} requests from "
          f"{clients} clients each:")
    print("scenario                       req/s    p50 ms    p99 ms   x baseline")
    print("-" * 70)
    for name, label in (("baseline", "baseline (conditional UPDATE)"),
                        ("checkout", "checkout (1 line + Stripe)")):
        row = rows[name]
        print(f"{label:<29} {row['rps']:>7.1f} {row['p50_ms']:>9.1f} {row['p99_ms']:>9.1f} "
              f"{row['rps'] / rows['baseline']['rps']:>11.2f}")

    checkouts = [r for r in results if r.scenario == "checkout"]
    baselines = [r for r in results if r.scenario == "baseline"]
    sold = [r.checks["sold"] for r in checkouts]
    oversold = max(r.checks["oversold"] for r in results)
    conflicts = [r.conflicts for r in checkouts]
    errors = sum(r.errors for r in results)
    consistent = all(r.checks["units_used"] == r.checks["units_used_by_the_app"]
                     == r.created for r in checkouts)
    print(f"\ncheckout: sold {sold} (bookings that got a hold, from the database), 409 x "
          f"{conflicts}, other statuses {[r.errors for r in checkouts]}; units used on the "
          f"day {[r.checks['units_used'] for r in checkouts]} of "
          f"{[r.checks['capacity'] for r in checkouts]}; baseline sold "
          f"{[r.checks['sold'] for r in baselines]}")
    def median_ms(values) -> float | None:
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 1) if values else None

    winners = median_ms(r.winners_p50_ms for r in checkouts)
    losers = median_ms(r.losers_p50_ms for r in checkouts)
    stripe_seconds = statistics.median(r.created * stripe_ms / 1000 for r in checkouts)
    stripe_share = statistics.median(r.created * stripe_ms / 1000 / r.seconds
                                     for r in checkouts)
    print(f"where the time goes: p50 of a winner (201) {winners} ms, of a loser (409, "
          f"answered before Stripe is called) {losers} ms; localstripe alone: "
          f"{stripe_ms:.1f} ms per PaymentIntent (create + confirm, one at a time, idle), so "
          f"the winners need at least {stripe_seconds:.2f} s of its single thread, "
          f"{stripe_share:.0%} of a checkout round's wall time")
    cpu_names = list(checkouts[0].cpu_seconds)
    ours = ("gunicorn", "postgres", "localstripe", "client")
    own_cpu = {}
    for scenario, group in (("baseline", baselines), ("checkout", checkouts)):
        cpu = {k: statistics.median(r.cpu_seconds[k] for r in group) for k in cpu_names}
        wall = statistics.median(r.seconds for r in group)
        own_cpu[scenario] = sum(cpu[k] for k in ours)
        print(f"  CPU seconds per {scenario} round ({wall:.2f} s wall, {os.cpu_count()} x "
              "that available): " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    cpu_ratio = own_cpu["baseline"] / own_cpu["checkout"] if own_cpu["checkout"] else None
    if cpu_ratio is not None:
        print(f"  by CPU cost (gunicorn + PostgreSQL + localstripe + client, whatever else "
              f"runs): a checkout costs {1 / cpu_ratio:.1f}x a baseline request, i.e. "
              f"{cpu_ratio:.0%} of its throughput on a machine running nothing else")
        # What the app's own processes may cost for the target, given what the others
        # (PostgreSQL, localstripe, the client) cost in this run.
        cpu = {scenario: {k: statistics.median(r.cpu_seconds[k] for r in group)
                          for k in ours}
               for scenario, group in (("baseline", baselines), ("checkout", checkouts))}
        others = sum(cpu["checkout"][k] for k in ours if k != "gunicorn")
        allowed = own_cpu["baseline"] / TARGET_THROUGHPUT_RATIO - others
        ceiling = own_cpu["baseline"] / (others + cpu["baseline"]["gunicorn"])
        print(f"  for {TARGET_THROUGHPUT_RATIO:.0%} by CPU cost, with PostgreSQL, localstripe "
              f"and the client as in this run ({others:.2f} s), the app's workers could spend "
              f"{allowed:.2f} s per checkout round (they spent {cpu['checkout']['gunicorn']:.2f}"
              f" s); were a checkout no dearer in them than a baseline request, the ratio "
              f"would be {ceiling:.0%}")

    targets = [
        {"name": f"sold = {CAPACITY} in every round (from the database)", "pass":
         all(s == CAPACITY for s in sold) and all(r.created == CAPACITY for r in checkouts),
         "shown": str(sold), "check": True},
        {"name": "oversold = 0 (units of live holds + booked lines <= capacity)",
         "pass": oversold == 0 and consistent, "shown": str(oversold), "check": True},
        {"name": "errors other than 409 = 0 (503 busy included)", "pass": errors == 0,
         "shown": str(errors), "check": True},
        {"name": f"checkout throughput >= {TARGET_THROUGHPUT_RATIO:.0%} of baseline "
                 f"(medians)", "value": round(ratio, 3), "target": TARGET_THROUGHPUT_RATIO,
         "pass": ratio >= TARGET_THROUGHPUT_RATIO, "better": "higher", "shown": f"{ratio:.1%}",
         "check": False},
    ]
    print()
    for target in targets:
        print(f"{'PASS' if target['pass'] else 'MISS'}  {target['name']}: {target['shown']}")
    busy = [r.other_cpu_before for r in results if r.other_cpu_before is not None]
    busy_warning = bool(busy) and max(busy) > BUSY_WARNING
    if busy_warning:
        print(f"\nNOTE: other processes kept up to {max(busy):.0%} of the CPUs busy during "
              "this run; absolute figures are unreliable, the same-run ratio less so. "
              "Re-run on a quiet machine.")
    return {"medians": rows, "ratio": round(ratio, 3), "targets": targets,
            "winners_p50_ms": winners, "losers_p50_ms": losers,
            "localstripe_ms_per_intent": stripe_ms, "cpu_cost_ratio": cpu_ratio,
            "machine_busy_warning": busy_warning}


def profile(url: str, count: int, *, cprofile: bool = False) -> int:
    """Winners and losers one at a time, in-process: the first ``CAPACITY`` checkouts
    of a race win its units, the ``count`` after them lose. For each kind: statements, wall and
    Python CPU per request (medians), through Flask's test client with localstripe.

    With ``cprofile`` every request runs under ``cProfile`` (which slows it: compare such
    medians only with each other) and the calls of each kind are written to
    ``bench/results/contention-winner.pstats`` and ``contention-loser.pstats``."""
    setup = set_up(url, CAPACITY + count, 1, today_in())
    race = setup.rounds[0]
    with LocalStripe() as stripe:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STRIPE_API_BASE": stripe.base})
        client = app.test_client()
        with app.app_context():
            engine = db.engine
        seen = {"201": [], "409": []}
        stats: dict[str, pstats.Stats] = {}
        with recorded_statements(engine) as calls:
            for path, headers, body in checkout_requests(race):
                profiler = cProfile.Profile() if cprofile else None
                before, cpu, started = len(calls), time.thread_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                response = client.post(path, data=body, headers=headers)
                if profiler:
                    profiler.disable()
                wall = (time.perf_counter() - started) * 1000
                cpu = (time.thread_time() - cpu) * 1000
                if profiler:
                    kind = str(response.status_code)
                    if kind in stats:
                        stats[kind].add(profiler)
                    else:
                        stats[kind] = pstats.Stats(profiler)
                sql = sum(seconds for _, _, seconds in calls[before:]) * 1000
                if str(response.status_code) not in seen:
                    raise BenchError(f"checkout: {response.status_code} "
                                     f"{response.get_data(as_text=True)[:300]}")
                seen[str(response.status_code)].append((len(calls) - before, wall, cpu, sql))
    print(f"\n== one checkout at a time, in-process: {len(seen['201'])} winners, "
          f"{len(seen['409'])} losers (medians) ==")
    for status, name in (("201", "winner"), ("409", "loser")):
        rows = seen[status]
        if rows:
            statements, wall, cpu, sql = (statistics.median(column)
                                         for column in zip(*rows, strict=True))
            print(f"  {name:7s} {statements:4.0f} statements  {wall:7.2f} ms wall  "
                  f"{cpu:7.2f} ms of Python CPU  {sql:6.2f} ms in SQL round trips")
        if status in stats:
            path = RESULTS / f"contention-{name}.pstats"
            stats[status].dump_stats(path)
            print(f"          cProfile of the {name}s: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", type=int, default=CHECKOUTS,
                        help="requests per round (each a different patient's quote)")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help="rounds of baseline then checkout; the medians are reported")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-threads", type=int, default=8, help="gunicorn threads")
    parser.add_argument("--output", type=Path, default=RESULTS / "contention.json",
                        help="where to write the figures as JSON")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when the throughput target is missed")
    parser.add_argument("--cprofile", action="store_true",
                        help="with --profile: run each request under cProfile and write "
                             "the winners' and the losers' calls to bench/results/*.pstats")
    parser.add_argument("--profile", type=int, nargs="?", const=200, metavar="N",
                        help="instead of the load: N losers after the 100 winners, one "
                             "at a time in-process; statements and CPU per request")
    args = parser.parse_args(argv)
    if args.checkouts <= CAPACITY:
        parser.error(f"--checkouts must exceed the capacity ({CAPACITY}): it is a race")

    url = os.environ.get("BENCH_CONTENTION_DATABASE_URL", DEFAULT_DATABASE_URL)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"\n== contention: {args.checkouts:,} checkouts from {args.clients} clients for "
          f"{CAPACITY} units, {args.rounds} rounds ==", flush=True)
    if args.profile:
        try:
            recreate_database(url)
            migrate(url)
            return profile(url, args.profile, cprofile=args.cprofile)
        except BenchError as error:
            print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr)
            return 2
    try:
        recreate_database(url)
        migrate(url)
        setup = set_up(url, args.checkouts, args.rounds, today_in())
        print(f"  set-up {setup.seconds:.0f} s (database {database_name(url)})", flush=True)
        results, stripe_ms, extra = measure(args, url, setup)
    except BenchError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr)
        return 2
    summary = report(results, stripe_ms, args.clients)
    elapsed = round(time.perf_counter() - started, 1)
    print(f"\nwhole run {elapsed:.0f} s; database {database_name(url)} kept")
    document = {
        "benchmark": "contention",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database_name(url),
        "machine": {"cpus": os.cpu_count()},
        "load": {"tool": "python threads, one keep-alive connection each",
                 "clients": args.clients, "requests_per_round": args.checkouts,
                 "rounds": args.rounds, "capacity": CAPACITY},
        "server": {"gunicorn_workers": args.workers, "gunicorn_threads": args.worker_threads},
        "setup_seconds": setup.seconds,
        "rounds": [r.__dict__ for r in results],
        **summary, **extra,
        "elapsed_seconds": elapsed,
    }
    status = write_results(args, document, summary)  # JSON, history line and chart
    if not all(t["pass"] for t in summary["targets"] if t["check"]):
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
