"""Accounts API: register, issue/list/revoke tokens, manage accounts."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, jsonify, request
from flask.views import MethodView
from flask_babel import gettext

from journey.core.accounts import invitations, services
from journey.core.accounts.auth import current_actor, public
from journey.core.accounts.invitation_schemas import MessageSchema
from journey.core.accounts.permissions import require_authenticated
from journey.core.accounts.schemas import (
    CreateUserSchema,
    IssuedTokenSchema,
    LoginSchema,
    ProfileSchema,
    RegisteredSchema,
    RegisterSchema,
    TokenSchema,
    UserSchema,
)
from journey.core.api import BEARER, MANAGERS, Blueprint, errors, link, links, roles
from journey.core.types import ID_CONVERTER

blp = Blueprint("accounts_api", __name__, url_prefix="/auth",
                description="Registration, bearer tokens and accounts")
ID = "<" + ID_CONVERTER + ":{}>"


@blp.route("/register")
class Register(MethodView):
    @public
    @blp.arguments(RegisterSchema)
    @blp.response(201, RegisteredSchema)
    @blp.alt_response(202, schema=MessageSchema, description=(
        "The address belongs to an account made for its owner that has no password yet "
        "(a walk-in patient's): no account is made, and a link to set the password goes "
        "to the address."))
    @links(login={"operationId": "postTokens", "requestBody": {
        "email": "$request.body#/email", "password": "$request.body#/password"}})
    def post(self, data):
        """Register as a patient.

        The answer is the new account, and a link to confirm the address goes to it. To
        call anything else, log in with the same e-mail and password at
        `POST /api/v1/auth/tokens` (the `login` link), or send `"issue_token": true`
        here and take the bearer token from `token`. An address that already has an
        account with a password is a conflict (409).
        """
        issue = data.pop("issue_token")
        done = invitations.register(**data, ip=request.remote_addr)
        if done.user is None:  # (the documented 201's schema would dump it empty)
            return jsonify(MessageSchema().dump({"message": gettext(
                "This address has an account without a password: a link to set one is "
                "on its way to it.")})), 202
        return Registered(done.user, services.issue_token(done.user, name="registration")
                          if issue else None)


class Registered:
    """A new account and, when asked for, its first token."""

    def __init__(self, user, token):
        self.user, self.token = user, token

    def __getattr__(self, name):
        return getattr(self.user, name)


@blp.route("/tokens")
class Tokens(MethodView):
    @public
    @errors(429)
    @blp.arguments(LoginSchema)
    @blp.response(201, IssuedTokenSchema)
    @links(revoke=link("deleteTokenItem", token_id="$response.body#/id"))  # noqa: S106
    def post(self, data):
        """Log in with e-mail and password; returns a new bearer token once.

        A wrong address or password is 401; after repeated failures the address is
        refused for a while (429), even with the right password.
        """
        cfg = current_app.config
        user = services.authenticate(
            data["email"], data["password"], ip=request.remote_addr,
            limit=cfg["LOGIN_FAILURE_LIMIT"],
            window=timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"]))
        return services.issue_token(user, name=data["name"],
                                    expires_in_days=data["expires_in_days"])

    @blp.doc(security=BEARER)
    @blp.response(200, TokenSchema(many=True))
    def get(self):
        """Your tokens (never their values)."""
        return services.list_tokens(require_authenticated(current_actor()))


@blp.route(f"/tokens/{ID.format('token_id')}")
class TokenItem(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, TokenSchema)
    def delete(self, token_id):
        """Revoke a token (your own; an admin any)."""
        return services.revoke_token(current_actor(), token_id)


@blp.route("/me")
class Me(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, UserSchema)
    def get(self):
        """The account behind this token."""
        return require_authenticated(current_actor())

    @blp.doc(security=BEARER)
    @blp.arguments(ProfileSchema)
    @blp.response(200, UserSchema)
    def patch(self, data):
        """Change your own profile: name, interface language, currency and the other
        languages you read (member content falls back to them before English)."""
        return services.update_profile(require_authenticated(current_actor()), **data)


@blp.route("/users")
class Users(MethodView):
    @roles(*MANAGERS)
    @blp.response(200, UserSchema(many=True))
    def get(self):
        """Accounts you may see: all (cluster staff) or your member's (manager)."""
        return services.list_users(current_actor())

    @roles(*MANAGERS)
    @blp.arguments(CreateUserSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create an account: admins any; coordinators member accounts and patients; a
        member's manager the member's staff. A `member_staff` or `member_manager`
        account needs `provider_id`."""
        return services.create_user(current_actor(), **data)
