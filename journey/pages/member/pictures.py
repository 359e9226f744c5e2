"""A member's pictures in the portal: those of its profile and those of each offer.

The member's manager (or the cluster's staff) uploads several at once, writes each
picture's alt text in the member's languages, puts them in order and deletes them; the
other staff of the member see them. Everything is decided by
:mod:`providers.media.services`."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.file import MultipleFileField

from journey.core.accounts.auth import current_actor
from journey.core.accounts.models import Role
from journey.core.errors import DomainError
from journey.core.extensions import csrf
from journey.core.files import accepts_upload, file_size_text
from journey.pages.common import login_required
from journey.pages.forms import ActionForm, PageForm
from journey.pages.member.access import ID, PREFIX, managed_member, member_or_cluster
from journey.pages.portal import formatting_context
from journey.pages.rows import offer_title
from providers.media import services as media
from providers.services import offers

bp = Blueprint("pictures", __name__, url_prefix=PREFIX)
bp.before_request(member_or_cluster)
bp.context_processor(formatting_context)

MEMBER = f"/<{ID}:provider_id>/pictures"
OFFER = f"/offers/<{ID}:offer_id>/pictures"
PICTURE = f"/pictures/<{ID}:picture_id>"


class UploadForm(PageForm):
    files = MultipleFileField(_l("Pictures (JPEG, PNG or WebP)"))


def _languages(provider) -> list[str]:
    """The languages of the alt texts: the member's default, its others, English."""
    ordered: list[str] = []
    for language in [provider.default_language, *(provider.languages or []), "en"]:
        if language and language not in ordered:
            ordered.append(language)
    return ordered


def _may_change(actor, provider_id: int) -> bool:
    return actor.role.is_cluster or (actor.role == Role.MEMBER_MANAGER
                                     and actor.provider_id == provider_id)


def _page(provider, offer=None, *, form=None, status: int = 200):
    actor = current_actor()
    pictures = media.list_pictures(provider.id, offer.id if offer else None)
    return render_template(
        "member/pictures.html", provider=provider, offer=offer,
        title=offer_title(offer) if offer else provider.name, tab="pictures",
        pictures=pictures, languages=_languages(provider),
        form=form or UploadForm(formdata=None), action=ActionForm(formdata=None),
        may_change=_may_change(actor, provider.id),
        hint=_("JPEG, PNG or WebP, up to %(size)s each; at most %(num)d pictures.",
               size=file_size_text(media.MAX_BYTES), num=media.MAX_PER_OWNER),
        upload_url=request.path), status


def _upload(provider, offer=None):
    """Add every chosen file; the refused ones are named with the reason."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(provider, offer, form=form, status=400)
    files = [f for f in (form.files.data or []) if f and getattr(f, "filename", "")]
    if not files:
        form.files.errors = [_("Choose at least one picture.")]
        return _page(provider, offer, form=form, status=422)
    added, refused = 0, []
    actor = current_actor()
    for upload in files:
        try:
            if offer is not None:
                media.add_picture(actor, upload.read(), offer_id=offer.id)
            else:
                media.add_picture(actor, upload.read(), provider_id=provider.id)
            added += 1
        except DomainError as error:
            if error.status in (403, 404):
                raise
            refused.append(_("%(file)s: %(reason)s", file=upload.filename,
                             reason=error.message))
    if not added:
        form.files.errors = refused
        return _page(provider, offer, form=form, status=422)
    flash(ngettext("%(num)d picture is added.", "%(num)d pictures are added.", added))
    for message in refused:
        flash(message, "error")
    return redirect(request.path)


@bp.get(MEMBER)
def member(provider_id):
    return _page(managed_member(provider_id))


# An upload may be larger than every other request (accepts_upload raises the limit for
# it alone), so the app-wide CSRF check, which reads the body first, is left out; the
# form checks its own token after the limit is raised.
@bp.post(MEMBER)
@csrf.exempt
@login_required
@accepts_upload
def member_upload(provider_id):
    return _upload(managed_member(provider_id))


def _offer(offer_id: int):
    return offers.get_offer_for_change(current_actor(), offer_id)


@bp.get(OFFER)
def offer(offer_id):
    item = _offer(offer_id)
    return _page(item.provider, item)


@bp.post(OFFER)
@csrf.exempt
@login_required
@accepts_upload
def offer_upload(offer_id):
    item = _offer(offer_id)
    return _upload(item.provider, item)


def _owner_url(picture) -> str:
    if picture.offer_id is not None:
        return url_for("pictures.offer", offer_id=picture.offer_id)
    return url_for("pictures.member", provider_id=picture.provider_id)


def _picture_action(picture_id: int, change, done: str):
    picture = media.get_picture(current_actor(), picture_id)
    back = _owner_url(picture)
    if not ActionForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(back)
    try:
        change(picture)
    except DomainError as error:
        if error.status in (403, 404):
            raise
        flash(str(error.message), "error")
        return redirect(back)
    flash(done)
    return redirect(back)


@bp.post(f"{PICTURE}/alt")
def alt(picture_id):
    def save(picture):
        texts = {language: request.form.get(f"alt-{language}", "")
                 for language in _languages(picture.provider)}
        # Keep texts in languages the form does not show.
        kept = {k: v for k, v in (picture.alt_texts or {}).items() if k not in texts}
        media.set_alt_texts(current_actor(), picture.id, {**kept, **texts})

    return _picture_action(picture_id, save, _("The alt texts are saved."))


@bp.post(f"{PICTURE}/up")
def up(picture_id):
    return _picture_action(picture_id,
                           lambda p: media.move_picture(current_actor(), p.id, -1),
                           _("The picture is moved."))


@bp.post(f"{PICTURE}/down")
def down(picture_id):
    return _picture_action(picture_id,
                           lambda p: media.move_picture(current_actor(), p.id, 1),
                           _("The picture is moved."))


@bp.post(f"{PICTURE}/delete")
def delete(picture_id):
    return _picture_action(picture_id,
                           lambda p: media.delete_picture(current_actor(), p.id),
                           _("The picture is deleted."))
