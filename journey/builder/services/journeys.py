"""Journeys: opening one (from any member's window), composing its items, its states."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, exists, or_, select, true, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from bookings.models import Booking, BookingStatus
from bookings.services.saga import ENDED
from journey.builder.models import (
    JOURNEY_PATH,
    BearingRequest,
    BearingStatus,
    Journey,
    JourneyItem,
    JourneyStatus,
    JourneyTransition,
    PackageTemplate,
    Quote,
)
from journey.builder.plan import MEDICAL_LINKS
from journey.builder.services.templates import get_template
from journey.core.accounts.invitations import invite_patient
from journey.core.accounts.models import Role, User
from journey.core.accounts.permissions import (
    payer_refusal,
    require_authenticated,
    require_cluster,
)
from journey.core.accounts.services import get_user_by_email, normalize_email
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound, refuse
from journey.core.extensions import db
from journey.core.money import require_currency
from journey.core.persistence import dialect_name, driver_read, page_of, plus_days
from journey.core.reasons import Why, why
from journey.core.types import UTCDateTime, today_in, utcnow
from providers.models import ChainLink, Offer, Provider
from providers.services.availability import availability_key, available_condition
from providers.services.common import check_country, check_language
from providers.services.offers import (
    get_offer,
    is_public,
    last_day,
    offer_row_columns,
    offer_rows,
)

#: Allowed moves of a journey's state.
TRANSITIONS = {
    JourneyStatus.DRAFT: {JourneyStatus.QUOTED, JourneyStatus.CANCELLED},
    JourneyStatus.QUOTED: {JourneyStatus.DRAFT, JourneyStatus.QUOTED, JourneyStatus.ACCEPTED,
                           JourneyStatus.CANCELLED},
    JourneyStatus.ACCEPTED: {JourneyStatus.DRAFT, JourneyStatus.QUOTED, JourneyStatus.BOOKED,
                             JourneyStatus.CANCELLED},
    # A booking that ends before its capture makes the package editable again.
    JourneyStatus.BOOKED: {JourneyStatus.CONFIRMED, JourneyStatus.CANCELLED,
                           JourneyStatus.DRAFT},
    JourneyStatus.CONFIRMED: {JourneyStatus.IN_PROGRESS, JourneyStatus.CANCELLED},
    JourneyStatus.IN_PROGRESS: {JourneyStatus.COMPLETED},
    JourneyStatus.COMPLETED: set(),
    JourneyStatus.CANCELLED: set(),
}
#: States in which the package may still change.
EDITABLE = {JourneyStatus.DRAFT, JourneyStatus.QUOTED, JourneyStatus.ACCEPTED}
PROFILE_FIELDS = ("adults", "children", "nationality", "residence", "language", "currency",
                  "arrival_on", "departure_on", "treatment_start_on")


# --- access -------------------------------------------------------------------------

def visible_condition(actor):
    """SQL condition: the journeys ``actor`` may see.

    Patients see their own; member staff the journeys their member opened or that
    contain its offers; coordinators and admins all of them.
    """
    actor = require_authenticated(actor)
    return _visible_to(_viewer_kind(actor), actor.id, actor.provider_id)


def _viewer_kind(actor) -> str:
    if actor.role.is_cluster:
        return "cluster"
    return "patient" if actor.role == Role.PATIENT else "member"


def _visible_to(kind: str, actor_id, provider_id):
    """:func:`visible_condition` for a viewer of ``kind``, with ``actor_id`` and
    ``provider_id`` values or bound parameters."""
    if kind == "cluster":
        return true()
    if kind == "patient":
        return Journey.patient_id == actor_id
    contains_ours = exists().where(JourneyItem.journey_id == Journey.id,
                                   JourneyItem.offer_id == Offer.id,
                                   Offer.provider_id == provider_id)
    return or_(Journey.entry_provider_id == provider_id, contains_ours)


@lru_cache(maxsize=8)
def _visible_journey_statement(kind: str, lock: bool):
    """The read of :func:`visible_journey`, built once per kind of viewer: the journey,
    the actor and the member bound as ``journey_id``, ``actor_id`` and ``provider_id``
    (a quote no longer builds and keys it per request)."""
    query = select(Journey).where(
        Journey.id == bindparam("journey_id", type_=Integer()),
        _visible_to(kind, bindparam("actor_id", type_=Integer()),
                    bindparam("provider_id", type_=Integer())))
    if lock:
        query = query.with_for_update(of=Journey).execution_options(populate_existing=True)
    return query


class JourneyAccess(enum.StrEnum):
    """What a person may know of a journey (DESIGN: scoped access)."""

    PATIENT = "patient"  # everything of their own journey
    CLUSTER = "cluster"  # coordinators and admins
    ENTRY = "entry"  # the member the patient came to first (one window): composes it
    TREATING = "treating"  # a member with a consultation, diagnostics, treatment or
    #                        rehabilitation line: the whole trip, not the prices
    SUPPLIER = "supplier"  # any other member on it: only its own lines


def access_of(actor, journey: Journey) -> JourneyAccess:
    """How ``actor``, who may see ``journey`` (:func:`visible_condition`), sees it."""
    if actor.role.is_cluster:
        return JourneyAccess.CLUSTER
    if actor.role == Role.PATIENT:
        return JourneyAccess.PATIENT
    if journey.entry_provider_id == actor.provider_id:
        return JourneyAccess.ENTRY
    treating = db.session.scalar(select(exists().where(
        JourneyItem.journey_id == journey.id, JourneyItem.offer_id == Offer.id,
        Offer.provider_id == actor.provider_id, Offer.chain_link.in_(MEDICAL_LINKS))))
    return JourneyAccess.TREATING if treating else JourneyAccess.SUPPLIER


#: Who may change the package and see its quotes (and so every member's price).
COMPOSERS = {JourneyAccess.PATIENT, JourneyAccess.CLUSTER, JourneyAccess.ENTRY}


class SupplierJourneyView:
    """A journey as a member sees it that only delivers a line of it (a hotel, a
    transfer, an interpreter): the travellers, the dates and its own lines; never the
    patient's nationality or residence, other members' lines, the quotes (prices) or
    the history with its notes."""

    def __init__(self, journey: Journey, provider_id: int):
        self._journey = journey
        self.items = [item for item in journey.items if item.offer.provider_id == provider_id]
        self.nationality = None
        self.residence = None
        self.transitions: list = []
        self.quotes: list = []

    def __getattr__(self, name):
        return getattr(self._journey, name)


def visible_journey(actor, journey_id: int, *, lock: bool = False) -> Journey:
    """The journey if ``actor`` may see it (404 otherwise). With ``lock``, its row is
    locked for the rest of the transaction and read afresh: PostgreSQL ``FOR UPDATE``
    in the same statement; SQLite's write lock through a no-op update first (its reads
    take no lock: two changes that both read the items before either wrote would each
    replace what the other wrote)."""
    actor = require_authenticated(actor)
    if lock and dialect_name() == "sqlite":
        db.session.execute(update(Journey).where(Journey.id == journey_id)
                           .values(updated_at=Journey.updated_at)
                           .execution_options(synchronize_session=False))
    journey = db.session.scalar(_visible_journey_statement(_viewer_kind(actor), lock), {
        "journey_id": journey_id, "actor_id": actor.id, "provider_id": actor.provider_id})
    if journey is None:
        raise NotFound(_l("No such journey."))
    return journey


def as_seen_by(actor, journey: Journey) -> Journey | SupplierJourneyView:
    """``journey`` as ``actor`` (who may see it) may see it."""
    if access_of(actor, journey) == JourneyAccess.SUPPLIER:
        return SupplierJourneyView(journey, actor.provider_id)
    return journey


def get_journey(actor, journey_id: int) -> Journey | SupplierJourneyView:
    """A journey ``actor`` may see, as they may see it (:class:`SupplierJourneyView` for
    a member that only supplies a line); 404 for anyone else, whatever the id."""
    return as_seen_by(actor, visible_journey(actor, journey_id))


def get_package(actor, journey_id: int) -> Journey:
    """The whole journey, its package and quotes, for those who compose it or treat the
    patient; 404 for a member that only supplies a line (it must not learn what else
    the patient books) and for anyone else."""
    journey = visible_journey(actor, journey_id)
    if access_of(actor, journey) == JourneyAccess.SUPPLIER:
        raise NotFound(_l("No such journey."))
    return journey


def load_items(journey: Journey) -> list[JourneyItem]:
    """Load the journey's items with their offers, members, texts, prices and terms in
    a few queries (instead of several lazy loads per item) and set them as its items."""
    items = list(db.session.scalars(
        select(JourneyItem).where(JourneyItem.journey_id == journey.id)
        .order_by(JourneyItem.start_on, JourneyItem.id)
        .options(joinedload(JourneyItem.offer).options(
            joinedload(Offer.provider), selectinload(Offer.texts),
            selectinload(Offer.price_rules), selectinload(Offer.cancellation_tiers)))))
    set_committed_value(journey, "items", items)
    return items


@lru_cache(maxsize=8)
def _item_rows_statement(availability: tuple | None):
    """The statement of :func:`item_rows`; with ``availability`` (the key of the usage
    sources, :func:`~providers.services.availability.availability_key`), also whether
    each item's units are free (``item_available``, at the bound ``now``)."""
    columns = [*(column.label(f"item_{column.name}") for column in JourneyItem.__table__.c),
               *offer_row_columns()]
    if availability is not None:
        columns.append(available_condition(
            JourneyItem.offer_id, JourneyItem.start_on,
            plus_days(JourneyItem.start_on, JourneyItem.days - 1), JourneyItem.quantity,
            bindparam("now", type_=UTCDateTime()), days=JourneyItem.days)
            .label("item_available"))
    return (select(*columns)
            .select_from(JourneyItem)
            .join(Offer, Offer.id == JourneyItem.offer_id)
            .join(Provider, Provider.id == Offer.provider_id)
            .where(JourneyItem.journey_id == bindparam("journey_id", type_=Integer()))
            .order_by(JourneyItem.start_on, JourneyItem.id))


