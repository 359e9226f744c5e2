"""The cluster's settings for journeys and quotes (a single row, created on first use)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from journey.accounts.permissions import require_admin
from journey.builder.models import ClusterSettings
from journey.errors import InvalidInput
from journey.extensions import db
from providers.services.common import check_country

SETTING_FIELDS = ("visa_free_nationalities", "deposit_percent", "balance_due_days",
                  "quote_validity_hours")


def get_settings() -> ClusterSettings:
    settings = db.session.scalar(select(ClusterSettings).order_by(ClusterSettings.id).limit(1))
    if settings is None:
        settings = ClusterSettings(visa_free_nationalities=[], deposit_percent=30,
                                   balance_due_days=14, quote_validity_hours=72)
        db.session.add(settings)
        db.session.flush()
    return settings


def update_settings(actor, **data) -> ClusterSettings:
    require_admin(actor)
    settings = get_settings()
    for field, value in data.items():
        if field not in SETTING_FIELDS:
            continue
        if field == "visa_free_nationalities":
            try:
                value = sorted({check_country(code) for code in value})
            except InvalidInput:
                raise InvalidInput(fields={field: [
                    _l("Use ISO 3166 country codes.")]}) from None
        setattr(settings, field, value)
    db.session.flush()
    return settings
