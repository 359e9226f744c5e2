"""E-mail kinds of the insurers (registered with :mod:`journey.notices`; imported by
:mod:`journey.insurance.api` so they exist when the app starts):

- ``guarantee_requested`` (to the insurer): a quote asks for a guarantee of payment,
  the amount and the deadline, with the link to its portal;
- ``guarantee_answered`` (to the patient): the insurer approved or declined, with the
  link to the journey.
"""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from bookings.models import Notification
from journey import notices
from journey.core.extensions import db
from journey.core.money import Money, format_money
from journey.insurance.models import GUARANTEE_STATUS_TITLES, Guarantee
from providers.services.members import member_zone

REQUESTED = "guarantee_requested"
ANSWERED = "guarantee_answered"


def _link(endpoint: str, **values) -> str:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def _params(notification: Notification) -> dict:
    guarantee = db.session.get(Guarantee, notification.payload["guarantee_id"])
    locale = str(get_locale() or "en")
    return {"policy": guarantee.policy.policy_number, "holder": guarantee.policy.holder_name,
            "amount": format_money(Money(guarantee.requested_minor, guarantee.currency),
                                   locale),
            "respond_by": notices.zoned(guarantee.respond_by,
                                        member_zone(guarantee.provider_id)),
            "state": str(GUARANTEE_STATUS_TITLES[guarantee.status]),
            "portal": _link("insurance.portal", provider_id=guarantee.provider_id),
            "journey": _link("journey.show", journey_id=guarantee.policy.journey_id)}


def queue_requested(guarantee: Guarantee, *, now) -> None:
    notices.queue(f"{REQUESTED}:{guarantee.id}", f"provider:{guarantee.provider_id}",
                  REQUESTED, payload={"guarantee_id": guarantee.id}, now=now)


def queue_answered(guarantee: Guarantee, patient_id: int, *, now) -> None:
    notices.queue(f"{ANSWERED}:{guarantee.id}", f"user:{patient_id}", ANSWERED,
                  payload={"guarantee_id": guarantee.id}, now=now)


notices.register(
    REQUESTED, _l("Guarantee of payment asked: policy %(policy)s"),
    _l("A journey of %(holder)s (policy %(policy)s) asks you to guarantee %(amount)s. "
       "Please approve or decline by %(respond_by)s in your portal:\n%(portal)s"),
    _params)
notices.register(
    ANSWERED, _l("Your insurer's answer: %(state)s"),
    _l("Your insurer's answer to the guarantee of payment for policy %(policy)s: "
       "%(state)s.\n%(journey)s"),
    _params)
