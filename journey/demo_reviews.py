"""The demo cluster's past: completed journeys, paid, travelled and reviewed.

:data:`journey.demo_data.REVIEWED_JOURNEYS` are journeys of the past year, and each goes
through the services at the moments it happened (their ``now=``): the members' calendars
are opened for those days, the journey is opened (by the patient or at a member's
window) some five weeks before the arrival, built from a package template, planned,
quoted and accepted; the patient pays the deposit by card (``pm_card_visa``) through the
Stripe gateway, every member confirms its lines, the patient pays the balance before it
is due; a coordinator marks the journey in progress on the arrival day and completed
after its last, the patient is invited to review and writes reviews in their own
language; members answer some, and the cluster's moderation hides one for a reason.

Paying needs a gateway that answers (:func:`demo_gateway`; ``make run`` starts
localstripe first). Without one, :func:`journey.demo.seed_demo` loads everything else
and says why these journeys were skipped. Payments are committed before Stripe is called
(as in production), so each journey commits as it goes. Loading again creates nothing:
a journey is found by its patient and template, a review by its journey and member.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from flask import current_app
from sqlalchemy import func, select

from bookings.models import Booking, BookingStatus, LineStatus
from bookings.payments import GatewayError, StripeGateway
from bookings.services import balance, confirmation
from bookings.services.amounts import balance_minor
from journey.builder.models import Journey, JourneyStatus
from journey.builder.plan import day_runs
from journey.builder.services import checkout, journeys, quotes
from journey.builder.services.composition import plan_journey
from journey.core.accounts.models import User
from journey.core.accounts.services import get_user_by_email
from journey.core.errors import Conflict, DomainError
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.types import today_in
from journey.demo import COORDINATOR, demo_offer_id, find_template, manager_email
from journey.demo_data import MEMBERS, REVIEWED_JOURNEYS, TEMPLATES
from journey.reviews.models import HideReason, Review, ReviewModeration, ReviewState
from journey.reviews.services import invitations, moderation, reviews
from journey.trip.services import progress
from providers.models import Provider
from providers.services.offers import set_capacity
from providers.services.search import RANKED_FROM_REVIEWS

#: The test card every demo payment uses (localstripe and Stripe's test mode know it).
CARD = "pm_card_visa"
#: How long before the arrival a journey was opened and booked.
BOOKED_DAYS_AHEAD = 35
#: The days after the arrival whose calendars open for a journey of the past.
TRIP_WINDOW_DAYS = 45
#: How long :func:`demo_gateway` waits for Stripe to answer.
PROBE_SECONDS = 3.0


def demo_gateway() -> tuple[StripeGateway | None, str | None]:
    """The configured Stripe gateway when it answers with a test key, else ``None`` and
    why not (the demo never pays with a live key)."""
    config = current_app.config
    base = (config.get("STRIPE_API_BASE") or "").rstrip("/")
    key = config.get("STRIPE_API_KEY") or ""
    if not key.startswith("sk_test_"):
        return None, "the demo pays only with a Stripe test key (STRIPE_API_KEY=sk_test_...)"
    if urlsplit(base).scheme not in ("http", "https"):
        return None, "STRIPE_API_BASE is not set"
    # http(s) only, checked above
    request = Request(f"{base}/v1/balance",  # noqa: S310
                      headers={"Authorization": f"Bearer {key}"})
    try:
        urlopen(request, timeout=PROBE_SECONDS).close()  # noqa: S310
    except HTTPError as error:
        return None, f"Stripe at {base} answered HTTP {error.code}"
    except (URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        return None, f"no Stripe answers at {base} ({reason})"
    return StripeGateway.from_config(), None


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def arrival_of(spec: dict, today: date) -> date:
    """The journey's arrival: the Sunday on or after ``arrived_days_ago`` days ago."""
    day = today - timedelta(days=spec["arrived_days_ago"])
    return day + timedelta(days=(6 - day.weekday()) % 7)


def find_reviewed_journey(spec: dict) -> Journey | None:
    """The demo journey of ``spec``: its patient's journey from its template."""
    patient = get_user_by_email(spec["patient"])
    template = find_template(spec["template"])
    if patient is None or template is None:
        return None
    return db.session.scalar(select(Journey).where(
        Journey.patient_id == patient.id, Journey.template_id == template.id,
        Journey.arrival_on < today_in()).order_by(Journey.id).limit(1))


