"""Document numbers: no gaps and no duplicates under concurrent issuers (threads, each
with its own session and connection), and a failed transaction leaves no gap."""

import threading
from datetime import UTC, datetime

import pytest

from journey.core.extensions import db
from journey.invoicing.models import DocumentCounter, DocumentKind
from journey.invoicing.numbering import series_of, take_number

pytestmark = pytest.mark.commits  # threads at once, each with its own connection

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_concurrent_numbers_have_no_gaps_and_no_duplicates(app):
    series = series_of(DocumentKind.INVOICE, AT)
    taken, errors, barrier = [], [], threading.Barrier(8)

    def issue(rounds: int, fail_every: int):
        with app.app_context():
            barrier.wait()
            for i in range(rounds):
                try:
                    sequence, number = take_number(series)
                    if fail_every and i % fail_every == 0:
                        db.session.rollback()  # a transaction that fails: no gap
                        continue
                    db.session.commit()
                    taken.append(sequence)
                except Exception as error:  # noqa: BLE001 - a busy database: retried
                    db.session.rollback()
                    errors.append(error)
            db.session.remove()

    threads = [threading.Thread(target=issue, args=(10, 3 if n % 2 else 0))
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with app.app_context():
        last = db.session.get(DocumentCounter, series).last
        dialect = db.engine.dialect.name
    assert len(taken) == len(set(taken)), "a number was given twice"
    assert sorted(taken) == list(range(1, last + 1)), "a gap in the numbers"
    assert len(taken) >= 40
    if dialect == "postgresql":
        assert not errors, errors


def test_series_per_kind_and_year_with_the_prefix(app):
    assert series_of(DocumentKind.INVOICE, AT) == "INV-2026"
    assert series_of(DocumentKind.CREDIT_NOTE, AT, "LC") == "LC-CN-2026"
    assert series_of(DocumentKind.RECEIPT, datetime(2026, 12, 31, 23, tzinfo=UTC)) == \
        "RCT-2027"  # already the new year in Vilnius
