"""The demo cluster: a fictional Baltic medical-tourism cluster for ``flask seed-demo``.

Everything goes through the services, as an admin would enter it by hand: members,
their offers with texts, seasonal prices and a year of capacity, exchange rates, one
login per person in :data:`DEMO_LOGINS`, the cluster's package templates (curated by
the coordinator, or by a member for itself) and one patient's journey, opened at a
member's "one window", built from a template, planned and quoted. :func:`seed_demo`
flushes and leaves the commit to its caller. Running it again creates nothing new: it
finds the accounts by e-mail address, the members by slug, the rates by currency, the
templates by English name and the journey by its patient and template, and skips what
exists. The content itself lives in :mod:`journey.demo_data`.

Given a Stripe gateway that answers, it then adds the cluster's past
(:mod:`journey.demo_reviews`): completed journeys of several patients, paid through the
gateway and reviewed, so that ratings show in the catalogue. Those payments are
committed as in production, so what was loaded before them is committed first; without
a gateway they are skipped and the summary says why.
"""

from __future__ import annotations

import copy
import zlib
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bookings.payments import StripeGateway
from bookings.services import settlement
from journey.builder.models import Journey, PackageTemplate, TemplateText
from journey.builder.plan import day_runs
from journey.builder.services import journeys, quotes, settings, templates
from journey.builder.services.composition import plan_journey
from journey.core.accounts.models import Role, User
from journey.core.accounts.services import (
    bootstrap_admin,
    create_user,
    get_user_by_email,
    register_patient,
    update_profile,
)
from journey.core.errors import Conflict
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.types import today_in, utcnow
from journey.demo_data import (
    COVERAGE_PRODUCT,
    INSURED_JOURNEY,
    MEMBERS,
    RATES,
    REVIEWING_PATIENTS,
    TEMPLATES,
)
from journey.demo_pictures import attach_demo_pictures
from journey.insurance.models import CoverageProduct, InsurancePolicy
from journey.insurance.services import policies
from journey.insurance.services import products as coverage_products
from journey.invoicing import services as invoicing
from providers.models import (
    ChainLink,
    ExchangeRate,
    MemberStatus,
    Offer,
    OfferStatus,
    OfferText,
    Provider,
)
from providers.services.accreditations import attach_evidence, verify_accreditation
from providers.services.members import create_member, set_member_status
from providers.services.offers import add_price_rule, create_offer, set_capacity
from providers.services.rates import add_rate

#: The documented password of every demo account (never use the demo in production).
DEMO_PASSWORD = "onewindow-demo"  # noqa: S105 - a published demo password, not a secret

#: How many days of capacity each offer gets, starting today.
CALENDAR_DAYS = 365

ADMIN = {"email": "admin@onewindow.demo", "full_name": "Cluster Admin"}
COORDINATOR = {"email": "coordinator@onewindow.demo", "full_name": "Agnė Petrauskaitė",
               "locale": "en"}
PATIENTS = [
    {"email": "patient@onewindow.demo", "full_name": "Ingrid Solberg", "locale": "nb",
     "currency": "NOK", "other_languages": ["sv", "en"]},
    {"email": "patient.de@onewindow.demo", "full_name": "Heike Vogel", "locale": "de",
     "currency": "EUR"},
    *REVIEWING_PATIENTS,
]


#: Nationalities that need no visa for a short stay in Lithuania (the EU, the EEA and
#: Switzerland, and the larger visa-free countries), so a journey only suggests visa
#: support where it may be needed.
VISA_FREE = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    "IS", "LI", "NO", "CH", "GB", "US", "CA", "AU", "NZ", "JP", "KR", "IL", "UA", "AE",
]

#: The journey a newcomer finds: Ingrid's new knee, opened at the orthopaedic hospital's
#: window (its manager composes the whole chain), planned and quoted in her currency.
DEMO_JOURNEY = {
    "patient": "patient@onewindow.demo",
    "opened_by": "neris-orthopaedic-hospital",
    "template": "New knee in Vilnius, rehabilitation in Druskininkai",
    "profile": {"language": "en", "currency": "NOK", "nationality": "NO",
                "residence": "NO", "adults": 1},
    "arrives_in_days": 30,  # then on the next Sunday: consultation Monday, surgery Tuesday
}


def manager_email(slug: str) -> str:
    return f"manager@{slug}.demo"


def template_name(spec: dict) -> str:
    return spec["texts"]["en"]["name"]


