"""The cluster's settings for journeys and quotes (a single row, created on first use)."""

from __future__ import annotations

import time
from functools import lru_cache

from flask import current_app, g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from journey.builder.models import ClusterSettings
from journey.core.accounts.permissions import require_admin
from journey.core.errors import InvalidInput
from journey.core.extensions import db
from providers.services.common import check_country

SETTING_FIELDS = ("visa_free_nationalities", "deposit_percent", "balance_due_days",
                  "quote_validity_hours", "languages", "health_data_retention_days",
                  "payout_delay_days")


def get_settings() -> ClusterSettings:
    """The settings row, read once per request (a quote asks for it several times):
    kept on the request while its session holds it, so a change made in the request
    is the row that was read."""
    settings = existing_settings()
    if settings is None:
        settings = ClusterSettings(visa_free_nationalities=[], deposit_percent=30,
                                   balance_due_days=14, quote_validity_hours=72,
                                   languages=list(current_app.config["LANGUAGES"]))
        db.session.add(settings)
        db.session.flush()
        _keep_this_request(settings)
    return settings


def existing_settings() -> ClusterSettings | None:
    """The settings row, or None before anyone created it (a reader that must not create
    it: the seller's details on a document); read once per request like
    :func:`get_settings`."""
    settings = _read_this_request()
    if settings is None:
        settings = db.session.scalar(select(ClusterSettings).order_by(ClusterSettings.id)
                                     .limit(1))
        _keep_this_request(settings)
    return settings


def settings_with(*columns, parameters: dict | None = None
                  ) -> tuple[ClusterSettings, tuple]:
    """The settings row (as :func:`get_settings`: once per request, created on first use)
    and the values of ``columns`` (scalar subqueries, constants; their bound
    ``parameters``), read in one statement when the request has not read the row yet: a
    quote reads the settings together with its next version number. Columns built once
    make a statement built once (:func:`_with_settings`)."""
    settings = _read_this_request()
    if settings is None:
        row = db.session.execute(_with_settings(columns), parameters).first()
        if row is not None:
            _keep_this_request(row[0])
            return row[0], tuple(row[1:])
        settings = get_settings()
    return settings, tuple(db.session.execute(select(*columns), parameters).one())


@lru_cache(maxsize=64)
def _with_settings(columns: tuple):
    """The settings row and ``columns``, one statement per set of column objects
    (SQLAlchemy then keys its compiled form once, not per quote)."""
    return select(ClusterSettings, *columns).order_by(ClusterSettings.id).limit(1)


def _keep_this_request(settings: ClusterSettings | None) -> None:
    if settings is not None and has_request_context():
        g._cluster_settings = settings


def _read_this_request() -> ClusterSettings | None:
    if not has_request_context():
        return None
    settings = g.get("_cluster_settings")
    return settings if settings is not None and settings in db.session else None


def cluster_languages() -> list[str] | None:
    """The languages an admin chose for the cluster (None before any settings), read
    without creating the settings row. Every request asks (to choose its language), so
    the process keeps the answer for ``CLUSTER_LANGUAGES_CACHE_SECONDS``; a change made
    in this process is seen at once (:func:`update_settings` forgets the answer)."""
    settings = _read_this_request()
    if settings is not None:
        return settings.languages
    seconds = current_app.config["CLUSTER_LANGUAGES_CACHE_SECONDS"]
    kept = current_app.extensions.get(_LANGUAGES_KEPT)
    if seconds > 0 and kept is not None and kept[0] > time.monotonic():
        return list(kept[1]) if kept[1] is not None else None
    languages = db.session.scalar(select(ClusterSettings.languages)
                                  .order_by(ClusterSettings.id).limit(1))
    if seconds > 0:
        current_app.extensions[_LANGUAGES_KEPT] = (
            time.monotonic() + seconds, tuple(languages) if languages is not None else None)
    return languages


_LANGUAGES_KEPT = "cluster_languages_kept"


def forget_cluster_languages() -> None:
    """Read the cluster's languages afresh next time (after a change)."""
    current_app.extensions.pop(_LANGUAGES_KEPT, None)


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
        if field == "languages":
            value = _check_languages(value)
            forget_cluster_languages()
        setattr(settings, field, value)
    db.session.flush()
    return settings


def _check_languages(codes) -> list[str]:
    """The cluster's languages: interface languages the project has, English always."""
    known = list(current_app.config["LANGUAGES"])
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise InvalidInput(fields={"languages": [
            _l("Unknown languages: %(codes)s.", codes=", ".join(unknown))]})
    chosen = set(codes) | {"en"}
    return [code for code in known if code in chosen]
