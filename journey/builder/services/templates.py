"""Package templates: a curated chain of links with day offsets and a discount."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from journey.builder.models import PackageTemplate, TemplateLink, TemplateStatus, TemplateText
from journey.core.accounts.permissions import (
    can_manage_member,
    payer_refusal,
    require_cluster,
)
from journey.core.errors import Conflict, InvalidInput, NotFound, refuse
from journey.core.extensions import db
from journey.core.money import require_currency
from providers.models import Offer
from providers.services.common import check_language, text_in
from providers.services.members import get_member_for_change
from providers.services.offers import is_public


def _can_edit(actor, template: PackageTemplate) -> bool:
    return actor is not None and (actor.role.is_cluster
                                  or can_manage_member(actor, template.provider_id))


def get_template(actor, template_id: int, *, published_only: bool = False) -> PackageTemplate:
    template = db.session.get(PackageTemplate, template_id)
    visible = template is not None and (
        template.status == TemplateStatus.PUBLISHED
        or (not published_only and _can_edit(actor, template)))
    if not visible:
        raise NotFound(_l("No such package."))
    return template


def list_templates(actor) -> list[PackageTemplate]:
    query = select(PackageTemplate).order_by(PackageTemplate.id)
    if actor is None or actor.role.value == "patient":
        query = query.where(PackageTemplate.status == TemplateStatus.PUBLISHED)
    elif actor.role.is_member:
        query = query.where(or_(PackageTemplate.status == TemplateStatus.PUBLISHED,
                                PackageTemplate.provider_id == actor.provider_id))
    return list(db.session.scalars(query))


def template_text(template: PackageTemplate, language: str | None):
    return text_in({t.language: t for t in template.texts}, language, template.provider)


def _check_discount(actor, data: dict, provider_id: int | None) -> None:
    if not (data.get("discount_percent") or data.get("discount_minor")):
        return
    if provider_id is None:
        raise InvalidInput(fields={"discount_percent": [_l(
            "A discount is funded by the member whose package it is, from its own lines: "
            "a package of the cluster carries none.")]})
    refuse(payer_refusal(actor, provider_id))
    if data.get("discount_percent") is not None and data.get("discount_minor") is not None:
        raise InvalidInput(fields={"discount_minor": [
            _l("Give a percentage or an amount, not both.")]})
    if data.get("discount_minor") is not None:
        data["discount_currency"] = require_currency(data.get("discount_currency") or "",
                                                   "discount_currency")


def create_template(actor, *, provider_id: int | None = None, texts: dict | None = None,
                    links=(), **data) -> PackageTemplate:
    """A coordinator curates for the cluster; a member's staff for their member."""
    if provider_id is None:
        require_cluster(actor)
    else:
        get_member_for_change(actor, provider_id)
    _check_discount(actor, data, provider_id)
    template = PackageTemplate(provider_id=provider_id, status=TemplateStatus.DRAFT,
                               discount_percent=data.get("discount_percent"),
                               discount_minor=data.get("discount_minor"),
                               discount_currency=data.get("discount_currency"))
    db.session.add(template)
    for language, text in (texts or {}).items():
        _set_text(template, language, **text)
    _set_links(actor, template, links)
    db.session.flush()
    if data.get("status") == TemplateStatus.PUBLISHED:
        set_template_status(actor, template.id, TemplateStatus.PUBLISHED)
    return template


def get_template_for_change(actor, template_id: int) -> PackageTemplate:
    template = get_template(actor, template_id)
    if not _can_edit(actor, template):
        raise NotFound(_l("No such package."))
    return template


def update_template(actor, template_id: int, *, texts=None, links=None, **data):
    template = get_template_for_change(actor, template_id)
    if "discount_percent" in data or "discount_minor" in data:
        merged = {"discount_percent": data.get("discount_percent"),
                  "discount_minor": data.get("discount_minor"),
                  "discount_currency": data.get("discount_currency")}
        _check_discount(actor, merged, template.provider_id)
        template.discount_percent = merged["discount_percent"]
        template.discount_minor = merged["discount_minor"]
        template.discount_currency = merged["discount_currency"]
    for language, text in (texts or {}).items():
        _set_text(template, language, **text)
    if links is not None:
        template.links.clear()
        db.session.flush()
        _set_links(actor, template, links)
    db.session.flush()
    if "status" in data and data["status"] is not None:
        set_template_status(actor, template.id, data["status"])
    return template


def set_template_status(actor, template_id: int, status: TemplateStatus) -> PackageTemplate:
    template = get_template_for_change(actor, template_id)
    status = TemplateStatus(status)
    if status == TemplateStatus.PUBLISHED:
        if not template.texts:
            raise Conflict(_l("Name the package in at least one language before publishing."))
        if not template.links:
            raise Conflict(_l("A package needs at least one link."))
        for link in template.links:
            if not is_public(link.default_offer):
                raise Conflict(_l("Every default offer of a published package must be on "
                                  "sale."))
    template.status = status
    db.session.flush()
    return template


def _set_text(template: PackageTemplate, language: str, *, name: str, description: str = ""):
    language = check_language(language, "texts")
    name = (name or "").strip()
    if not name:
        raise InvalidInput(fields={"texts": [_l("Every text needs a name.")]})
    text = next((t for t in template.texts if t.language == language), None)
    if text is None:
        text = TemplateText(language=language)
        template.texts.append(text)
    text.name = name
    text.description = (description or "").strip()


def _set_links(actor, template: PackageTemplate, links) -> None:
    for position, link in enumerate(links, start=1):
        offer = db.session.get(Offer, link["default_offer_id"])
        if offer is None:
            raise InvalidInput(fields={"links": [_l("Link %(n)d: no such offer.", n=position)]})
        chain_link = link.get("chain_link") or offer.chain_link
        if offer.chain_link != chain_link:
            raise InvalidInput(fields={"links": [
                _l("Link %(n)d: the offer belongs to another link of the chain.", n=position)]})
        borne_by = link.get("borne_by_provider_id")
        if borne_by is not None and borne_by != template.provider_id:
            # Who pays is decided by the payer: in a package, only its own member.
            raise InvalidInput(fields={"links": [
                _l("Link %(n)d: only the member whose package it is can bear a line of it.",
                   n=position)]})
        if borne_by is not None:
            refuse(payer_refusal(actor, borne_by))
        alternatives = list(dict.fromkeys(link.get("alternative_offer_ids") or []))
        for alternative_id in alternatives:
            alternative = db.session.get(Offer, alternative_id)
            if alternative is None or alternative.chain_link != chain_link:
                raise InvalidInput(fields={"links": [
                    _l("Link %(n)d: an alternative is not an offer of the same link.",
                       n=position)]})
        template.links.append(TemplateLink(
            position=position, chain_link=chain_link, default_offer_id=offer.id,
            alternative_offer_ids=alternatives, day_offset=link.get("day_offset"),
            days=link.get("days") or max(1, offer.duration_value),
            quantity=link.get("quantity") or 1,
            borne_by_provider_id=link.get("borne_by_provider_id")))
