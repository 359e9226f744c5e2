"""Stripe's webhook: each signed, well-formed event takes effect once, in any order and
however often it arrives. Anything else is 400 and writes nothing (Stripe retries a 5xx).
The PaymentIntent is fetched again from Stripe rather than trusted from the payload."""

from __future__ import annotations

import json
import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bookings.models import Payment, ProcessedStripeEvent
from bookings.payments import InvalidSignature, StripeGateway, verify_webhook
from bookings.services.access import lock_booking
from bookings.services.saga import advance, apply_intent
from journey.core.errors import DomainError
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.types import utcnow


def handle_stripe_event(payload: bytes, signature: str | None, *, secret: str,
                        gateway: StripeGateway, now: datetime | None = None) -> bool:
    """Take a webhook into account once. The signature must be valid and the event well
    formed (else 400 and nothing is written); the intent is fetched again from Stripe
    rather than trusted from the payload. Returns whether this delivery changed anything."""
    now = now or utcnow()
    event_id, event_type, object_id = parse_stripe_event(payload, signature, secret=secret)
    if db.session.get(ProcessedStripeEvent, event_id) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(ProcessedStripeEvent(id=event_id, type=event_type, received_at=now))
    except IntegrityError:  # the same event, delivered twice at once
        return False
    if not event_type.startswith("payment_intent.") or object_id is None:
        return False
    payment = db.session.scalar(select(Payment).where(Payment.intent_id == object_id))
    if payment is None:
        return False
    lock_booking(payment.booking_id)  # not while another step of this booking runs
    db.session.refresh(payment)
    changed = apply_intent(payment, gateway.retrieve(object_id), actor="stripe", now=now)
    if changed:
        commit_unit()  # the payment's new state stands before the next step
        advance(payment.booking, gateway, actor="stripe", now=now)
    return changed


#: Stripe's identifiers and event types are short ASCII words; ours are stored in 100.
_STRIPE_WORD = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


def parse_stripe_event(payload: bytes, signature: str | None, *,
                       secret: str) -> tuple[str, str, str | None]:
    """``(event id, type, data.object.id)`` of a signed event, or :class:`DomainError`
    (400) for a bad signature or anything but a well-formed event object."""
    malformed = DomainError(_l("Invalid webhook signature or payload."))
    try:
        verify_webhook(payload, signature, secret)
        event = json.loads(payload)
    except (ValueError, RecursionError, InvalidSignature) as error:
        raise malformed from error
    if not isinstance(event, dict):
        raise malformed
    event_id, event_type, data = event.get("id"), event.get("type"), event.get("data")
    if not all(isinstance(v, str) and _STRIPE_WORD.fullmatch(v)
               for v in (event_id, event_type)):
        raise malformed
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise malformed
    object_id = data["object"].get("id")
    if object_id is not None and not (isinstance(object_id, str)
                                      and _STRIPE_WORD.fullmatch(object_id)):
        raise malformed
    if event_type.startswith("payment_intent.") and object_id is None:
        raise malformed
    return event_id, event_type, object_id