#: Every demo login (all with :data:`DEMO_PASSWORD`): e-mail, role, person, member.
DEMO_LOGINS: list[dict] = [
    {"email": ADMIN["email"], "role": Role.ADMIN, "name": ADMIN["full_name"], "member": None},
    {"email": COORDINATOR["email"], "role": Role.COORDINATOR,
     "name": COORDINATOR["full_name"], "member": None},
    *({"email": manager_email(m["slug"]), "role": Role.MEMBER_MANAGER, "name": m["manager"],
       "member": m["name"]} for m in MEMBERS),
    *({"email": p["email"], "role": Role.PATIENT, "name": p["full_name"], "member": None}
      for p in PATIENTS),
]


def welcome_block(url: str) -> str:
    """What ``make run`` prints once the server answers: the URL, the first demo login of
    each role and the shared password."""
    first: dict[Role, dict] = {}
    for login in DEMO_LOGINS:
        first.setdefault(login["role"], login)
    width = max(len(role.value) for role in first)
    rows = [f"  {role.value:<{width}}  {login['email']}"
            + (f"  ({login['member']})" if login["member"] else "")
            for role, login in first.items()]
    return "\n".join([
        "",
        f"One Window is running at {url}",
        "Demo logins (every member has one: manager@<member>.demo):",
        *rows,
        f"Password for all of them: {DEMO_PASSWORD}",
        "Ctrl-C stops the server and localstripe.",
        "",
    ])


def seed_demo(*, only_if_empty: bool = False, gateway: StripeGateway | None = None,
              gateway_problem: str | None = None) -> str:
    """Load the demo cluster (flushed, not committed); return its summary.

    With ``only_if_empty`` nothing happens when the catalogue has any member already.
    With a ``gateway`` (:func:`journey.demo_reviews.demo_gateway`), what is loaded is
    committed, then the completed and reviewed journeys are added, each committed as it
    goes; without one they are skipped, for ``gateway_problem``'s reason.
    """
    if only_if_empty and db.session.scalar(select(Provider.id).limit(1)) is not None:
        return "demo cluster: skipped, the catalogue has members already"
    today = today_in()
    created: Counter[str] = Counter()
    admin = _admin(created)
    if get_user_by_email(COORDINATOR["email"]) is None:
        create_user(admin, password=DEMO_PASSWORD, role=Role.COORDINATOR, **COORDINATOR)
        created["accounts"] += 1
    for spec in MEMBERS:
        provider = _member(admin, spec, today, created)
        if get_user_by_email(manager_email(spec["slug"])) is None:
            create_user(admin, email=manager_email(spec["slug"]), password=DEMO_PASSWORD,
                        full_name=spec["manager"], role=Role.MEMBER_MANAGER,
                        provider_id=provider.id)
            created["accounts"] += 1
    for patient in PATIENTS:
        if get_user_by_email(patient["email"]) is None:
            others = patient.get("other_languages")
            account = register_patient(password=DEMO_PASSWORD, **{
                key: value for key, value in patient.items() if key != "other_languages"})
            if others:  # the other languages she reads, best first (profile)
                update_profile(account, other_languages=others)
            created["accounts"] += 1
    _rates(admin, today, created)
    _settings(admin, created)
    _templates(created)
    _journey(today, created)
    _insured_journey(today, created)
    created["pictures"] += attach_demo_pictures(admin)
    from journey import demo_reviews  # it uses this module's lookups

    if gateway is None:  # nothing to say when they were loaded before
        skipped = None if demo_reviews.all_loaded() else \
            gateway_problem or "no payment gateway was given"
    else:
        commit_unit()  # the cluster stands on its own before the first payment commits
        skipped = demo_reviews.seed_reviewed_journeys(admin, gateway, utcnow(), created)
    return _summary(created, demo_reviews.reviews_summary(), skipped)


def _admin(created: Counter) -> User:
    admin = get_user_by_email(ADMIN["email"])
    if admin is None:
        created["accounts"] += 1
        return bootstrap_admin(password=DEMO_PASSWORD, **ADMIN)
    if admin.role != Role.ADMIN or not admin.active:
        raise Conflict(f"{ADMIN['email']} exists but is not an active admin; "
                       "the demo cannot be loaded into this database.")
    return admin


def _demo_street(spec: dict) -> str:
    """A made-up street address in the member's city, the same on every load."""
    number = zlib.crc32(spec["slug"].encode()) % 90 + 1
    return f"{spec['name'].split()[0]} g. {number}"