def item_rows(journey: Journey, *, available_at: datetime | None = None
              ) -> list[SimpleNamespace]:
    """The journey's items to price and check, read-only: plain objects with the
    attribute names of :class:`JourneyItem`, each with its ``offer`` as
    :func:`providers.services.offers.offer_rows` gives it, in the order of
    :func:`load_items`. One statement (the offers' texts, prices and tiers in it as
    JSON), one text whatever the journey, and no ORM object; the journey's ``items``
    are left as they were (not loaded). With ``available_at``, each item's
    ``available`` says whether its units are free for its dates then, read in the same
    statement (as :func:`~journey.builder.services.composition.unavailable_items`
    would read it), and ``available_at`` the time it was read for."""
    statement = _item_rows_statement(None if available_at is None else availability_key())
    parameters = {"journey_id": journey.id}
    if available_at is not None:
        parameters["now"] = available_at
    rows = driver_read(statement, parameters, flush=True)
    offers = offer_rows(rows)
    columns = JourneyItem.__table__.c.keys()
    items = []
    for row in rows:
        mapping = row._mapping
        item = SimpleNamespace(**{name: mapping[f"item_{name}"] for name in columns})
        item.offer = offers[item.offer_id]
        if available_at is not None:
            item.available, item.available_at = bool(mapping["item_available"]), available_at
        items.append(item)
    return items


