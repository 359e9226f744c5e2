"""Unbound extensions, bound to the app in :func:`journey.app.create_app`.

This module imports no domain code, so ``providers`` and ``bookings`` may use it.
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ErrorSchema(ma.Schema):
    """Every error answer of the API: HTTP code and name, a translated message, a
    machine-readable ``error`` code for domain errors, and messages per field."""

    code = ma.fields.Integer(metadata={"description": "HTTP status code"})
    status = ma.fields.String(metadata={"description": "HTTP status name"})
    error = ma.fields.String(metadata={"description": "Domain error code, e.g. `conflict`"})
    message = ma.fields.String(metadata={"description": "Message in the caller's language"})
    errors = ma.fields.Dict(metadata={"description": "Messages per location and field"})


class OneWindowApi(Api):
    ERROR_SCHEMA = ErrorSchema


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
api = OneWindowApi()
