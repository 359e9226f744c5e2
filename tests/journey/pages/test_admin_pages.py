"""The admin pages: member admission and suspension, exchange rates, cluster settings;
cluster admins only, errors beside the fields, nothing written on a refusal."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from bookings.services import settlement
from journey.builder.services.settings import get_settings
from journey.core.extensions import db
from providers.models import ExchangeRate, MemberStatus, Provider
from providers.services import rates
from tests.journey.pages.portal_fixtures import (
    count,
    field_names,
    fresh,
    hammer,
    login,
    portal_world,
)


@pytest.fixture
def world(make):
    return portal_world(make)


def beside(page: str, field: str, message: str) -> bool:
    return bool(re.search(rf'has-error">\s*<label for="{field}".*?{re.escape(message)}', page,
                          re.S))


@pytest.mark.parametrize("who", ["patient", "clinic_staff", "clinic_manager", "coordinator"])
def test_only_an_admin_opens_the_admin_pages(client, world, who):
    login(client, world[who])
    for path in ("/admin/", "/admin/members", "/admin/members/new", "/admin/rates",
                 "/admin/settings"):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("who", ["clinic_manager", "coordinator"])
def test_others_posts_change_nothing(client, world, who):
    pending = world["admin"] and _pending(world)
    login(client, world[who])
    assert client.post(f"/admin/members/{pending.id}/status",
                       data={f"m{pending.id}-status": "verified"}).status_code == 403
    assert client.post("/admin/rates", data={"base": "EUR", "quote": "NOK", "rate": "11",
                                              "effective_on": "2026-01-01"}).status_code == 403
    assert client.post("/admin/settings", data={
        "visa_free_nationalities": "NO", "deposit_percent": "1", "balance_due_days": "1",
        "quote_validity_hours": "1"}).status_code == 403
    assert client.post("/admin/members/new", data=MEMBER).status_code == 403
    assert fresh(Provider, pending.id).status == MemberStatus.PENDING
    assert count(ExchangeRate) == 0
    assert get_settings().visa_free_nationalities == []
    assert count(Provider) == 3


def _pending(world):
    from providers.services import members

    provider = members.create_member(world["admin"], name="Baltic Spa", kind="spa",
                                     city="Palanga", country="LT")
    db.session.commit()
    return provider


MEMBER = {"name": "Amber Sanatorium", "kind": "sanatorium", "city": "Druskininkai",
          "country": "lt", "timezone": "Europe/Vilnius", "currency": "eur",
          "default_language": "lt", "languages": "lt, en ru", "email": "", "phone": ""}


def test_admin_admits_a_new_member_as_pending(client, world):
    login(client, world["admin"])
    response = client.post("/admin/members/new", data=MEMBER)
    assert response.status_code == 302
    provider = db.session.scalar(select(Provider).where(Provider.name == "Amber Sanatorium"))
    assert provider.status == MemberStatus.PENDING
    assert (provider.country, provider.currency, provider.languages) == ("LT", "EUR",
                                                                         ["lt", "en", "ru"])
    page = client.get("/admin/members?status=pending&lang=en").get_data(as_text=True)
    assert "Amber Sanatorium" in page and "Neris Clinic" not in page


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"country": "QQ"}, "country", "Not an ISO 3166 country code."),
    ({"timezone": "Mars/Olympus"}, "timezone", "Not a known time zone."),
    ({"languages": "lt, klingon"}, "languages", "Not a known language code."),
    ({"city": ""}, "city", "This field is required."),
    ({"email": "not-an-address"}, "email", "Not a valid email address."),
])
def test_a_bad_member_is_refused_beside_the_field(client, world, changes, field, message):
    login(client, world["admin"])
    response = client.post("/admin/members/new?lang=en", data={**MEMBER, **changes})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert beside(page, field, message)
    assert 'value="Amber Sanatorium"' in page
    assert count(Provider) == 2


def test_wtforms_own_messages_are_in_the_readers_language(client, world):
    login(client, world["admin"])
    response = client.post("/admin/members/new?lang=de", data={
        **MEMBER, "email": "not-an-address", "currency": "EURO", "name": "x" * 201})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert beside(page, "email", "Keine gültige E-Mail-Adresse.")
    assert beside(page, "currency", "Das Feld muss genau 3 Zeichen lang sein.")
    assert beside(page, "name", "Das Feld darf höchstens 200 Zeichen lang sein.")
    russian = client.post("/admin/members/new?lang=ru", data={**MEMBER, "currency": "EURO"})
    assert beside(russian.get_data(as_text=True), "currency",
                  "Длина поля должна быть ровно 3 символа.")  # the plural form for 3


def test_admission_and_suspension_with_a_reason(client, world):
    pending = _pending(world)
    login(client, world["admin"])
    url = f"/admin/members/{pending.id}/status"
    assert client.post(url, data={f"m{pending.id}-status": "verified"}).status_code == 302
    assert fresh(Provider, pending.id).status == MemberStatus.VERIFIED
    response = client.post(url, data={f"m{pending.id}-status": "suspended",
                                      f"m{pending.id}-reason": "Licence expired"})
    assert response.status_code == 302
    row = fresh(Provider, pending.id)
    assert (row.status, row.status_reason) == (MemberStatus.SUSPENDED, "Licence expired")
    page = client.get("/admin/members?lang=en").get_data(as_text=True)
    assert "Licence expired" in page


def test_an_impossible_move_keeps_the_typed_reason(client, world):
    clinic = world["clinic"]
    login(client, world["admin"])
    response = client.post(f"/admin/members/{clinic.id}/status?lang=en", data={
        f"m{clinic.id}-status": "verified", f"m{clinic.id}-reason": "Again please"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "A member cannot go from verified to verified." in page
    assert "Again please" in page
    bogus = client.post(f"/admin/members/{clinic.id}/status",
                        data={f"m{clinic.id}-status": "royal"})
    assert bogus.status_code == 422
    assert fresh(Provider, clinic.id).status == MemberStatus.VERIFIED
    assert client.post("/admin/members/999999/status",
                       data={"m999999-status": "verified"}).status_code == 404


def test_exchange_rates_are_recorded_and_listed(client, world):
    login(client, world["admin"])
    response = client.post("/admin/rates", data={"base": "eur", "quote": "nok",
                                                 "rate": "11.7025", "effective_on": "2026-03-02"})
    assert response.status_code == 302
    row = db.session.scalar(select(ExchangeRate))
    assert (row.base, row.quote, row.rate) == ("EUR", "NOK", Decimal("11.7025"))
    page = client.get("/admin/rates?lang=de").get_data(as_text=True)
    assert "1 EUR = 11,7025 NOK" in page and "2. März 2026" in page  # one day format



def test_an_exchange_rate_keeps_its_left_to_right_order_on_an_arabic_page(client, world):
    """"1 EUR = 11.7 NOK" is a formula in Latin letters: on a right-to-left page it is
    one left-to-right island, else the bidi algorithm reads "EUR = 11.7 1 NOK"."""
    login(client, world["admin"])
    client.post("/admin/rates", data={"base": "EUR", "quote": "NOK", "rate": "11.7",
                                      "effective_on": "2026-03-02"})
    page = client.get("/admin/rates?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in page
    assert '<bdi dir="ltr">1 EUR = 11.7 NOK</bdi>' in page
    assert '<bdi dir="ltr">EUR → NOK</bdi>' in page


@pytest.mark.parametrize(("changes", "field", "message", "status"), [
    ({"quote": "EUR"}, "quote", "Must differ from the base currency.", 422),
    ({"quote": "ABC"}, "quote", "Not an ISO 4217 currency code.", 422),
    ({"rate": "0"}, "rate", "Must be a positive number.", 422),
    ({"rate": "Infinity"}, "rate", "Not a valid decimal value.", 422),
    ({"effective_on": "2026-02-30"}, "effective_on", "Not a valid date value.", 422),
    ({"effective_on": "2026-01-01"}, "effective_on", "A rate for this date exists already.",
     409),
])
def test_a_bad_rate_is_refused_beside_the_field(client, world, changes, field, message,
                                                status):
    rates.add_rate(world["admin"], base="EUR", quote="NOK", rate=Decimal("11.5"),
                   effective_on=date(2026, 1, 1))
    db.session.commit()
    login(client, world["admin"])
    response = client.post("/admin/rates?lang=en", data={
        "base": "EUR", "quote": "NOK", "rate": "11.6", "effective_on": "2026-01-02",
        **changes})
    assert response.status_code == status
    assert beside(response.get_data(as_text=True), field, message)
    assert count(ExchangeRate) == 1


def test_settings_visa_free_nationalities(client, world):
    login(client, world["admin"])
    form = {"visa_free_nationalities": "no, se de", "deposit_percent": "25",
            "balance_due_days": "21", "quote_validity_hours": "48", "payout_delay_days": "10"}
    assert client.post("/admin/settings", data=form).status_code == 302
    db.session.expire_all()
    settings = get_settings()
    assert settings.visa_free_nationalities == ["DE", "NO", "SE"]
    assert (settings.deposit_percent, settings.balance_due_days) == (25, 21)
    assert settings.payout_delay_days == 10
    response = client.post("/admin/settings?lang=en", data={
        **form, "visa_free_nationalities": "NO XX1", "deposit_percent": "30"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert beside(page, "visa_free_nationalities", "Use ISO 3166 country codes.")
    assert "NO XX1" in page
    response = client.post("/admin/settings?lang=en", data={**form, "deposit_percent": "150"})
    assert beside(response.get_data(as_text=True), "deposit_percent", "Number must be between")
    db.session.expire_all()
    assert get_settings().deposit_percent == 25


def test_admin_pages_are_translated(client, world):
    pending = _pending(world)
    login(client, world["admin"])
    lithuanian = client.get(f"/admin/members/{pending.id}?lang=lt").get_data(as_text=True)
    assert "Laukia priėmimo" in lithuanian and "Patvirtinti" in lithuanian
    french = client.get("/admin/settings?lang=fr").get_data(as_text=True)
    assert "Paramètres du cluster" in french


def test_post_without_the_csrf_token_is_refused(app, client, world, monkeypatch):
    pending = _pending(world)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    login(client, world["admin"])
    response = client.post(f"/admin/members/{pending.id}/status",
                           data={f"m{pending.id}-status": "verified"})
    assert response.status_code == 400
    assert fresh(Provider, pending.id).status == MemberStatus.PENDING


def test_commission_per_link_of_the_chain(client, world):
    login(client, world["admin"])
    page = client.get("/admin/commission?lang=en").get_data(as_text=True)
    assert 'id="commission-treatment"' in page and 'id="commission-visa_support"' in page
    response = client.post("/admin/commission/treatment", data={"treatment-percent": "12.5"})
    assert response.status_code == 302
    db.session.expire_all()
    assert settlement.commission_rates()["treatment"] == Decimal("12.5")
    page = client.get("/admin/commission?lang=de").get_data(as_text=True)
    assert re.search(r'id="commission-treatment">.*?12,5\s*%', page, re.S)


@pytest.mark.parametrize(("value", "message"), [
    ("150", "Number must be between 0 and 100."),
    ("12.345", "Give a percentage from 0 to 100 with at most two decimals."),
    ("abc", "Not a valid decimal value."),
])
def test_a_bad_commission_is_refused_beside_its_field(client, world, value, message):
    login(client, world["admin"])
    response = client.post("/admin/commission/treatment?lang=en",
                           data={"treatment-percent": value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert beside(page, "treatment-percent", message)
    assert f'value="{value}"' in page
    db.session.expire_all()
    assert settlement.commission_rates()["treatment"] == Decimal(0)


def test_commission_of_an_unknown_link_and_by_others(client, world):
    login(client, world["admin"])
    assert client.post("/admin/commission/spaceflight",
                       data={"spaceflight-percent": "5"}).status_code == 404
    login(client, world["coordinator"])
    assert client.post("/admin/commission/treatment",
                       data={"treatment-percent": "5"}).status_code == 403
    db.session.expire_all()
    assert set(settlement.commission_rates().values()) == {Decimal(0)}


def test_the_clusters_languages(client, world):
    login(client, world["admin"])
    form = {"languages": ["lt", "de", "ar"], "visa_free_nationalities": "",
            "deposit_percent": "30", "balance_due_days": "14", "quote_validity_hours": "72",
            "payout_delay_days": "7"}
    assert client.post("/admin/settings", data=form).status_code == 302
    db.session.expire_all()
    assert get_settings().languages == ["en", "lt", "de", "ar"]
    page = client.get("/admin/settings?lang=en").get_data(as_text=True)
    assert re.search(r'checked[^>]*value="lt"|value="lt"[^>]*checked', page)
    assert not re.search(r'checked[^>]*value="ru"|value="ru"[^>]*checked', page)
    bogus = client.post("/admin/settings", data={**form, "languages": ["lt", "tlh"]})
    assert bogus.status_code == 422
    db.session.expire_all()
    assert get_settings().languages == ["en", "lt", "de", "ar"]


def test_no_admin_page_answers_bad_input_with_a_500(app, client, world):
    from journey.pages import portal_forms as f

    pending = _pending(world)
    login(client, world["admin"])
    with app.test_request_context():
        targets = [
            ("/admin/members/new", field_names(f.MemberForm)),
            (f"/admin/members/{pending.id}/status",
             field_names(f.MemberStatusForm, f"m{pending.id}")),
            ("/admin/rates", field_names(f.RateForm)),
            ("/admin/settings", field_names(f.SettingsForm)),
            ("/admin/commission/treatment", field_names(f.CommissionForm, "treatment")),
        ]
    for url, names in targets:
        assert hammer(client, url, names) == [], url
    assert client.get("/admin/members?status=%00").status_code == 200
