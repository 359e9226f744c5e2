"""Aftercare pages: the patient's short questionnaire of a due follow-up, the panel of
a journey's follow-ups (patient and coordinator journey pages), and in the member portal
the follow-ups of the member's lines with the answers (problems first) and the schedule
editor of an offer.

Every rule (who answers, who reads which answers, what is a problem, what a schedule
may hold) is the aftercare services'; these views parse forms and show what they return.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.validators import Length

from journey.aftercare import mails  # noqa: F401  (registers the e-mail kinds)
from journey.aftercare.models import (
    FOLLOW_UP_STATE_TITLES,
    STEP_KIND_TITLES,
    WELLBEING_TITLES,
    FollowUpState,
    StepKind,
)
from journey.aftercare.services import answers, schedules
from journey.aftercare.services.schedules import MAX_STEPS, OFFSET_RANGE, step_label
from journey.case.models import ConsentScope
from journey.case.services import consent
from journey.case.services.consent import CONSENT_TEXTS
from journey.core.accounts.auth import current_actor
from journey.core.accounts.models import Role
from journey.core.errors import DomainError, InvalidInput
from journey.core.extensions import csrf, db
from journey.core.files import accepts_upload
from journey.core.types import ID_CONVERTER, utcnow
from journey.pages.case import upload_hint
from journey.pages.common import apply_domain_error, login_required, submit
from journey.pages.forms import ActionForm, PageForm, as_choices
from journey.pages.member.access import managed_member, member_or_cluster
from journey.pages.rows import offer_title
from providers.models import Offer
from providers.services.offers import list_member_offers

ID = ID_CONVERTER
bp = Blueprint("aftercare_pages", __name__)

YES_NO = as_choices([("no", _l("No")), ("yes", _l("Yes"))])


class AnswerForm(PageForm):
    """The questionnaire. What an answer must be is the service's to say (its messages go
    beside these fields); the form checks only what a browser may send wrongly."""

    wellbeing = RadioField(_l("How are you?"), validate_choice=False,
                           choices=as_choices((str(k), v) for k, v in WELLBEING_TITLES.items()))
    pain = RadioField(_l("Pain now, from 0 (none) to 10 (the worst)"), validate_choice=False,
                      choices=as_choices((str(n), str(n)) for n in range(11)))
    complications = RadioField(_l("Any complication (fever, bleeding, swelling, a wound "
                                  "that does not heal...)?"), validate_choice=False,
                               choices=YES_NO)
    complications_text = TextAreaField(_l("What happened?"),
                                       validators=[Length(max=answers.MAX_TEXT)])
    photo = FileField(_l("A photo"))
    health_data = BooleanField(CONSENT_TEXTS[ConsentScope.HEALTH_DATA])

    def answers(self) -> dict:
        return {"wellbeing": self.wellbeing.data, "pain": self.pain.data,
                "complications": self.complications.data,
                "complications_text": self.complications_text.data or ""}


# --- the journey's panel (both journey pages include aftercare/_journey_panel.html) -----------

@bp.app_context_processor
def panel_context() -> dict:
    return {"aftercare_followups": _panel_rows}


def _panel_rows(journey) -> list[dict]:
    """The follow-ups of the journey the reader sees, with dates and states (no
    answers); empty when there are none (the panel then shows nothing)."""
    actor = current_actor()
    if journey is None or not hasattr(journey, "patient_id") or actor is None:
        return []
    problem = answers.shows_problem(actor, journey)
    rows = []
    for followup in answers.followup_overview(actor, journey):
        state = followup.state
        if state == FollowUpState.ESCALATED and not problem:
            state = FollowUpState.ANSWERED
        rows.append({"followup": followup, "label": step_label(followup.step_kind,
                                                               followup.offset),
                     "offer": offer_title(db.session.get(Offer, followup.offer_id)),
                     "state": state, "state_title": FOLLOW_UP_STATE_TITLES[state],
                     "answer": actor.role == Role.PATIENT and state == FollowUpState.OPEN})
    return rows


# --- the patient's questionnaire ------------------------------------------------------------

def _questionnaire(followup_id: int, form: AnswerForm | None = None, status: int = 200):
    actor = current_actor()
    followup = answers.read_followup(actor, followup_id)
    consented = consent.active(followup.journey_id, ConsentScope.HEALTH_DATA) is not None
    form = form or AnswerForm(formdata=None)
    if consented:
        del form.health_data
    refusal = answers.answer_refusal(followup)
    return render_template(
        "aftercare/answer.html", followup=followup, form=form,
        label=step_label(followup.step_kind, followup.offset),
        offer=offer_title(db.session.get(Offer, followup.offer_id)),
        may_answer=actor.role == Role.PATIENT and refusal is None,
        refusal=refusal, wellbeing_titles=WELLBEING_TITLES,
        state_title=FOLLOW_UP_STATE_TITLES[followup.state], upload_hint=upload_hint(),
        consented=consented), status


@bp.get(f"/my/followups/<{ID}:followup_id>")
@login_required
def answer(followup_id):
    return _questionnaire(followup_id)


# An upload may be larger than every other request (accepts_upload raises the limit for
# it alone), so the app-wide CSRF check, which reads the body first, is left out here;
# the form checks its own CSRF token after the limit is raised (as the case pages do).
@bp.post(f"/my/followups/<{ID}:followup_id>")
@csrf.exempt
@login_required
@accepts_upload
def send_answer(followup_id):
    form = AnswerForm()
    actor = current_actor()
    upload = form.photo.data if form.photo.data and form.photo.data.filename else None

    def save():
        followup = answers.read_followup(actor, followup_id)
        if form.health_data.data:
            consent.give_consent(actor, followup.journey_id, [ConsentScope.HEALTH_DATA])
        photo = (upload.read(), upload.filename) if upload is not None else None
        return answers.answer_followup(actor, followup_id, form.answers(), photo)

    saved, status = submit(form, save, raise_access_errors=True, invalid_status=400)
    if saved is None:
        return _questionnaire(followup_id, form, status)
    if saved.state == FollowUpState.ESCALATED:
        flash(_("Thank you. Your answers point to a problem: your doctor and your "
                "coordinator have been told and will contact you. If you feel very unwell, "
                "call the emergency number now."))
    else:
        flash(_("Thank you for your answers."))
    return redirect(url_for("aftercare_pages.answer", followup_id=followup_id))


# --- the member portal ----------------------------------------------------------------------

def _treating_offers(actor, provider_id: int) -> list:
    return [offer for offer in list_member_offers(actor, provider_id)
            if schedules.takes_aftercare(offer)]


@bp.get(f"/portal/<{ID}:provider_id>/aftercare")
@login_required
def member_followups(provider_id):
    member_or_cluster()
    return _member_page(provider_id)


def _member_page(provider_id: int, status: int = 200, form: ActionForm | None = None):
    actor = current_actor()
    provider = managed_member(provider_id)
    found = answers.member_followups(actor, provider.id)
    offers = _treating_offers(actor, provider.id)
    return render_template(
        "aftercare/member.html", provider=provider, followups=found,
        labels={f.id: step_label(f.step_kind, f.offset) for f in found},
        offer_titles={o.id: offer_title(o) for o in {db.session.get(Offer, f.offer_id)
                                                     for f in found} | set(offers)},
        offers=offers, state_titles=FOLLOW_UP_STATE_TITLES, wellbeing_titles=WELLBEING_TITLES,
        close_form=form or ActionForm(formdata=None), now=utcnow()), status


@bp.post(f"/portal/<{ID}:provider_id>/aftercare/<{ID}:followup_id>/closed")
@login_required
def close(provider_id, followup_id):
    member_or_cluster()
    managed_member(provider_id)
    form = ActionForm()
    done, status = submit(form, lambda: answers.close_followup(current_actor(), followup_id),
                          raise_access_errors=True, invalid_status=400)
    if done is None:
        return _member_page(provider_id, status, form)
    flash(_("The follow-up is closed."))
    return redirect(url_for("aftercare_pages.member_followups", provider_id=provider_id))


def _rows_of(steps) -> list[dict]:
    rows = [{"kind": s.kind.value, "offset": str(s.offset), "photo": s.photo, "errors": []}
            for s in steps]
    return rows + [{"kind": "", "offset": "", "photo": False, "errors": []}
                   for _n in range(MAX_STEPS - len(rows))]


def _schedule_page(offer_id: int, *, rows=None, form=None, status: int = 200):
    offer, steps, default = schedules.read_schedule(current_actor(), offer_id)
    return render_template(
        "aftercare/schedule.html", offer=offer, title=offer_title(offer), tab="aftercare",
        default=default, steps=steps, rows=rows or _rows_of(steps),
        labels=[step_label(s.kind, s.offset) for s in steps],
        kind_choices=[(k.value, STEP_KIND_TITLES[k]) for k in StepKind],
        ranges=OFFSET_RANGE, form=form or ActionForm(formdata=None),
        reset_form=ActionForm(formdata=None, prefix="reset"),
        treating=schedules.takes_aftercare(offer)), status


@bp.get(f"/portal/offers/<{ID}:offer_id>/aftercare")
@login_required
def schedule(offer_id):
    member_or_cluster()
    return _schedule_page(offer_id)


def _posted_rows() -> list[dict]:
    rows = []
    for index in range(MAX_STEPS):
        rows.append({"kind": request.form.get(f"kind{index}", "")[:40],
                     "offset": request.form.get(f"offset{index}", "").strip()[:10],
                     "photo": bool(request.form.get(f"photo{index}")), "errors": []})
    return rows


@bp.post(f"/portal/offers/<{ID}:offer_id>/aftercare")
@login_required
def save_schedule(offer_id):
    member_or_cluster()
    form = ActionForm()
    rows = _posted_rows()
    filled = [i for i, row in enumerate(rows) if row["kind"] or row["offset"]]
    steps = []
    for index in filled:
        row = rows[index]
        offset = row["offset"]
        steps.append({"kind": row["kind"], "photo": row["photo"],
                      "offset": int(offset) if offset.isdigit() else offset})
    if not form.validate_on_submit():
        return _schedule_page(offer_id, rows=rows, form=form, status=400)
    try:
        schedules.set_schedule(current_actor(), offer_id, steps)
    except InvalidInput as error:
        per_step = error.fields.get("steps")
        if isinstance(per_step, dict):
            db.session.rollback()
            for key, messages in per_step.items():
                rows[filled[int(key)]]["errors"] = [str(m) for m in messages]
            return _schedule_page(offer_id, rows=rows, form=form, status=error.status)
        apply_domain_error(form, error)
        return _schedule_page(offer_id, rows=rows, form=form, status=error.status)
    except DomainError as error:
        if error.status in (403, 404):
            raise
        apply_domain_error(form, error)
        return _schedule_page(offer_id, rows=rows, form=form, status=error.status)
    flash(_("The follow-up schedule is saved."))
    return redirect(url_for("aftercare_pages.schedule", offer_id=offer_id))


@bp.post(f"/portal/offers/<{ID}:offer_id>/aftercare/default")
@login_required
def reset_schedule(offer_id):
    member_or_cluster()
    form = ActionForm(prefix="reset")
    done, status = submit(form, lambda: schedules.reset_schedule(current_actor(), offer_id),
                          raise_access_errors=True, invalid_status=400)
    if done is None:
        return _schedule_page(offer_id, form=form, status=status)
    flash(_("The offer follows the default schedule again."))
    return redirect(url_for("aftercare_pages.schedule", offer_id=offer_id))