def get_journey_for_change(actor, journey_id: int) -> Journey:
    """The journey, for its patient, the member who opened it or the cluster to change;
    a member that delivers or treats a line of it may not (403), anyone else 404.
    Its row is locked (see :func:`visible_journey`) and read afresh: two changes of one
    journey at once (two coordinators applying a template, a quote while an item is
    added) take turns, the second deciding on what the first left."""
    journey = visible_journey(actor, journey_id, lock=True)
    if access_of(actor, journey) not in COMPOSERS:
        raise Forbidden(_l("Only the patient, the member who opened the journey or a "
                           "coordinator can change it."))
    refuse(not_editable(journey) or checkout_under_way(journey))
    return journey


def checkout_under_way(journey: Journey) -> Conflict | None:
    """409 while a booking of the journey's accepted quote waits for its payment (a
    checkout whose card is not authorised yet, a coordinator's payment link): it holds
    the units and may still be paid, so a changed package, quoted and paid again, was
    a second booking of the same trip, charged twice."""
    if journey.status != JourneyStatus.ACCEPTED:
        return None
    accepted = select(Quote.id).where(Quote.journey_id == journey.id,
                                      Quote.accepted_at.is_not(None))
    booking_id = db.session.scalar(select(Booking.id).where(
        Booking.reference.in_([f"quote:{quote_id}" for quote_id
                               in db.session.scalars(accepted)]),
        Booking.status == BookingStatus.PENDING_PAYMENT).limit(1))
    if booking_id is None:
        return None
    return Conflict(_l("Booking %(booking)s of this journey is waiting for its payment: "
                       "pay it, or cancel it, before changing the journey.",
                       booking=booking_id))


