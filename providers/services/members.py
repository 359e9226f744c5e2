"""Members (providers): profile, texts, accreditations, admission."""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from journey.core.accounts.permissions import (
    can_manage_member,
    require_admin,
    require_cluster,
    require_member_access,
)
from journey.core.errors import Conflict, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.money import require_currency
from journey.core.persistence import flush_or_conflict, page_of
from journey.core.types import CLUSTER_TIMEZONE, utcnow
from providers.models import Accreditation, MemberStatus, Provider, ProviderText
from providers.services import accreditations as accreditation_service
from providers.services.common import (
    check_country,
    check_language,
    check_timezone,
    text_in,
)

#: Admission moves an admin may make.
STATUS_TRANSITIONS = {
    MemberStatus.PENDING: {MemberStatus.VERIFIED, MemberStatus.SUSPENDED},
    MemberStatus.VERIFIED: {MemberStatus.SUSPENDED},
    MemberStatus.SUSPENDED: {MemberStatus.VERIFIED},
}

PROFILE_FIELDS = ("name", "kind", "city", "country", "latitude", "longitude", "timezone",
                  "languages", "default_language", "currency", "email", "phone", "website",
                  "street_address", "legal_name", "registration_number", "vat_number")


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60] or "member"


def _clean_profile(data: dict) -> dict:
    clean = {k: v for k, v in data.items() if k in PROFILE_FIELDS}
    if "timezone" in clean:
        check_timezone(clean["timezone"])
    if "country" in clean:
        clean["country"] = check_country(clean["country"])
    if "currency" in clean:
        clean["currency"] = require_currency(clean["currency"])
    if "default_language" in clean:
        clean["default_language"] = check_language(clean["default_language"],
                                                    "default_language")
    if "languages" in clean:
        languages = []
        for value in clean["languages"]:
            language = check_language(value, "languages")
            if language not in languages:
                languages.append(language)
        clean["languages"] = languages
    for field in ("name", "city"):
        if field in clean:
            clean[field] = clean[field].strip()
            if not clean[field]:
                raise InvalidInput(fields={field: [_l("May not be empty.")]})
    return clean


def _unique_slug(base: str) -> str:
    slug, n = base, 1
    while db.session.scalar(select(func.count(Provider.id)).where(Provider.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_member(actor, *, descriptions: dict | None = None, accreditations=(),
                  slug: str | None = None, **data) -> Provider:
    """Admit a new member as *pending*; an admin verifies it later."""
    require_cluster(actor)
    clean = _clean_profile(data)
    clean.setdefault("default_language", "en")
    clean.setdefault("languages", [clean["default_language"]])
    if slug is not None:
        if db.session.scalar(select(Provider.id).where(Provider.slug == slug)):
            raise Conflict(_l("This address name is taken."),
                           fields={"slug": [_l("This address name is taken.")]})
    else:
        slug = _unique_slug(slugify(clean["name"]))
    provider = Provider(slug=slug, status=MemberStatus.PENDING, **clean)
    db.session.add(provider)
    for language, description in (descriptions or {}).items():
        provider.texts.append(ProviderText(language=check_language(language, "descriptions"),
                                           description=description))
    for item in accreditations:  # pending until an admin verifies each against its evidence
        provider.accreditations.append(accreditation_service.new_accreditation(actor, **item))
    _flush_or_conflict()
    return provider


def update_member(actor, provider_id: int, **data) -> Provider:
    provider = get_member_for_change(actor, provider_id, manager=True)
    for field, value in _clean_profile(data).items():
        setattr(provider, field, value)
    _flush_or_conflict()
    return provider


def set_member_status(actor, provider_id: int, status: MemberStatus, *, reason: str | None = None,
                      now: datetime | None = None) -> Provider:
    """Admission decisions: pending -> verified -> suspended (and back to verified)."""
    require_admin(actor)
    provider = _get(provider_id)
    status = MemberStatus(status)
    if status not in STATUS_TRANSITIONS[provider.status]:
        raise Conflict(_l("A member cannot go from %(old)s to %(new)s.",
                          old=provider.status.value, new=status.value))
    provider.status = status
    provider.status_reason = reason
    provider.status_changed_at = now or utcnow()
    db.session.flush()
    return provider


def set_member_text(actor, provider_id: int, language: str, description: str) -> ProviderText:
    provider = get_member_for_change(actor, provider_id)
    language = check_language(language)
    text = next((t for t in provider.texts if t.language == language), None)
    if text is None:
        text = ProviderText(language=language, description=description)
        provider.texts.append(text)
    else:
        text.description = description
    _flush_or_conflict()
    return text


def member_description(provider: Provider, language: str | None):
    """The member's description along the fallback chain; returns ``(language, text)``."""
    return text_in({t.language: t.description for t in provider.texts}, language, provider)


def delete_member_text(actor, provider_id: int, language: str) -> None:
    provider = get_member_for_change(actor, provider_id)
    text = next((t for t in provider.texts if t.language == language), None)
    if text is None:
        raise NotFound(_l("No text in this language."))
    provider.texts.remove(text)
    db.session.flush()


def add_accreditation(actor, provider_id: int, **data) -> Accreditation:
    """Submit an accreditation for an admin to verify (:mod:`.accreditations`)."""
    return accreditation_service.submit_accreditation(actor, provider_id, **data)


def delete_accreditation(actor, provider_id: int, accreditation_id: int) -> None:
    accreditation_service.delete_accreditation(actor, provider_id, accreditation_id)


def _get(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise NotFound(_l("No such member."))
    return provider


def get_member(actor, provider_id: int) -> Provider:
    """A member as ``actor`` may see it: verified ones for everyone, others for their
    own staff and the cluster (404 for anyone else, so ids reveal nothing)."""
    provider = _get(provider_id)
    if provider.status != MemberStatus.VERIFIED and not can_manage_member(actor, provider.id):
        raise NotFound(_l("No such member."))
    return provider


def get_member_for_change(actor, provider_id: int, *, manager: bool = False) -> Provider:
    provider = get_member(actor, provider_id)
    require_member_access(actor, provider.id, manager=manager)
    return provider


def list_members(actor, *, kind=None, city=None, status=None, page=1, per_page=20):
    query = select(Provider)
    if actor is not None and actor.role.is_cluster:
        if status is not None:
            query = query.where(Provider.status == status)
    elif actor is not None and actor.role.is_member:
        query = query.where((Provider.status == MemberStatus.VERIFIED)
                            | (Provider.id == actor.provider_id))
    else:
        query = query.where(Provider.status == MemberStatus.VERIFIED)
    if kind is not None:
        query = query.where(Provider.kind == kind)
    if city:
        query = query.where(func.lower(Provider.city) == city.strip().lower())
    return page_of(query.order_by(Provider.name, Provider.id), page=page, per_page=per_page)


def placed_members() -> list[Provider]:
    """Every verified member with coordinates, by name (the cluster's map; one query)."""
    return list(db.session.scalars(
        select(Provider).where(Provider.status == MemberStatus.VERIFIED,
                               Provider.latitude.is_not(None),
                               Provider.longitude.is_not(None))
        .order_by(Provider.name, Provider.id)))


def _flush_or_conflict() -> None:
    flush_or_conflict(_l("This conflicts with existing data."))


def member_zone(provider_id: int | None) -> str:
    """The time zone a member's days and deadlines are counted in: its own, else the
    cluster's (a member gone, or one without a zone)."""
    member = db.session.get(Provider, provider_id) if provider_id is not None else None
    return member.timezone if member is not None and member.timezone else CLUSTER_TIMEZONE
