"""The member's accreditations: every one with its state (and the admin's reason for a
rejected or revoked one), a form to submit one with its evidence (a PDF or an image),
a change (which sends a decided one back to the admins) and withdrawal.

Who may do what is the accreditation services' to say (the member's manager and the
cluster submit, change and withdraw; its staff read); another member's is a 404 or 403
there, as in the API. Nested in the portal's blueprint
(:mod:`journey.pages.member.requests`), so the endpoints read ``member.accreditations.*``.
"""

from __future__ import annotations

import io

from babel.lists import format_list
from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length, Optional

from journey import accreditations_mail  # noqa: F401 - registers the e-mail kinds
from journey.core.accounts.auth import current_actor
from journey.core.accounts.models import Role
from journey.core.extensions import csrf
from journey.core.files import accepts_upload, file_size_text, type_names
from journey.pages.common import login_required, page_locale, submit
from journey.pages.forms import ActionForm, PageForm
from journey.pages.member.access import ID, managed_member
from providers.models import ACCREDITATION_STATUS_TITLES
from providers.services import accreditations

LIST = f"/<{ID}:provider_id>/accreditations"
ITEM = f"{LIST}/<{ID}:accreditation_id>"

bp = Blueprint("accreditations", __name__)
#: The public member page (patient/member.html) shows only these.
bp.add_app_template_global(accreditations.public_accreditations, "public_accreditations")


class AccreditationForm(PageForm):
    """A new accreditation, with its evidence."""

    name = StringField(_l("Accreditation"), validators=[DataRequired(), Length(max=200)])
    issuer = StringField(_l("Issued by"), validators=[DataRequired(), Length(max=200)])
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    file = FileField(_l("Evidence (the certificate)"),
                     validators=[FileRequired(message=_l("Choose a file."))])


class AccreditationChangeForm(AccreditationForm):
    """A change of an accreditation; a new evidence file is optional."""

    file = FileField(_l("New evidence (optional)"))


def evidence_hint() -> str:
    """What evidence may be: "PDF, JPEG, PNG, WebP or HEIC, up to 10 MB"."""
    return _("%(types)s, up to %(size)s",
             types=format_list(type_names(accreditations.EVIDENCE_TYPES), style="or",
                               locale=page_locale()),
             size=file_size_text(accreditations.evidence_max_bytes()))


def may_submit(actor) -> bool:
    return actor.role.is_cluster or actor.role == Role.MEMBER_MANAGER


def accreditations_page(provider, *, form=None, forms: dict | None = None,
                        status: int = 200):
    """The member's accreditations; ``form``: a refused submission, ``forms``: a refused
    change or withdrawal by ``("change" | "withdraw", id)``, shown again with errors."""
    actor = current_actor()
    items = accreditations.list_accreditations(actor, provider.id)
    public = {a.id for a in accreditations.public_accreditations(provider)}
    return render_template(
        "member/accreditations.html", provider=provider, items=items, public=public,
        form=form or AccreditationForm(formdata=None), forms=forms or {},
        blank_change=AccreditationChangeForm, blank_action=ActionForm,
        may_submit=may_submit(actor), hint=evidence_hint(),
        status_titles=ACCREDITATION_STATUS_TITLES,
        days_left=accreditations.days_left, warn_days=accreditations.WARN_DAYS,
        max_bytes=accreditations.evidence_max_bytes()), status


@bp.get(LIST)
def index(provider_id):
    return accreditations_page(managed_member(provider_id))


# An upload may be larger than every other request (accepts_upload raises the limit for
# it alone), so the app-wide CSRF check, which reads the body before any view, is left
# out; the form checks its own CSRF token, after the limit is raised.
@bp.post(LIST)
@csrf.exempt
@login_required
@accepts_upload
def create(provider_id):
    provider = managed_member(provider_id)
    form = AccreditationForm()
    added, status = submit(form, lambda: accreditations.submit_accreditation(
        current_actor(), provider.id, name=form.name.data, issuer=form.issuer.data,
        valid_until=form.valid_until.data, evidence=form.file.data.read(),
        filename=form.file.data.filename), raise_access_errors=True)
    if added is None:
        return accreditations_page(provider, form=form, status=status)
    flash(_("%(name)s is submitted; it shows on your public page once an admin has "
            "verified it.", name=added.name))
    return redirect(url_for("member.accreditations.index", provider_id=provider.id))


@bp.post(f"{ITEM}/change")
@csrf.exempt
@login_required
@accepts_upload
def change(provider_id, accreditation_id):
    provider = managed_member(provider_id)
    form = AccreditationChangeForm(prefix=f"c{accreditation_id}")

    def save():
        actor = current_actor()
        changed = accreditations.update_accreditation(
            actor, provider.id, accreditation_id, name=form.name.data,
            issuer=form.issuer.data, valid_until=form.valid_until.data)
        upload = form.file.data
        if upload and getattr(upload, "filename", None):
            changed = accreditations.attach_evidence(actor, provider.id, accreditation_id,
                                                     data=upload.read(),
                                                     filename=upload.filename)
        return changed

    changed, status = submit(form, save, raise_access_errors=True)
    if changed is None:
        return accreditations_page(provider, forms={("change", accreditation_id): form},
                                   status=status)
    flash(_("%(name)s is saved.", name=changed.name))
    return redirect(url_for("member.accreditations.index", provider_id=provider.id))


@bp.post(f"{ITEM}/withdraw")
def withdraw(provider_id, accreditation_id):
    provider = managed_member(provider_id)
    form = ActionForm(prefix=f"w{accreditation_id}")
    done, status = submit(form, lambda: accreditations.withdraw_accreditation(
        current_actor(), provider.id, accreditation_id), raise_access_errors=True,
        invalid_status=400)
    if done is None:
        return accreditations_page(provider, forms={("withdraw", accreditation_id): form},
                                   status=status)
    flash(_("%(name)s is withdrawn; it no longer shows on your public page.",
            name=done.name))
    return redirect(url_for("member.accreditations.index", provider_id=provider.id))


@bp.get(f"{ITEM}/evidence")
def evidence(provider_id, accreditation_id):
    return evidence_response(*accreditations.open_evidence(
        current_actor(), accreditation_id, provider_id=provider_id))


def evidence_response(accreditation, content: bytes):
    """The evidence as a download (never shown inline, never cached)."""
    response = send_file(io.BytesIO(content), mimetype=accreditation.evidence_content_type,
                         as_attachment=True, download_name=accreditation.evidence_filename,
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