def booking_still_on(journey: Journey) -> Conflict | None:
    """409 while a booking of the journey is paid for (or its card authorised) and not
    cancelled: a booked journey ends by cancelling its booking, under the offers'
    terms (the fees kept, the refunds, the members told), and the journey follows it.
    Cancelled by itself, the journey said "cancelled" while its members still expected
    the patient and the card stayed charged."""
    if journey.status not in (JourneyStatus.BOOKED, JourneyStatus.CONFIRMED,
                              JourneyStatus.IN_PROGRESS):
        return None
    quotes = select(Quote.id).where(Quote.journey_id == journey.id)
    booking_id = db.session.scalar(select(Booking.id).where(
        Booking.reference.in_([f"quote:{quote_id}" for quote_id in db.session.scalars(quotes)]),
        Booking.status.not_in(ENDED)).limit(1))
    if booking_id is None:
        return None
    return Conflict(_l("Booking %(booking)s of this journey is still on: cancel the booking "
                       "(under its cancellation terms, with any refund), and the journey is "
                       "cancelled with it.", booking=booking_id))


def not_editable(journey: Journey) -> Conflict | None:
    """Why ``journey``'s package may not change now (None when it may): it is cancelled,
    or booked (a cancelled journey was said to be booked)."""
    if journey.status in EDITABLE:
        return None
    if journey.status == JourneyStatus.CANCELLED:
        return Conflict(_l("This journey is cancelled."))
    return Conflict(_l("This journey is booked; its package can no longer change here."))


def list_journeys(actor, *, status: JourneyStatus | None = None,
                  coordinator_id: int | None = None, page=1, per_page=20):
    query = select(Journey).where(visible_condition(actor))
    if status is not None:
        query = query.where(Journey.status == status)
    if coordinator_id is not None:
        query = query.where(Journey.coordinator_id == coordinator_id)
    found, total = page_of(query.order_by(Journey.id.desc()), page=page, per_page=per_page)
    if actor.role.is_member:
        found = [as_seen_by(actor, journey) for journey in found]
    return found, total


# --- states -------------------------------------------------------------------------

def _moved(journey: Journey, to: JourneyStatus, *, actor, reason: Why | str,
           now: datetime | None) -> tuple[JourneyTransition, JourneyStatus]:
    """Refuse a move the transition table does not allow; else the row that records it
    and the furthest state on the way the journey will have reached."""
    if journey.status is not None and to not in TRANSITIONS[journey.status]:
        raise Conflict(_l("A journey cannot go from %(old)s to %(new)s.",
                          old=journey.status.value, new=to.value))
    row = JourneyTransition(from_status=journey.status, to_status=to,
                            actor_id=actor.id if actor else None, at=now or utcnow())
    row.set_reason(reason)
    reached = journey.reached
    if to in JOURNEY_PATH and (reached is None or JOURNEY_PATH.index(to)
                               > JOURNEY_PATH.index(reached)):
        reached = to
    return row, reached


