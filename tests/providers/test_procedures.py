"""What an offer treats (issue 17): a fixed vocabulary, each code fitting some links of
the chain; the catalogue filters by it and sorts by relevance by default."""

from datetime import timedelta
from decimal import Decimal

import pytest

from journey.core.accounts.models import Role
from journey.core.errors import InvalidInput
from journey.core.extensions import db
from journey.core.types import today_in
from providers.models import ChainLink, Offer
from providers.procedures import PROCEDURE_TITLES, PROCEDURES, Procedure, procedures_for
from providers.services import offers, rates
from providers.services.search import LINK_WEIGHTS, SearchQuery, search_offers

SURGERY = {"chain_link": "treatment", "price_unit": "stay", "base_price_minor": 650000,
           "capacity_unit": "surgery_slot", "duration_value": 1, "duration_unit": "days",
           "procedure": "knee_arthroplasty", "status": "published",
           "texts": {"en": {"title": "Knee surgery"}}}


@pytest.fixture
def manager(make):
    member = make.member(kind="clinic", name="Neris Clinic")
    return member, make.token(make.user(Role.MEMBER_MANAGER, member))


def test_the_vocabulary_is_complete_and_fits_the_chain():
    assert set(PROCEDURES) == set(Procedure) == set(PROCEDURE_TITLES)
    links = {link.value for link in ChainLink}
    for _specialty, fitting in PROCEDURES.values():
        assert fitting and fitting <= links
    assert Procedure.KNEE_ARTHROPLASTY in procedures_for("treatment")
    assert Procedure.KNEE_ARTHROPLASTY not in procedures_for("transfer")
    assert procedures_for("childcare") == []


def test_an_offer_carries_its_procedure_over_the_api(client, manager):
    member, headers = manager
    response = client.post(f"/api/v1/members/{member.id}/offers", json=SURGERY,
                           headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["procedure"] == "knee_arthroplasty"
    assert response.json["procedure_title"] == "Knee joint replacement"
    changed = client.patch(f"/api/v1/offers/{response.json['id']}",
                           json={"procedure": None}, headers=headers)
    assert changed.status_code == 200 and changed.json["procedure"] is None


def test_a_procedure_that_does_not_fit_the_link_is_refused_with_a_reason(app, client,
                                                                         manager):
    member, headers = manager
    response = client.post(f"/api/v1/members/{member.id}/offers",
                           json={**SURGERY, "chain_link": "transfer"}, headers=headers)
    assert response.status_code == 422, response.json
    assert "procedure" in str(response.json)
    assert "Knee joint replacement is not offered as Transfer" in str(response.json)
    unknown = client.post(f"/api/v1/members/{member.id}/offers",
                          json={**SURGERY, "procedure": "brain_transplant"}, headers=headers)
    assert unknown.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Offer.id))) == 0


def test_changing_the_link_under_a_procedure_is_refused(make):
    offer = make.offer(procedure=Procedure.HIP_ARTHROPLASTY)
    with pytest.raises(InvalidInput) as error:
        offers.update_offer(make.admin(), offer.id, chain_link=ChainLink.ACCOMMODATION)
    assert "procedure" in error.value.fields
    db.session.rollback()
    moved = offers.update_offer(make.admin(), offer.id, chain_link=ChainLink.CONSULTATION)
    assert moved.procedure == Procedure.HIP_ARTHROPLASTY  # a consultation about it: fine


# --- the catalogue ---------------------------------------------------------------------

@pytest.fixture
def catalogue(make):
    admin = make.admin()
    rates.add_rate(admin, base="EUR", quote="NOK", rate=Decimal("11.70"),
                   effective_on=today_in() - timedelta(days=1))
    db.session.commit()
    clinic = make.member(kind="clinic")
    nanny = make.member(kind="childcare")
    insurer = make.member(kind="insurer")
    hotel = make.member(kind="hotel")
    spa = make.member(kind="spa")
    return {
        "babysitter": make.offer(nanny, chain_link="childcare", price_unit="session",
                                 capacity_unit="place", duration_unit="sessions",
                                 base_price_minor=1500,
                                 texts={"en": {"title": "Babysitter at your hotel"}}),
        "insurance": make.offer(insurer, chain_link="insurance", price_unit="day",
                                capacity_unit="place", duration_unit="days",
                                base_price_minor=400,
                                texts={"en": {"title": "Travel insurance"}}),
        "room": make.offer(hotel, chain_link="accommodation", price_unit="night",
                           capacity_unit="room", duration_unit="nights",
                           base_price_minor=8000,
                           texts={"en": {"title": "Double room",
                                         "description": "Five minutes from the spa."}}),
        "knee": make.offer(clinic, procedure="knee_arthroplasty", base_price_minor=650000,
                           texts={"en": {"title": "Knee replacement"}}),
        "hip": make.offer(clinic, procedure="hip_arthroplasty", base_price_minor=700000,
                          texts={"en": {"title": "Hip replacement"}}),
        "rehab": make.offer(spa, chain_link="rehabilitation", price_unit="day",
                            capacity_unit="bed", duration_unit="days", base_price_minor=9000,
                            procedure="orthopaedic_rehabilitation",
                            texts={"en": {"title": "Rehabilitation after surgery",
                                          "description": "With a spa and a pool."}}),
        "spa": make.offer(spa, chain_link="leisure", price_unit="session",
                          capacity_unit="place", duration_unit="sessions",
                          base_price_minor=6000, procedure="spa_wellness",
                          texts={"en": {"title": "Spa day"}}),
    }


def _ids(result):
    return [hit.offer.id for hit in result.hits]


def test_relevance_is_the_default_and_puts_treatment_before_the_babysitter(catalogue):
    result = search_offers(SearchQuery(language="en", currency="NOK"))
    order = _ids(result)
    assert order[:2] == [catalogue["knee"].id, catalogue["hip"].id]  # treatments, cheaper first
    assert order.index(catalogue["rehab"].id) < order.index(catalogue["room"].id)
    assert order.index(catalogue["room"].id) < order.index(catalogue["babysitter"].id)
    assert order.index(catalogue["room"].id) < order.index(catalogue["insurance"].id)
    cheapest_first = _ids(search_offers(SearchQuery(language="en", currency="NOK",
                                                    sort="price")))
    assert cheapest_first[0] == catalogue["insurance"].id  # the old default, still there
    assert cheapest_first[-1] == catalogue["hip"].id
    assert result.hits[0].converted.currency == "NOK"


def test_every_link_has_a_weight():
    assert set(LINK_WEIGHTS) == set(ChainLink)


def test_a_title_match_comes_before_a_description_match(catalogue):
    """"spa": the spa day (title) first, then the rehabilitation and the room that only
    mention a spa; among those two, the link decides (rehabilitation before the room)."""
    order = _ids(search_offers(SearchQuery(language="en", currency="EUR", text="spa")))
    assert order == [catalogue["spa"].id, catalogue["rehab"].id, catalogue["room"].id]


def test_the_catalogue_filters_by_procedure(client, catalogue):
    response = client.get("/api/v1/offers?procedure=knee_arthroplasty&currency=NOK")
    assert response.status_code == 200, response.json
    assert [item["offer"]["id"] for item in response.json["items"]] == [catalogue["knee"].id]
    assert response.json["items"][0]["offer"]["procedure_title"] == "Knee joint replacement"
    assert client.get("/api/v1/offers?procedure=nonsense").status_code == 422
    everything = client.get("/api/v1/offers").json["items"]
    assert everything[0]["offer"]["id"] == catalogue["knee"].id  # relevance by default
    assert client.get("/api/v1/offers?sort=-name").status_code == 200
