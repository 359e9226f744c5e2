"""Coverage products: written by the insurer's manager (an insurer commits its money
only by its own manager's hand, like a member bearing a cost); published ones are
seen by everyone, drafts by the insurer's staff and the cluster."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from journey.core.errors import Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from journey.insurance.models import CoverageProduct, ProductStatus
from providers.models import ChainLink, MemberKind, Offer
from providers.services import members

MAX_MINOR = 10**12


def insurer_for_change(actor, provider_id: int):
    """The insurer member ``provider_id`` as its manager changes it (404/403)."""
    provider = members.get_member(actor, provider_id)
    if provider.kind != MemberKind.INSURER:
        raise NotFound(_l("No such insurer."))
    if actor is None or actor.role.value != "member_manager" or \
            actor.provider_id != provider.id:
        raise Forbidden(_l("Only the insurer's manager may do this."))
    return provider


def _validate(data: dict, provider_id: int) -> dict:
    errors: dict[str, list] = {}
    name = (data.get("name") or "").strip()
    if not 1 <= len(name) <= 200:
        errors["name"] = [_l("Give a name of 1 to 200 characters.")]
    links = data.get("chain_links") or []
    if not links or any(link not in {c.value for c in ChainLink} for link in links):
        errors["chain_links"] = [_l("Choose at least one chain link.")]
    share, fixed = data.get("share_percent"), data.get("fixed_minor")
    if (share is None) == (fixed is None):
        errors["share_percent"] = [_l("Give either a share in percent or a fixed amount.")]
    elif share is not None and not 1 <= share <= 100:
        errors["share_percent"] = [_l("Give a percentage from 1 to 100.")]
    elif fixed is not None and not 1 <= fixed <= MAX_MINOR:
        errors["fixed_minor"] = [_l("Give a positive amount.")]
    cap = data.get("cap_minor")
    if cap is not None and not 1 <= cap <= MAX_MINOR:
        errors["cap_minor"] = [_l("Give a positive amount.")]
    deductible = data.get("deductible_minor") or 0
    if not 0 <= deductible <= MAX_MINOR:
        errors["deductible_minor"] = [_l("Give an amount of 0 or more.")]
    currency = (data.get("currency") or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = [_l("Give a three-letter currency code.")]
    start, end = data.get("valid_from"), data.get("valid_until")
    if not isinstance(start, date) or not isinstance(end, date) or end < start:
        errors["valid_until"] = [_l("The end of validity must not come before its start.")]
    offer_ids = sorted(set(data.get("offer_ids") or []))
    if offer_ids and len(db.session.scalars(select(Offer.id).where(
            Offer.id.in_(offer_ids))).all()) != len(offer_ids):
        errors["offer_ids"] = [_l("No such offer.")]
    if errors:
        raise InvalidInput(fields=errors)
    return {"name": name, "description": (data.get("description") or "").strip()[:5000],
            "chain_links": list(dict.fromkeys(links)), "offer_ids": offer_ids,
            "share_percent": share, "fixed_minor": fixed, "cap_minor": cap,
            "deductible_minor": deductible, "currency": currency, "valid_from": start,
            "valid_until": end,
            "status": ProductStatus(data.get("status") or ProductStatus.DRAFT)}


def create_product(actor, provider_id: int, **data) -> CoverageProduct:
    provider = insurer_for_change(actor, provider_id)
    product = CoverageProduct(provider_id=provider.id, **_validate(data, provider.id))
    db.session.add(product)
    db.session.flush()
    return product


def update_product(actor, product_id: int, **data) -> CoverageProduct:
    product = get_product(actor, product_id)
    insurer_for_change(actor, product.provider_id)
    current = {key: getattr(product, key) for key in (
        "name", "description", "chain_links", "offer_ids", "share_percent", "fixed_minor",
        "cap_minor", "deductible_minor", "currency", "valid_from", "valid_until", "status")}
    if "fixed_minor" in data and "share_percent" not in data:
        current["share_percent"] = None
    if "share_percent" in data and "fixed_minor" not in data:
        current["fixed_minor"] = None
    for key, value in _validate({**current, **data}, product.provider_id).items():
        setattr(product, key, value)
    db.session.flush()
    return product


def _sees_drafts(actor, provider_id: int) -> bool:
    return actor is not None and (actor.role.is_cluster or actor.provider_id == provider_id)


def get_product(actor, product_id: int) -> CoverageProduct:
    product = db.session.get(CoverageProduct, product_id)
    if product is None or (product.status != ProductStatus.PUBLISHED
                           and not _sees_drafts(actor, product.provider_id)):
        raise NotFound(_l("No such coverage product."))
    return product


def list_products(actor, *, provider_id: int | None = None) -> list[CoverageProduct]:
    """Published products (of one insurer), and the drafts its staff and the cluster see."""
    query = select(CoverageProduct).order_by(CoverageProduct.id)
    if provider_id is not None:
        query = query.where(CoverageProduct.provider_id == provider_id)
    return [p for p in db.session.scalars(query) if p.status == ProductStatus.PUBLISHED
            or _sees_drafts(actor, p.provider_id)]