def transition(journey: Journey, to: JourneyStatus, *, actor=None, reason: Why | str = "",
               now: datetime | None = None) -> None:
    """Move ``journey`` to ``to`` and record who, when, from, to and why."""
    to = JourneyStatus(to)
    row, reached = _moved(journey, to, actor=actor, reason=reason, now=now)
    if journey.id is None:
        journey.transitions.append(row)
    else:  # appended without loading the whole history
        row.journey_id = journey.id
        db.session.add(row)
        db.session.expire(journey, ["transitions"])
    journey.status = to
    if reached != journey.reached:
        journey.reached = reached


def transition_to_write(journey: Journey, to: JourneyStatus, *, actor=None,
                        reason: Why | str = "", now: datetime) -> tuple[JourneyTransition, dict]:
    """:func:`transition` for a caller that writes it in a statement of its own (a
    quote, with its lines): the new row that records it, and the journey's columns it
    changes (status, the furthest state reached, ``updated_at``), neither applied."""
    to = JourneyStatus(to)
    row, reached = _moved(journey, to, actor=actor, reason=reason, now=now)
    row.journey_id = journey.id
    return row, {"status": to, "reached": reached, "updated_at": now}


def cancel_journey(actor, journey_id: int, *, reason: str = "") -> Journey:
    journey = visible_journey(actor, journey_id)
    if access_of(actor, journey) not in COMPOSERS:
        raise Forbidden(_l("Only the patient, the member who opened the journey or a "
                           "coordinator can change it."))
    if journey.status == JourneyStatus.CANCELLED:  # not "only a coordinator" (403)
        raise Conflict(_l("This journey is already cancelled."))
    if journey.status not in EDITABLE and not actor.role.is_cluster:
        raise Forbidden(_l("Only a coordinator cancels a booked journey."))
    # its booking waiting for a payment would stay payable: a cancelled trip, charged
    refuse(checkout_under_way(journey))
    refuse(booking_still_on(journey))
    transition(journey, JourneyStatus.CANCELLED, actor=actor,
               reason=why("cancelled", note=reason))
    db.session.flush()
    return journey


def package_changed(journey: Journey, actor, what: Why) -> None:
    """A change to the package: a quoted or accepted journey is a draft again."""
    if journey.status in (JourneyStatus.QUOTED, JourneyStatus.ACCEPTED):
        transition(journey, JourneyStatus.DRAFT, actor=actor, reason=what)


# --- opening and profile -------------------------------------------------------------

def _clean_profile(data: dict) -> dict:
    clean = {k: v for k, v in data.items() if k in PROFILE_FIELDS}
    for field in ("nationality", "residence"):
        if clean.get(field):
            clean[field] = check_country(clean[field])
    if clean.get("language"):
        clean["language"] = check_language(clean["language"])
    if clean.get("currency"):
        clean["currency"] = require_currency(clean["currency"])
    check_trip_dates(**{field: clean.get(field) for field in TRIP_DATES})
    return clean


#: The trip's dates on a journey's profile.
TRIP_DATES = ("arrival_on", "departure_on", "treatment_start_on")


#: How far ahead a trip may be planned (and, first of all, no date near year 9999,
#: where adding the stay's days would overflow).
PLANNING_HORIZON = timedelta(days=5 * 366)


def check_trip_dates(**dates: date | None) -> None:
    """Refuse any of ``dates`` (by field name) beyond the planning horizon."""
    horizon = today_in() + PLANNING_HORIZON
    late = {field: [_l("Plan at most five years ahead.")]
            for field, value in dates.items() if value is not None and value > horizon}
    if late:
        raise InvalidInput(fields=late)


def _check_dates(journey: Journey) -> None:
    if journey.arrival_on and journey.departure_on and journey.departure_on <= journey.arrival_on:
        raise InvalidInput(fields={"departure_on": [_l("Must be after the arrival.")]})


