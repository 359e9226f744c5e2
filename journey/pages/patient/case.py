"""The patient's medical case of a journey: consent first, then each treating member's
questions and the documents it asks for, the documents with their sharing, the review
of each member, sending the case for review, and who has seen the records.

Every view calls the case services (:mod:`journey.case.services`), which decide who may
read and change what and log each read and change; a refusal is shown beside the form
that asked, translated, with its 4xx status.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from journey.case.models import ConsentScope, ReviewStatus
from journey.case.services import access as case_access
from journey.case.services import case, consent, reviews
from journey.case.services.consent import CONSENT_VERSION
from journey.core.accounts.auth import current_actor
from journey.core.accounts.models import Role
from journey.core.errors import InvalidInput
from journey.core.extensions import csrf
from journey.core.files import accepts_upload
from journey.core.types import MAX_ID
from journey.pages.case import (
    access_rows,
    case_context,
    document_response,
    explain_missing,
    journey_zone,
    other_documents,
    section_rows,
    upload_hint,
)
from journey.pages.case_forms import (
    ConsentForm,
    OtherDocumentForm,
    ShareForm,
    UploadForm,
    answers_form,
    posted_answers,
    posted_answers_form,
)
from journey.pages.common import login_required, submit
from journey.pages.forms import ActionForm, as_choices
from journey.pages.rows import journey_title

CASE = f"/my/journeys/<int(max={MAX_ID}):journey_id>/case"
DOCUMENT = f"{CASE}/documents/<int(max={MAX_ID}):document_id>"
#: Reviews the patient may (re)send to their member.
TO_SEND = (ReviewStatus.OPEN, ReviewStatus.MORE_REQUESTED)

#: Nested in the patient's journey blueprint (journey.pages.patient.journey): the
#: endpoints read ``journey.case.*``.
bp = Blueprint("case", __name__)
bp.context_processor(case_context)


def _share_choices(view, document) -> list:
    """The treating members a document may be shared with: all but the one that asked."""
    asked_by = document.request.offer.provider_id if document.request is not None else None
    return as_choices((section.provider.id, section.provider.name)
                      for section in view.sections if section.provider.id != asked_by)


def case_page(journey_id: int, *, status: int = 200, forms: dict | None = None,
              gaps: list[str] | None = None):
    """The case as the patient sees it (one read, logged). ``forms`` are the submitted
    forms to show again with their errors: ``consent``, ``answers`` (the posted answers,
    whose errors go beside the questions), ``("upload", request id)``, ``other``,
    ``("share", document id)``, ``("document", document id)``, ``submit``,
    ``withdraw``. ``gaps``: what a refused sending found missing."""
    actor = current_actor()
    view = case.read_case(actor, journey_id)
    forms = forms or {}
    sections = section_rows(view)

    consent_form = forms.get("consent") or ConsentForm(formdata=None)
    for name, given in (("health_data", view.consented), ("share_with_treating", view.sharing)):
        if given:  # asked no more; an error of its box goes on top of the form
            consent_form.form_errors.extend(consent_form[name].errors)
            del consent_form[name]
    if not view.consented:  # the consent is all the page shows: a refusal goes there
        for key, form in forms.items():
            if key != "consent":
                consent_form.form_errors.extend(form.form_errors)

    posted = forms.get("answers")
    posted_names = {f.name for f in posted if f.name != "csrf_token"} if posted else set()
    answer_forms, answers_errors, shown = {}, {}, set()
    for part in sections:
        form = answers_form(part.questions,
                            formdata=request.form if posted is not None else None)
        names = {f"q{row.question.id}" for row in part.questions}
        shown |= names
        if names & posted_names:  # the form that was posted: its errors beside its fields
            for name in names & posted_names:
                form[name].errors = list(posted[name].errors)
            answers_errors[part.provider.id] = list(posted.form_errors)
        answer_forms[part.provider.id] = form
    stray = [error for name in posted_names - shown for error in posted[name].errors]
    if stray:  # a question gone since the page was read (retired by its member)
        if answer_forms:
            answers_errors.setdefault(next(iter(answer_forms)), []).extend(stray)
        else:
            consent_form.form_errors.extend(stray)

    upload_forms = {row.request.id: forms.get(("upload", row.request.id))
                    or UploadForm(formdata=None, prefix=f"r{row.request.id}")
                    for part in sections for row in part.requests}
    share_forms = {}
    for document in view.documents:
        form = forms.get(("share", document.id)) or ShareForm(
            formdata=None, prefix=f"s{document.id}", share_with=document.shared_with or [])
        form.share_with.choices = _share_choices(view, document)
        share_forms[document.id] = form

    log = case_access.access_log(actor, journey_id)
    reviewing = [part.review for part in sections if part.review is not None]
    return render_template(
        "patient/case.html", view=view, journey=view.journey, sections=sections,
        title=journey_title(view.journey), zone=journey_zone(view.journey),
        consent_form=consent_form, answer_forms=answer_forms,
        answers_errors=answers_errors,
        upload_forms=upload_forms, other_form=forms.get("other") or OtherDocumentForm(
            formdata=None, prefix="other"),
        share_forms=share_forms, other_documents=other_documents(view),
        document_errors={key[1]: form.form_errors for key, form in forms.items()
                         if isinstance(key, tuple) and key[0] == "document"},
        submit_form=forms.get("submit") or ActionForm(formdata=None),
        withdraw_form=forms.get("withdraw") or ActionForm(formdata=None),
        action_form=ActionForm(formdata=None),
        may_send=any(review.status in TO_SEND for review in reviewing),
        gaps=explain_missing(view, view.missing if gaps is None else gaps),
        consent_version=CONSENT_VERSION, upload_hint=upload_hint(),
        log=access_rows(log, documents=view.documents, me=actor)), status


def _done(journey_id: int, message: str, anchor: str | None = None):
    flash(message)
    return redirect(url_for("journey.case.show", journey_id=journey_id, _anchor=anchor))


@bp.get(CASE)
@login_required
def show(journey_id: int):
    actor = current_actor()
    if actor.role.is_member:  # a treating member reviews the case in its portal
        return redirect(url_for("member.cases.show", provider_id=actor.provider_id,
                                journey_id=journey_id))
    if actor.role != Role.PATIENT:
        return redirect(url_for("coordinator.case_page", journey_id=journey_id))
    return case_page(journey_id)


@bp.post(f"{CASE}/consent")
@login_required
def give_consent(journey_id: int):
    form = ConsentForm()
    given, status = submit(form, lambda: consent.give_consent(current_actor(), journey_id,
                                                              form.scopes()),
                           raise_access_errors=True)
    if given is None:
        return case_page(journey_id, status=status, forms={"consent": form})
    return _done(journey_id, _("Thank you: your consent is recorded."))


@bp.post(f"{CASE}/consent/<any(health_data, share_with_treating):scope>/withdraw")
@login_required
def withdraw_consent(journey_id: int, scope: str):
    form = ActionForm()
    done, status = submit(form, lambda: consent.withdraw_consent(
        current_actor(), journey_id, ConsentScope(scope)), raise_access_errors=True,
        invalid_status=400)
    if done is None:
        return case_page(journey_id, status=status, forms={"withdraw": form})
    if scope == ConsentScope.HEALTH_DATA:
        return _done(journey_id, _("Your consent is withdrawn. Nothing new can be added to "
                                   "your case, and nothing more is shared."))
    return _done(journey_id, _("Your consent to share is withdrawn. What was shared stays "
                               "with the members that have it."))


@bp.post(f"{CASE}/answers")
@login_required
def answer(journey_id: int):
    form = posted_answers_form()
    values = posted_answers(form)

    def save():
        try:
            return case.answer_questions(current_actor(), journey_id, values)
        except InvalidInput as error:  # {"answers": {question id: [...]}} -> q<id>
            answers = error.fields.get("answers")
            if not isinstance(answers, dict):
                raise
            raise InvalidInput(error.message, fields={
                f"q{key}": messages for key, messages in answers.items()}) from error

    if not values and form.validate_on_submit():
        return _done(journey_id, _("Nothing to save."))
    saved, status = submit(form, save, raise_access_errors=True)
    if saved is None:
        return case_page(journey_id, status=status, forms={"answers": form})
    return _done(journey_id, _("Your answers are saved."))


def _upload(journey_id: int, form, key, anchor: str, **document):
    added, status = submit(form, lambda: case.add_document(
        current_actor(), journey_id, data=form.file.data.read(),
        filename=form.file.data.filename, **document), raise_access_errors=True)
    if added is None:
        return case_page(journey_id, status=status, forms={key: form})
    return _done(journey_id, _("%(name)s is uploaded.", name=added.filename), anchor)


# An upload may be larger than every other request (accepts_upload raises the limit
# for it alone), so the app-wide CSRF check, which reads the body before any view, is
# left out; the form checks its own CSRF token, after the limit is raised.
@bp.post(f"{CASE}/requests/<int(max={MAX_ID}):request_id>/documents")
@csrf.exempt
@login_required
@accepts_upload
def upload(journey_id: int, request_id: int):
    form = UploadForm(prefix=f"r{request_id}")
    return _upload(journey_id, form, ("upload", request_id), f"request-{request_id}",
                   request_id=request_id)


@bp.post(f"{CASE}/documents")
@csrf.exempt
@login_required
@accepts_upload
def upload_other(journey_id: int):
    form = OtherDocumentForm(prefix="other")
    return _upload(journey_id, form, "other", "other-documents", kind=form.kind.data)


@bp.get(DOCUMENT)
@login_required
def download(journey_id: int, document_id: int):
    return document_response(*case.open_document(current_actor(), journey_id, document_id))


@bp.post(f"{DOCUMENT}/sharing")
@login_required
def share(journey_id: int, document_id: int):
    form = ShareForm(prefix=f"s{document_id}")
    shared, status = submit(form, lambda: case.share_document(
        current_actor(), journey_id, document_id, form.share_with.data or []),
        raise_access_errors=True)
    if shared is None:
        return case_page(journey_id, status=status, forms={("share", document_id): form})
    return _done(journey_id, _("Sharing of %(name)s is saved.", name=shared.filename),
                 f"document-{document_id}")


@bp.post(f"{DOCUMENT}/remove")
@login_required
def remove(journey_id: int, document_id: int):
    form = ActionForm()
    done, status = submit(form, lambda: case.remove_document(
        current_actor(), journey_id, document_id) or True, raise_access_errors=True,
        invalid_status=400)
    if done is None:
        return case_page(journey_id, status=status, forms={("document", document_id): form})
    return _done(journey_id, _("The document is removed; its content is deleted."))


@bp.post(f"{CASE}/submission")
@login_required
def send(journey_id: int):
    form = ActionForm()
    gaps: list[str] = []

    def send_it():
        try:
            return reviews.submit_case(current_actor(), journey_id)
        except InvalidInput as error:  # what is missing is listed on the page, in words
            if "case" not in error.fields:
                raise
            gaps.extend(error.fields["case"])
            raise InvalidInput(error.message) from error

    sent, status = submit(form, send_it, raise_access_errors=True, invalid_status=400)
    if sent is None:
        return case_page(journey_id, status=status, forms={"submit": form},
                         gaps=gaps or None)
    return _done(journey_id, _("Your case is sent. The clinic answers within its deadline; "
                               "we tell you when it has."))
