"""Accounts API, the links sent by e-mail: ask for a new password, set a password with
an invitation or reset link, confirm an address, send a link again; and a member's
staff: list, invite, change role or activity."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_babel import gettext

from journey.core.accounts import invitations, services
from journey.core.accounts.auth import current_actor, public
from journey.core.accounts.invitation_schemas import (
    AccountSchema,
    InviteStaffSchema,
    LinkSchema,
    MessageSchema,
    PasswordResetSchema,
    SetPasswordSchema,
    StaffChangeSchema,
)
from journey.core.api import Blueprint, errors
from journey.core.types import ID_CONVERTER

blp = Blueprint("account_links_api", __name__, url_prefix="/auth",
                description="Invitations, new passwords, e-mail verification and a "
                            "member's staff")
BEARER = [{"bearerAuth": []}]
ID = "<" + ID_CONVERTER + ":{}>"


@blp.route("/password-resets")
class PasswordResets(MethodView):
    @public
    @errors(429)
    @blp.arguments(PasswordResetSchema)
    @blp.response(202, MessageSchema)
    def post(self, data):
        """Ask for a link to set a new password.

        The answer is the same whether or not the address has an account; past the
        limits (a few e-mails per address and hour), every address alike gets 429."""
        invitations.request_password_reset(data["email"], ip=request.remote_addr)
        return {"message": gettext("If this address belongs to an account, a link to set "
                                   "a new password is on its way.")}


@blp.route("/passwords")
class Passwords(MethodView):
    @public
    @blp.arguments(SetPasswordSchema)
    @blp.response(200, AccountSchema)
    def post(self, data):
        """Set a password with the token of an invitation or reset link (used once)."""
        return invitations.set_password(data["token"], data["password"])


@blp.route("/email-verifications")
class EmailVerifications(MethodView):
    @public
    @blp.arguments(LinkSchema)
    @blp.response(200, AccountSchema)
    def post(self, data):
        """Confirm an address with the token of its verification link (used once)."""
        return invitations.verify_email(data["token"])


@blp.route("/me/email-verification")
class MyEmailVerification(MethodView):
    @blp.doc(security=BEARER)
    @errors(429)
    @blp.response(202, MessageSchema)
    def post(self):
        """Send the link to confirm your address again (429 past the limits on e-mails
        to one address)."""
        invitations.send_verification(current_actor(), ip=request.remote_addr)
        return {"message": gettext("A new link is on its way to your address.")}


@blp.route(f"/users/{ID.format('user_id')}/invitation")
class Invitation(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(202, MessageSchema)
    def post(self, user_id):
        """Send an account without a password a new invitation (the older one stops
        working): cluster staff, the member's manager, or the member that invited the
        patient."""
        invitations.resend_invitation(current_actor(), user_id)
        return {"message": gettext("A new invitation is on its way.")}


@blp.route(f"/members/{ID.format('provider_id')}/staff")
class Staff(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, AccountSchema(many=True))
    def get(self, provider_id):
        """The member's accounts (its manager and cluster staff only)."""
        return services.list_staff(current_actor(), provider_id)

    @blp.doc(security=BEARER)
    @blp.arguments(InviteStaffSchema)
    @blp.response(201, AccountSchema)
    def post(self, data, provider_id):
        """Invite a manager or staff member: the account is made without a password and
        a link to set one is e-mailed."""
        return services.invite_staff(current_actor(), provider_id, **data)


@blp.route(f"/staff/{ID.format('user_id')}")
class StaffMember(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(StaffChangeSchema)
    @blp.response(200, AccountSchema)
    def patch(self, data, user_id):
        """Change a member's account: its role (manager or staff) or whether it is
        active. Never your own, never to a cluster role."""
        return services.update_staff(current_actor(), user_id, **data)
