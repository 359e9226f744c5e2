"""The insurance API and pages with the test client: round trips, refusals and bad
input (a 4xx in the caller's language, nothing written)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bookings.models import InsurerReceivable
from journey.core.extensions import db
from journey.core.types import today_in
from journey.insurance.models import CoverageProduct, Guarantee, GuaranteeStatus, InsurancePolicy
from journey.insurance.services.coverage import guarantee_of
from journey.invoicing.models import Document
from tests.journey.insurance.insurer_world import add_insurer, approve, confirm, quoted
from tests.journey.pages.patient_fixtures import login, text

PRODUCT = {"name": "Rehab cover", "chain_links": ["rehabilitation"], "share_percent": 50,
           "currency": "EUR", "status": "published"}


@pytest.fixture
def insured(world, make):
    return add_insurer(world, make)


def _dates():
    return {"valid_from": today_in().isoformat(),
            "valid_until": (today_in() + timedelta(days=90)).isoformat()}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_insurers_manager_publishes_a_product_and_everyone_sees_it(insured, client,
                                                                       make):
    url = f"/api/v1/insurers/{insured['insurer'].id}/coverage-products"
    answer = client.post(url, json={**PRODUCT, **_dates()},
                         headers=make.token(insured["insurer_manager"]))
    assert answer.status_code == 201, answer.json
    assert answer.json["share_percent"] == 50 and answer.json["status"] == "published"
    listed = client.get(url).json
    assert {p["name"] for p in listed} == {"Treatment abroad", "Rehab cover"}
    changed = client.patch(f"/api/v1/coverage-products/{answer.json['id']}",
                           json={"fixed_minor": 5000},
                           headers=make.token(insured["insurer_manager"]))
    assert changed.status_code == 200, changed.json
    assert (changed.json["share_percent"], changed.json["fixed"]["amount_minor"]) == (None, 5000)


@pytest.mark.parametrize("who", ["insurer_staff", "rival_staff", "patient", "coordinator"])
def test_only_its_manager_writes_a_product(insured, client, make, who):
    before = count(CoverageProduct)
    answer = client.post(f"/api/v1/insurers/{insured['insurer'].id}/coverage-products",
                         json={**PRODUCT, **_dates()}, headers=make.token(insured[who]))
    assert answer.status_code == 403
    assert count(CoverageProduct) == before


@pytest.mark.parametrize("bad, field", [
    ({"share_percent": 120}, "share_percent"),
    ({"share_percent": None}, "share_percent"),  # neither a share nor a fixed amount
    ({"fixed_minor": 100}, "share_percent"),  # both
    ({"chain_links": []}, "chain_links"),
    ({"chain_links": ["spaceflight"]}, "chain_links"),
    ({"currency": "XXY"}, "currency"),
    ({"valid_until": "2020-01-01"}, "valid_until"),
    ({"deductible_minor": -1}, "deductible_minor"),
])
def test_bad_products_are_refused_in_the_callers_language(insured, client, make, bad, field):
    before = count(CoverageProduct)
    answer = client.post(f"/api/v1/insurers/{insured['insurer'].id}/coverage-products",
                         json={**PRODUCT, **_dates(), **bad},
                         headers={**make.token(insured["insurer_manager"]),
                                  "Accept-Language": "de"})
    assert answer.status_code == 422, answer.json
    assert field in str(answer.json), answer.json
    assert count(CoverageProduct) == before


def test_a_policy_and_its_guarantee_through_the_api(insured, client, make):
    quote = quoted(insured, policy=False)
    patient = make.token(insured["patient"])
    url = f"/api/v1/journeys/{quote.journey_id}/policy"
    assert client.get(url, headers=patient).status_code == 404
    bad = client.post(url, json={"product_id": insured["product"].id, "policy_number": "",
                                 "holder_name": "I"}, headers=patient)
    assert bad.status_code == 422 and "policy_number" in bad.json["errors"]["json"]
    unknown = client.post(url, json={"product_id": 999999, "policy_number": "P-1",
                                     "holder_name": "I"}, headers=patient)
    assert unknown.status_code == 422, unknown.json
    assert count(InsurancePolicy) == 0
    added = client.post(url, json={"product_id": insured["product"].id,
                                   "policy_number": "P-1", "holder_name": "Ingrid"},
                        headers=patient)
    assert added.status_code == 201, added.json
    assert client.post(url, json={"product_id": insured["product"].id,
                                  "policy_number": "P-2", "holder_name": "I"},
                       headers=patient).status_code == 409
    assert client.post(url, json={"product_id": insured["product"].id,
                                  "policy_number": "P-2", "holder_name": "I"},
                       headers=make.token(insured["patient2"])).status_code == 404
    requoted = client.post(f"/api/v1/journeys/{quote.journey_id}/quotes", headers=patient)
    assert requoted.status_code == 201, requoted.json
    assert requoted.json["covered"]["amount_minor"] == 500000
    assert [line["covered"]["amount_minor"] for line in requoted.json["lines"]] == [0, 500000]
    guarantee = guarantee_of(requoted.json["id"])
    staff = make.token(insured["insurer_staff"])
    listed = client.get(f"/api/v1/insurers/{insured['insurer'].id}/guarantees",
                        headers=staff)
    assert [g["id"] for g in listed.json] == [guarantee.id]
    assert client.get(f"/api/v1/insurers/{insured['insurer'].id}/guarantees",
                      headers=make.token(insured["rival_staff"])).status_code == 404
    assert client.get(f"/api/v1/guarantees/{guarantee.id}",
                      headers=make.token(insured["rival_staff"])).status_code == 404
    assert client.post(f"/api/v1/guarantees/{guarantee.id}/approve", json={
        "amount_minor": 500000, "valid_until": _dates()["valid_until"]},
        headers=patient).status_code == 403
    for bad in ({"amount_minor": 500001}, {"amount_minor": 0},
                {"valid_until": (today_in() - timedelta(days=1)).isoformat(), "amount_minor": 1}):
        body = {"amount_minor": 500000, "valid_until": _dates()["valid_until"], **bad}
        answer = client.post(f"/api/v1/guarantees/{guarantee.id}/approve", json=body,
                             headers=staff)
        assert answer.status_code == 422, (bad, answer.json)
        db.session.expire_all()
        assert db.session.get(Guarantee, guarantee.id).status == GuaranteeStatus.PENDING
    approved = client.post(f"/api/v1/guarantees/{guarantee.id}/approve", json={
        "amount_minor": 500000, "valid_until": _dates()["valid_until"]}, headers=staff)
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "approved"
    assert client.post(f"/api/v1/guarantees/{guarantee.id}/decline", json={},
                       headers=staff).status_code == 409
    removed = client.delete(url, headers=patient)
    assert removed.status_code == 204
    assert client.get(url, headers=patient).status_code == 404


def test_receivables_through_the_api(insured, client, make, gateway):
    quote = quoted(insured)
    approve(insured, quote)
    booking = confirm(insured, gateway, quote)
    receivable = db.session.scalar(select(InsurerReceivable).where(
        InsurerReceivable.booking_id == booking.id))
    mine = client.get(f"/api/v1/insurer-receivables?provider_id={insured['insurer'].id}",
                      headers=make.token(insured["insurer_staff"]))
    assert [r["id"] for r in mine.json] == [receivable.id]
    assert client.get(f"/api/v1/insurer-receivables?provider_id={insured['insurer'].id}",
                      headers=make.token(insured["rival_staff"])).status_code == 404
    url = f"/api/v1/insurer-receivables/{receivable.id}/payments"
    body = {"amount_minor": 500000, "paid_on": today_in().isoformat(), "reference": "T-9"}
    assert client.post(url, json=body, headers=make.token(
        insured["insurer_manager"])).status_code == 403
    too_much = client.post(url, json={**body, "amount_minor": 500001},
                           headers=make.token(insured["coordinator"]))
    assert too_much.status_code == 422
    paid = client.post(url, json=body, headers=make.token(insured["coordinator"]))
    assert paid.status_code == 200, paid.json
    assert paid.json["status"] == "paid" and paid.json["outstanding"]["amount_minor"] == 0
    staff = make.token(insured["insurer_staff"])
    for fact in (f"invoice:insurer:booking:{booking.id}",
                 f"receipt:insurer:booking:{booking.id}:1"):
        document = db.session.scalar(select(Document).where(Document.fact == fact))
        seen = client.get(f"/api/v1/documents/{document.id}", headers=staff)
        assert seen.status_code == 200, seen.json
        assert client.get(f"/api/v1/documents/{document.id}", headers=make.token(
            insured["rival_staff"])).status_code == 404
        assert client.get(f"/api/v1/documents/{document.id}", headers=make.token(
            insured["patient"])).status_code == 404


def test_the_patient_adds_and_removes_a_policy_on_the_journey_page(insured, client):
    quote = quoted(insured, policy=False)
    login(client, insured["patient"])
    page = client.get(f"/my/journeys/{quote.journey_id}")
    assert "insurance-title" in text(page)
    bad = client.post(f"/my/journeys/{quote.journey_id}/insurance-policy",
                      data={"policy-product_id": str(insured["product"].id),
                            "policy-policy_number": "", "policy-holder_name": "Ingrid"})
    assert bad.status_code == 422
    assert count(InsurancePolicy) == 0
    done = client.post(f"/my/journeys/{quote.journey_id}/insurance-policy",
                       data={"policy-product_id": str(insured["product"].id),
                             "policy-policy_number": "BH-77",
                             "policy-holder_name": "Ingrid Solberg"})
    assert done.status_code == 302, text(done)
    assert "BH-77" in text(client.get(f"/my/journeys/{quote.journey_id}"))
    removed = client.post(f"/my/journeys/{quote.journey_id}/insurance-policy/remove")
    assert removed.status_code == 302
    assert db.session.scalar(select(InsurancePolicy.removed_at)) is not None


def test_the_quote_page_shows_the_insurers_share(insured, client):
    quote = quoted(insured)
    login(client, insured["patient"])
    html = text(client.get(f"/my/quotes/{quote.id}"))
    assert "Covered by your insurer" in html and "You pay" in html


def test_the_insurer_portal_answers_a_guarantee(insured, client):
    quote = quoted(insured)
    guarantee = guarantee_of(quote.id)
    login(client, insured["rival_staff"])
    assert client.get(f"/insurer/{insured['insurer'].id}").status_code == 404
    client.get("/logout")
    client.post("/logout")
    login(client, insured["insurer_staff"])
    page = client.get(f"/insurer/{insured['insurer'].id}")
    assert page.status_code == 200 and f"guarantee-{guarantee.id}" in text(page)
    url = f"/insurer/{insured['insurer'].id}/guarantees/{guarantee.id}/approve"
    bad = client.post(url, data={"amount": "5000.001", "valid_until": _dates()["valid_until"]})
    assert bad.status_code == 422
    assert guarantee.status == GuaranteeStatus.PENDING
    done = client.post(url, data={"amount": "5000.00",
                                  "valid_until": _dates()["valid_until"]})
    assert done.status_code == 302, text(done)
    db.session.expire_all()
    approved = db.session.get(Guarantee, guarantee.id)
    assert (approved.status, approved.approved_minor) == (GuaranteeStatus.APPROVED, 500000)


def test_the_cancellation_preview_shows_the_insurers_side(insured, client, make, gateway):
    from providers.services import offers

    offers.set_cancellation_tiers(insured["admin"], insured["surgery"].id,
                                  [{"days_before": 0, "refund_percent": 50}])
    db.session.commit()
    quote = quoted(insured)
    approve(insured, quote)
    booking = confirm(insured, gateway, quote)
    surgery = next(line for line in booking.lines if line.covered_minor)
    answer = client.get(f"/api/v1/bookings/{booking.id}/cancellation-preview"
                        f"?line_id={surgery.id}", headers=make.token(insured["patient"]))
    assert answer.status_code == 200, answer.json
    assert answer.json["insurer_fee_kept"]["amount_minor"] == 250000
    assert answer.json["insurer_reduction"]["amount_minor"] == 250000
    assert answer.json["insurer_credit"]["amount_minor"] == 0
    assert answer.json["fee_kept"]["amount_minor"] == 75000  # half of the patient's 1500


def test_the_manager_publishes_a_product_in_the_portal(insured, client):
    login(client, insured["insurer_manager"])
    url = f"/insurer/{insured['insurer'].id}/products"
    data = {"product-name": "Dental cover", "product-chain_links": ["treatment"],
            "product-share_percent": "60", "product-deductible": "50.00",
            "product-currency": "EUR", **{f"product-{k}": v for k, v in _dates().items()}}
    before = count(CoverageProduct)
    bad = client.post(url, data={**data, "product-deductible": "50.001"})
    assert bad.status_code == 422 and count(CoverageProduct) == before
    done = client.post(url, data=data)
    assert done.status_code == 302, text(done)
    made = db.session.scalar(select(CoverageProduct).where(
        CoverageProduct.name == "Dental cover"))
    assert (made.share_percent, made.deductible_minor, made.provider_id) == (
        60, 5000, insured["insurer"].id)


def test_staff_may_not_publish_and_a_coordinator_records_a_transfer(insured, client, gateway):
    quote = quoted(insured)
    approve(insured, quote)
    booking = confirm(insured, gateway, quote)
    receivable = db.session.scalar(select(InsurerReceivable).where(
        InsurerReceivable.booking_id == booking.id))
    login(client, insured["insurer_staff"])
    assert client.post(f"/insurer/{insured['insurer'].id}/products", data={
        "product-name": "X", "product-chain_links": ["treatment"],
        "product-share_percent": "60", "product-currency": "EUR",
        **{f"product-{k}": v for k, v in _dates().items()}}).status_code == 403
    url = f"/insurer/{insured['insurer'].id}/receivables/{receivable.id}/transfer"
    assert client.post(url, data={"amount": "5000.00", "paid_on": today_in().isoformat(),
                                  "reference": "T"}).status_code == 403
    client.post("/logout")
    login(client, insured["coordinator"])
    page = client.get(f"/insurer/{insured['insurer'].id}")
    assert page.status_code == 200 and f"receivable-{receivable.id}" in text(page)
    done = client.post(url, data={"amount": "5000.00", "paid_on": today_in().isoformat(),
                                  "reference": "BANK-42"})
    assert done.status_code == 302, text(done)
    db.session.expire_all()
    paid = db.session.get(InsurerReceivable, receivable.id)
    assert (paid.paid_minor, paid.reference) == (500000, "BANK-42")


def test_the_insurer_portal_in_arabic_is_right_to_left(insured, client):
    quoted(insured)
    login(client, insured["insurer_staff"])
    page = client.get(f"/insurer/{insured['insurer'].id}?lang=ar")
    assert page.status_code == 200
    assert 'dir="rtl"' in text(page)
