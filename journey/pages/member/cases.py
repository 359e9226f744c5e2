"""The cases a treating member reviews before the patient can pay: the list of those
waiting for it (or for the patient, after it asked for more), and one case as the
member may read it (the answers to its questions, the documents it asked for or that
were shared with it) with its decision: approve, ask for more, or decline.

What the member sees and may decide is the case services' to say
(:mod:`journey.case.services`), which log every read; a refusal is shown beside the
form that asked, or as the error page when the case is not the member's to read.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from journey.case.models import ReviewStatus
from journey.case.services import case, reviews
from journey.core.accounts.auth import current_actor
from journey.core.types import utcnow
from journey.pages.case import (
    case_context,
    document_response,
    journey_zone,
    other_documents,
    review_parties,
    section_rows,
)
from journey.pages.case_forms import ApproveForm, DeclineForm, MoreForm
from journey.pages.common import submit
from journey.pages.member.access import ID, managed_member

CASES = f"/<{ID}:provider_id>/cases"
CASE = f"{CASES}/<{ID}:journey_id>"
#: A review the member may decide on.
OPEN_TO_DECIDE = (ReviewStatus.WAITING, ReviewStatus.MORE_REQUESTED)

#: Nested in the portal's blueprint (journey.pages.member.requests), so the portal's
#: checks run first and the endpoints read ``member.cases.*``.
bp = Blueprint("cases", __name__)
bp.context_processor(case_context)


@bp.get(CASES)
def index(provider_id):
    provider = managed_member(provider_id)
    waiting = reviews.reviews_of_member(current_actor(), provider.id)
    held = review_parties(waiting)  # the rows' journeys and patients, read at once
    page = render_template("member/cases.html", provider=provider, reviews=waiting,
                           now=utcnow())
    del held  # held until the rows are rendered
    return page


def review_page(provider, journey_id: int, *, forms: dict | None = None, status: int = 200):
    """The case as this member reads it (one read, logged), with the decision's forms;
    ``forms``: a refused decision's form, to show again with its errors."""
    view = case.read_case(current_actor(), journey_id)
    forms = forms or {}
    sections = section_rows(view)
    review = next((part.review for part in sections if part.review is not None
                   and part.provider.id == provider.id), None)
    return render_template(
        "member/case.html", provider=provider, view=view, journey=view.journey,
        sections=sections, other=other_documents(view), zone=journey_zone(view.journey),
        review=review, decides=review is not None and review.status in OPEN_TO_DECIDE,
        approve_form=forms.get("approve") or ApproveForm(formdata=None, prefix="approve"),
        more_form=forms.get("more") or MoreForm(formdata=None, prefix="more"),
        decline_form=forms.get("decline") or DeclineForm(formdata=None, prefix="decline"),
    ), status


@bp.get(CASE)
def show(provider_id, journey_id):
    return review_page(managed_member(provider_id), journey_id)


def _decide(provider_id: int, journey_id: int, key: str, form, decision: ReviewStatus,
            done: str, **values):
    provider = managed_member(provider_id)
    review, status = submit(form, lambda: reviews.decide(
        current_actor(), journey_id, decision=decision, **{
            name: value() for name, value in values.items()}), raise_access_errors=True)
    if review is None:
        return review_page(provider, journey_id, forms={key: form}, status=status)
    flash(done)
    return redirect(url_for("member.cases.index", provider_id=provider.id))


@bp.post(f"{CASE}/approve")
def approve(provider_id, journey_id):
    form = ApproveForm(prefix="approve")
    return _decide(provider_id, journey_id, "approve", form, ReviewStatus.APPROVED,
                   _("The case of journey %(id)s is approved; the patient is told.",
                     id=journey_id), notes=lambda: form.notes.data or "")


@bp.post(f"{CASE}/more")
def ask_for_more(provider_id, journey_id):
    form = MoreForm(prefix="more")
    return _decide(provider_id, journey_id, "more", form, ReviewStatus.MORE_REQUESTED,
                   _("The patient of journey %(id)s is asked for more.", id=journey_id),
                   missing=form.items, notes=lambda: form.notes.data or "")


@bp.post(f"{CASE}/decline")
def decline(provider_id, journey_id):
    form = DeclineForm(prefix="decline")
    return _decide(provider_id, journey_id, "decline", form, ReviewStatus.DECLINED,
                   _("The case of journey %(id)s is declined; the patient is told why.",
                     id=journey_id), notes=lambda: form.notes.data or "")


@bp.get(f"{CASE}/documents/<{ID}:document_id>")
def download(provider_id, journey_id, document_id):
    managed_member(provider_id)
    return document_response(*case.open_document(current_actor(), journey_id, document_id))
