"""Who pays a line: the patient, or a member that decided to bear it.

A member bears another's line (a hospital paying its patient's hotel nights) only by
its own decision: in its own package template, by setting it itself when its manager
composes a journey, or by accepting a request a coordinator or the member composing
the journey sends to its portal inbox, with the amount. A patient, another member or
a coordinator can ask, never decide (:func:`journey.core.accounts.permissions.
payer_refusal`). A line changed after its bearer agreed goes back to the patient's bill
(:func:`journey.builder.services.journeys.drop_bearer_unless_payer`).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from journey import notices
from journey.builder.models import BearingRequest, BearingStatus, Journey, JourneyItem
from journey.builder.services.journeys import (
    EDITABLE,
    get_journey_for_change,
    journey_item,
    package_changed,
    visible_journey,
)
from journey.builder.services.quotes import item_price
from journey.core.accounts.permissions import payer_refusal, require_member_access
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound, refuse
from journey.core.extensions import db
from journey.core.money import convert_minor
from journey.core.reasons import why
from journey.core.types import today_in, utcnow
from journey.core.validation import at_most
from providers.models import MemberStatus, Provider
from providers.services.rates import rates_in_force, require_rate

MAX_NOTE = 500


def item_value(item: JourneyItem, currency: str) -> int:
    """What the line costs now, in ``currency`` (today's rates, as a quote would)."""
    _unit, total = item_price(item)
    rate = require_rate(rates_in_force(today_in()), item.offer.currency, currency)
    return convert_minor(total, item.offer.currency, currency, rate.rate)


def request_bearing(actor, journey_id: int, item_id: int, provider_id: int, *,
                    note: str = "", now: datetime | None = None) -> BearingRequest:
    """Ask member ``provider_id`` to bear a line of the journey: by a coordinator or the
    member composing the journey (a patient cannot choose who pays)."""
    journey = get_journey_for_change(actor, journey_id)
    if actor.id == journey.patient_id:
        raise Forbidden(_l("A patient cannot choose who pays a line; your coordinator can "
                           "ask a member to bear it."))
    item = journey_item(journey, item_id)
    bearer = db.session.get(Provider, provider_id)
    if bearer is None or bearer.status != MemberStatus.VERIFIED:
        raise InvalidInput(fields={"provider_id": [_l("No such member.")]})
    if item.borne_by_provider_id == bearer.id:
        raise Conflict(_l("%(member)s bears this line already.", member=bearer.name))
    if db.session.scalar(select(BearingRequest.id).where(
            BearingRequest.item_id == item.id,
            BearingRequest.status == BearingStatus.PENDING)) is not None:
        raise Conflict(_l("A request for this line waits for its answer already."))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(fields={"note": [at_most(MAX_NOTE)]})
    request = BearingRequest(journey_id=journey.id, item_id=item.id, provider_id=bearer.id,
                             amount_minor=item_value(item, journey.currency),
                             currency=journey.currency, note=note,
                             status=BearingStatus.PENDING, requested_by_id=actor.id,
                             created_at=now or utcnow())
    db.session.add(request)
    db.session.flush()
    notices.queue(f"bearing_request:{request.id}", f"provider:{bearer.id}", "bearing_request",
                  payload={"request_id": request.id}, now=now)
    return request


def _request(actor, request_id: int) -> BearingRequest:
    request = db.session.get(BearingRequest, request_id)
    if request is None or not (actor.role.is_cluster or actor.provider_id == request.provider_id
                               or actor.id == request.requested_by_id):
        raise NotFound(_l("No such request."))
    return request


def decide_bearing(actor, request_id: int, *, accept: bool,
                   now: datetime | None = None) -> BearingRequest:
    """The bearer's manager accepts (the line becomes the member's to pay, the journey
    is quoted again) or declines. A line that costs more now than when it was asked
    cannot be accepted: the request lapses and is asked again."""
    request = _request(actor, request_id)
    refuse(payer_refusal(actor, request.provider_id))
    if request.status != BearingStatus.PENDING:
        raise Conflict(_l("This request has been answered already."))
    now = now or utcnow()
    request.decided_by_id, request.decided_at = actor.id, now
    if not accept:
        request.status = BearingStatus.DECLINED
    else:
        item = request.item
        journey = db.session.get(Journey, request.journey_id)
        if item is None or journey.status not in EDITABLE:
            request.status = BearingStatus.LAPSED
            db.session.flush()
            raise Conflict(_l("The line is no longer in the journey's package as it was."))
        if item_value(item, request.currency) > request.amount_minor:
            request.status = BearingStatus.LAPSED
            db.session.flush()
            raise Conflict(_l("The line costs more now than when it was asked; it must be "
                              "asked again."))
        request.status = BearingStatus.ACCEPTED
        item.borne_by_provider_id = request.provider_id
        package_changed(journey, actor, why("item_changed"))
    db.session.flush()
    notices.queue(f"bearing_decided:{request.id}", f"user:{request.requested_by_id}",
                  "bearing_decided", payload={"request_id": request.id}, now=now)
    return request


def withdraw_bearing(actor, request_id: int) -> BearingRequest:
    """Whoever asked (or a coordinator) takes a waiting request back."""
    request = _request(actor, request_id)
    if not (actor.role.is_cluster or actor.id == request.requested_by_id):
        raise Forbidden(_l("Only whoever asked, or a coordinator, withdraws a request."))
    if request.status != BearingStatus.PENDING:
        raise Conflict(_l("This request has been answered already."))
    request.status = BearingStatus.WITHDRAWN
    db.session.flush()
    return request


def member_requests(actor, provider_id: int, *, pending_only: bool = False
                    ) -> list[BearingRequest]:
    """The requests a member was sent, waiting ones first."""
    require_member_access(actor, provider_id)
    query = select(BearingRequest).where(BearingRequest.provider_id == provider_id)
    if pending_only:
        query = query.where(BearingRequest.status == BearingStatus.PENDING)
    found = list(db.session.scalars(query.order_by(BearingRequest.id.desc())))
    return sorted(found, key=lambda r: r.status != BearingStatus.PENDING)


def journey_requests(actor, journey_id: int) -> list[BearingRequest]:
    """The requests about a journey's lines, for those who see the journey's prices."""
    journey = visible_journey(actor, journey_id)
    query = select(BearingRequest).where(BearingRequest.journey_id == journey.id)
    if actor.role.is_member and not actor.role.is_cluster and \
            journey.entry_provider_id != actor.provider_id:
        query = query.where(BearingRequest.provider_id == actor.provider_id)
    return list(db.session.scalars(query.order_by(BearingRequest.id)))
