"""Pages: messages per journey. The inbox (a patient's threads, a member's threads for
its staff, every thread for the cluster), a thread with its reply form, a new thread on
a journey, attachments opened through the case; and what the navigation and the
journey pages show (the unread count, the journey's threads).

Every read and write goes through :mod:`journey.messages.services.threads`, which
decides who takes part; a thread that is not the reader's is a 404, as in the API.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from journey.builder.services.journeys import visible_journey
from journey.core.accounts.auth import current_actor
from journey.core.errors import DomainError
from journey.core.extensions import db
from journey.core.types import ID_CONVERTER
from journey.messages.models import MAX_BODY, MAX_SUBJECT
from journey.messages.services import threads
from journey.messages.services.labels import author_label
from journey.pages.case import document_response, journey_zone
from journey.pages.common import login_required, page_arg, submit
from journey.pages.forms import PageForm
from providers.models import Provider

ID = ID_CONVERTER
bp = Blueprint("messages_pages", __name__)


def _checkboxes(label):
    return SelectMultipleField(label, coerce=int, choices=[], validate_choice=False,
                               widget=ListWidget(prefix_label=False),
                               option_widget=CheckboxInput())


class ReplyForm(PageForm):
    body = TextAreaField(_l("Your message"), render_kw={"rows": 5, "maxlength": MAX_BODY})
    document_ids = _checkboxes(_l("Attach documents of the case"))


class NewThreadForm(ReplyForm):
    subject = StringField(_l("Subject"), render_kw={"maxlength": MAX_SUBJECT})
    provider_ids = _checkboxes(_l("Members taking part"))


# --- what the navigation and the journey pages show -------------------------------------------

@bp.app_template_global()
def unread_messages() -> int:
    """The reader's unread messages (one query, once per request)."""
    if "unread_messages" not in g:
        actor = current_actor()
        g.unread_messages = threads.unread_total(actor) if actor is not None else 0
    return g.unread_messages


@bp.app_template_global()
def journey_threads(journey) -> list:
    """The journey's threads the reader takes part in, with unread counts."""
    actor = current_actor()
    if actor is None or journey is None:
        return []
    try:
        return threads.threads(actor, journey.id)
    except DomainError:
        return []


def reader_zone(actor, journey) -> str:
    """Where the reader reads: a member's staff in their member's zone, anyone else in
    the zone where the journey happens."""
    if actor.role.is_member and actor.provider_id is not None:
        provider = db.session.get(Provider, actor.provider_id)
        if provider is not None and provider.timezone:
            return provider.timezone
    return journey_zone(journey)


# --- pages ----------------------------------------------------------------------------------

@bp.get("/messages")
@login_required
def inbox():
    actor = current_actor()
    rows, total = threads.inbox(actor, page=page_arg(), per_page=20)
    return render_template("messages/inbox.html", rows=rows, total=total, page=page_arg(),
                           per_page=20)


def _document_choices(form, documents) -> None:
    form.document_ids.choices = [(d.id, d.filename) for d in documents]


def _thread_page(thread_id: int, form: ReplyForm | None = None, status: int = 200):
    actor = current_actor()
    view = threads.thread(actor, thread_id)
    form = form or ReplyForm()
    _document_choices(form, view.readable.values())
    names = {p.provider_id: p.provider.name for p in view.thread.members}
    return render_template("messages/thread.html", view=view, form=form, names=names,
                           zone=reader_zone(actor, view.journey), author_label=author_label,
                           refusal=threads.writing_refusal(view.journey)), status


@bp.get(f"/messages/<{ID}:thread_id>")
@login_required
def thread_page(thread_id):
    return _thread_page(thread_id)


@bp.post(f"/messages/<{ID}:thread_id>")
@login_required
def reply(thread_id):
    actor = current_actor()
    threads.get_thread(actor, thread_id)  # 404 before anything else
    form = ReplyForm()
    done, status = submit(form, lambda: threads.post(actor, thread_id, form.body.data,
                                                     form.document_ids.data or []),
                          raise_access_errors=True, invalid_status=400)
    if done is None:
        return _thread_page(thread_id, form, status)
    flash(_("Your message has been sent."))
    return redirect(url_for("messages_pages.thread_page", thread_id=thread_id)
                    + f"#message-{done.id}")


def _new_page(journey, form: NewThreadForm, status: int = 200):
    actor = current_actor()
    _document_choices(form, threads.attachable_documents(actor, journey))
    if actor.role.is_member:
        form.provider_ids.choices = []
    else:
        members = db.session.query(Provider).filter(
            Provider.id.in_(threads.members_on(journey))).order_by(Provider.name).all()
        form.provider_ids.choices = [(p.id, p.name) for p in members]
    return render_template("messages/new.html", journey=journey, form=form), status


@bp.get(f"/journeys/<{ID}:journey_id>/messages/new")
@login_required
def new_thread(journey_id):
    return _new_page(visible_journey(current_actor(), journey_id), NewThreadForm())


@bp.post(f"/journeys/<{ID}:journey_id>/messages/new")
@login_required
def open_thread(journey_id):
    actor = current_actor()
    journey = visible_journey(actor, journey_id)
    form = NewThreadForm()
    done, status = submit(form, lambda: threads.open_thread(
        actor, journey.id, form.subject.data, form.body.data, form.provider_ids.data or [],
        form.document_ids.data or []), raise_access_errors=True, invalid_status=400)
    if done is None:
        return _new_page(visible_journey(actor, journey_id), form, status)
    flash(_("Your message has been sent."))
    return redirect(url_for("messages_pages.thread_page", thread_id=done.id))


@bp.get(f"/messages/<{ID}:message_id>/attachments/<{ID}:document_id>")
@login_required
def attachment(message_id, document_id):
    reason = (request.args.get("reason") or "")[:500] or None
    document, content = threads.open_attachment(current_actor(), message_id, document_id,
                                                reason=reason)
    return document_response(document, content)
