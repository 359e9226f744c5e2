"""The subscribed calendar: a private address a calendar application fetches on its own,
so outside the API and without a bearer token; the token in the address is the key
(:mod:`journey.trip.services.calendar`). Unknown or revoked: 404."""

from __future__ import annotations

from flask import Blueprint

from journey.trip.calendar_api import calendar_response
from journey.trip.services import calendar

bp = Blueprint("calendar_feed", __name__)


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    content = calendar.calendar_by_token(token)
    response = calendar_response(content, filename="one-window-journey.ics", attachment=False)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