def _member(admin: User, spec: dict, today: date, created: Counter) -> Provider:
    provider = db.session.scalar(select(Provider).where(Provider.slug == spec["slug"]))
    if provider is not None:  # loaded before: leave it and its offers as they are now
        return provider
    latitude, longitude = spec["position"]
    provider = create_member(
        admin, slug=spec["slug"], name=spec["name"], kind=spec["kind"], city=spec["city"],
        country=spec.get("country", "LT"), latitude=Decimal(latitude),
        longitude=Decimal(longitude), timezone=spec.get("timezone", "Europe/Vilnius"),
        languages=spec["languages"], default_language=spec.get("default_language", "lt"),
        currency=spec.get("currency", "EUR"), email=f"info@{spec['slug']}.demo",
        phone=spec["phone"], website=f"https://{spec['slug']}.demo",
        street_address=spec.get("street_address") or _demo_street(spec),
        legal_name=f"{spec['name']}, UAB" if spec.get("country", "LT") == "LT" else spec["name"],
        registration_number=f"30{zlib.crc32(spec['slug'].encode()) % 10**7:07d}",
        descriptions=spec["descriptions"],
        accreditations=[
            {"name": item[0], "issuer": item[1], "valid_until": _valid_until(item[2], today)}
            for item in spec["accreditations"]
        ],
    )
    _vouch_for_accreditations(admin, provider, spec)
    created["members"] += 1
    if spec.get("verified", True):
        set_member_status(admin, provider.id, MemberStatus.VERIFIED,
                          reason="Licences, insurance and references checked.")
    for offer_spec in spec["offers"]:
        _offer(admin, provider, offer_spec, today)
        created["offers"] += 1
    return provider


def _valid_until(years, today: date) -> date | None:
    """Calendar years ahead (31 December), ``"days:N"`` days from today, or None."""
    if years is None:
        return None
    if isinstance(years, str):
        return today + timedelta(days=int(years.removeprefix("days:")))
    return date(today.year + years, 12, 31)


def _vouch_for_accreditations(admin: User, provider: Provider, spec: dict) -> None:
    """Each accreditation gets a one-page evidence PDF, and the admin verifies it, but
    for one marked "pending" (left in the admin's queue)."""
    for accreditation, item in zip(provider.accreditations, spec["accreditations"],
                                   strict=True):
        attach_evidence(admin, provider.id, accreditation.id, data=_evidence_pdf(item[0]),
                        filename=f"{spec['slug']}-accreditation-{accreditation.id}.pdf")
        if item[3:] != ("pending",):
            verify_accreditation(admin, accreditation.id)


def _evidence_pdf(title: str) -> bytes:
    """A minimal one-page PDF naming the accreditation (demo evidence)."""
    text = title.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 50 780 Td (Demo evidence: " + text + b") Tj ET"
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
               b"/Resources<</Font<</F1 5 0 R>>>>>>",
               b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
               b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


#: The VAT the demo's prices include, by link (Lithuania: rooms 12 %, leisure 21 %;
#: medical services exempt).
DEMO_VAT = {ChainLink.ACCOMMODATION: Decimal(12), ChainLink.LEISURE: Decimal(21)}
#: The cluster's commission by link of the chain: what it earns for one window.
DEMO_COMMISSION = {
    ChainLink.CONSULTATION: Decimal(10), ChainLink.DIAGNOSTICS: Decimal(10),
    ChainLink.TREATMENT: Decimal(8), ChainLink.REHABILITATION: Decimal(8),
    ChainLink.ACCOMMODATION: Decimal(12), ChainLink.TRANSFER: Decimal(15),
    ChainLink.LEISURE: Decimal(15), ChainLink.VISA_SUPPORT: Decimal(10),
    ChainLink.TRANSLATION: Decimal(10), ChainLink.AFTERCARE: Decimal(10)}
#: The cluster's own legal details, on its invoices and receipts (made up).
CLUSTER_LEGAL = {"legal_name": "Baltic Health Cluster (One Window), VšĮ",
                 "legal_address": "Gedimino pr. 9, LT-01103 Vilnius, Lithuania",
                 "registration_number": "306000119", "vat_number": "LT100016000119",
                 "invoice_prefix": "OW"}


def _offer(admin: User, provider: Provider, spec: dict, today: date) -> Offer:
    fields = {key: value for key, value in spec.items()
              if key not in ("texts", "calendar", "seasons")}
    fields.setdefault("vat_percent", DEMO_VAT.get(spec["chain_link"], Decimal(0)))
    offer = create_offer(admin, provider.id, texts=copy.deepcopy(spec["texts"]),
                         status=OfferStatus.PUBLISHED, **fields)
    for season in spec["seasons"]:
        for starts_on, ends_on in _season_ranges(season["starts"], season["ends"], today):
            add_price_rule(admin, offer.id, name=season["name"], starts_on=starts_on,
                           ends_on=ends_on, price_minor=season["price_minor"],
                           companion_price_minor=season["companion_price_minor"])
    capacity, weekdays, *months = spec["calendar"]
    for start, end in _open_ranges(today, months[0] if months else None):
        set_capacity(admin, offer.id, start=start, end=end, capacity=capacity,
                     weekdays=weekdays)
    return offer


