"""A journey's availability in one statement answers as each line's own check does:
free, short by a day, without a calendar, past the quantity, held by someone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from bookings.services.availability import Line, line_available, lines_available
from bookings.services.holds import place_holds
from journey.core.extensions import db
from journey.core.types import today_in


def test_one_statement_answers_as_each_line_does(make):
    start = today_in() + timedelta(days=3)
    roomy = make.offer(capacity=3, start=start, days=10)
    tight = make.offer(capacity=1, start=start, days=10)
    place_holds([Line(tight.id, start + timedelta(days=4), 1, 1)], group_key="other",
                ttl=timedelta(minutes=15))
    db.session.commit()
    lines = [Line(roomy.id, start, 3, 2), Line(roomy.id, start, 3, 4),
             Line(tight.id, start, 3, 1), Line(tight.id, start + timedelta(days=3), 3, 1),
             Line(roomy.id, start + timedelta(days=8), 5, 1)]  # past its calendar
    one_by_one = [line_available(line) for line in lines]
    assert one_by_one == [True, False, True, False, False]
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert lines_available(lines) == one_by_one
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1
    assert lines_available([]) == []


def test_the_statement_is_built_once_per_number_of_lines(make):
    from providers.services import availability

    start = today_in() + timedelta(days=3)
    offer = make.offer(capacity=1, start=start, days=5)
    assert lines_available([Line(offer.id, start, 1, 1), Line(offer.id, start, 1, 2)]) == \
        [True, False]
    built = availability._availability_statement(2)
    assert lines_available([Line(offer.id, start + timedelta(days=1), 2, 1),
                            Line(offer.id, start + timedelta(days=4), 2, 1)]) == [True, False]
    assert availability._availability_statement(2) is built
