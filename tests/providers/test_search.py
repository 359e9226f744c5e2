from datetime import timedelta
from decimal import Decimal

import pytest

from journey.core.extensions import db
from journey.core.types import today_in
from providers.models import OfferStatus
from providers.services import offers, rates

TODAY = today_in()


@pytest.fixture
def catalogue(make):
    admin = make.admin()
    rates.add_rate(admin, base="EUR", quote="NOK", rate=Decimal("11.7000"), effective_on=TODAY)
    rates.add_rate(admin, base="EUR", quote="JPY", rate=Decimal("162.35"), effective_on=TODAY)
    db.session.commit()
    vilnius = make.member(kind="hotel", city="Vilnius", default_language="lt")
    kaunas = make.member(kind="sanatorium", city="Kaunas", default_language="lt")
    pending = make.member(kind="hotel", city="Vilnius", verified=False)
    room = make.offer(vilnius, chain_link="accommodation", price_unit="night",
                      capacity_unit="room", duration_unit="nights", base_price_minor=9000,
                      capacity=2, days=20,
                      texts={"en": {"title": "Double room", "description": "Quiet garden"},
                             "lt": {"title": "Dvivietis kambarys", "description": "Sodas"},
                             "de": {"title": "Doppelzimmer", "description": "Ruhiger Garten"}})
    suite = make.offer(vilnius, chain_link="accommodation", price_unit="night",
                       capacity_unit="room", duration_unit="nights", base_price_minor=21000,
                       capacity=1, days=20, max_quantity=1,
                       texts={"en": {"title": "Suite with a view"}})
    rehab = make.offer(kaunas, chain_link="rehabilitation", price_unit="day",
                       capacity_unit="bed", duration_unit="days", base_price_minor=12000,
                       capacity=10, days=20, currency="EUR",
                       texts={"en": {"title": "Knee rehabilitation"},
                              "lt": {"title": "Kelio reabilitacija"}})
    nok_room = make.offer(kaunas, chain_link="accommodation", price_unit="night",
                          capacity_unit="room", duration_unit="nights", currency="NOK",
                          base_price_minor=117000, capacity=3, days=20,
                          texts={"en": {"title": "Annex room"}})
    make.offer(vilnius, chain_link="accommodation", status=OfferStatus.DRAFT,
               price_unit="night", capacity_unit="room", duration_unit="nights")
    make.offer(pending, chain_link="accommodation", price_unit="night",
               capacity_unit="room", duration_unit="nights")
    return {"room": room.id, "suite": suite.id, "rehab": rehab.id, "nok_room": nok_room.id}


def _ids(response):
    assert response.status_code == 200, response.json
    return [item["offer"]["id"] for item in response.json["items"]]


def test_only_published_offers_of_verified_members(client, catalogue):
    response = client.get("/api/v1/offers?chain_link=accommodation")
    assert sorted(_ids(response)) == sorted([catalogue["room"], catalogue["suite"],
                                             catalogue["nok_room"]])
    assert response.json["total"] == 3


def test_filters_by_city_kind_and_link(client, catalogue):
    assert _ids(client.get("/api/v1/offers?city=kaunas&chain_link=rehabilitation")) == \
        [catalogue["rehab"]]
    assert set(_ids(client.get("/api/v1/offers?member_kind=sanatorium"))) == \
        {catalogue["rehab"], catalogue["nok_room"]}


def test_sorted_by_price_in_the_asked_currency(client, catalogue):
    # 1,170.00 NOK = 100.00 EUR sits between 90 EUR and 120 EUR.
    response = client.get("/api/v1/offers?currency=EUR&sort=price")
    assert _ids(response) == [catalogue["room"], catalogue["nok_room"], catalogue["rehab"],
                              catalogue["suite"]]
    assert _ids(client.get("/api/v1/offers?currency=EUR&sort=-price"))[0] == catalogue["suite"]


def test_prices_are_converted_with_the_stored_rate(client, catalogue):
    items = client.get("/api/v1/offers?currency=NOK&lang=en&chain_link=rehabilitation"
                       ).json["items"]
    (item,) = items
    assert item["unit_price"]["amount_minor"] == 12000
    assert item["price"] == {"amount_minor": 140400, "currency": "NOK",
                             "formatted": "NOK1,404.00"}
    assert item["rate"]["rate"] == "11.7000000000"
    assert item["rate"]["effective_on"] == TODAY.isoformat()


def test_zero_decimal_currency(client, catalogue):
    items = client.get("/api/v1/offers?currency=JPY&chain_link=rehabilitation").json["items"]
    # 120.00 EUR x 162.35 = 19,482 JPY
    assert items[0]["price"]["amount_minor"] == 19482


def test_price_range_in_the_asked_currency(client, catalogue):
    # 1,000-1,200 NOK = 85.47-102.56 EUR: the 90 EUR room and the 1,170 NOK room
    ids = _ids(client.get("/api/v1/offers?currency=NOK&price_min=100000&price_max=120000"))
    assert sorted(ids) == sorted([catalogue["room"], catalogue["nok_room"]])


