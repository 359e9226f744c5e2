"""Marshmallow schemas of the account links (invitations, new passwords, e-mail
verification) and of a member's staff (journey.core.accounts.invitations_api)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from journey.core.accounts.models import Role
from journey.core.accounts.schemas import UserSchema, strong_enough
from journey.core.accounts.services import PASSWORD_SCHEMA, has_password
from journey.core.api import Flag, NotBlank
from journey.core.config import LANGUAGES
from journey.core.validation import T, length

MEMBER_ROLES = [Role.MEMBER_STAFF.value, Role.MEMBER_MANAGER.value]


class PasswordResetSchema(Schema):
    email = fields.Email(required=True, validate=length(0, 254))


class LinkSchema(Schema):
    token = fields.String(required=True, validate=length(1, 100),
                          metadata={"description": "The token of the link sent by e-mail."})


class SetPasswordSchema(LinkSchema):
    password = fields.String(required=True, load_only=True,
                             validate=[length(0, 200), strong_enough],
                             metadata=PASSWORD_SCHEMA)


class MessageSchema(Schema):
    message = fields.String(metadata={"description": "What happens next, in the caller's "
                                                    "language."})


class AccountSchema(UserSchema):
    email_verified_at = fields.DateTime(allow_none=True)
    has_password = fields.Function(has_password, metadata={
        "description": "False until the account's owner sets a password (an invitation)."})


class InviteStaffSchema(Schema):
    email = fields.Email(required=True, validate=length(0, 254))
    full_name = fields.String(required=True, validate=[
        length(1, 200), NotBlank(error=_l("Give the person's name."))])
    role = fields.String(load_default=Role.MEMBER_STAFF.value, validate=validate.OneOf(
        MEMBER_ROLES, error=T("Must be one of: {choices}.")))
    locale = fields.String(load_default=None, validate=validate.OneOf(
        LANGUAGES, error=T("Must be one of: {choices}.")))


class StaffChangeSchema(Schema):
    role = fields.String(validate=validate.OneOf(
        MEMBER_ROLES, error=T("Must be one of: {choices}.")))
    active = Flag()
