"""The accounts at a member's window: its staff, whom the manager invites, deactivates,
reactivates and makes manager or staff (the rules are the accounts service's), and the
patients whose journey the member opened and who have not set a password yet, to whom
the invitation can be sent again."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _

from journey.core.accounts import invitations, services, tokens
from journey.core.accounts.auth import current_actor
from journey.core.accounts.forms import InviteStaffForm, StaffRoleForm
from journey.core.accounts.models import TokenPurpose
from journey.core.errors import Forbidden
from journey.pages.common import page_locale, submit
from journey.pages.forms import ActionForm, as_choices, language_choices
from journey.pages.member.access import ID, managed_member

STAFF = f"/<{ID}:provider_id>/staff"
PERSON = f"{STAFF}/<{ID}:user_id>"

#: Nested in the portal's blueprint (journey.pages.member.requests), so the portal's
#: checks run first and the endpoints read ``member.staff.*``.
bp = Blueprint("staff", __name__)


def _invite_form(provider, *, blank: bool = False) -> InviteStaffForm:
    """The invitation form: as posted, or blank (the invitation in the member's language)."""
    form = InviteStaffForm(formdata=None) if blank else InviteStaffForm()
    form.locale.choices = as_choices(language_choices())
    if blank or not form.is_submitted():
        languages = [choice.value for choice in form.locale.choices]
        form.locale.data = (provider.default_language if provider.default_language in languages
                            else page_locale())
    return form


def _member_for_staff(provider_id: int):
    provider = managed_member(provider_id)
    if not services.may_manage_staff(current_actor(), provider.id):
        raise Forbidden(_("Only the member's manager may do this."))
    return provider


def _staff_page(provider, *, invite_form=None, refused: dict | None = None,
                status: int = 200):
    """The member's accounts; ``refused`` maps an account to the form of a refused
    change, shown with its errors in that account's row."""
    actor = current_actor()
    people = services.list_staff(actor, provider.id)
    rows = [{"user": user, "has_password": services.has_password(user),
             "changeable": services.staff_change_refusal(actor, user) is None,
             "invitable": invitations.invitation_refusal(actor, user) is None}
            for user in people]
    return render_template("member/staff.html", provider=provider, rows=rows,
                           invite_form=invite_form or _invite_form(provider, blank=True),
                           refused=refused or {}, blank_action=ActionForm,
                           make_role_form=lambda user: StaffRoleForm(
                               formdata=None, prefix=f"r{user.id}", role=user.role.value),
                           invitation_valid_for=format_timedelta(
                               tokens.lifetime(TokenPurpose.INVITATION))), status


@bp.route(STAFF, methods=["GET", "POST"])
def index(provider_id):
    provider = _member_for_staff(provider_id)
    form = _invite_form(provider)
    invited, status = submit(form, lambda: services.invite_staff(
        current_actor(), provider.id, email=form.email.data, full_name=form.full_name.data,
        role=form.role.data, locale=form.locale.data), raise_access_errors=True)
    if invited is not None:
        flash(_("%(name)s is invited: a link to set a password is on its way to %(email)s.",
                name=invited.full_name, email=invited.email))
        return redirect(url_for("member.staff.index", provider_id=provider.id))
    return _staff_page(provider, invite_form=form, status=status)


def _change(provider_id: int, user_id: int, form, action, done):
    provider = _member_for_staff(provider_id)
    user, status = submit(form, action, raise_access_errors=True, invalid_status=400)
    if user is None:
        return _staff_page(provider, refused={user_id: form}, status=status)
    flash(done(user))
    return redirect(url_for("member.staff.index", provider_id=provider.id))


@bp.post(f"{PERSON}/role")
def change_role(provider_id, user_id):
    form = StaffRoleForm(prefix=f"r{user_id}")
    return _change(provider_id, user_id, form,
                   lambda: services.change_staff_role(current_actor(), user_id, form.role.data),
                   lambda user: _("%(name)s is now: %(role)s.", name=user.full_name,
                                  role=user.role.title))


@bp.post(f"{PERSON}/deactivate")
def deactivate(provider_id, user_id):
    return _change(provider_id, user_id, ActionForm(prefix=f"d{user_id}"),
                   lambda: services.set_staff_active(current_actor(), user_id, False),
                   lambda user: _("%(name)s can no longer log in.", name=user.full_name))


@bp.post(f"{PERSON}/reactivate")
def reactivate(provider_id, user_id):
    return _change(provider_id, user_id, ActionForm(prefix=f"d{user_id}"),
                   lambda: services.set_staff_active(current_actor(), user_id, True),
                   lambda user: _("%(name)s can log in again.", name=user.full_name))


@bp.post(f"{PERSON}/invitation")
def resend_staff_invitation(provider_id, user_id):
    return _change(provider_id, user_id, ActionForm(prefix=f"i{user_id}"),
                   lambda: invitations.resend_invitation(current_actor(), user_id).user,
                   lambda user: _("A new invitation is on its way to %(email)s.",
                                  email=user.email))


@bp.post(f"/<{ID}:provider_id>/patients/<{ID}:user_id>/invitation")
def resend_patient_invitation(provider_id, user_id):
    """A walk-in patient's invitation again, from the member's journeys."""
    provider = managed_member(provider_id)
    form = ActionForm(prefix=f"p{user_id}")
    sent, _status = submit(form, lambda: invitations.resend_invitation(
        current_actor(), user_id), raise_access_errors=True, invalid_status=400)
    if sent is not None:
        flash(_("A new invitation is on its way to %(email)s.", email=sent.user.email))
    else:
        flash(" ".join(str(error) for error in form.form_errors))
    return redirect(url_for("member.member_journeys", provider_id=provider.id))
