"""Review pages: the patient's list of members to review on a completed journey and
the review form (write, then change within 30 days), the invitation on the journey
page, the member portal's reviews with the one public answer, the coordinator's
moderation queue (hide with a reason, show again) and the published rules.

Every rule (who reviews whom, once; who answers; what moderation may do) is the reviews
services'; these views parse forms and show what they return.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, TextAreaField
from wtforms.validators import Length

from journey.core.accounts.auth import current_actor
from journey.core.accounts.models import Role
from journey.core.accounts.permissions import require_cluster
from journey.core.types import ID_CONVERTER, utcnow
from journey.pages.common import language_name, login_required, page_arg, submit
from journey.pages.forms import PageForm, as_choices, language_choices
from journey.pages.member.access import managed_member, member_or_cluster
from journey.pages.portal import formatting_context
from journey.reviews import mails  # noqa: F401  (registers the e-mail kind)
from journey.reviews.models import (
    DIMENSION_TITLES,
    EDIT_DAYS,
    HIDE_REASON_TITLES,
    MAX_NOTE,
    MAX_REPLY,
    MAX_TEXT,
    MODERATION_ACTION_TITLES,
    REVIEW_STATE_TITLES,
    HideReason,
    ReviewDimension,
    ReviewState,
)
from journey.reviews.services import moderation, ratings, reading, reviews
from providers.models import CHAIN_LINK_TITLES

ID = ID_CONVERTER
PER_PAGE = 20
bp = Blueprint("reviews_pages", __name__)
bp.context_processor(formatting_context)

STARS = {5: _l("5 – excellent"), 4: _l("4 – good"), 3: _l("3 – fair"), 2: _l("2 – poor"),
         1: _l("1 – very poor")}


def _rating_field(label):
    return RadioField(label, validate_choice=False,
                      choices=as_choices([("", _l("Not rated")),
                                          *((str(k), v) for k, v in STARS.items())]))


class ReviewForm(PageForm):
    """The review. What a review must be is the service's to say (its messages go
    beside these fields); the form checks only what a browser may send wrongly."""

    overall = RadioField(_l("Overall"), validate_choice=False,
                         choices=as_choices((str(k), v) for k, v in STARS.items()))
    care = _rating_field(DIMENSION_TITLES[ReviewDimension.CARE])
    communication = _rating_field(DIMENSION_TITLES[ReviewDimension.COMMUNICATION])
    cleanliness = _rating_field(DIMENSION_TITLES[ReviewDimension.CLEANLINESS])
    comfort = _rating_field(DIMENSION_TITLES[ReviewDimension.COMFORT])
    punctuality = _rating_field(DIMENSION_TITLES[ReviewDimension.PUNCTUALITY])
    value = _rating_field(DIMENSION_TITLES[ReviewDimension.VALUE])
    text = TextAreaField(_l("Your experience"),
                         validators=[Length(max=MAX_TEXT)])
    language = SelectField(_l("Language of your text"), validate_choice=False)
    anonymous = BooleanField(_l("Do not show my name: sign the review as \"a patient from "
                                "my country\""))

    def keep_dimensions(self, dimensions) -> None:
        for dimension in ReviewDimension:
            if dimension not in dimensions:
                delattr(self, dimension.value)

    def data_for_service(self, dimensions) -> dict:
        overall = self.overall.data
        ratings = {}
        for dimension in dimensions:
            value = getattr(self, dimension.value).data
            if value and str(value).isdigit():
                ratings[dimension.value] = int(value)
        return {"overall": int(overall) if overall and str(overall).isdigit() else None,
                "ratings": ratings, "text": self.text.data or "",
                "language": self.language.data or None, "anonymous": bool(self.anonymous.data)}


class ReplyForm(PageForm):
    text = TextAreaField(_l("Your public answer"),
                         validators=[Length(max=MAX_REPLY)])


class HideForm(PageForm):
    reason = SelectField(_l("Rule broken"), validate_choice=False, choices=as_choices(
        [("", _l("Choose the rule")), *((r.value, t) for r, t in HIDE_REASON_TITLES.items())]))
    note = TextAreaField(_l("Note to the author"),
                         validators=[Length(max=MAX_NOTE)])


class UnhideForm(PageForm):
    note = TextAreaField(_l("Why it is shown again"),
                         validators=[Length(max=MAX_NOTE)])


def _titles() -> dict:
    return {"dimension_titles": DIMENSION_TITLES, "link_titles": CHAIN_LINK_TITLES,
            "reason_titles": HIDE_REASON_TITLES, "state_titles": REVIEW_STATE_TITLES,
            "action_titles": MODERATION_ACTION_TITLES, "edit_days": EDIT_DAYS}


# --- the invitation on the journey page (patient/journey.html includes the panel) ----------

@bp.app_context_processor
def panel_context() -> dict:
    return {"review_invitation": _panel_rows}


def _panel_rows(journey) -> list:
    """The members the patient may review on this journey (empty for anyone else, and
    before the journey is completed)."""
    actor = current_actor()
    if (journey is None or actor is None or actor.role != Role.PATIENT
            or getattr(journey, "patient_id", None) != actor.id):
        return []
    _journey, rows = reviews.reviewables(actor, journey.id)
    return rows


# --- the patient -----------------------------------------------------------------------------

@bp.get(f"/my/journeys/<{ID}:journey_id>/reviews")
@login_required
def journey_reviews(journey_id):
    actor = current_actor()
    journey, rows = reviews.reviewables(actor, journey_id)
    views = {row.provider.id: reading.view_of(actor, row.review) for row in rows if row.review}
    return render_template("reviews/journey.html", journey=journey, rows=rows, views=views,
                           refusal=reviews.review_refusal(journey), **_titles())


def _review_page(journey_id: int, provider_id: int, form: ReviewForm | None = None,
                 status: int = 200):
    actor = current_actor()
    found = reviews.reviewable(actor, journey_id, provider_id)
    view = reading.view_of(actor, found.review) if found.review else None
    if form is None:
        form = ReviewForm(formdata=None, obj=None)
        review = found.review
        form.language.data = (review.language if review else actor.locale or "en")
        if review is not None:
            form.overall.data = str(review.overall)
            for name, value in (review.ratings or {}).items():
                if hasattr(form, name):
                    getattr(form, name).data = str(value)
            form.text.data, form.anonymous.data = review.text, review.anonymous
    form.language.choices = _language_choices(form.language.data)
    form.keep_dimensions(found.dimensions)
    may_write = view is None or view.may_edit
    log = moderation.moderation_log(actor, found.review.id) if found.review else []
    return render_template("reviews/write.html", found=found, form=form, view=view,
                           may_write=may_write, log=log, journey_id=journey_id,
                           **_titles()), status


def _language_choices(current: str | None) -> list:
    choices = language_choices()
    if current and current not in {code for code, _name in choices}:
        choices = [(current, language_name(current)), *choices]
    return choices


@bp.get(f"/my/journeys/<{ID}:journey_id>/reviews/<{ID}:provider_id>")
@login_required
def write(journey_id, provider_id):
    return _review_page(journey_id, provider_id)


@bp.post(f"/my/journeys/<{ID}:journey_id>/reviews/<{ID}:provider_id>")
@login_required
def save(journey_id, provider_id):
    actor = current_actor()
    found = reviews.reviewable(actor, journey_id, provider_id)
    form = ReviewForm()
    form.language.choices = _language_choices(form.language.data)
    data = form.data_for_service(found.dimensions)

    def act():
        if found.review is None:
            return reviews.submit_review(actor, journey_id, provider_id, data)
        return reviews.edit_review(actor, found.review.id, data)

    saved, status = submit(form, act, raise_access_errors=True)
    if saved is None:
        return _review_page(journey_id, provider_id, form, status)
    flash(_("Thank you: your review is published.") if found.review is None
          else _("Your review is changed."))
    return redirect(url_for("reviews_pages.journey_reviews", journey_id=journey_id))


# --- the member portal -----------------------------------------------------------------------

@bp.get(f"/portal/<{ID}:provider_id>/reviews")
@login_required
def member_reviews(provider_id):
    member_or_cluster()
    return _member_page(provider_id)


def _member_page(provider_id: int, *, failed: int | None = None,
                 form: ReplyForm | None = None, status: int = 200):
    actor = current_actor()
    provider = managed_member(provider_id)
    unanswered = request.args.get("unanswered") == "1"
    page = page_arg()
    items, total = reading.member_reviews(actor, provider.id, page=page, per_page=PER_PAGE,
                                          unanswered=unanswered)
    summary = ratings.provider_ratings([provider.id]).get(provider.id, ratings.EMPTY)
    return render_template(
        "reviews/member.html", provider=provider, items=items, total=total, page=page,
        per_page=PER_PAGE, summary=summary, unanswered=unanswered, failed=failed,
        failed_form=form, blank_reply=ReplyForm, **_titles()), status


@bp.post(f"/portal/<{ID}:provider_id>/reviews/<{ID}:review_id>/reply")
@login_required
def send_reply(provider_id, review_id):
    member_or_cluster()
    managed_member(provider_id)
    form = ReplyForm(prefix=f"r{review_id}")
    done, status = submit(form, lambda: reviews.reply(current_actor(), review_id,
                                                      form.text.data or ""),
                          raise_access_errors=True)
    if done is None:
        return _member_page(provider_id, failed=review_id, form=form, status=status)
    flash(_("Your answer is published under the review."))
    return redirect(url_for("reviews_pages.member_reviews", provider_id=provider_id)
                    + f"#review-{review_id}")


# --- the coordinator's moderation ------------------------------------------------------------

def _state() -> ReviewState | None:
    try:
        return ReviewState(request.args.get("state", ""))
    except ValueError:
        return None


@bp.get("/coordinator/reviews")
@login_required
def queue():
    return _queue_page()


def _queue_page(*, failed: int | None = None, form=None, status: int = 200):
    actor = require_cluster(current_actor())
    page, state = page_arg(), _state()
    items, total = moderation.moderation_queue(actor, state=state, page=page,
                                               per_page=PER_PAGE)
    logs = {view.id: moderation.moderation_log(actor, view.id) for view in items}
    return render_template(
        "reviews/queue.html", items=items, total=total, page=page, per_page=PER_PAGE,
        state=state, states=list(ReviewState), failed=failed, failed_form=form, logs=logs,
        blank_hide=HideForm, blank_unhide=UnhideForm, now=utcnow(), **_titles()), status


@bp.post(f"/coordinator/reviews/<{ID}:review_id>/hide")
@login_required
def hide(review_id):
    actor = require_cluster(current_actor())
    form = HideForm(prefix=f"h{review_id}")
    done, status = submit(form, lambda: moderation.hide_review(
        actor, review_id, form.reason.data or "", form.note.data or ""),
        raise_access_errors=True, invalid_status=400)
    if done is None:
        return _queue_page(failed=review_id, form=form, status=status)
    flash(_("The review is hidden; its author sees why."))
    return redirect(url_for("reviews_pages.queue", **_kept_args()) + f"#review-{review_id}")


@bp.post(f"/coordinator/reviews/<{ID}:review_id>/unhide")
@login_required
def unhide(review_id):
    actor = require_cluster(current_actor())
    form = UnhideForm(prefix=f"u{review_id}")
    done, status = submit(form, lambda: moderation.unhide_review(actor, review_id,
                                                                 form.note.data or ""),
                          raise_access_errors=True, invalid_status=400)
    if done is None:
        return _queue_page(failed=review_id, form=form, status=status)
    flash(_("The review is shown again."))
    return redirect(url_for("reviews_pages.queue", **_kept_args()) + f"#review-{review_id}")


def _kept_args() -> dict:
    state = request.args.get("state", "")
    return {"state": state} if state in {s.value for s in ReviewState} else {}


# --- the published rules ---------------------------------------------------------------------

@bp.get("/reviews/rules")
def rules():
    return render_template("reviews/rules.html", reason_titles=HIDE_REASON_TITLES,
                           reasons=list(HideReason), edit_days=EDIT_DAYS)