def test_unknown_currency_or_missing_rate_is_a_clear_4xx(client, catalogue):
    response = client.get("/api/v1/offers?currency=XYZ")
    assert response.status_code == 422
    response = client.get("/api/v1/offers?currency=CHF")
    assert response.status_code == 200
    assert all(item["price"] is None for item in response.json["items"])


def test_free_text_in_the_asked_language(client, catalogue):
    assert _ids(client.get("/api/v1/offers?q=garten&lang=de")) == [catalogue["room"]]
    assert _ids(client.get("/api/v1/offers?q=reabilitacija&lang=lt")) == [catalogue["rehab"]]
    assert _ids(client.get("/api/v1/offers?q=100%25&lang=en")) == []


def test_titles_in_the_asked_language_with_fallback(client, catalogue):
    """German asked, none written: English comes before the member's Lithuanian."""
    items = client.get("/api/v1/offers?lang=de&chain_link=rehabilitation").json["items"]
    assert (items[0]["title"], items[0]["language"]) == ("Knee rehabilitation", "en")
    lithuanian = client.get("/api/v1/offers?lang=lt&chain_link=rehabilitation").json
    assert lithuanian["items"][0]["language"] == "lt"


def test_availability_window_and_quantity(app, client, make, catalogue):
    start = TODAY + timedelta(days=2)
    end = start + timedelta(days=4)
    url = f"/api/v1/offers?chain_link=accommodation&start={start}&end={end}"
    assert sorted(_ids(client.get(url + "&quantity=2"))) == sorted(
        [catalogue["room"], catalogue["nok_room"]])
    assert _ids(client.get(url + "&quantity=3")) == [catalogue["nok_room"]]
    # One day without capacity inside the window removes the offer.
    offers.set_capacity(make.admin(), catalogue["room"], start=start + timedelta(days=1),
                        end=start + timedelta(days=1), capacity=0)
    db.session.commit()
    assert catalogue["room"] not in _ids(client.get(url + "&quantity=1"))
    # Beyond the calendar nothing is available.
    far = TODAY + timedelta(days=60)
    assert _ids(client.get(f"/api/v1/offers?start={far}&end={far}")) == []


def test_bad_windows_are_explained(client, catalogue):
    response = client.get(f"/api/v1/offers?start={TODAY}")
    assert response.status_code == 422
    assert "end" in response.json["errors"]["query"]
    response = client.get(f"/api/v1/offers?start={TODAY}&end={TODAY - timedelta(days=1)}")
    assert response.status_code == 422
    response = client.get("/api/v1/offers?price_min=500&price_max=100")
    assert response.status_code == 422
    response = client.get("/api/v1/offers?sort=random")
    assert response.status_code == 422


def test_pages_with_a_total(client, catalogue):
    first = client.get("/api/v1/offers?per_page=2&page=1&sort=price").json
    second = client.get("/api/v1/offers?per_page=2&page=2&sort=price").json
    assert first["total"] == second["total"] == 4
    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert not {i["offer"]["id"] for i in first["items"]} & {
        i["offer"]["id"] for i in second["items"]}
    assert client.get("/api/v1/offers?per_page=1000").status_code == 422


def test_sorted_by_name(client, catalogue):
    titles = [i["title"] for i in client.get("/api/v1/offers?sort=name&lang=en").json["items"]]
    assert titles == sorted(titles, key=str.lower)


def test_seasonal_price_on_the_start_date(client, make, catalogue):
    start = TODAY + timedelta(days=3)
    offers.add_price_rule(make.admin(), catalogue["rehab"], starts_on=start,
                          ends_on=start + timedelta(days=5), price_minor=15000)
    db.session.commit()
    items = client.get(f"/api/v1/offers?chain_link=rehabilitation&start={start}&end={start}"
                       ).json["items"]
    assert items[0]["unit_price"]["amount_minor"] == 15000
    items = client.get("/api/v1/offers?chain_link=rehabilitation").json["items"]
    assert items[0]["unit_price"]["amount_minor"] == 12000


def test_name_sort_uses_each_offers_own_fallback(client, make):
    """The member-default branch of the title must belong to the offer's own member
    (a wrongly correlated subquery picks another member's language on PostgreSQL)."""
    lt_member = make.member(default_language="lt")
    ru_member = make.member(default_language="ru")
    make.offer(lt_member, texts={"lt": {"title": "B lt"}, "ru": {"title": "Z ru"}})
    make.offer(ru_member, texts={"ru": {"title": "A ru"}, "lt": {"title": "Y lt"}})
    titles = [i["title"] for i in client.get("/api/v1/offers?lang=de&sort=name").json["items"]]
    assert titles == ["A ru", "B lt"]
    titles = [i["title"] for i in client.get("/api/v1/offers?lang=de&sort=-name").json["items"]]
    assert titles == ["B lt", "A ru"]


def test_a_page_past_the_end_still_has_the_total(client, catalogue):
    body = client.get("/api/v1/offers?per_page=3&page=5").json
    assert body["items"] == [] and body["total"] == 4
