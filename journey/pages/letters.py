"""Visa invitation letters: the letter as a page and as a PDF (WeasyPrint, from the same
template), issuing one from the journey page, and the public check a consulate makes at
``/verify/<code>``."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from journey.core.accounts.auth import current_actor
from journey.core.errors import DomainError, NotFound
from journey.core.extensions import db
from journey.pages.common import login_required
from journey.pages.forms import ActionForm
from journey.pages.itinerary import pdf_response
from journey.pages.portal import formatting_context
from journey.pages.rows import offer_title
from journey.pages.trip_rows import country_name
from journey.trip.models import LETTER_STATUS_TITLES, LetterStatus
from journey.trip.services import letters
from providers.models import Offer

bp = Blueprint("letters", __name__)


def _context(journey_id: int, letter_id: int) -> dict:
    letter = letters.get_letter(current_actor(), journey_id, letter_id)
    code = letters.grouped(letter.code)
    public = current_app.config["PUBLIC_URL"].rstrip("/")
    return {"letter": letter, "content": letter.content, "status": letters.status_of(letter),
            "status_titles": LETTER_STATUS_TITLES, "valid": LetterStatus.VALID, "code": code,
            "verify_url": public + url_for("letters.verify", code=code),
            "on": date.fromisoformat, "country_name": country_name,
            "offer_title": _offer_title, **formatting_context()}


def _offer_title(offer_id: int) -> str:
    """The service's name in the letter's language (the page's)."""
    offer = db.session.get(Offer, offer_id)
    return offer_title(offer) if offer is not None else ""


@bp.get("/journeys/<int:journey_id>/letters/<int:letter_id>")
@login_required
def show(journey_id: int, letter_id: int):
    return render_template("trip/letter.html", **_context(journey_id, letter_id))


@bp.get("/journeys/<int:journey_id>/letters/<int:letter_id>.pdf")
@login_required
def pdf(journey_id: int, letter_id: int):
    context = _context(journey_id, letter_id)
    html = render_template("trip/letter_pdf.html", **context)
    return pdf_response(html, f"visa-letter-{context['letter'].number}.pdf")


@bp.post("/journeys/<int:journey_id>/travellers/<int:traveller_id>/letter")
@login_required
def issue(journey_id: int, traveller_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        letter = letters.issue_letter(current_actor(), journey_id, traveller_id)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        flash(str(error.message), "error")
        return redirect(url_for("journey.show", journey_id=journey_id, _anchor="letters"))
    return redirect(url_for("letters.show", journey_id=journey_id, letter_id=letter.id))


@bp.get("/verify")
def verify_form():
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("letters.verify", code=code))
    return _verify_page(None, None)


@bp.get("/verify/<code>")
def verify(code: str):
    try:
        found = letters.verify(code)
    except NotFound as error:
        return _verify_page(None, str(error.message), code=code, status=404)
    return _verify_page(found, None, code=code)


def _verify_page(found, message, *, code: str = "", status: int = 200):
    response = make_response(render_template(
        "trip/verify.html", found=found, message=message, code=code,
        status_titles=LETTER_STATUS_TITLES, valid=LetterStatus.VALID,
        country_name=country_name, **formatting_context()), status)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response