#: A new trip's date before today (the cluster's date).
IN_THE_PAST = _l("Must not be in the past.")


def check_not_past(dates: dict[str, date | None], *, now: datetime | None = None) -> None:
    """Refuse any of ``dates`` (by field name) before today, the cluster's: a trip is
    planned for days to come (a trip under way keeps its dates, which are not asked
    again when something else of it changes)."""
    today = today_in(now=now)
    past = {field: [IN_THE_PAST]
            for field, value in dates.items() if value is not None and value < today}
    if past:
        raise InvalidInput(fields=past)


def _patient_for(actor, *, patient_id=None, patient_email=None, patient_name=None,
                 language=None) -> User:
    if actor.role == Role.PATIENT:
        # someone else's journey was silently opened for the caller instead
        others = {"patient_id": patient_id is not None and patient_id != actor.id,
                  "patient_email": bool(patient_email) and
                  normalize_email(patient_email) != normalize_email(actor.email)}
        if any(others.values()):
            raise InvalidInput(fields={field: [_l(
                "A patient opens journeys for themselves only: leave this field out.")]
                for field, other in others.items() if other})
        return actor
    if patient_id is not None:
        if not actor.role.is_cluster:  # a member would attach journeys to anyone's account
            raise Forbidden(_l("A member opens a journey for a patient by the patient's "
                               "e-mail address."))
        patient = db.session.get(User, patient_id)
        if patient is None or patient.role != Role.PATIENT:
            raise InvalidInput(fields={"patient_id": [_l("No such patient.")]})
        return patient
    if not patient_email:
        raise InvalidInput(fields={"patient_email": [
            _l("Give the patient's e-mail address (or their account).")]})
    patient = get_user_by_email(patient_email)
    if patient is not None:
        if patient.role != Role.PATIENT:
            raise InvalidInput(fields={"patient_email": [
                _l("This address belongs to a staff account.")]})
        return patient
    if not (patient_name or "").strip():
        raise InvalidInput(fields={"patient_name": [_l("Give the patient's name.")]})
    # A patient who walked in or called: an account without a password yet. It can
    # log in once a password is set; the journey is theirs from now on.
    patient = User(email=normalize_email(patient_email), full_name=patient_name.strip(),
                   role=Role.PATIENT, locale=language,
                   password_hash="!unusable-" + secrets.token_hex(16))
    db.session.add(patient)
    db.session.flush()
    return patient


def open_journey(actor, *, patient_id=None, patient_email=None, patient_name=None,
                 entry_provider_id: int | None = None, now: datetime | None = None,
                 **data) -> Journey:
    """Open a journey: a patient for themselves, or any member's staff (the "one
    window") or a coordinator for a patient. The member whose window it is: the
    staff's own member, or the one a coordinator names. A patient new to One Window
    (an account staff made, without a password) is invited to set one
    (:func:`journey.core.accounts.invitations.invited` tells whether a link is out)."""
    actor = require_authenticated(actor)
    if actor.role.is_member:
        entry_provider_id = actor.provider_id
    elif not actor.role.is_cluster:
        entry_provider_id = None
    elif entry_provider_id is not None and db.session.get(Provider, entry_provider_id) is None:
        raise InvalidInput(fields={"entry_provider_id": [_l("No such member.")]})
    clean = _clean_profile(data)
    check_not_past({field: clean.get(field) for field in TRIP_DATES}, now=now)
    patient = _patient_for(actor, patient_id=patient_id, patient_email=patient_email,
                           patient_name=patient_name, language=clean.get("language"))
    clean.setdefault("language", patient.locale or "en")
    clean.setdefault("currency", patient.currency or "EUR")
    journey = Journey(patient=patient, opened_by=actor, status=None,
                      entry_provider_id=entry_provider_id, **clean)
    _check_dates(journey)
    db.session.add(journey)
    transition(journey, JourneyStatus.DRAFT, actor=actor, now=now,
               reason=why("opened_by_member" if actor.role.is_member else "opened"))
    db.session.flush()
    if patient.id != actor.id:
        invite_patient(actor, patient, now=now)
    return journey


