"""The e-mails of aftercare, registered with :mod:`journey.notices` (this module is
imported by the aftercare API and pages, so it is registered when the app starts).

- ``aftercare_due`` (to the patient): a follow-up is due, with the link to its short
  questionnaire; the due time at the treating member's place, in the patient's language.
- ``aftercare_problem`` (to the treating member and to the coordinators, or the
  journey's coordinator): the patient's answer signals a problem. The answers themselves
  are not in the e-mail (health data): the link leads to them, and reading is logged.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_location
from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from bookings.models import Notification
from journey import notices
from journey.aftercare.models import FollowUp
from journey.aftercare.services.schedules import step_label
from journey.core.extensions import db
from providers.models import Offer, Provider
from providers.services.offers import offer_text

DUE, PROBLEM = "aftercare_due", "aftercare_problem"


def zoned(moment, zone: str) -> str:
    """``moment`` on the clock of ``zone``, the zone named, in the current locale."""
    locale = str(get_locale() or "en")
    tzinfo = ZoneInfo(zone)
    return _("%(time)s (%(zone)s)",
             time=format_datetime(moment, "medium", tzinfo=tzinfo, locale=locale),
             zone=get_timezone_location(tzinfo, locale=locale))


def _item(followup: FollowUp) -> str:
    _language, text = offer_text(db.session.get(Offer, followup.offer_id),
                                 str(get_locale() or "en"))
    return text.title if text else f"#{followup.offer_id}"


def _link(endpoint: str, **values) -> str:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def _params(notification: Notification) -> dict:
    followup = db.session.get(FollowUp, notification.payload["followup_id"])
    provider = db.session.get(Provider, followup.provider_id)
    recipient = notification.recipient
    if notification.kind == DUE:
        link = _link("aftercare_pages.answer", followup_id=followup.id)
    elif recipient.startswith("provider:"):
        link = _link("aftercare_pages.member_followups", provider_id=followup.provider_id)
    else:
        link = _link("coordinator.journey", journey_id=followup.journey_id)
    return {"journey": followup.journey_id, "member": provider.name, "item": _item(followup),
            "step": step_label(followup.step_kind, followup.offset),
            "due": zoned(followup.due_at, followup.timezone), "link": link}


notices.register(
    DUE, _l("How are you after %(item)s?"),
    _l("%(member)s would like to know how you are: %(step)s (%(due)s). Please answer "
       "a few short questions, it takes a minute:\n%(link)s\n\nIf you feel unwell now, "
       "do not wait for this questionnaire: call your doctor or the emergency number."),
    _params)
notices.register(
    PROBLEM, _l("Aftercare: a patient reports a problem (journey %(journey)s)"),
    _l("The patient of journey %(journey)s has answered the follow-up \"%(step)s\" after "
       "%(item)s at %(member)s, and the answer signals a problem (strong pain, a "
       "complication or feeling unwell). Please read the answers and contact the "
       "patient:\n%(link)s"),
    _params)