def reviewed_journeys() -> list[Journey]:
    """The demo's completed journeys found in the database."""
    found = (find_reviewed_journey(spec) for spec in REVIEWED_JOURNEYS)
    return [journey for journey in found
            if journey is not None and journey.status == JourneyStatus.COMPLETED]


def all_loaded() -> bool:
    return len(reviewed_journeys()) == len(REVIEWED_JOURNEYS)


def seed_reviewed_journeys(admin: User, gateway: StripeGateway, now: datetime,
                           created: Counter) -> str | None:
    """Load the journeys of :data:`REVIEWED_JOURNEYS` that are missing, and their
    reviews; returns why it stopped early, if it did (what was done stands)."""
    coordinator = get_user_by_email(COORDINATOR["email"])
    for spec in REVIEWED_JOURNEYS:
        try:
            journey = find_reviewed_journey(spec)
            if journey is None:
                journey = _travel(spec, admin, coordinator, gateway, now)
                created["completed journeys"] += 1
            if journey.status == JourneyStatus.COMPLETED:  # else stopped halfway before
                _reviews(spec, journey, coordinator, created)
            commit_unit()
        except (DomainError, GatewayError) as error:
            db.session.rollback()
            why = getattr(error, "message", None) or error
            return f"stopped at {spec['patient']}'s journey (what was paid stands): {why}"
    return None


def _calendars() -> dict[tuple[str, str], tuple]:
    """Each demo offer's calendar by (member slug, English title)."""
    return {(member["slug"], offer["texts"]["en"]["title"]): offer["calendar"]
            for member in MEMBERS for offer in member["offers"]}


def _open_past_calendars(admin: User, template: str, arrival: date, today: date) -> None:
    """The calendars of the template's offers for the days of a trip of the past, as
    they were then (the demo opens a year from today)."""
    spec = next(spec for spec in TEMPLATES if spec["texts"]["en"]["name"] == template)
    calendars = _calendars()
    window = [arrival + timedelta(days=i) for i in range(-1, TRIP_WINDOW_DAYS)]
    for link in spec["links"]:
        capacity, weekdays, *months = calendars[link["offer"]]
        days = [day for day in window if day < today
                and (weekdays is None or day.weekday() in weekdays)
                and (not months or day.month in months[0])]
        for start, end in day_runs(days):
            set_capacity(admin, demo_offer_id(*link["offer"]), start=start, end=end,
                         capacity=capacity)


def _travel(spec: dict, admin: User, coordinator: User, gateway: StripeGateway,
            now: datetime) -> Journey:
    """One journey of the past, from its opening to its completion."""
    today = today_in(now=now)
    patient = get_user_by_email(spec["patient"])
    template = find_template(spec["template"])
    arrival = arrival_of(spec, today)
    _open_past_calendars(admin, spec["template"], arrival, today)
    opened = _at(arrival - timedelta(days=BOOKED_DAYS_AHEAD), 9, 30)
    opener = get_user_by_email(manager_email(spec["opened_by"])) if spec["opened_by"] \
        else patient
    journey = journeys.open_journey(opener, patient_email=patient.email, arrival_on=arrival,
                                    currency="EUR", now=opened, **spec["profile"])
    journey.created_at = opened  # opened then (the column's default is the clock's now)
    journeys.apply_template(opener, journey.id, template.id, arrival_on=arrival)
    journey, reasons = plan_journey(opener, journey.id, arrival_on=arrival, now=opened)
    if reasons:
        raise Conflict("cannot be planned: " + "; ".join(str(r.message) for r in reasons))
    journeys.assign_coordinator(coordinator, journey.id, coordinator.id)
    quote = quotes.create_quote(opener, journey.id, now=opened + timedelta(minutes=20))
    accepted = opened + timedelta(days=1, hours=10)
    quotes.accept_quote(patient, quote.id, now=accepted)
    commit_unit()
    paid = accepted + timedelta(minutes=4)
    booking = checkout.checkout_quote(patient, quote.id, gateway=gateway, payment_method=CARD,
                                      now=paid)
    _expect(booking, (BookingStatus.AUTHORISED, BookingStatus.CONFIRMED), "paid")
    answered = paid
    for line in list(booking.lines):
        if line.status == LineStatus.REQUESTED:  # the instant ones confirmed at checkout
            answered += timedelta(hours=3)
            provider = db.session.get(Provider, line.provider_id)
            confirmation.accept_line(get_user_by_email(manager_email(provider.slug)),
                                     line.id, gateway=gateway, now=answered)
    booking = db.session.get(Booking, booking.id, populate_existing=True)
    _expect(booking, (BookingStatus.CONFIRMED,), "confirmed by its members")
    if balance_minor(booking) > 0:
        due = _at(booking.balance_due_on - timedelta(days=2), 18)
        balance.pay_balance(patient, booking.id, payment_method=CARD, gateway=gateway,
                            now=max(due, answered + timedelta(hours=1)))
        commit_unit()
        if balance_minor(db.session.get(Booking, booking.id,
                                                populate_existing=True)) > 0:
            raise Conflict("the balance was not paid")
    progress.set_progress(coordinator, journey.id, JourneyStatus.IN_PROGRESS,
                          now=_at(arrival, 12))
    ended = _at(journey.departure_on + timedelta(days=1), 8)
    if ended > now - timedelta(days=2):
        raise Conflict("the journey ends too late to be reviewed by now")
    progress.set_progress(coordinator, journey.id, JourneyStatus.COMPLETED, now=ended)
    invitations.invite(journey, now=ended)
    commit_unit()
    return journey


