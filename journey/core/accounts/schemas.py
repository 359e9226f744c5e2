"""Marshmallow schemas for accounts and tokens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from journey.core.accounts.models import Role
from journey.core.accounts.services import PASSWORD_SCHEMA, password_problem
from journey.core.api import Currency, Flag, Language, NotBlank
from journey.core.config import LANGUAGES
from journey.core.i18n import MAX_OTHER_LANGUAGES
from journey.core.types import MAX_ID
from journey.core.validation import T, in_range, length


def strong_enough(password: str) -> None:
    """The service's rule (:func:`~journey.core.accounts.services.password_problem`), as
    much of it as the document can state in ``PASSWORD_SCHEMA``; the account's address
    is the service's to compare."""
    problem = password_problem(password)
    if problem is not None:
        raise ValidationError(str(problem))


class AccountSchema(Schema):
    email = fields.Email(required=True, validate=length(3, 254))
    password = fields.String(required=True, load_only=True,
                             validate=[length(0, 200), strong_enough],
                             metadata=PASSWORD_SCHEMA)
    full_name = fields.String(required=True, validate=[
        length(1, 200), NotBlank(error=_l("Give the person's name."))])
    locale = fields.String(load_default=None, validate=validate.OneOf(
        LANGUAGES, error=T("Must be one of: {choices}.")), metadata={
            "description": "The interface language of the account."})
    currency = Currency(load_default=None, allow_none=True, metadata={
        "description": "The currency prices are shown in."})


class RegisterSchema(AccountSchema):
    issue_token = Flag(load_default=False, metadata={
        "description": "Log in at once: the answer's `token` holds a new bearer token "
                       "(shown this once), as `POST /api/v1/auth/tokens` would give."})


class CreateUserSchema(AccountSchema):
    role = fields.Enum(Role, required=True, by_value=True)
    provider_id = fields.Integer(load_default=None, strict=True, allow_none=True,
                                 validate=in_range(1, MAX_ID), metadata={
                                     "description": "The member of a `member_staff` or "
                                     "`member_manager` account (required for those, "
                                     "ignored for the others)."})


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    role = fields.Enum(Role, by_value=True)
    provider_id = fields.Integer(allow_none=True)
    locale = fields.String(allow_none=True)
    other_languages = fields.List(fields.String(), metadata={
        "description": "The other languages the person reads, best first: member "
                       "content falls back to them, in this order, before English."})
    currency = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = fields.DateTime()


class ProfileSchema(Schema):
    """The changes to your own profile; a field left out stays as it is."""

    full_name = fields.String(validate=[length(1, 200),
                                        NotBlank(error=_l("Give the person's name."))])
    locale = fields.String(validate=validate.OneOf(
        LANGUAGES, error=T("Must be one of: {choices}.")), metadata={
            "description": "The interface language of the account."})
    currency = Currency(metadata={"description": "The currency prices are shown in."})
    other_languages = fields.List(Language(), validate=length(0, MAX_OTHER_LANGUAGES),
                                  metadata={
        "description": "The other languages you read, best first (language codes such "
                       f"as `sv` or `pt-BR`, at most {MAX_OTHER_LANGUAGES}): member "
                       "content falls back to them, in this order, before English. "
                       "`[]` clears the list."})


class LoginSchema(Schema):
    email = fields.String(required=True, validate=length(0, 254))
    password = fields.String(required=True, load_only=True, validate=length(0, 200))
    name = fields.String(load_default="api", validate=length(1, 100), metadata={
        "description": "What the token is for, to tell your tokens apart."})
    expires_in_days = fields.Integer(load_default=90, strict=True, allow_none=True,
                                     validate=in_range(1, 3650), metadata={
                                         "description": "null: never expires."})


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(metadata={
        "description": "The raw token, shown only this once: send it as "
                       "`Authorization: Bearer <token>`."})


class IssuedTokenSchema(NewTokenSchema):
    user = fields.Nested(UserSchema)


class RegisteredSchema(UserSchema):
    token = fields.Nested(NewTokenSchema, allow_none=True, metadata={
        "description": "With `issue_token`: a bearer token for the new account (shown "
                       "this once). Without it, null: log in with `POST "
                       "/api/v1/auth/tokens` (the `login` link)."})
