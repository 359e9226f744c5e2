"""A small cluster for the journey builder tests, built through the services."""

from datetime import date, timedelta
from decimal import Decimal

from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.core.types import today_in
from providers.services import rates


def soon(days: int) -> date:
    return today_in() + timedelta(days=days)


def build_world(make):
    admin = make.admin()
    for quote, rate in (("NOK", "11.70"), ("JPY", "162.35")):
        rates.add_rate(admin, base="EUR", quote=quote, rate=Decimal(rate),
                       effective_on=today_in() - timedelta(days=1))
    db.session.commit()
    clinic = make.member(name="Neris Clinic", kind="clinic", city="Vilnius")
    hotel = make.member(name="Hotel Tilto", kind="hotel", city="Vilnius")
    hotel2 = make.member(name="Hotel Linu", kind="hotel", city="Vilnius")
    sanatorium = make.member(name="Pines Sanatorium", kind="sanatorium", city="Vilnius")
    other = make.member(name="Kaunas Dental", kind="dental_clinic", city="Kaunas")
    room = make.offer(hotel, chain_link="accommodation", price_unit="night",
                      capacity_unit="room", duration_unit="nights", base_price_minor=8000,
                      companion_price_minor=2000, capacity=5, days=90,
                      texts={"en": {"title": "Double room", "inclusions": ["Breakfast"]},
                             "de": {"title": "Doppelzimmer"}})
    room2 = make.offer(hotel2, chain_link="accommodation", price_unit="night",
                       capacity_unit="room", duration_unit="nights", base_price_minor=9000,
                       capacity=5, days=90, texts={"en": {"title": "Garden room"}})
    surgery = make.offer(clinic, chain_link="treatment", price_unit="stay",
                         capacity_unit="surgery_slot", duration_unit="days",
                         base_price_minor=650000, capacity=2, days=90,
                         texts={"en": {"title": "Knee replacement"},
                                "de": {"title": "Knieprothese"}})
    rehab = make.offer(sanatorium, chain_link="rehabilitation", price_unit="day",
                       capacity_unit="bed", duration_unit="days", base_price_minor=12000,
                       capacity=4, days=90, texts={"en": {"title": "Knee rehabilitation"}})
    dental = make.offer(other, chain_link="treatment", price_unit="session",
                        capacity_unit="consultation_slot", duration_unit="sessions",
                        base_price_minor=90000, capacity=3, days=90,
                        texts={"en": {"title": "Dental implant"}})
    return {
        "admin": admin, "clinic": clinic, "hotel": hotel, "hotel2": hotel2,
        "sanatorium": sanatorium, "other": other,
        "room": room, "room2": room2, "surgery": surgery, "rehab": rehab, "dental": dental,
        "patient": make.user(Role.PATIENT, full_name="Ingrid Solberg"),
        "patient2": make.user(Role.PATIENT, full_name="Heike Vogel"),
        "clinic_staff": make.user(Role.MEMBER_STAFF, clinic),
        "hotel_staff": make.user(Role.MEMBER_STAFF, hotel),
        "other_staff": make.user(Role.MEMBER_STAFF, other),
        "coordinator": make.user(Role.COORDINATOR),
    }
