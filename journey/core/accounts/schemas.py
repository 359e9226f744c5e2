"""Marshmallow schemas for accounts and tokens."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from journey.core.accounts.models import Role
from journey.core.config import LANGUAGES
from journey.core.types import MAX_ID
from journey.core.validation import T, in_range, length


class RegisterSchema(Schema):
    email = fields.Email(required=True, validate=length(0, 254))
    password = fields.String(required=True, load_only=True,
                             validate=length(0, 200))
    full_name = fields.String(required=True, validate=length(1, 200))
    locale = fields.String(load_default=None, validate=validate.OneOf(
        LANGUAGES, error=T("Must be one of: {choices}.")))
    currency = fields.String(load_default=None, validate=validate.Length(
        equal=3, error=T("Use a three-letter currency code.")))


class CreateUserSchema(RegisterSchema):
    role = fields.Enum(Role, required=True, by_value=True)
    provider_id = fields.Integer(load_default=None, strict=True,
                                 validate=in_range(1, MAX_ID))


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    role = fields.Enum(Role, by_value=True)
    provider_id = fields.Integer(allow_none=True)
    locale = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = fields.DateTime()


class LoginSchema(Schema):
    email = fields.String(required=True, validate=length(0, 254))
    password = fields.String(required=True, load_only=True, validate=length(0, 200))
    name = fields.String(load_default="api", validate=length(1, 100))
    expires_in_days = fields.Integer(load_default=90, strict=True, allow_none=True,
                                     validate=in_range(1, 3650))


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "The raw token; shown only this once."})
    user = fields.Nested(UserSchema)
