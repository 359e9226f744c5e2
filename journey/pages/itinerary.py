"""The itinerary page and its PDF, and the vouchers of the confirmed lines, made with
WeasyPrint from the same templates."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, make_response, render_template, request
from flask_babel import format_date
from weasyprint import HTML

from journey.core.accounts.auth import current_actor
from journey.pages.common import login_required
from journey.pages.portal import formatting_context
from journey.pages.trip_rows import need_texts
from journey.trip.models import TASK_KIND_TITLES, TRAVEL_MODE_TITLES
from journey.trip.services import vouchers
from journey.trip.services.itinerary import days_of, trip_view
from providers.models import DurationUnit
from providers.services.offers import offer_text

bp = Blueprint("itinerary", __name__)


def pdf_response(html: str, filename: str):
    content = HTML(string=html, base_url=request.url_root).write_pdf()
    response = make_response(content)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _context(journey_id: int) -> dict:
    actor = current_actor()
    view = trip_view(actor, journey_id)
    titles = {}
    for item in view.items:
        _language, text = offer_text(item.offer, view.journey.language)
        titles[item.id] = text.title if text else f"#{item.offer_id}"
    return {"view": view, "days": days_of(view), "titles": titles,
            "task_titles": TASK_KIND_TITLES, "mode_titles": TRAVEL_MODE_TITLES,
            "need_texts": need_texts,
            "day_title": lambda day: format_date(day, "full"),
            "vouchers": {v.line.offer_id: v for v in vouchers.vouchers(actor, journey_id)}}


@bp.get("/journeys/<int:journey_id>/itinerary")
@login_required
def show(journey_id: int):
    return render_template("trip/itinerary.html", **_context(journey_id))


@bp.get("/journeys/<int:journey_id>/itinerary.pdf")
@login_required
def pdf(journey_id: int):
    html = render_template("trip/itinerary_pdf.html", **_context(journey_id))
    return pdf_response(html, f"one-window-itinerary-{journey_id}.pdf")


@bp.get("/journeys/<int:journey_id>/vouchers/<int:line_id>.pdf")
@login_required
def voucher_pdf(journey_id: int, line_id: int):
    found = vouchers.voucher(current_actor(), journey_id, line_id)
    _language, text = offer_text(found.offer, found.journey.language)
    nights = found.offer.duration_unit == DurationUnit.NIGHTS
    last_day = found.line.end_on if nights else found.line.end_on - timedelta(days=1)
    html = render_template("trip/voucher_pdf.html", voucher=found, last_day=last_day,
                           title=text.title if text else f"#{found.offer.id}",
                           **formatting_context())
    return pdf_response(html, f"one-window-voucher-{found.number}.pdf")
