"""The itinerary page and its PDF, made with WeasyPrint from the same template."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request
from flask_babel import format_date
from weasyprint import HTML

from journey.core.accounts.auth import current_actor
from journey.pages.common import login_required
from journey.trip.models import TASK_KIND_TITLES, TRAVEL_MODE_TITLES
from journey.trip.services.itinerary import days_of, trip_view
from providers.services.offers import offer_text

bp = Blueprint("itinerary", __name__)


def _context(journey_id: int) -> dict:
    view = trip_view(current_actor(), journey_id)
    titles = {}
    for item in view.items:
        _language, text = offer_text(item.offer, view.journey.language)
        titles[item.id] = text.title if text else f"#{item.offer_id}"
    return {"view": view, "days": days_of(view), "titles": titles,
            "task_titles": TASK_KIND_TITLES, "mode_titles": TRAVEL_MODE_TITLES,
            "day_title": lambda day: format_date(day, "full")}


@bp.get("/journeys/<int:journey_id>/itinerary")
@login_required
def show(journey_id: int):
    return render_template("trip/itinerary.html", **_context(journey_id))


@bp.get("/journeys/<int:journey_id>/itinerary.pdf")
@login_required
def pdf(journey_id: int):
    html = render_template("trip/itinerary_pdf.html", **_context(journey_id))
    content = HTML(string=html, base_url=request.url_root).write_pdf()
    response = make_response(content)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="one-window-itinerary-{journey_id}.pdf"')
    response.headers["Cache-Control"] = "private, no-store"
    return response
