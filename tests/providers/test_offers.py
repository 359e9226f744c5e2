from datetime import date, timedelta

import pytest
from sqlalchemy import select

from journey.core.extensions import db
from journey.core.types import today_in
from providers.models import Offer, OfferText, PriceRule
from providers.services import offers

OFFER = {
    "chain_link": "accommodation", "price_unit": "night", "base_price_minor": 8900,
    "companion_price_minor": 2500, "min_quantity": 1, "max_quantity": 4,
    "capacity_unit": "room", "lead_time_days": 2, "duration_value": 1,
    "duration_unit": "nights", "confirmation_mode": "instant",
    "texts": {"lt": {"title": "Dvivietis kambarys", "inclusions": ["Pusryčiai"]},
              "en": {"title": "Double room", "description": "Near the clinic",
                     "inclusions": ["Breakfast"], "exclusions": ["City tax"]}},
    "cancellation_tiers": [{"days_before": 14, "refund_percent": 100},
                           {"days_before": 3, "refund_percent": 50}],
    "status": "published",
}


@pytest.fixture
def manager(make):
    from journey.core.accounts.models import Role

    member = make.member(kind="hotel", name="Hotel Neris")
    return member, make.token(make.user(Role.MEMBER_MANAGER, member))


def test_manager_creates_a_published_offer(client, manager):
    member, headers = manager
    response = client.post(f"/api/v1/members/{member.id}/offers", json=OFFER, headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "published"
    assert body["currency"] == "EUR"
    assert body["base_price"] == {"amount_minor": 8900, "currency": "EUR",
                                  "formatted": "€89.00"}
    assert body["languages"] == ["en", "lt"]
    assert [t["days_before"] for t in body["cancellation_tiers"]] == [14, 3]
    german = client.get(f"/api/v1/offers/{body['id']}?lang=de").json
    assert german["base_price"]["formatted"] == "89,00\u00a0€"
    assert german["title"] == "Double room"  # English before the member default (lt)


@pytest.mark.parametrize("field, value", [
    ("base_price_minor", 89.5),          # money is never a float
    ("base_price_minor", "8900"),
    ("base_price_minor", -1),
    ("chain_link", "teleportation"),
    ("min_quantity", 0),
    ("max_quantity", 0),
    ("currency", "EURO"),
    ("lead_time_days", 10_000),
    ("texts", {"en": {"description": "no title"}}),
    ("cancellation_tiers", [{"days_before": 3, "refund_percent": 101}]),
    ("unknown_field", 1),
])
def test_bad_offer_input_gets_field_errors_and_writes_nothing(app, client, manager, field,
                                                              value):
    member, headers = manager
    response = client.post(f"/api/v1/members/{member.id}/offers?lang=lt",
                           json={**OFFER, field: value}, headers=headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Offer.id))) == 0
        assert db.session.scalar(db.select(db.func.count(OfferText.id))) == 0