def update_journey(actor, journey_id: int, *, now: datetime | None = None,
                   **data) -> Journey:
    journey = get_journey_for_change(actor, journey_id)
    clean = _clean_profile(data)
    check_not_past({field: clean[field] for field in TRIP_DATES
                    if field in clean and clean[field] != getattr(journey, field)}, now=now)
    for field, value in clean.items():
        setattr(journey, field, value)
    _check_dates(journey)
    package_changed(journey, actor, why("trip_changed"))
    db.session.flush()
    return journey


def assign_coordinator(actor, journey_id: int, coordinator_id: int | None) -> Journey:
    require_cluster(actor)
    journey = get_package(actor, journey_id)
    if coordinator_id is not None:
        coordinator = db.session.get(User, coordinator_id)
        if coordinator is None or coordinator.role != Role.COORDINATOR:
            raise InvalidInput(fields={"coordinator_id": [_l("No such coordinator.")]})
    journey.coordinator_id = coordinator_id
    db.session.flush()
    return journey


# --- items --------------------------------------------------------------------------

def _bookable_offer(actor, offer_id: int) -> Offer:
    offer = get_offer(actor, offer_id)
    if not is_public(offer):
        raise InvalidInput(fields={"offer_id": [_l("This offer is not on sale.")]})
    return offer


def add_item(actor, journey_id: int, *, offer_id: int, start_on: date, days: int | None = None,
             quantity: int = 1, companions: int = 0, borne_by_provider_id: int | None = None,
             template_link_id: int | None = None) -> JourneyItem:
    """Add any member's offer to the journey. The rules are checked separately, so a
    package may be incomplete while it is being composed."""
    journey = get_journey_for_change(actor, journey_id)
    check_trip_dates(start_on=start_on)
    offer = _bookable_offer(actor, offer_id)
    if borne_by_provider_id is not None:
        if db.session.get(Provider, borne_by_provider_id) is None:
            raise InvalidInput(fields={"borne_by_provider_id": [_l("No such member.")]})
        refuse(payer_refusal(actor, borne_by_provider_id))
    item = JourneyItem(offer=offer, start_on=start_on, days=days or max(1, offer.duration_value),
                       quantity=quantity, companions=companions,
                       borne_by_provider_id=borne_by_provider_id,
                       template_link_id=template_link_id, added_by_id=actor.id)
    journey.items.append(item)
    package_changed(journey, actor, why("item_added"))
    db.session.flush()
    return item


#: Links that lie before, around or after the stay and so do not set the departure.
OUTSIDE_THE_STAY = {ChainLink.VISA_SUPPORT, ChainLink.TRAVEL, ChainLink.INSURANCE,
                    ChainLink.AFTERCARE}


def trip_end(items) -> date | None:
    """The departure day the items imply: the check-out of the last night, or the last
    day of a day item (a departure transfer sits on the departure day itself)."""
    return max((last_day(item.offer, item.start_on, item.start_on + timedelta(days=item.days))
                for item in items if item.offer.chain_link not in OUTSIDE_THE_STAY),
               default=None)


def trip_days(journey: Journey) -> tuple[date | None, date | None]:
    """The trip's first and last day: its own arrival and departure, else what its
    items imply (None where it has neither)."""
    first = journey.arrival_on or min((item.start_on for item in journey.items), default=None)
    return first, journey.departure_on or trip_end(journey.items)


def journey_item(journey: Journey, item_id: int) -> JourneyItem:
    item = next((i for i in journey.items if i.id == item_id), None)
    if item is None:
        raise NotFound(_l("No such item in this journey."))
    return item