def _season_ranges(starts: tuple[int, int], ends: tuple[int, int], today: date):
    """The dates of a yearly season that overlap the calendar window from ``today``."""
    horizon = today + timedelta(days=CALENDAR_DAYS - 1)
    for year in (today.year - 1, today.year, today.year + 1):
        starts_on = date(year, *starts)
        ends_on = date(year + 1 if ends < starts else year, *ends)
        if ends_on >= today and starts_on <= horizon:
            yield starts_on, ends_on


def _open_ranges(today: date, months: list[int] | None) -> list[tuple[date, date]]:
    """The calendar window as runs of consecutive days, only in ``months`` when given."""
    end = today + timedelta(days=CALENDAR_DAYS - 1)
    if months is None:
        return [(today, end)]
    window = (today + timedelta(days=i) for i in range(CALENDAR_DAYS))
    return day_runs(day for day in window if day.month in months)


def _rates(admin: User, today: date, created: Counter) -> None:
    known = set(db.session.scalars(select(ExchangeRate.quote).where(ExchangeRate.base == "EUR")))
    for quote, rate in RATES.items():
        if quote not in known:
            add_rate(admin, base="EUR", quote=quote, rate=Decimal(rate), effective_on=today)
            created["exchange rates"] += 1


def _settings(admin: User, created: Counter) -> None:
    if not settings.get_settings().visa_free_nationalities:
        settings.update_settings(admin, visa_free_nationalities=VISA_FREE)
        created["visa-free list"] += 1
    if not settings.get_settings().legal_name:
        invoicing.update_legal_details(admin, **CLUSTER_LEGAL)
        created["legal details"] += 1
    if not any(settlement.commission_rates().values()):
        for link, percent in DEMO_COMMISSION.items():
            settlement.set_commission_rate(admin, link.value, percent)
        created["commission rates"] += 1


def demo_offer_id(slug: str, title: str) -> int:
    """The id of a demo member's offer, found by the member's slug and its English title."""
    offer_id = db.session.scalar(
        select(Offer.id).join(Provider).join(OfferText)
        .where(Provider.slug == slug, OfferText.language == "en", OfferText.title == title))
    if offer_id is None:
        raise Conflict(f"The demo offer {title!r} of {slug} is missing; the demo package "
                       "templates cannot be loaded into this database.")
    return offer_id


def _member_id(slug: str) -> int:
    return db.session.scalar(select(Provider.id).where(Provider.slug == slug))


def find_template(name: str) -> PackageTemplate | None:
    """A package template by its English name."""
    return db.session.scalar(select(PackageTemplate).join(TemplateText).where(
        TemplateText.language == "en", TemplateText.name == name).limit(1))


def _templates(created: Counter) -> None:
    coordinator = get_user_by_email(COORDINATOR["email"])
    for spec in TEMPLATES:
        if find_template(template_name(spec)) is not None:
            continue
        curator = spec["curator"]
        actor = coordinator if curator is None else get_user_by_email(manager_email(curator))
        links = [{
            "default_offer_id": demo_offer_id(*link["offer"]),
            "alternative_offer_ids": [demo_offer_id(*alt) for alt in link["alternatives"]],
            "day_offset": link["day_offset"], "days": link["days"],
            "quantity": link["quantity"],
            "borne_by_provider_id": link["borne_by"] and _member_id(link["borne_by"]),
        } for link in spec["links"]]
        templates.create_template(
            actor, provider_id=None if curator is None else _member_id(curator),
            texts=copy.deepcopy(spec["texts"]), links=links,
            discount_percent=spec["discount_percent"], status="published")
        created["package templates"] += 1


def demo_arrival(today: date) -> date:
    """The demo journey's arrival: the first Sunday at least a month from ``today``."""
    earliest = today + timedelta(days=DEMO_JOURNEY["arrives_in_days"])
    return earliest + timedelta(days=(6 - earliest.weekday()) % 7)


def find_demo_journey() -> Journey | None:
    patient = get_user_by_email(DEMO_JOURNEY["patient"])
    template = find_template(DEMO_JOURNEY["template"])
    if patient is None or template is None:
        return None
    return db.session.scalar(select(Journey).where(
        Journey.patient_id == patient.id, Journey.template_id == template.id).limit(1))