def test_max_below_min_and_unknown_currency_are_refused(client, manager):
    member, headers = manager
    response = client.post(f"/api/v1/members/{member.id}/offers",
                           json={**OFFER, "min_quantity": 3, "max_quantity": 2}, headers=headers)
    assert response.status_code == 422
    assert "max_quantity" in response.json["errors"]["json"]
    response = client.post(f"/api/v1/members/{member.id}/offers",
                           json={**OFFER, "currency": "ABC"}, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"]["json"]["currency"] == ["Not an ISO 4217 currency code."]


def test_publishing_needs_a_text(client, manager):
    member, headers = manager
    body = {**OFFER, "texts": {}, "status": "draft"}
    created = client.post(f"/api/v1/members/{member.id}/offers", json=body, headers=headers)
    assert created.status_code == 201
    published = client.patch(f"/api/v1/offers/{created.json['id']}",
                             json={"status": "published"}, headers=headers)
    assert published.status_code == 409
    assert client.get(f"/api/v1/offers/{created.json['id']}",
                      headers=headers).json["status"] == "draft"


def test_only_drafts_are_deleted(client, manager):
    member, headers = manager
    offer_id = client.post(f"/api/v1/members/{member.id}/offers", json=OFFER,
                           headers=headers).json["id"]
    assert client.delete(f"/api/v1/offers/{offer_id}", headers=headers).status_code == 409
    client.patch(f"/api/v1/offers/{offer_id}", json={"status": "draft"}, headers=headers)
    assert client.delete(f"/api/v1/offers/{offer_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/offers/{offer_id}", headers=headers).status_code == 404


def test_texts_per_language(client, manager):
    member, headers = manager
    offer_id = client.post(f"/api/v1/members/{member.id}/offers", json=OFFER,
                           headers=headers).json["id"]
    put = client.put(f"/api/v1/offers/{offer_id}/texts/de",
                     json={"title": "Doppelzimmer", "inclusions": ["Frühstück", " "]},
                     headers=headers)
    assert put.status_code == 200
    assert put.json["inclusions"] == ["Frühstück"]
    assert client.get(f"/api/v1/offers/{offer_id}?lang=de").json["title"] == "Doppelzimmer"
    texts = client.get(f"/api/v1/offers/{offer_id}/texts").json["texts"]
    assert sorted(t["language"] for t in texts) == ["de", "en", "lt"]
    bad = client.put(f"/api/v1/offers/{offer_id}/texts/zz-nonsense", json={"title": "x"},
                     headers=headers)
    assert bad.status_code == 422
    assert client.delete(f"/api/v1/offers/{offer_id}/texts/de", headers=headers
                         ).status_code == 204


def test_seasonal_prices_do_not_overlap_and_set_the_price_of_a_day(app, client, make, manager):
    member, headers = manager
    offer_id = client.post(f"/api/v1/members/{member.id}/offers", json=OFFER,
                           headers=headers).json["id"]
    summer = {"name": "Summer", "starts_on": "2031-06-01", "ends_on": "2031-08-31",
              "price_minor": 12900, "companion_price_minor": 3500}
    assert client.post(f"/api/v1/offers/{offer_id}/prices", json=summer,
                       headers=headers).status_code == 201
    overlap = client.post(f"/api/v1/offers/{offer_id}/prices",
                          json={**summer, "starts_on": "2031-08-31", "ends_on": "2031-09-10"},
                          headers=headers)
    assert overlap.status_code == 409
    backwards = client.post(f"/api/v1/offers/{offer_id}/prices",
                            json={**summer, "starts_on": "2031-10-10", "ends_on": "2031-10-01"},
                            headers=headers)
    assert backwards.status_code == 422
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert offers.price_for(offer, date(2031, 7, 1)).amount == 12900
        assert offers.price_for(offer, date(2031, 7, 1), companion=True).amount == 3500
        assert offers.price_for(offer, date(2031, 9, 1)).amount == 8900
        assert offers.price_for(offer, date(2031, 9, 1), companion=True).amount == 2500
        assert db.session.scalar(db.select(db.func.count(PriceRule.id))) == 1


def test_cancellation_policy(app, client, manager):
    member, headers = manager
    offer_id = client.post(f"/api/v1/members/{member.id}/offers", json=OFFER,
                           headers=headers).json["id"]
    inverted = client.put(f"/api/v1/offers/{offer_id}/cancellation-tiers",
                          json={"tiers": [{"days_before": 30, "refund_percent": 50},
                                          {"days_before": 7, "refund_percent": 100}]},
                          headers=headers)
    assert inverted.status_code == 422
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert [offers.refund_percent(offer, d) for d in (30, 14, 13, 3, 2, 0)] == \
            [100, 100, 50, 50, 0, 0]


def test_capacity_calendar(client, manager):
    member, headers = manager
    offer_id = client.post(f"/api/v1/members/{member.id}/offers", json=OFFER,
                           headers=headers).json["id"]
    start = today_in() + timedelta(days=1)
    end = start + timedelta(days=13)
    written = client.put(f"/api/v1/offers/{offer_id}/calendar",
                         json={"start": start.isoformat(), "end": end.isoformat(),
                               "capacity": 5, "weekdays": [0, 1, 2, 3, 4]}, headers=headers)
    assert written.status_code == 200
    assert written.json["days_written"] == 10
    days = client.get(f"/api/v1/offers/{offer_id}/calendar?start={start}&end={end}").json
    assert len(days) == 14
    for day in days:
        weekday = date.fromisoformat(day["day"]).weekday()
        assert day["capacity"] == (5 if weekday < 5 else 0)
        assert day["available"] == day["capacity"] - day["used"]
    too_long = client.get(f"/api/v1/offers/{offer_id}/calendar?start={start}"
                          f"&end={start + timedelta(days=800)}")
    assert too_long.status_code == 422
    negative = client.put(f"/api/v1/offers/{offer_id}/calendar",
                          json={"start": start.isoformat(), "end": end.isoformat(),
                                "capacity": -1}, headers=headers)
    assert negative.status_code == 422


def test_the_public_condition_of_a_query_agrees_with_is_public(make):
    """One rule in two forms: an offer on sale is published by a verified member."""
    from sqlalchemy import select

    from providers.models import MemberStatus, OfferStatus, Provider
    from providers.services.members import set_member_status

    verified, pending, suspended = (make.member(), make.member(verified=False),
                                    make.member())
    set_member_status(make.admin(), suspended.id, MemberStatus.SUSPENDED)
    every = [make.offer(member, status=status) for member in (verified, pending, suspended)
             for status in (OfferStatus.DRAFT, OfferStatus.PUBLISHED, OfferStatus.ARCHIVED)]
    found = set(db.session.scalars(select(Offer.id).join(Provider)
                                   .where(offers.public_condition())))
    assert found == {offer.id for offer in every if offers.is_public(offer)}
    assert len(found) == 1


def test_the_capacity_is_not_lowered_below_what_is_held_or_booked(client, manager, make):
    """A day keeps at least the units in use on it (held, booked): lowering it further
    is a 409 in the caller's language that names the day, and writes nothing; the days
    without that many units in use take the new capacity; an expired hold counts no
    more."""
    from bookings.services.availability import Line
    from bookings.services.holds import place_holds
    from journey.core.types import utcnow
    from providers.models import CapacityDay

    member, headers = manager
    offer = make.offer(member, capacity=3, days=10, chain_link="accommodation",
                       price_unit="night", capacity_unit="room", duration_unit="nights")
    start = today_in() + timedelta(days=2)
    place_holds([Line(offer.id, start, 2, 2)], group_key="guest",
                ttl=timedelta(minutes=30))  # two rooms, two nights
    db.session.commit()

    def capacities():
        db.session.expire_all()
        return dict(db.session.execute(select(CapacityDay.day, CapacityDay.capacity).where(
            CapacityDay.offer_id == offer.id)).all())

    before = capacities()
    body = {"start": start.isoformat(), "end": (start + timedelta(days=3)).isoformat(),
            "capacity": 1}
    refused = client.put(f"/api/v1/offers/{offer.id}/calendar", json=body,
                         headers={**headers, "Accept-Language": "nb"})
    assert refused.status_code == 409, refused.json
    assert refused.headers["Content-Language"] == "nb"
    assert start.isoformat() in refused.json["message"]
    assert "units are already held" not in refused.json["message"]  # translated
    assert refused.json["errors"]["json"]["capacity"] == [refused.json["message"]]
    assert capacities() == before  # nothing written
    # Down to what is in use is fine, and on other weekdays than the held days too.
    assert client.put(f"/api/v1/offers/{offer.id}/calendar", json={**body, "capacity": 2},
                      headers=headers).status_code == 200
    spared = [d for d in range(7) if d not in (start.weekday(),
                                                 (start + timedelta(days=1)).weekday())]
    assert client.put(f"/api/v1/offers/{offer.id}/calendar",
                      json={**body, "capacity": 0, "weekdays": spared},
                      headers=headers).status_code == 200
    # Once the hold has expired, its units are free to take away.
    offers.set_capacity(make.admin(), offer.id, start=start, end=start, capacity=0,
                        now=utcnow() + timedelta(hours=1))
    db.session.commit()
    assert capacities()[start] == 0
