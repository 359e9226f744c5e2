"""Gapless numbering per series: ``[prefix-]INV-2026-000001``, one series per cluster
per kind per year (the year in the cluster's time zone).

:func:`take_number` raises the series' counter row in the caller's transaction, which
also inserts the document: both commit or neither does, so a failed transaction leaves
no gap, and the row lock queues concurrent issuers, so no number is given twice. The
row is created and raised by one statement, ``INSERT ... ON CONFLICT DO UPDATE SET
last = last + 1 RETURNING last``: the first issuer of a series inserts 1 (two first
issuers at once do not collide: the second waits and raises it), every later one
raises the row under its lock (PostgreSQL: held to the commit, like ``SELECT ... FOR
UPDATE``; SQLite: the write lock of the whole database) and reads its number back.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from journey.core.extensions import db
from journey.core.persistence import insert_on_conflict
from journey.core.types import CLUSTER_TIMEZONE
from journey.invoicing.models import SERIES_CODES, DocumentCounter, DocumentKind

WIDTH = 6  # INV-2026-000001


def series_of(kind: DocumentKind, at: datetime, prefix: str = "") -> str:
    year = at.astimezone(ZoneInfo(CLUSTER_TIMEZONE)).year
    prefix = prefix.strip().strip("-")
    return f"{prefix + '-' if prefix else ''}{SERIES_CODES[kind]}-{year}"


def take_number(series: str) -> tuple[int, str]:
    """The next sequence of ``series`` and the number it makes (``series-000042``)."""
    table = DocumentCounter.__table__
    # One statement: the series' first number, or the next under the counter row's lock.
    taken = insert_on_conflict(table).values(series=series, last=1)
    sequence = db.session.execute(taken.on_conflict_do_update(
        index_elements=["series"], set_={"last": table.c.last + 1})
        .returning(table.c.last)).scalar_one()
    return sequence, f"{series}-{sequence:0{WIDTH}d}"
