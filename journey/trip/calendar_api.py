"""The journey's calendar in the REST API: download it, or open (and close) a private
address a calendar application subscribes to. The address itself is served outside
the API, without a bearer token (:mod:`journey.trip.calendar_feed`)."""

from __future__ import annotations

from flask import Response, g, url_for
from flask.views import MethodView
from marshmallow import Schema, fields

from journey.core.accounts.auth import current_actor
from journey.core.api import CLUSTER, MEMBERS, PATIENT, Blueprint, roles
from journey.core.i18n import content_language
from journey.core.types import ID_CONVERTER
from journey.trip.services import calendar

ID = ID_CONVERTER
CALENDAR_TYPE = "text/calendar"
blp = Blueprint("calendar", __name__, description="The journey's calendar (iCalendar, RFC "
                "5545): its items as all-day events, its tasks and travel in the zone of "
                "their place; to download, or to subscribe to at a private address")


class CalendarSubscriptionSchema(Schema):
    url = fields.String(required=True, metadata={
        "format": "uri", "description": "The private address of the journey's calendar, "
        "for a calendar application to subscribe to; no sign-in needed. Shown this once: "
        "keep it safe, and revoke it if it leaks (a new address revokes the older one)."})


def calendar_response(content: bytes, *, filename: str, attachment: bool) -> Response:
    response = Response(content, content_type=f"{CALENDAR_TYPE}; charset=utf-8")
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blp.route(f"/journeys/<{ID}:journey_id>/calendar.ics")
class JourneyCalendar(MethodView):
    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type=CALENDAR_TYPE)
    def get(self, journey_id):
        """The journey's calendar as you may see it, as an attachment: all of it for the
        patient and those who compose it; a member's own lines and tasks for a member
        that supplies or treats a line. In your language (`?lang=` or your profile)."""
        language = content_language()
        g.content_language = language
        content = calendar.calendar_for(current_actor(), journey_id, language=language)
        return calendar_response(content, filename=calendar.calendar_filename(journey_id),
                                 attachment=True)


@blp.route(f"/journeys/<{ID}:journey_id>/calendar-subscription")
class CalendarSubscription(MethodView):
    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @blp.response(201, CalendarSubscriptionSchema)
    def post(self, journey_id):
        """A private address of the journey's calendar (the patient, the member who
        opened the journey, a coordinator): the whole journey, in its language, for a
        calendar application to subscribe to. The journey's older address stops
        working."""
        raw = calendar.issue_calendar_token(current_actor(), journey_id)
        return {"url": url_for("calendar_feed.feed", token=raw, _external=True)}

    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @blp.response(204)
    def delete(self, journey_id):
        """Revoke the journey's private calendar addresses: they answer 404 from now on
        (none to revoke is no error)."""
        calendar.revoke_calendar_tokens(current_actor(), journey_id)
