"""Catalogue search benchmark: ``python -m bench.catalogue`` from the repository root.

1. (Re)creates the PostgreSQL database ``onewindow_bench`` (or the one named by
   ``BENCH_DATABASE_URL``), applies the real migrations with ``flask db upgrade`` and
   fills it with set-based SQL: members, offers with texts in en/lt/de, seasonal price
   rules, cancellation tiers, a 365-day capacity calendar per offer, exchange rates.
2. Serves ``bench.wsgi:app`` (the real app plus a one-``SELECT`` baseline route) with
   gunicorn on loopback and loads it with wrk: the baseline with random ids, then the
   catalogue search rotating through realistic query strings.
3. Does this for a small catalogue (1,000 offers, in ``onewindow_bench_small``) and a
   large one (50,000 offers), each served by its own gunicorn and all four loads
   measured in the same alternating turns; prints a table and PASS/MISS per target, and
   writes ``bench/results/catalogue.json``.

See bench/README.md for how to read the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.history import HISTORY_NAME, record_run
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

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LUA = BENCH / "catalogue.lua"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/onewindow_bench"

# Targets (see bench/README.md).
TARGET_THROUGHPUT_RATIO = 0.40   # search req/s >= 40 % of the baseline's, same run
TARGET_P99_MS = 50.0             # search p99 latency under load
TARGET_SCALE_FACTOR = 1.5        # search at the large size at most 1.5x slower (req/s)

DEFAULT_MEMBERS = 1000
DEFAULT_LARGE = 50000  # offers in the large catalogue
CAPACITY_DAYS = 365
LOAD_TIMEOUT = "15min"  # statement_timeout of every bulk-load statement
SEARCH_URL_COUNT = 500
SANITY_SAMPLE = 60
BUSY_WARNING = 0.15  # other processes' CPU share above which figures are flagged


class BenchError(RuntimeError):
    """The benchmark could not produce trustworthy figures."""


# --- reference data ------------------------------------------------------------------

# (city, country, timezone, currency, latitude, longitude): 50 cities.
CITIES = [
    ("Vilnius", "LT", "Europe/Vilnius", "EUR", 54.687, 25.280),
    ("Kaunas", "LT", "Europe/Vilnius", "EUR", 54.898, 23.904),
    ("Klaipėda", "LT", "Europe/Vilnius", "EUR", 55.703, 21.144),
    ("Šiauliai", "LT", "Europe/Vilnius", "EUR", 55.934, 23.314),
    ("Panevėžys", "LT", "Europe/Vilnius", "EUR", 55.738, 24.370),
    ("Druskininkai", "LT", "Europe/Vilnius", "EUR", 54.016, 23.973),
    ("Palanga", "LT", "Europe/Vilnius", "EUR", 55.918, 21.068),
    ("Birštonas", "LT", "Europe/Vilnius", "EUR", 54.604, 24.021),
    ("Alytus", "LT", "Europe/Vilnius", "EUR", 54.396, 24.046),
    ("Marijampolė", "LT", "Europe/Vilnius", "EUR", 54.560, 23.354),
    ("Riga", "LV", "Europe/Riga", "EUR", 56.950, 24.105),
    ("Jūrmala", "LV", "Europe/Riga", "EUR", 56.968, 23.770),
    ("Daugavpils", "LV", "Europe/Riga", "EUR", 55.875, 26.536),
    ("Liepāja", "LV", "Europe/Riga", "EUR", 56.511, 21.014),
    ("Sigulda", "LV", "Europe/Riga", "EUR", 57.154, 24.853),
    ("Tallinn", "EE", "Europe/Tallinn", "EUR", 59.437, 24.754),
    ("Tartu", "EE", "Europe/Tallinn", "EUR", 58.378, 26.729),
    ("Pärnu", "EE", "Europe/Tallinn", "EUR", 58.385, 24.497),
    ("Haapsalu", "EE", "Europe/Tallinn", "EUR", 58.943, 23.541),
    ("Kuressaare", "EE", "Europe/Tallinn", "EUR", 58.248, 22.504),
    ("Warsaw", "PL", "Europe/Warsaw", "PLN", 52.230, 21.012),
    ("Kraków", "PL", "Europe/Warsaw", "PLN", 50.065, 19.945),
    ("Gdańsk", "PL", "Europe/Warsaw", "PLN", 54.352, 18.646),
    ("Wrocław", "PL", "Europe/Warsaw", "PLN", 51.108, 17.039),
    ("Poznań", "PL", "Europe/Warsaw", "PLN", 52.406, 16.925),
    ("Białystok", "PL", "Europe/Warsaw", "PLN", 53.133, 23.169),
    ("Sopot", "PL", "Europe/Warsaw", "PLN", 54.442, 18.560),
    ("Berlin", "DE", "Europe/Berlin", "EUR", 52.520, 13.405),
    ("Munich", "DE", "Europe/Berlin", "EUR", 48.135, 11.582),
    ("Hamburg", "DE", "Europe/Berlin", "EUR", 53.551, 9.994),
    ("Cologne", "DE", "Europe/Berlin", "EUR", 50.938, 6.960),
    ("Frankfurt", "DE", "Europe/Berlin", "EUR", 50.110, 8.682),
    ("Baden-Baden", "DE", "Europe/Berlin", "EUR", 48.762, 8.240),
    ("Dresden", "DE", "Europe/Berlin", "EUR", 51.050, 13.738),
    ("Leipzig", "DE", "Europe/Berlin", "EUR", 51.340, 12.375),
    ("Oslo", "NO", "Europe/Oslo", "NOK", 59.914, 10.752),
    ("Bergen", "NO", "Europe/Oslo", "NOK", 60.391, 5.322),
    ("Trondheim", "NO", "Europe/Oslo", "NOK", 63.431, 10.395),
    ("Stavanger", "NO", "Europe/Oslo", "NOK", 58.970, 5.733),
    ("Stockholm", "SE", "Europe/Stockholm", "SEK", 59.329, 18.069),
    ("Gothenburg", "SE", "Europe/Stockholm", "SEK", 57.709, 11.975),
    ("Malmö", "SE", "Europe/Stockholm", "SEK", 55.605, 13.004),
    ("Uppsala", "SE", "Europe/Stockholm", "SEK", 59.859, 17.639),
    ("Helsinki", "FI", "Europe/Helsinki", "EUR", 60.170, 24.938),
    ("Tampere", "FI", "Europe/Helsinki", "EUR", 61.498, 23.761),
    ("Turku", "FI", "Europe/Helsinki", "EUR", 60.452, 22.267),
    ("Copenhagen", "DK", "Europe/Copenhagen", "DKK", 55.676, 12.568),
    ("Prague", "CZ", "Europe/Prague", "CZK", 50.076, 14.438),
    ("Vienna", "AT", "Europe/Vienna", "EUR", 48.208, 16.373),
    ("Budapest", "HU", "Europe/Budapest", "HUF", 47.498, 19.040),
]

# 1 EUR = rate; offers are priced in EUR unless their slot says otherwise.
RATES = {"USD": 1.08, "NOK": 11.60, "SEK": 11.40, "PLN": 4.30, "GBP": 0.85, "DKK": 7.46,
         "CZK": 25.20, "HUF": 395.0}
# Offer currency by (id * 7) % 20: 80 % EUR.
OFFER_CURRENCY_SLOTS = {0: "USD", 1: "NOK", 2: "PLN", 3: "SEK"}
SEARCH_CURRENCIES = ["EUR", "EUR", "USD", "NOK"]
SEARCH_LANGUAGES = ["lt", "de", "ru", "en"]

# chain link -> (price unit, capacity unit, duration unit, en, lt, de)
LINK_WORDS = {
    ChainLink.VISA_SUPPORT: (PriceUnit.PERSON, CapacityUnit.PLACE, DurationUnit.DAYS,
                             "visa support", "vizų parama", "Visumservice"),
    ChainLink.TRAVEL: (PriceUnit.PERSON, CapacityUnit.SEAT, DurationUnit.DAYS,
                       "flight and rail tickets", "bilietai", "Reisetickets"),
    ChainLink.TRANSFER: (PriceUnit.PERSON, CapacityUnit.SEAT, DurationUnit.DAYS,
                         "airport transfer", "pervežimas iš oro uosto", "Flughafentransfer"),
    ChainLink.ACCOMMODATION: (PriceUnit.NIGHT, CapacityUnit.ROOM, DurationUnit.NIGHTS,
                              "hotel room", "viešbučio kambarys", "Hotelzimmer"),
    ChainLink.CONSULTATION: (PriceUnit.SESSION, CapacityUnit.CONSULTATION_SLOT,
                             DurationUnit.SESSIONS, "specialist consultation",
                             "gydytojo konsultacija", "Facharztberatung"),
    ChainLink.DIAGNOSTICS: (PriceUnit.SESSION, CapacityUnit.CONSULTATION_SLOT,
                            DurationUnit.SESSIONS, "MRI diagnostics", "MRT tyrimas",
                            "MRT-Diagnostik"),
    ChainLink.TREATMENT: (PriceUnit.STAY, CapacityUnit.SURGERY_SLOT, DurationUnit.DAYS,
                          "knee surgery", "kelio operacija", "Knieoperation"),
    ChainLink.REHABILITATION: (PriceUnit.DAY, CapacityUnit.BED, DurationUnit.DAYS,
                               "rehabilitation programme", "reabilitacijos programa",
                               "Rehabilitationsprogramm"),
    ChainLink.LEISURE: (PriceUnit.PERSON, CapacityUnit.SEAT, DurationUnit.DAYS,
                        "old town excursion", "senamiesčio ekskursija", "Altstadtführung"),
    ChainLink.TRANSLATION: (PriceUnit.SESSION, CapacityUnit.PLACE, DurationUnit.SESSIONS,
                            "medical interpreter", "medicinos vertėjas",
                            "medizinischer Dolmetscher"),
    ChainLink.CHILDCARE: (PriceUnit.DAY, CapacityUnit.PLACE, DurationUnit.DAYS,
                          "childcare", "vaikų priežiūra", "Kinderbetreuung"),
    ChainLink.INSURANCE: (PriceUnit.PERSON, CapacityUnit.PLACE, DurationUnit.DAYS,
                          "travel medical insurance", "kelionių sveikatos draudimas",
                          "Reisekrankenversicherung"),
    ChainLink.AFTERCARE: (PriceUnit.SESSION, CapacityUnit.CONSULTATION_SLOT,
                          DurationUnit.SESSIONS, "aftercare follow-up", "tolesnė priežiūra",
                          "Nachsorge"),
}
ADJECTIVES = {
    "en": ["Premium", "Standard", "Express", "Comfort", "Family", "Classic", "Deluxe", "Basic"],
    "lt": ["Premium", "Standartinė", "Skubi", "Komforto", "Šeimos", "Klasikinė", "Prabangi",
           "Bazinė"],
    "de": ["Premium", "Standard", "Express", "Komfort", "Familien", "Klassik", "Deluxe",
           "Basis"],
}
DESCRIPTIONS = {
    "en": "A carefully organised service for international patients in {city}: "
          "a coordinator answers in English within one working day, prices include VAT, "
          "and the team works with the other members of the cluster so that travel, "
          "stay, treatment and aftercare fit together. Offer {id}.",
    "lt": "Kruopščiai organizuota paslauga užsienio pacientams mieste {city}: "
          "koordinatorius atsako per vieną darbo dieną, kainos su PVM, o komanda dirba "
          "kartu su kitais klasterio nariais, kad kelionė, apgyvendinimas, gydymas ir "
          "tolesnė priežiūra derėtų tarpusavyje. Pasiūlymas {id}.",
    "de": "Ein sorgfältig organisierter Service für internationale Patienten in {city}: "
          "Eine Koordinatorin antwortet innerhalb eines Werktags, die Preise enthalten "
          "die Mehrwertsteuer, und das Team arbeitet mit den anderen Mitgliedern des "
          "Clusters zusammen. Angebot {id}.",
}


# --- database ------------------------------------------------------------------------

def libpq_url(url: str) -> str:
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url)


def database_name(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(libpq_url(url))["dbname"]


def admin_conninfo(url: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(libpq_url(url))
    params["dbname"] = "postgres"
    return psycopg.conninfo.make_conninfo(**params)


def recreate_database(url: str) -> None:
    name = database_name(url)
    if "bench" not in name:
        raise BenchError(f"refusing to drop database {name!r}: its name must contain 'bench'")
    with psycopg.connect(admin_conninfo(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def migrate(url: str) -> None:
    env = {**os.environ, "FLASK_APP": "wsgi.py", "DATABASE_URL": url, "RUN_SCHEDULER": "0"}
    result = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise BenchError(f"flask db upgrade failed:\n{result.stdout}\n{result.stderr}")


class Timer:
    def __init__(self, timings: dict[str, float], name: str):
        self.timings, self.name = timings, name

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.timings[self.name] = round(time.perf_counter() - self.start, 2)


def _reference_tables(conn: psycopg.Connection) -> None:
    conn.execute("""CREATE TEMP TABLE bench_city (idx int PRIMARY KEY, name text, country text,
                    tz text, currency text, lat numeric, lon numeric)""")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO bench_city VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [(i, *row) for i, row in enumerate(CITIES)])
    conn.execute("""CREATE TEMP TABLE bench_link (idx int PRIMARY KEY, chain_link text,
                    price_unit text, capacity_unit text, duration_unit text,
                    noun_en text, noun_lt text, noun_de text)""")
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO bench_link VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(i, link.value, *(str(v) for v in LINK_WORDS[link]))
             for i, link in enumerate(ChainLink)])
    conn.execute("CREATE TEMP TABLE bench_currency (slot int PRIMARY KEY, code text, "
                 "factor numeric)")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO bench_currency VALUES (%s, %s, %s)",
                        [(slot, code, RATES[code]) for slot, code in
                         OFFER_CURRENCY_SLOTS.items()])


def _capacity_schema(conn: psycopg.Connection) -> tuple[list[str], list[str], list[str]]:
    """Drop capacity_day's keys and indexes; return the DDL that recreates them.

    Read from the catalog so that whatever the migrations define (today the primary
    key and the foreign key) comes back exactly, built once after the bulk load.
    """
    keys, fks, indexes = [], [], []
    rows = conn.execute("""SELECT conname, contype, pg_get_constraintdef(oid)
                           FROM pg_constraint
                           WHERE conrelid = 'capacity_day'::regclass
                             AND contype IN ('p', 'u', 'f', 'x')""").fetchall()
    for name, kind, definition in rows:
        ddl = sql.SQL("ALTER TABLE capacity_day ADD CONSTRAINT {} {}").format(
            sql.Identifier(name), sql.SQL(definition)).as_string(conn)
        (fks if kind == "f" else keys).append(ddl)
    for name, definition in conn.execute("""
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid = 'capacity_day'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                              AND c.conrelid = i.indrelid)""").fetchall():
        indexes.append(definition)
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))
    for name, _kind, _ in sorted(rows, key=lambda r: r[1] != "f"):  # foreign keys first
        conn.execute(sql.SQL("ALTER TABLE capacity_day DROP CONSTRAINT {}").format(
            sql.Identifier(name)))
    return keys, indexes, fks


def _insert_capacity(url: str, first: int, last: int) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(LOAD_TIMEOUT)))
        conn.execute("""
            INSERT INTO capacity_day (offer_id, day, capacity)
            SELECT o, current_date + d,
                   CASE WHEN (o * 7919 + d * 104729) %% 23 = 0 THEN 0
                        ELSE 2 + (o * 31 + d) %% 9 END
            FROM generate_series(%(first)s::int, %(last)s::int) o
            CROSS JOIN generate_series(0, %(days)s - 1) d""",
                     {"first": first, "last": last, "days": CAPACITY_DAYS})


def load_catalogue(url: str, members: int, offers: int, parallel: int = 2,
                   extra_sql: str | None = None) -> dict[str, float]:
    """Fill an empty, migrated database; returns seconds per step.

    ``extra_sql`` runs after the load, before ``VACUUM (ANALYZE)``: a way to try an index
    before writing its migration.
    """
    timings: dict[str, float] = {}
    kinds = [k.value for k in MemberKind]
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(LOAD_TIMEOUT)))
        _reference_tables(conn)
        with Timer(timings, "provider"):
            conn.execute("""
                INSERT INTO provider (id, slug, kind, name, city, country, latitude, longitude,
                    timezone, languages, default_language, currency, email, phone, website,
                    status, status_reason, status_changed_at, created_at, updated_at)
                SELECT g, 'member-' || g,
                       (%(kinds)s::text[])[1 + (g - 1) %% cardinality(%(kinds)s::text[])],
                       c.name || ' ' || initcap(replace(
                           (%(kinds)s::text[])[1 + (g - 1) %% cardinality(%(kinds)s::text[])],
                           '_', ' ')) || ' ' || g,
                       c.name, c.country,
                       c.lat + ((g * 37) %% 100 - 50) / 1000.0,
                       c.lon + ((g * 53) %% 100 - 50) / 1000.0,
                       c.tz, '["en", "lt", "de"]'::json,
                       (ARRAY['en', 'lt', 'de'])[1 + g %% 3], c.currency,
                       'member-' || g || '@example.org', '+370 600 ' || lpad(g::text, 5, '0'),
                       'https://member-' || g || '.example.org',
                       %(verified)s, NULL, now(), now(), now()
                FROM generate_series(1, %(members)s) g
                JOIN bench_city c ON c.idx = (g - 1) %% %(cities)s""",
                         {"kinds": kinds, "members": members, "cities": len(CITIES),
                          "verified": MemberStatus.VERIFIED.value})
            conn.execute("""
                INSERT INTO provider_text (provider_id, language, description)
                SELECT p.id, l.lang, 'Member ' || p.id || ' (' || l.lang || ') in ' || p.city
                FROM provider p CROSS JOIN (VALUES ('en'), ('lt'), ('de')) l(lang)""")
        with Timer(timings, "offer"):
            conn.execute("""
                INSERT INTO offer (id, provider_id, chain_link, status, currency, price_unit,
                    base_price_minor, companion_price_minor, min_quantity, max_quantity,
                    capacity_unit, lead_time_days, duration_value, duration_unit,
                    confirmation_mode, created_at, updated_at)
                SELECT g, 1 + (g - 1) %% %(members)s, l.chain_link, %(published)s,
                       coalesce(cur.code, 'EUR'), l.price_unit,
                       round((1500 + (g * 7919) %% 250000) * coalesce(cur.factor, 1))::int,
                       CASE WHEN g %% 3 = 0
                            THEN round((700 + (g * 7919) %% 100000) * coalesce(cur.factor, 1))::int
                       END,
                       1, CASE WHEN g %% 2 = 0 THEN 4 + g %% 7 END,
                       l.capacity_unit, g %% 4, 1 + g %% 10, l.duration_unit,
                       CASE WHEN g %% 2 = 0 THEN %(instant)s ELSE %(approval)s END,
                       now(), now()
                FROM generate_series(1, %(offers)s) g
                JOIN bench_link l ON l.idx = ((g - 1) + (g - 1) / %(members)s) %% %(links)s
                LEFT JOIN bench_currency cur ON cur.slot = (g * 7) %% 20""",
                         {"members": members, "offers": offers, "links": len(ChainLink),
                          "published": OfferStatus.PUBLISHED.value,
                          "instant": ConfirmationMode.INSTANT.value,
                          "approval": ConfirmationMode.APPROVAL.value})
        with Timer(timings, "offer_text"):
            for lang in ("en", "lt", "de"):
                conn.execute(sql.SQL("""
                    INSERT INTO offer_text (offer_id, language, title, description, inclusions,
                                            exclusions)
                    SELECT o.id, %(lang)s,
                           (%(adjectives)s::text[])[1 + o.id %% 8] || ' ' || l.{noun}
                               || ' · ' || p.city || ' #' || o.id,
                           replace(replace(%(template)s, '{{city}}', p.city),
                                   '{{id}}', o.id::text),
                           '["Coordinator", "Interpreter on request", "Invoice with VAT"]'::json,
                           '["Flights"]'::json
                    FROM offer o JOIN provider p ON p.id = o.provider_id
                    JOIN bench_link l ON l.chain_link = o.chain_link""").format(
                    noun=sql.Identifier(f"noun_{lang}")),
                    {"lang": lang, "adjectives": ADJECTIVES[lang],
                     "template": DESCRIPTIONS[lang]})
        with Timer(timings, "price_rule+cancellation_tier"):
            conn.execute("""
                INSERT INTO price_rule (offer_id, name, starts_on, ends_on, price_minor,
                                        companion_price_minor)
                SELECT o.id, r.name, current_date + r.first + o.id % 20,
                       current_date + r.first + o.id % 20 + r.length,
                       round(o.base_price_minor * r.factor)::int,
                       round(o.companion_price_minor * r.factor)::int
                FROM offer o CROSS JOIN (VALUES ('Early season', 20, 30, 0.90),
                                                ('High season', 150, 90, 1.25),
                                                ('Winter holidays', 290, 21, 1.15))
                     r(name, first, length, factor)""")
            conn.execute("""
                INSERT INTO cancellation_tier (offer_id, days_before, refund_percent)
                SELECT o.id, t.days, t.percent FROM offer o
                CROSS JOIN (VALUES (30, 100), (14, 50), (3, 0)) t(days, percent)""")
        with Timer(timings, "exchange_rate"):
            for quote, rate in RATES.items():
                conn.execute("""
                    INSERT INTO exchange_rate (base, quote, rate, effective_on, created_at)
                    SELECT 'EUR', %(quote)s,
                           round(%(rate)s::numeric * (1 + (k %% 5 - 2) / 100.0), 6),
                           current_date - 30 * k, now()
                    FROM generate_series(0, 11) k""", {"quote": quote, "rate": rate})
        for table in ("provider", "offer"):
            conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), "
                                 "(SELECT max(id) FROM {i}))").format(
                t=sql.Literal(table), i=sql.Identifier(table)))

        with Timer(timings, f"capacity_day ({offers * CAPACITY_DAYS:,} rows)"):
            keys, indexes, fks = _capacity_schema(conn)
            bounds = _split(offers, parallel)
            errors: list[BaseException] = []

            def work(first: int, last: int) -> None:
                try:
                    _insert_capacity(url, first, last)
                except BaseException as exc:  # re-raised below, in the main thread
                    errors.append(exc)

            threads = [threading.Thread(target=work, args=b) for b in bounds]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=1800)
            if errors or any(t.is_alive() for t in threads):
                raise BenchError(f"capacity load failed: {errors or 'timeout'}")
        with Timer(timings, "capacity_day keys+indexes"):
            for ddl in keys + indexes + fks:
                conn.execute(ddl)
        if extra_sql:
            with Timer(timings, "extra SQL"):
                conn.execute(extra_sql)
        with Timer(timings, "vacuum analyze"):
            conn.execute("VACUUM (ANALYZE)")
        # The load and the vacuum leave most of shared_buffers dirty: without a
        # checkpoint, the first minutes of searches write them out as they evict them
        # (about 100 buffers written per search at 50,000 offers), which a catalogue
        # in use, checkpointed every few minutes, never does.
        with Timer(timings, "checkpoint"):
            conn.execute("CHECKPOINT")
    return timings


def _split(total: int, parts: int) -> list[tuple[int, int]]:
    parts = max(1, min(parts, total))
    size = -(-total // parts)
    return [(start, min(start + size - 1, total)) for start in range(1, total + 1, size)]


def table_counts(url: str) -> dict[str, int]:
    tables = ["provider", "offer", "offer_text", "price_rule", "capacity_day", "exchange_rate"]
    with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
        return {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(t))).fetchone()[0] for t in tables}


# --- the search mix ------------------------------------------------------------------

def search_paths(count: int, today: date, seed: int = 20261122) -> list[str]:
    """Realistic catalogue searches: link + city + language + currency + dates + quantity."""
    rng = random.Random(seed)
    paths = []
    links = list(ChainLink)
    for _ in range(count):
        currency = rng.choice(SEARCH_CURRENCIES)
        factor = 1.0 if currency == "EUR" else RATES[currency]
        start = today + timedelta(days=rng.randint(3, CAPACITY_DAYS - 30))
        end = start + timedelta(days=rng.randint(1, 6))
        params = {
            "lang": rng.choice(SEARCH_LANGUAGES),
            "currency": currency,
            "chain_link": rng.choice(links).value,
            "city": rng.choice(CITIES)[0],
            "start": start.isoformat(),
            "end": end.isoformat(),
            "quantity": rng.choice([1, 1, 1, 2, 2, 3]),
        }
        if rng.random() < 0.3:
            low = rng.choice([0, 10000, 50000])
            if low:
                params["price_min"] = int(low * factor)
            params["price_max"] = int((low + rng.choice([50000, 100000, 200000])) * factor)
        if rng.random() < 0.25:
            params["sort"] = "name"
        paths.append("/api/v1/offers?" + urllib.parse.urlencode(params))
    return paths


# --- the server ----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    return http_request(url, timeout=timeout)


def http_request(url: str, *, method: str = "GET", headers: dict[str, str] | None = None,
                 timeout: float = 10.0) -> tuple[int, bytes]:
    """``(status, body)`` of one request, also for 4xx and 5xx answers."""
    request = urllib.request.Request(url, method=method, headers=headers or {},  # noqa: S310
                                     data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Server:
    """gunicorn serving bench.wsgi:app on loopback; always stopped on exit."""

    def __init__(self, database_url: str, label: str, workers: int, threads: int):
        self.database_url, self.label = database_url, label
        self.workers, self.threads = workers, threads
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = None
        self.log_path = RESULTS / f"gunicorn-{label}.log"

    def __enter__(self) -> Server:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = ([str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"])
        # --reuse-port: a listening socket per worker, so that the kernel spreads wrk's
        # keep-alive connections over the workers. With the one shared socket, whichever
        # worker wakes first may accept all 16 and keep them for the whole run (one
        # worker at 100 % CPU, the other idle): seen in most probe runs, it cost
        # the baseline a third of its throughput and the quote benchmark 40 %.
        command += ["--no-control-socket", "--reuse-port", "-w", str(self.workers),
                    "--threads", str(self.threads), "-b", f"127.0.0.1:{self.port}",
                    "--log-level", "warning", "bench.wsgi:app"]
        env = {**os.environ, "DATABASE_URL": self.database_url, "RUN_SCHEDULER": "0",
               "ONEWINDOW_ENV": "development"}
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_healthy(timeout=60)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn exited ({self.proc.returncode}); see {self.log_path}")
            try:
                status, _ = http_get(self.base + "/healthz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn not healthy after {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
        if self.log is not None and not self.log.closed:
            self.log.close()

    def __exit__(self, *exc) -> None:
        self.stop()


def other_cpu_share(seconds: float = 1.0) -> float | None:
    """Share of all CPUs busy while our server idles: load from other processes."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values), idle

    try:
        total_1, idle_1 = sample()
        time.sleep(seconds)
        total_2, idle_2 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total_2 - total_1
    return round(1 - (idle_2 - idle_1) / total, 3) if total > 0 else None


