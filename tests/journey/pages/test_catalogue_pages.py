"""Issue 17 on the pages: the catalogue's filters folded on a phone, relevance first,
"from" prices, the procedure in the offer editor, amounts in the locale's writing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from journey.builder.models import Journey
from journey.builder.services import templates
from journey.core.extensions import db
from journey.pages.portal_forms import format_local_decimal, parse_local_decimal
from tests.journey.builder_world import build_world, soon
from tests.journey.pages.patient_fixtures import add, field_errors, open_journey, text
from tests.journey.pages.patient_fixtures import login as login_patient
from tests.journey.pages.portal_fixtures import login, offer_row, portal_world


@pytest.fixture
def world(make):
    return build_world(make)


def _filters(html: str) -> str:
    return re.search(r'<details class="filter-fold"[^>]*>', html).group(0)


def test_the_filters_fold_until_one_is_set(client, world):
    html = text(client.get("/catalogue"))
    assert "open" not in _filters(html)  # a phone sees the results first
    assert re.search(r'<summary>Filters and sorting</summary>', html)
    assert 'name="q"' in html.split('<details')[0]  # the text box stays outside
    for query in ("chain_link=treatment", "procedure=knee_arthroplasty", "city=Vilnius",
                  "price_min=10", "sort=-price"):
        assert " open" in _filters(text(client.get(f"/catalogue?{query}"))), query
    assert " open" not in _filters(text(client.get("/catalogue?q=knee")))


def test_relevance_is_the_first_and_default_sort(client, world):
    html = text(client.get("/catalogue?currency=NOK"))
    sort = re.search(r'<select[^>]*name="sort".*?</select>', html, re.S).group(0)
    first = re.search(r'<option[^>]*value="([^"]+)"', sort)
    assert first.group(1) == "relevance" and "selected" in first.group(0)
    titles = re.findall(r'<h2><a href="/catalogue/offers/\d+"[^>]*>([^<]+)</a>', html)
    assert titles.index("Knee replacement") < titles.index("Double room")
    assert "from <strong>" in html  # "from" prices


def test_the_procedure_filter_has_groups(client, world, make):
    knee = make.offer(world["clinic"], procedure="knee_arthroplasty",
                      texts={"en": {"title": "Classified knee"}})
    html = text(client.get("/catalogue?procedure=knee_arthroplasty"))
    assert '<optgroup label="Orthopaedics">' in html
    titles = re.findall(r'<h2><a href="/catalogue/offers/(\d+)"', html)
    assert titles == [str(knee.id)]
    assert "Knee joint replacement" in html  # beside the chain link in the result
    assert client.get("/catalogue?procedure=nonsense").status_code == 422


def test_the_offer_page_says_from_in_the_readers_currency(client, world):
    with client.session_transaction() as session:
        session["currency"] = "NOK"
    html = text(client.get(f"/catalogue/offers/{world['room'].id}"))
    price = re.search(r'<p class="price">(.*?)</p>', html, re.S).group(1)
    assert "NOK" in price and "(€80.00)" in price



def test_the_offer_pages_date_is_written_as_every_other_date(client, world):
    """The offer's price date was Babel's "medium" date, "2026/12/29" on an Arabic page
    that writes every other date "29 ديسمبر 2026"; it is the pages' one format."""
    html = text(client.get(f"/catalogue/offers/{world['room'].id}?lang=ar"))
    hint = re.search(r'<p class="hint">([^<]*)</p>', html).group(1)
    assert re.search(r"\d{1,2} \w+ \d{4}", hint), hint
    assert not re.search(r"\d+\u200f?/\d+\u200f?/\d+", hint), hint



def test_a_wrong_price_and_dates_in_the_wrong_order_are_named_at_once(client, world):
    """A price in letters hid that the end came before the start: the search's rule
    between fields came only in a second round. Both are named beside their fields."""
    page = client.get("/catalogue?lang=nb&price_min=abc&start=2027-05-01&end=2027-04-01")
    assert page.status_code == 422
    html = text(page)
    assert field_errors(html, "price_min") == ["Ikke et gyldig tall."]
    assert field_errors(html, "end") == ["Kan ikke være før starten."]
    both_wrong = text(client.get("/catalogue?lang=nb&currency=XYZ&price_min=9&price_max=1"
                                 "&start=2027-05-01&end=x"))
    assert field_errors(both_wrong, "end") == ["Ikke en gyldig dato."]
    assert field_errors(both_wrong, "price_max") == []  # no currency to compare them in