def _expect(booking: Booking, states: tuple[BookingStatus, ...], what: str) -> None:
    if booking.status not in states:
        raise Conflict(f"the booking was not {what} (it is {booking.status.value})")


def _reviews(spec: dict, journey: Journey, coordinator: User, created: Counter) -> None:
    """The patient's reviews of the journey, the members' answers and the moderation,
    each written once."""
    patient = journey.patient
    ended = max(t.at for t in journey.transitions if t.to_status == JourneyStatus.COMPLETED)
    for item in spec["reviews"]:
        provider = db.session.scalar(select(Provider).where(Provider.slug == item["member"]))
        review = db.session.scalar(select(Review).where(Review.journey_id == journey.id,
                                                        Review.provider_id == provider.id))
        if review is None:
            written = _at(ended.date() + timedelta(days=item["after_days"]), 18, 40)
            review = reviews.submit_review(patient, journey.id, provider.id, {
                key: item[key] for key in ("overall", "ratings", "text", "language",
                                           "anonymous")}, now=written)
            created["reviews"] += 1
        answer = item["reply"]
        if answer and review.replied_at is None:
            reviews.reply(get_user_by_email(manager_email(provider.slug)), review.id,
                          answer["text"], answer["language"],
                          now=_at(review.created_at.date()
                                  + timedelta(days=answer["after_days"]), 10, 15))
            created["member answers"] += 1
        hidden = item["hidden"]
        moderated = db.session.scalar(select(ReviewModeration.id).where(
            ReviewModeration.review_id == review.id).limit(1))
        if hidden and moderated is None:
            moderation.hide_review(coordinator, review.id, HideReason(hidden["reason"]),
                                   hidden["note"],
                                   now=_at(review.created_at.date() + timedelta(days=1), 9))
            created["hidden reviews"] += 1


def reviews_summary() -> str:
    """The demo's completed journeys and their reviews, for the summary line."""
    found = reviewed_journeys()
    if not found:
        return "no completed journeys"
    ids = [journey.id for journey in found]
    written, published = db.session.execute(
        select(func.count(Review.id),
               func.count(Review.id).filter(Review.state == ReviewState.PUBLISHED))
        .where(Review.journey_id.in_(ids))).one()
    counts = select(func.count(Review.id).label("n")).where(
        Review.state == ReviewState.PUBLISHED).group_by(Review.provider_id).subquery()
    ranked = db.session.scalar(select(func.count()).select_from(counts)
                               .where(counts.c.n >= RANKED_FROM_REVIEWS))
    return (f"{len(found)} completed journeys with {written} reviews ({published} "
            f"published, {ranked} members ranked)")
