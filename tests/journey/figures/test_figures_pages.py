"""The figures pages: the cluster's for admins and coordinators, a member's own for its
staff (and no other member's), every table as CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bookings.models import LedgerEntry
from bookings.services import settlement
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.pages.figures import TABLES
from tests.booking_fixtures import confirmed_booking
from tests.journey.pages.portal_fixtures import login


@pytest.fixture
def booked(world, gateway):
    settlement.set_commission_rate(world["admin"], "treatment", Decimal("10"))
    db.session.commit()
    return confirmed_booking(world, gateway)


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("who", ["admin", "coordinator"])
def test_the_cluster_sees_the_clusters_figures(client, world, booked, who):
    login(client, world[who])
    page = client.get("/figures")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in TABLES[:-1]:
        assert f'id="{name}"' in html
    assert html.count('<svg class="chart') >= 6 and 'dir="ltr"' in html
    assert world["hotel"].name in html and world["clinic"].name in html


@pytest.mark.parametrize("who", ["patient", "hotel_staff"])
def test_others_may_not_see_the_clusters_figures(client, world, who):
    login(client, world[who])
    assert client.get("/figures").status_code in (403, 404)


def test_a_member_sees_only_its_own(client, world, booked):
    login(client, world["hotel_staff"])
    own = client.get(f"/portal/{world['hotel'].id}/figures")
    assert own.status_code == 200
    members = _rows(client.get(f"/portal/{world['hotel'].id}/figures?format=csv&table=members"
                               f"&member={world['clinic'].id}"))
    assert {row["member_id"] for row in members} == {str(world["hotel"].id)}
    assert client.get(f"/portal/{world['clinic'].id}/figures").status_code in (403, 404)
    assert client.get(f"/portal/{world['clinic'].id}/figures?format=csv&table=members"
                      ).status_code in (403, 404)


def test_every_table_as_csv_and_money_to_the_minor_unit(client, world, booked):
    login(client, world["admin"])
    for name in TABLES:
        answer = client.get(f"/figures?format=csv&table={name}")
        assert answer.status_code == 200, name
        assert answer.mimetype == "text/csv"
        assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
        assert answer.get_data(as_text=True).splitlines()[0]  # a header, always
    members = _rows(client.get("/figures?format=csv&table=members"))
    entries = db.session.scalars(select(LedgerEntry)).all()
    for member in (world["hotel"], world["clinic"]):
        sales = sum(e.amount_minor for e in entries
                    if e.provider_id == member.id and e.kind in ("gross", "discount", "fee"))
        mine = [r for r in members if r["member_id"] == str(member.id)]
        assert sum(Decimal(r["sales"]) for r in mine) == Decimal(sales) / 100
        assert all(r["currency"] == "EUR" for r in mine)
    assert client.get("/figures?format=csv&table=nothing").status_code == 404


def test_bad_filters_are_said_not_a_500(client, world):
    login(client, world["admin"])
    answer = client.get("/figures?start=yesterday&end=2020-01-01&link=moon&country=123")
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "YYYY-MM-DD" in html and "two-letter code" in html
    assert client.get("/figures?member=x").status_code == 400
    start = (utcnow().date() - timedelta(days=200)).isoformat()
    filtered = client.get(f"/figures?link=treatment&country=DE&start={start}")
    assert filtered.status_code == 200
    assert client.get("/figures?start=2020-01-01").status_code == 400  # over three years


@pytest.mark.parametrize("query", ["start=0001-01-01&end=0001-01-02",
                                   "start=0001-01-01&end=9999-12-31", "end=9999-12-31"])
def test_a_date_beyond_the_calendar_is_said_not_a_500(client, world, booked, query):
    login(client, world["admin"])
    answer = client.get(f"/figures?{query}&lang=en")
    assert answer.status_code == 400
    assert "Use a date between 2000-01-01 and " in answer.get_data(as_text=True)
    member = world["hotel"].id
    login(client, world["hotel_staff"])
    assert client.get(f"/portal/{member}/figures?{query}").status_code == 400
