"""A policy on a journey: added or removed by whoever may change the journey (its
patient, the member who opened it, a coordinator) while it is not booked. Either makes
a quoted or accepted journey a draft again: the quote is made anew, with or without the
insurer's share (and a new guarantee request)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from journey.builder.services.journeys import (
    get_journey_for_change,
    package_changed,
    visible_journey,
)
from journey.core.errors import Conflict, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.reasons import register_reasons, why
from journey.core.types import utcnow
from journey.insurance.models import CoverageProduct, InsurancePolicy, ProductStatus
from journey.insurance.services.coverage import active_policy

register_reasons({"policy_added": _l("An insurance policy was added"),
                  "policy_removed": _l("The insurance policy was removed")})


def get_policy(actor, journey_id: int) -> InsurancePolicy | None:
    visible_journey(actor, journey_id)
    return active_policy(journey_id)


def add_policy(actor, journey_id: int, *, product_id: int, policy_number: str,
               holder_name: str, now: datetime | None = None) -> InsurancePolicy:
    now = now or utcnow()
    journey = get_journey_for_change(actor, journey_id)
    errors = {}
    product = db.session.get(CoverageProduct, product_id) if isinstance(product_id, int) \
        else None
    if product is None or product.status != ProductStatus.PUBLISHED:
        errors["product_id"] = [_l("No such coverage product.")]
    policy_number = (policy_number or "").strip()
    holder_name = (holder_name or "").strip()
    if not 1 <= len(policy_number) <= 60:
        errors["policy_number"] = [_l("Give the policy number (1 to 60 characters).")]
    if not 1 <= len(holder_name) <= 200:
        errors["holder_name"] = [_l("Give the policy holder's name (1 to 200 characters).")]
    if errors:
        raise InvalidInput(fields=errors)
    if active_policy(journey.id) is not None:
        raise Conflict(_l("This journey has a policy already; remove it first."))
    policy = InsurancePolicy(journey_id=journey.id, product_id=product.id,
                             provider_id=product.provider_id, policy_number=policy_number,
                             holder_name=holder_name, added_by_id=actor.id, created_at=now)
    db.session.add(policy)
    package_changed(journey, actor, why("policy_added"))
    db.session.flush()
    return policy


def remove_policy(actor, journey_id: int, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    journey = get_journey_for_change(actor, journey_id)
    policy = active_policy(journey.id)
    if policy is None:
        raise NotFound(_l("This journey has no insurance policy."))
    policy.removed_at = now
    package_changed(journey, actor, why("policy_removed"))
    db.session.flush()
