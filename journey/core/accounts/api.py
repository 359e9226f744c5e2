"""Accounts API: register, issue/list/revoke tokens, manage accounts."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask.views import MethodView

from journey.core.accounts import services
from journey.core.accounts.auth import current_actor, public
from journey.core.accounts.permissions import require_authenticated
from journey.core.accounts.schemas import (
    CreateUserSchema,
    IssuedTokenSchema,
    LoginSchema,
    RegisterSchema,
    TokenSchema,
    UserSchema,
)
from journey.core.api import Blueprint
from journey.core.types import ID_CONVERTER

blp = Blueprint("accounts_api", __name__, url_prefix="/auth",
                description="Registration, bearer tokens and accounts")
BEARER = [{"bearerAuth": []}]
ID = "<" + ID_CONVERTER + ":{}>"


@blp.route("/register")
class Register(MethodView):
    @public
    @blp.arguments(RegisterSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Register as a patient."""
        return services.register_patient(**data)


@blp.route("/tokens")
class Tokens(MethodView):
    @public
    @blp.arguments(LoginSchema)
    @blp.response(201, IssuedTokenSchema)
    def post(self, data):
        """Log in with e-mail and password; returns a new bearer token once."""
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
        """Revoke a token."""
        return services.revoke_token(current_actor(), token_id)


@blp.route("/me")
class Me(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, UserSchema)
    def get(self):
        """The account behind this token."""
        return require_authenticated(current_actor())


@blp.route("/users")
class Users(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, UserSchema(many=True))
    def get(self):
        """Accounts you may see: all (cluster staff) or your member's (manager)."""
        return services.list_users(current_actor())

    @blp.doc(security=BEARER)
    @blp.arguments(CreateUserSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a staff, coordinator or admin account."""
        return services.create_user(current_actor(), **data)