def _journey(today: date, created: Counter) -> None:
    if find_demo_journey() is not None:
        return
    patient = get_user_by_email(DEMO_JOURNEY["patient"])
    manager = get_user_by_email(manager_email(DEMO_JOURNEY["opened_by"]))
    coordinator = get_user_by_email(COORDINATOR["email"])
    template = find_template(DEMO_JOURNEY["template"])
    arrival = demo_arrival(today)
    journey = journeys.open_journey(manager, patient_email=patient.email, arrival_on=arrival,
                                    **DEMO_JOURNEY["profile"])
    journeys.apply_template(manager, journey.id, template.id, arrival_on=arrival)
    journey, reasons = plan_journey(manager, journey.id, arrival_on=arrival)
    if reasons:
        raise Conflict("The demo journey cannot be planned: "
                       + "; ".join(str(reason.message) for reason in reasons))
    journeys.assign_coordinator(coordinator, journey.id, coordinator.id)
    quotes.create_quote(manager, journey.id)
    created["quoted patient journey"] += 1


def find_insured_journey() -> Journey | None:
    patient = get_user_by_email(INSURED_JOURNEY["patient"])
    if patient is None:
        return None
    return db.session.scalar(select(Journey).join(
        InsurancePolicy, InsurancePolicy.journey_id == Journey.id).where(
        Journey.patient_id == patient.id).limit(1))


def _insured_journey(today: date, created: Counter) -> None:
    """The insurer's coverage product, and one journey that uses it (quoted; the
    guarantee of payment waits for the insurer's staff)."""
    spec = COVERAGE_PRODUCT
    insurer = db.session.scalar(select(Provider).where(Provider.slug == spec["insurer"]))
    manager = get_user_by_email(manager_email(spec["insurer"]))
    product = db.session.scalar(select(CoverageProduct).where(
        CoverageProduct.provider_id == insurer.id, CoverageProduct.name == spec["name"]))
    if product is None:
        product = coverage_products.create_product(
            manager, insurer.id, **{k: v for k, v in spec.items()
                                    if k not in ("insurer", "valid_for_days")},
            valid_from=today, valid_until=today + timedelta(days=spec["valid_for_days"]),
            status="published")
        created["coverage products"] += 1
    if find_insured_journey() is not None:
        return
    patient = get_user_by_email(INSURED_JOURNEY["patient"])
    opener = get_user_by_email(manager_email(INSURED_JOURNEY["opened_by"]))
    template = find_template(INSURED_JOURNEY["template"])
    earliest = today + timedelta(days=INSURED_JOURNEY["arrives_in_days"])
    arrival = earliest + timedelta(days=(6 - earliest.weekday()) % 7)  # a Sunday
    journey = journeys.open_journey(opener, patient_email=patient.email, arrival_on=arrival,
                                    **INSURED_JOURNEY["profile"])
    journeys.apply_template(opener, journey.id, template.id, arrival_on=arrival)
    journey, reasons = plan_journey(opener, journey.id, arrival_on=arrival)
    if reasons:
        raise Conflict("The insured demo journey cannot be planned: "
                       + "; ".join(str(reason.message) for reason in reasons))
    policies.add_policy(opener, journey.id, product_id=product.id,
                        policy_number=INSURED_JOURNEY["policy_number"],
                        holder_name=INSURED_JOURNEY["holder_name"])
    quotes.create_quote(opener, journey.id)
    created["insured patient journey"] += 1


def _summary(created: Counter, reviewed: str, skipped: str | None) -> str:
    slugs = [spec["slug"] for spec in MEMBERS]
    members = db.session.scalar(select(func.count(Provider.id)).where(Provider.slug.in_(slugs)))
    offers = db.session.scalar(select(func.count(Offer.id)).join(Provider)
                               .where(Provider.slug.in_(slugs)))
    accounts = db.session.scalar(select(func.count(User.id)).where(
        User.email.in_([login["email"] for login in DEMO_LOGINS])))
    packages = db.session.scalar(select(func.count(TemplateText.id)).where(
        TemplateText.language == "en", TemplateText.name.in_([template_name(spec)
                                                               for spec in TEMPLATES])))
    journey = find_demo_journey()
    made = ", ".join(f"{n} {what}" for what, n in created.items() if n) or "nothing"
    summary = (f"demo cluster: {members} members, {offers} offers, {accounts} accounts, "
               f"{packages} package templates, {'one' if journey else 'no'} patient journey, "
               f"{reviewed} (created now: {made})")
    if skipped:
        summary += (f"\ncompleted journeys and reviews skipped: {skipped}. Start localstripe "
                    "(`make run` does), set STRIPE_API_BASE to it and run `flask seed-demo` "
                    "again to add them.")
    return summary