# --- wrk -----------------------------------------------------------------------------

@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: dict[str, int] = field(default_factory=dict)
    first_status: int = 0  # the first response outside 2xx, 0 when none
    #: the latency (ms) at every 0.1 % from 0.1 to 100, as catalogue.lua prints them
    quantiles_ms: list[float] = field(default_factory=list, repr=False)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    def find(pattern: str) -> re.Match:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise BenchError(f"cannot find {pattern!r} in wrk output:\n{output}")
        return match

    percentiles = {}
    for pct in ("50", "75", "90", "99"):
        match = find(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$")
        percentiles[pct] = round(_ms(match.group(1), match.group(2)), 2)
    done = find(r"(\d+) requests in ([\d.]+)(us|ms|s|m),")
    bench = find(r"^BENCH non2xx=(\d+) first_status=(\d+)")
    wrk_non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    socket_errors = ({k: int(v) for k, v in zip(("connect", "read", "write", "timeout"),
                                                 errors.groups(), strict=True)}
                     if errors else {})
    non2xx = max(int(bench.group(1)), int(wrk_non2xx.group(1)) if wrk_non2xx else 0)
    return WrkResult(
        requests=int(done.group(1)),
        seconds=round(_ms(done.group(2), done.group(3)) / 1000, 2),
        rps=float(find(r"^Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=percentiles["50"], p75_ms=percentiles["75"], p90_ms=percentiles["90"],
        p99_ms=percentiles["99"], non2xx=non2xx, socket_errors=socket_errors,
        first_status=int(bench.group(2)), quantiles_ms=_quantiles(output))


def _quantiles(output: str) -> list[float]:
    match = re.search(r"^BENCH_QUANTILES ([\d ]+)$", output, re.MULTILINE)
    return [int(us) / 1000 for us in match.group(1).split()] if match else []


def pooled(runs: list[WrkResult]) -> WrkResult:
    """Several runs of one scenario as one: their requests over their seconds, and the
    percentiles of their latencies pooled (each run's 1,000 quantiles weighing its
    share of the requests)."""
    requests = sum(r.requests for r in runs)
    seconds = sum(r.seconds for r in runs)
    points = sorted((q, r.requests / len(r.quantiles_ms)) for r in runs for q in r.quantiles_ms)

    def percentile(share: float) -> float:
        if not points:  # a wrk script that prints no quantiles: the worst run's figure
            return max(getattr(r, f"p{round(share * 100)}_ms") for r in runs)
        wanted, seen = share * sum(weight for _q, weight in points), 0.0
        for value, weight in points:
            seen += weight
            if seen >= wanted - 1e-9:
                return round(value, 2)
        return round(points[-1][0], 2)

    return WrkResult(
        requests=requests, seconds=round(seconds, 2), rps=round(requests / seconds, 1),
        p50_ms=percentile(0.50), p75_ms=percentile(0.75), p90_ms=percentile(0.90),
        p99_ms=percentile(0.99), non2xx=sum(r.non2xx for r in runs),
        socket_errors={}, first_status=0,
        quantiles_ms=[q for r in runs for q in r.quantiles_ms])


def run_wrk(base: str, script_args: list[str], seconds: int, connections: int,
            threads: int, script: Path = LUA, pace_ms: float | None = None) -> WrkResult:
    """wrk with ``script`` against ``base``; with ``pace_ms`` each connection waits that
    long on average before each request (``BENCH_PACE_MS``, see catalogue.lua)."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
               "--timeout", "5s", "-s", str(script), base, "--", *script_args]
    env = {**os.environ, "BENCH_PACE_MS": f"{pace_ms:.3f}" if pace_ms else ""}
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                timeout=seconds + 60, env=env)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish: {' '.join(command)}") from exc
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    parsed = parse_wrk(result.stdout)
    if parsed.non2xx:
        raise BenchError(f"{parsed.non2xx} responses outside 2xx (the first: HTTP "
                         f"{parsed.first_status}) during {' '.join(script_args)}:\n"
                         f"{result.stdout}")
    if any(parsed.socket_errors.values()):
        raise BenchError(f"socket errors {parsed.socket_errors} during "
                         f"{' '.join(script_args)}:\n{result.stdout}")
    if parsed.requests == 0:
        raise BenchError(f"no requests completed:\n{result.stdout}")
    return parsed


# --- one catalogue size --------------------------------------------------------------

@dataclass
class SizeResult:
    label: str
    members: int
    offers: int
    build_seconds: float
    build_steps: dict[str, float]
    counts: dict[str, int]
    search_items_per_page: float
    search_total_avg: float
    search_empty_share: float
    other_cpu: dict[str, float | None]
    baseline: WrkResult
    search: WrkResult
    #: the search and the baseline below saturation (:func:`paced_latency`), if measured
    paced: dict | None = None


def sanity_check(server: Server, paths: list[str], offers: int) -> tuple[float, float, float]:
    """Every request works, and searches find something (else we measure nothing)."""
    for offer_id in (1, offers // 2, offers):
        status, body = http_get(f"{server.base}/bench/baseline/{offer_id}")
        if status != 200:
            raise BenchError(f"baseline {offer_id}: HTTP {status}: {body[:500]!r}")
    items = totals = empty = 0
    sample = paths[:SANITY_SAMPLE]
    for path in sample:
        status, body = http_get(server.base + path, timeout=30)
        if status != 200:
            raise BenchError(f"GET {path}: HTTP {status}: {body[:1000]!r}")
        page = json.loads(body)
        items += len(page["items"])
        totals += page["total"]
        empty += page["total"] == 0
    if totals == 0:
        raise BenchError("no search of the sample found anything: data and URLs do not match")
    return items / len(sample), totals / len(sample), empty / len(sample)


def build_catalogue(url: str, members: int, offers: int, parallel: int = 2,
                    extra_sql: str | None = None) -> tuple[float, dict[str, float],
                                                          dict[str, int]]:
    """Recreate, migrate and fill the database; print and return the build times and
    the row counts. ``bench.quote`` builds the large catalogue with this too."""
    started = time.perf_counter()
    steps: dict[str, float] = {}
    with Timer(steps, "create database"):
        recreate_database(url)
    with Timer(steps, "flask db upgrade"):
        migrate(url)
    steps.update(load_catalogue(url, members, offers, parallel=parallel, extra_sql=extra_sql))
    build_seconds = round(time.perf_counter() - started, 1)
    for step, seconds in steps.items():
        print(f"  build {step:<40} {seconds:8.2f} s")
    print(f"  build total {build_seconds:.1f} s", flush=True)
    counts = table_counts(url)
    print("  rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()), flush=True)
    return build_seconds, steps, counts


def size_url(url: str, label: str) -> str:
    """The database of one catalogue size: the large one in ``url`` itself (kept for
    ``bench.explain`` and reused by ``bench.quote``), the small one beside it
    (``onewindow_bench_small``)."""
    if label == "large":
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{label}").render_as_string(
        hide_password=False)


def measure_sizes(args, url: str, plan: list[tuple[str, int]], paths_file: Path,
                  paths: list[str]) -> list[SizeResult]:
    """Build every size's catalogue in its own database, serve each with its own gunicorn
    and measure them all in the same alternating turns (:func:`measure_interleaved`):
    the slow-down from the small to the large catalogue compares two searches measured
    in the same seconds, not minutes apart on a host whose speed drifts. A server that is
    not being loaded idles."""
    built = {}
    for label, offers in plan:
        print(f"\n== {label}: {args.members:,} members, {offers:,} offers ==", flush=True)
        built[label] = build_catalogue(size_url(url, label), args.members, offers,
                                       parallel=args.load_parallel, extra_sql=args.extra_sql)
    print(f"\n== measuring {' and '.join(label for label, _ in plan)} in alternating turns ==",
          flush=True)
    with ExitStack() as stack:
        servers = {label: stack.enter_context(
            Server(size_url(url, label), label, args.workers, args.worker_threads))
            for label, _offers in plan}
        try:
            samples = {}
            for label, offers in plan:
                items, total, empty = samples[label] = sanity_check(servers[label], paths,
                                                                    offers)
                print(f"  {label} search sample: {items:.1f} items/page, {total:.1f} total "
                      f"matches on average, {empty:.0%} empty", flush=True)
            scenarios = []
            for label, offers in plan:
                base = servers[label].base
                scenarios += [Scenario(f"{label} baseline", base, baseline_args(offers), LUA),
                              Scenario(f"{label} search", base, ["urls", str(paths_file)], LUA,
                                       relative_to=f"{label} baseline")]
            results, other_cpu = measure_interleaved(scenarios, args)
            largest = max(plan, key=lambda size: size[1])[0]
            paced = None
            if args.paced > 0:
                search, baseline = (next(s for s in scenarios if s.name == f"{largest} {n}")
                                    for n in ("search", "baseline"))
                paced = paced_latency(search, baseline, results[search.name], args,
                                      share=args.paced)
        except BenchError as error:
            logs = ", ".join(str(server.log_path) for server in servers.values())
            raise BenchError(f"{error}\n(server logs: {logs})") from error
    sizes = []
    for label, offers in plan:
        build_seconds, steps, counts = built[label]
        items, total, empty = samples[label]
        sizes.append(SizeResult(
            label, args.members, offers, build_seconds, steps, counts, round(items, 2),
            round(total, 2), round(empty, 3),
            {name: other_cpu[f"{label} {name}"] for name in ("baseline", "search")},
            results[f"{label} baseline"], results[f"{label} search"],
            paced if label == largest else None))
    return sizes


def baseline_args(offers: int) -> list[str]:
    """catalogue.lua's arguments for the baseline: random offer ids 1..offers."""
    return ["ids", str(offers)]


@dataclass(frozen=True)
class Scenario:
    """One load of a benchmark: wrk with ``script`` and its arguments against the server
    at ``base``; each turn's figure is printed as a share of ``relative_to``'s."""

    name: str
    base: str
    script_args: list[str]
    script: Path
    relative_to: str | None = None


#: The paced measurement's rate, as a share of the scenario's saturated throughput.
PACED_SHARE = 0.5


def paced_latency(scenario: Scenario, baseline: Scenario, saturated: WrkResult, args,
                  share: float = PACED_SHARE) -> dict:
    """Latency below saturation, for the reader (not a target): ``scenario`` loaded at
    about ``share`` of the rate it reached saturated, by pausing each connection between
    requests, then ``baseline`` at the rate the scenario got. With 16 connections and
    no pause, latency is 16 ÷ throughput plus the queue, whatever the code; at a rate the
    server keeps up with, the p99 is what a request costs plus the odd wait."""
    pace_ms = args.connections * 1000.0 / (share * saturated.rps)
    wrk = {"connections": args.connections, "threads": args.threads}
    seconds = max(2, args.duration)
    measured = run_wrk(scenario.base, scenario.script_args, seconds=seconds,
                       script=scenario.script, pace_ms=pace_ms, **wrk)
    # the baseline with the pause that gives the rate the scenario reached
    base = run_wrk(baseline.base, baseline.script_args, seconds=seconds,
                   script=baseline.script,
                   pace_ms=args.connections * 1000.0 / measured.rps, **wrk)
    print(f"  paced (not a target): {scenario.name} at {measured.rps:.1f} req/s "
          f"({measured.rps / saturated.rps:.0%} of its saturated rate): p50 "
          f"{measured.p50_ms:.2f} ms, p99 {measured.p99_ms:.2f} ms; {baseline.name} at "
          f"{base.rps:.1f} req/s: p50 {base.p50_ms:.2f} ms, p99 {base.p99_ms:.2f} ms",
          flush=True)
    return {"share": share, "pace_ms": round(pace_ms, 1),
            scenario.name: {k: v for k, v in measured.__dict__.items() if k != "quantiles_ms"},
            baseline.name: {k: v for k, v in base.__dict__.items() if k != "quantiles_ms"}}


def measure_interleaved(scenarios: list[Scenario], args
                        ) -> tuple[dict[str, WrkResult], dict[str, float | None]]:
    """Warm up each scenario, then measure them in ``args.slices`` turns of
    ``args.duration / args.slices`` seconds each, the order reversed at every turn (A B,
    B A, A B): a host whose speed drifts during the run slows all alike, where one
    scenario measured after the other took the whole drift into the ratio. Each
    scenario's figures are its turns pooled (:func:`pooled`); every turn is printed."""
    wrk = {"connections": args.connections, "threads": args.threads}
    busy = {}
    for scenario in scenarios:
        busy[scenario.name] = other_cpu_share()
        run_wrk(scenario.base, scenario.script_args, seconds=args.warmup,
                script=scenario.script, **wrk)
    seconds = max(1, round(args.duration / args.slices))
    turns: dict[str, list[WrkResult]] = {scenario.name: [] for scenario in scenarios}
    for turn in range(args.slices):
        order = scenarios if turn % 2 == 0 else scenarios[::-1]
        for scenario in order:
            turns[scenario.name].append(run_wrk(scenario.base, scenario.script_args,
                                                seconds=seconds, script=scenario.script,
                                                **wrk))
        print(f"  turn {turn + 1}: " + ", ".join(
            f"{s.name} {turns[s.name][-1].rps:.1f} req/s"
            + ("" if s.relative_to is None else
               f" ({turns[s.name][-1].rps / turns[s.relative_to][-1].rps:.0%} of "
               f"{s.relative_to})")
            for s in scenarios), flush=True)
    results = {}
    width = max(len(scenario.name) for scenario in scenarios)
    for scenario in scenarios:
        name = scenario.name
        r = results[name] = pooled(turns[name])
        if busy[name] is not None and busy[name] > BUSY_WARNING:
            print(f"  WARNING: other processes kept {busy[name]:.0%} of the CPUs busy before "
                  f"{name}; the figures below are unreliable", flush=True)
        print(f"  {name:<{width}} {r.rps:9.1f} req/s  p50 {r.p50_ms:7.2f} ms  "
              f"p99 {r.p99_ms:7.2f} ms  ({r.requests:,} requests in {args.slices} turns; "
              f"CPU busy elsewhere before: {_share(busy[name])})", flush=True)
    return results, busy


def _share(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0%}"


# --- report --------------------------------------------------------------------------

def paced_note(paced: dict | None, name: str) -> str:
    """``; paced at 130 req/s: 31.3 ms`` for a verdict's line, or nothing."""
    if not paced:
        return ""
    return f"; at {paced[name]['rps']:.0f} req/s, below saturation: {paced[name]['p99_ms']:.1f} ms"


def report(sizes: list[SizeResult]) -> dict:
    rows = []
    for size in sizes:
        for name, r in (("baseline (PK SELECT)", size.baseline), ("catalogue search", size.search)):
            rows.append((name, size.offers, r.rps, r.p50_ms, r.p99_ms,
                         r.rps / size.baseline.rps))
    print_table(rows)

    targets = []
    large = max(sizes, key=lambda s: s.offers)
    ratio = large.search.rps / large.baseline.rps
    targets.append({
        "name": f"search throughput >= {TARGET_THROUGHPUT_RATIO:.0%} of baseline "
                f"({large.offers:,} offers)",
        "value": round(ratio, 3), "target": TARGET_THROUGHPUT_RATIO,
        "pass": ratio >= TARGET_THROUGHPUT_RATIO, "better": "higher",
        "shown": f"{ratio:.1%}"})
    targets.append({
        "name": f"search p99 < {TARGET_P99_MS:.0f} ms ({large.offers:,} offers)",
        "value": large.search.p99_ms, "target": TARGET_P99_MS,
        "pass": large.search.p99_ms < TARGET_P99_MS, "better": "lower",
        # an absolute figure: beside it, what the baseline's own p99 was in this run,
        # and the search's p99 below saturation
        "shown": f"{large.search.p99_ms:.1f} ms (the baseline's p99 in this run: "
                 f"{large.baseline.p99_ms:.1f} ms{paced_note(large.paced, 'large search')})"})
    scale = None
    if len(sizes) > 1:
        small = min(sizes, key=lambda s: s.offers)
        slower = small.search.rps / large.search.rps
        p50_slower = large.search.p50_ms / small.search.p50_ms
        scale = {"small_offers": small.offers, "large_offers": large.offers,
                 "throughput_slowdown": round(slower, 3), "p50_slowdown": round(p50_slower, 3)}
        normalised = ((small.search.rps / small.baseline.rps)
                      / (large.search.rps / large.baseline.rps))
        scale["normalised_slowdown"] = round(normalised, 3)
        print(f"\nsearch at {large.offers:,} offers vs at {small.offers:,} offers: "
              f"{slower:.2f}x slower by throughput (req/s), {p50_slower:.2f}x by p50 latency "
              f"({normalised:.2f}x with each size's throughput taken relative to its own "
              f"baseline)")
        targets.append({
            "name": f"search at {large.offers:,} offers <= {TARGET_SCALE_FACTOR}x slower than "
                    f"at {small.offers:,} (throughput)",
            "value": round(slower, 3), "target": TARGET_SCALE_FACTOR,
            "pass": slower <= TARGET_SCALE_FACTOR, "better": "lower", "shown": f"{slower:.2f}x"})
    busy_warning = print_verdicts(targets, [v for size in sizes
                                            for v in size.other_cpu.values()])
    return {"rows": table_json(rows), "scale": scale, "targets": targets,
            "machine_busy_warning": busy_warning}


TABLE_COLUMNS = ("scenario", "offers", "rps", "p50_ms", "p99_ms", "ratio_to_baseline")


def print_table(rows: list[tuple]) -> None:
    """Rows of (scenario, offers, req/s, p50 ms, p99 ms, x baseline)."""
    print("\nscenario                offers      req/s    p50 ms    p99 ms   x baseline")
    print("-" * 74)
    for name, offers, rps, p50, p99, ratio in rows:
        print(f"{name:<22} {offers:>7,} {rps:>10.1f} {p50:>9.2f} {p99:>9.2f} {ratio:>11.2f}")


def table_json(rows: list[tuple]) -> list[dict]:
    return [dict(zip(TABLE_COLUMNS, row, strict=True)) for row in rows]


def print_verdicts(targets: list[dict], other_cpu: list[float | None]) -> bool:
    """PASS/MISS per target, and a note when the machine was busy; returns whether it
    was."""
    print()
    for target in targets:
        print(f"{'PASS' if target['pass'] else 'MISS'}  {target['name']}: {target['shown']}")
    busy = [v for v in other_cpu if v is not None]
    busy_warning = bool(busy) and max(busy) > BUSY_WARNING
    if busy_warning:
        print(f"\nNOTE: other processes kept up to {max(busy):.0%} of the CPUs busy during "
              "this run; absolute figures, and ratios between runs made minutes apart, are "
              "unreliable. Re-run on a quiet machine.")
    return busy_warning


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """Catalogue size, wrk load and gunicorn options (shared with ``bench.quote``)."""
    parser.add_argument("--members", type=int, default=DEFAULT_MEMBERS)
    parser.add_argument("--large", type=int, default=DEFAULT_LARGE,
                        help="offers in the large catalogue")
    parser.add_argument("--duration", type=int, default=15,
                        help="seconds of measurement per scenario (in --slices turns)")
    parser.add_argument("--slices", type=int, default=3,
                        help="turns the scenarios take, alternating (see measure_interleaved)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per scenario")
    parser.add_argument("--paced", type=float, default=PACED_SHARE, metavar="SHARE",
                        help="after the turns, measure the latency at this share of the "
                             "saturated rate (not a target; 0: skip)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-threads", type=int, default=8, help="gunicorn threads")
    parser.add_argument("--load-parallel", type=int, default=2,
                        help="connections that write capacity_day at once")


def run_settings(args) -> dict:
    """The load and server settings of a run, for its JSON document."""
    return {"machine": {"cpus": os.cpu_count()},
            "load": {"tool": "wrk", "connections": args.connections, "threads": args.threads,
                     "seconds": args.duration, "warmup_seconds": args.warmup,
                     "turns": args.slices},
            "server": {"gunicorn_workers": args.workers,
                       "gunicorn_threads": args.worker_threads}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_arguments(parser)
    parser.add_argument("--small", type=int, default=1000, help="offers in the small catalogue")
    parser.add_argument("--only", choices=["small", "large"],
                        help="build and measure one size only")
    parser.add_argument("--extra-sql", type=Path, metavar="FILE",
                        help="SQL to run after loading (e.g. a candidate index); not a migration")
    parser.add_argument("--output", type=Path, default=RESULTS / "catalogue.json",
                        help="where to write the figures as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.extra_sql is not None:
        args.extra_sql = args.extra_sql.read_text()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    RESULTS.mkdir(parents=True, exist_ok=True)
    today = date.today()
    paths = search_paths(SEARCH_URL_COUNT, today)
    paths_file = RESULTS / "search-paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")

    started = time.perf_counter()
    plan = [("small", args.small), ("large", args.large)]
    if args.only:
        plan = [p for p in plan if p[0] == args.only]
    try:
        sizes = measure_sizes(args, url, plan, paths_file, paths)
    except BenchError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr)
        return 2
    summary = report(sizes)
    elapsed = round(time.perf_counter() - started, 1)
    kept = ", ".join(database_name(size_url(url, label)) for label, _offers in plan)
    print(f"\nwhole run {elapsed:.0f} s; databases kept for EXPLAIN: {kept}")

    document = {
        "benchmark": "catalogue search",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database_name(url),
        **run_settings(args),
        "search_mix": {"paths": len(paths), "file": str(paths_file.relative_to(ROOT))},
        "extra_sql": args.extra_sql,
        "sizes": [{**{k: v for k, v in size.__dict__.items()
                      if k not in ("baseline", "search")},
                   "baseline": size.baseline.__dict__, "search": size.search.__dict__}
                  for size in sizes],
        **summary,
        "elapsed_seconds": elapsed,
    }
    return write_results(args, document, summary)


def write_results(args, document: dict, summary: dict) -> int:
    """Write the figures as JSON, append the run to the history beside it and redraw the
    benchmark's chart (``bench.history``); the exit code is 1 under ``--strict`` on a
    MISS."""
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str)
                           + "\n")
    print(f"figures written to {args.output}")
    try:
        chart = record_run(args.output, summary, at=document.get("at"))
    except OSError as error:  # the figures are written; a history problem must not hide them
        print(f"WARNING: history or chart not written: {error}", file=sys.stderr)
    else:
        print(f"history appended to {chart.parent / HISTORY_NAME}, chart drawn to {chart}")
    if args.strict and not all(t["pass"] for t in summary["targets"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
