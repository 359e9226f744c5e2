"""The e-mail of reviews, registered with :mod:`journey.notices` (imported by the
reviews API, pages and job, so it is registered when the app starts).

- ``review_invitation`` (to the patient, in their language): the journey is completed;
  the members that served them, and the link to review them.
"""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bookings.models import Notification
from journey import notices
from journey.builder.models import Journey
from journey.core.extensions import db
from journey.reviews.models import EDIT_DAYS
from journey.reviews.services.invitations import INVITATION
from journey.reviews.services.reviews import served_members
from providers.models import Provider


def _link(endpoint: str, **values) -> str:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def _params(notification: Notification) -> dict:
    journey = db.session.get(Journey, notification.payload["journey_id"])
    served = served_members(journey)
    names = sorted(db.session.scalars(select(Provider.name).where(Provider.id.in_(list(served)))))
    return {"journey": journey.id, "members": "\n".join(f"- {name}" for name in names),
            "link": _link("reviews_pages.journey_reviews", journey_id=journey.id),
            "rules": _link("reviews_pages.rules"), "days": EDIT_DAYS}


notices.register(
    INVITATION, _l("How was your journey? Tell other patients (journey %(journey)s)"),
    _l("Your journey is completed. Other patients choose by the experience of those who "
       "went before them: please rate the members that served you, and say what you "
       "would tell a friend. Only you can review them, once each; you may stay anonymous "
       "to the public, and you can change your review during %(days)s days.\n\n%(members)s\n\n"
       "%(link)s\n\nOur rules for reviews: %(rules)s"),
    _params)