def test_the_package_page_shows_its_from_price(client, world, make):
    template = templates.create_template(
        world["coordinator"], status="published", texts={"en": {"name": "Knee week"}},
        links=[{"default_offer_id": world["room"].id, "day_offset": 0, "days": 5},
               {"default_offer_id": world["surgery"].id, "day_offset": 1}])
    db.session.commit()
    html = text(client.get(f"/catalogue/packages/{template.id}"))
    block = re.search(r'<p class="price package-price">(.*?)</p>', html, re.S).group(1)
    assert "€6,900.00" in block  # 5 nights at 80.00 and the surgery at 6,500.00


def test_a_members_name_and_city_are_each_isolated_for_right_to_left_pages(client, world):
    """Two Latin names side by side on an Arabic page would merge into one run and swap
    places: each is a <bdi> of its own."""
    template = templates.create_template(
        world["coordinator"], status="published", texts={"en": {"name": "Knee week"}},
        links=[{"default_offer_id": world["room"].id, "day_offset": 0, "days": 5}])
    db.session.commit()
    hotel = world["room"].provider
    pair = (f'<bdi dir="auto">{hotel.name}</bdi> · <bdi dir="auto">{hotel.city}</bdi>')
    for url in (f"/catalogue/offers/{world['room'].id}?lang=ar",
                f"/catalogue/packages/{template.id}?lang=ar"):
        assert pair in client.get(url).get_data(as_text=True), url


def test_alternatives_are_priced_in_the_journeys_currency(client, world):
    login_patient(client, world["patient"])
    journey_id = open_journey(client, world, currency="NOK")
    add(client, journey_id, world["room"], soon(10), days="3")
    with client.application.app_context():
        item_id = db.session.get(Journey, journey_id).items[0].id
    html = text(client.get(f"/my/journeys/{journey_id}/items/{item_id}/alternatives"))
    assert "Garden room" in html
    price = re.search(r'<p class="price">(.*?)</p>', html, re.S).group(1)
    assert "NOK" in price and "1,053.00" in price  # 90.00 EUR at 11.70


# --- the offer editor -----------------------------------------------------------------

@pytest.fixture
def portal(make):
    return portal_world(make)


def test_amounts_are_written_and_read_in_the_locale():
    assert format_local_decimal(Decimal("6500.00"), "lt") == "6500,00"
    assert format_local_decimal(Decimal("6500.00"), "en") == "6500.00"
    for typed in ("6500,00", "6 500,00", "6500.00", "6500"):
        assert parse_local_decimal(typed, "lt") == Decimal("6500"), typed
    assert parse_local_decimal("6.500,50", "de") == Decimal("6500.50")
    assert parse_local_decimal("6500.50", "de") == Decimal("6500.50")  # the plain dot too
    for bad in ("NaN", "Infinity", "abc", "6,500.00"):
        with pytest.raises(ValueError):
            parse_local_decimal(bad, "lt")


def _terms_form(page: str) -> dict:
    form = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        form[name] = value
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page,
                                 re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', body) or re.search(
            r'<option value="([^"]*)" selected', body) or re.search(
            r'<option[^>]*value="([^"]*)"', body)
        form[name] = chosen.group(1)
    return form


def test_a_lithuanian_editor_reads_and_types_6500_comma_00(client, portal):
    login(client, portal["clinic_staff"])
    knee = portal["knee"]
    page = client.get(f"/portal/offers/{knee.id}?lang=lt").get_data(as_text=True)
    assert re.search(r'name="base_price"[^>]*type="text"[^>]*value="6500,00"', page)
    assert re.search(r'name="vat_percent"[^>]*value="0,00"', page)
    assert 'value="6500.00"' not in page
    form = {**_terms_form(page), "base_price": "6400,50", "procedure": "knee_arthroplasty"}
    response = client.post(f"/portal/offers/{knee.id}?lang=lt", data=form)
    assert response.status_code == 302, re.findall(r'class="error[^"]*"[^>]*>(.*?)<',
                                                   response.get_data(as_text=True))
    row = offer_row(knee.id)
    assert (row.base_price_minor, row.procedure) == (640050, "knee_arthroplasty")


def test_a_procedure_of_another_link_is_refused_beside_the_field(client, portal):
    room = portal["room"]
    login(client, portal["hotel_staff"])
    page = client.get(f"/portal/offers/{room.id}").get_data(as_text=True)
    assert '<optgroup label="Dentistry">' in page
    form = {**_terms_form(page), "procedure": "dental_implant"}
    response = client.post(f"/portal/offers/{room.id}", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    block = re.search(r'<div class="field has-error">\s*<label for="procedure".*?</div>',
                      html, re.S)
    assert block is not None and "is not offered as Accommodation" in block.group(0)
    assert offer_row(room.id).procedure is None

