"""The member portal's front door and its requests: the member's page (requests waiting
for an answer, then its offers), every request with accept and decline, and the
journeys opened at this member's window for patients who walked in or called (each new
patient is sent an invitation to set a password). The member's accounts are
:mod:`.staff`, nested in this blueprint."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from bookings.services import confirmation
from journey.builder.services import journeys
from journey.core.accounts import invitations, services
from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import require_member_access
from journey.core.config import LANGUAGES
from journey.core.types import utcnow
from journey.pages.common import page_arg, submit
from journey.pages.forms import ActionForm, ReasonForm
from journey.pages.member import (
    accreditations,
    bearing,
    cases,
    payouts,
    staff,
    tasks,
    translations,
)
from journey.pages.member.access import ID, PREFIX, managed_member, member_or_cluster
from journey.pages.member.offers import missing_languages
from journey.pages.portal import formatting_context
from journey.pages.portal_forms import WalkInForm
from journey.pages.rows import line_rows, offer_title, offers_by_id
from providers.services import members, offers

PER_PAGE = 25

bp = Blueprint("member", __name__, url_prefix=PREFIX)
bp.before_request(member_or_cluster)
bp.context_processor(formatting_context)
bp.register_blueprint(staff.bp)
bp.register_blueprint(cases.bp)
bp.register_blueprint(tasks.bp)
bp.register_blueprint(bearing.bp)
bp.register_blueprint(payouts.bp)
bp.register_blueprint(accreditations.bp)
bp.register_blueprint(translations.bp)


@bp.context_processor
def blank_forms():
    """The forms of a request's row, blank (a refused one is shown with its errors)."""
    return {"blank_confirm": ActionForm, "blank_reason": ReasonForm}


def may_answer(line) -> bool:
    return confirmation.answer_refusal(line) is None


def _request_rows(lines) -> dict:
    """What a table of requests (member/_request_rows.html) needs: a row per line, with
    its offer, dates and journey, and the lines that may be answered now."""
    rows = line_rows(lines, with_journeys=True)
    return {"rows": rows, "answerable": {row.line.id for row in rows if may_answer(row.line)},
            "now": utcnow()}


@bp.get("/")
def index():
    actor = current_actor()
    if actor.role.is_member:
        return redirect(url_for("member.home", provider_id=actor.provider_id))
    all_members, _total = members.list_members(actor, per_page=100)
    return render_template("member/index.html", members=all_members)


@bp.get(f"/<{ID}:provider_id>")
def home(provider_id):
    provider = managed_member(provider_id)
    found = offers.list_member_offers(current_actor(), provider.id)
    offers_by_id(offer.id for offer in found)  # their texts, in one query
    rows = [{"offer": offer, "title": offer_title(offer),
             "missing": len(missing_languages(offer))} for offer in found]
    inbox = confirmation.member_inbox(current_actor(), provider.id)
    return render_template("member/home.html", provider=provider, offers=rows, answers={},
                           manages_staff=services.may_manage_staff(current_actor(), provider.id),
                           **_request_rows(inbox))


# --- requests: accept or decline ---------------------------------------------------------

def _requests_page(provider, answers: dict | None = None, status: int = 200):
    """The requests waiting for an answer (nearest deadline first), then those answered.
    ``answers`` maps a line to the form of a refused answer."""
    lines = confirmation.member_inbox(current_actor(), provider.id, include_decided=True)
    return render_template("member/requests.html", provider=provider, answers=answers or {},
                           **_request_rows(lines)), status


@bp.get(f"/<{ID}:provider_id>/requests")
def requests_page(provider_id):
    return _requests_page(managed_member(provider_id))


def _answer(provider_id: int, line_id: int, form, action, done):
    """The member's answer to a request (``action()``): back to the requests with
    ``done(line)`` flashed, or the requests again with the refused answer's form."""
    provider = managed_member(provider_id)
    line, status = submit(form, action, raise_access_errors=True)
    if line is None:
        return _requests_page(provider, {line_id: form}, status)
    flash(done(line))
    return redirect(url_for("member.requests_page", provider_id=provider.id))


@bp.post(f"/<{ID}:provider_id>/requests/<{ID}:line_id>/accept")
def accept(provider_id, line_id):
    return _answer(provider_id, line_id, ActionForm(prefix=f"a{line_id}"),
                   lambda: confirmation.accept_line(current_actor(), line_id),
                   lambda line: _("Request %(id)s is accepted.", id=line.id))


@bp.post(f"/<{ID}:provider_id>/requests/<{ID}:line_id>/decline")
def decline(provider_id, line_id):
    form = ReasonForm(prefix=f"d{line_id}")
    return _answer(provider_id, line_id, form,
                   lambda: confirmation.decline_line(current_actor(), line_id, form.reason.data),
                   lambda line: _("Request %(id)s is declined; the patient is told why.",
                                  id=line.id))


# --- journeys opened at this member's window ------------------------------------------

@bp.get(f"/<{ID}:provider_id>/journeys")
def member_journeys(provider_id):
    provider = managed_member(provider_id)
    actor = current_actor()
    if not actor.role.is_member:
        return redirect(url_for("coordinator.journeys"))
    page = page_arg()
    items, total = journeys.list_journeys(actor, page=page, per_page=PER_PAGE)
    return render_template("member/journeys.html", provider=provider, journeys=items,
                           total=total, page=page, per_page=PER_PAGE,
                           pending=invitations.pending_invitations(actor, provider.id),
                           blank_action=ActionForm)


@bp.route(f"/<{ID}:provider_id>/journeys/new", methods=["GET", "POST"])
def walk_in(provider_id):
    provider = managed_member(provider_id)
    require_member_access(current_actor(), provider.id)
    form = WalkInForm(language=provider.default_language
                      if provider.default_language in LANGUAGES else "en",
                      currency=provider.currency)

    def open_it():
        return journeys.open_journey(
            current_actor(), patient_email=form.patient_email.data,
            patient_name=form.patient_name.data, entry_provider_id=provider.id,
            nationality=form.nationality.data,
            language=form.language.data, currency=form.currency.data,
            adults=form.adults.data, children=form.children.data,
            arrival_on=form.arrival_on.data, departure_on=form.departure_on.data)

    opened, status = submit(form, open_it, raise_access_errors=True)
    if opened is not None:
        flash(_("Journey %(id)s is open for %(name)s.", id=opened.id,
                name=opened.patient.full_name))
        # A patient new to One Window gets a link to set a password (the account was
        # made without one), so the journey can be followed, changed and paid online.
        if invitations.invited(opened.patient):  # invited by open_journey
            flash(_("An invitation to set a password is on its way to %(email)s.",
                    email=opened.patient.email))
        if current_actor().role.is_member:
            return redirect(url_for("member.member_journeys", provider_id=provider.id))
        return redirect(url_for("coordinator.journey", journey_id=opened.id))
    return render_template("member/walk_in.html", provider=provider, form=form), status