def update_item(actor, journey_id: int, item_id: int, **data) -> JourneyItem:
    journey = get_journey_for_change(actor, journey_id)
    item = journey_item(journey, item_id)
    check_trip_dates(start_on=data.get("start_on"))
    before = (item.offer_id, item.start_on, item.days, item.quantity, item.companions)
    if "offer_id" in data and data["offer_id"] != item.offer_id:  # a swap
        item.offer = _bookable_offer(actor, data.pop("offer_id"))
    for field in ("start_on", "days", "quantity", "companions"):
        if field in data and data[field] is not None:
            setattr(item, field, data[field])
    after = (item.offer.id, item.start_on, item.days, item.quantity, item.companions)
    if after != before:
        drop_bearer_unless_payer(actor, item)
    package_changed(journey, actor, why("item_changed"))
    db.session.flush()
    return item


def drop_bearer_unless_payer(actor, item: JourneyItem) -> None:
    """A line another member bears, changed by someone else: the bearer agreed to the
    line as it was, so the line goes back to the patient's bill (its bearer may bear
    it again, asked anew). Its accepted request lapses."""
    if item.borne_by_provider_id is None or payer_refusal(actor, item.borne_by_provider_id) \
            is None:
        return
    item.borne_by_provider_id = None
    for request in db.session.scalars(select(BearingRequest).where(
            BearingRequest.item_id == item.id,
            BearingRequest.status == BearingStatus.ACCEPTED)):
        request.status = BearingStatus.LAPSED


def amend_own_lines(actor, journey: Journey, changes: list[dict]) -> Journey:
    """A treating member changes the dates or extent of its own lines (an amended plan
    after reviewing the patient's case): ``[{"item_id", "start_on", "days",
    "quantity"}]``. Other members' lines are not its to change (422)."""
    refuse(not_editable(journey) or checkout_under_way(journey))
    for index, change in enumerate(changes):
        item = next((i for i in journey.items if i.id == change.get("item_id")), None)
        if item is None or item.offer.provider_id != actor.provider_id:
            raise InvalidInput(fields={f"amendments.{index}": [
                _l("Only your own lines of this journey can be amended.")]})
        check_trip_dates(start_on=change.get("start_on"))
        before = (item.start_on, item.days, item.quantity)
        for field in ("start_on", "days", "quantity"):
            if change.get(field) is not None:
                setattr(item, field, change[field])
        if (item.start_on, item.days, item.quantity) != before:
            drop_bearer_unless_payer(actor, item)
    package_changed(journey, actor, why("item_changed"))
    db.session.flush()
    return journey


def remove_item(actor, journey_id: int, item_id: int) -> None:
    journey = get_journey_for_change(actor, journey_id)
    journey.items.remove(journey_item(journey, item_id))
    package_changed(journey, actor, why("item_removed"))
    db.session.flush()


def apply_template(actor, journey_id: int, template_id: int, *,
                   arrival_on: date | None = None, now: datetime | None = None) -> Journey:
    """Replace the journey's items with a published template's links, placed relative
    to the arrival day (the planner can then move them to available dates)."""
    journey = get_journey_for_change(actor, journey_id)
    template: PackageTemplate = get_template(actor, template_id, published_only=True)
    arrival = arrival_on or journey.arrival_on
    if arrival is None:
        raise InvalidInput(fields={"arrival_on": [_l("Give the arrival date first.")]})
    check_trip_dates(arrival_on=arrival)
    if arrival != journey.arrival_on:  # as any change of the dates: not into the past
        check_not_past({"arrival_on": arrival}, now=now)
    journey.arrival_on = arrival
    if journey.departure_on is not None and journey.departure_on <= arrival:
        journey.departure_on = None  # before the new arrival: the package's end sets it
    journey.template_id = template.id
    journey.items.clear()
    db.session.flush()
    for link in template.links:
        start = arrival + timedelta(days=link.day_offset or 0)
        journey.items.append(JourneyItem(
            offer=link.default_offer, start_on=start, days=link.days, quantity=link.quantity,
            borne_by_provider_id=link.borne_by_provider_id, template_link_id=link.id,
            added_by_id=actor.id))
    departure = trip_end(journey.items)
    if departure is not None and (journey.departure_on is None
                                  or journey.departure_on < departure):
        journey.departure_on = departure
    package_changed(journey, actor, why("template_applied", template=template.id))
    db.session.flush()
    return journey
