"""What an insurer covers of a quote, line by line (the money rule, no access checks).

A line is covered when its product is published, the line is charged to the patient
(not borne by a member, not the package discount), its chain link is one of the
product's (and, when the product names offers, its offer is one of them) and its first
day falls within the product's dates. Its base is what it costs the patient: its price
less its share of the package discount (spread over the discount's member's lines as
checkout spreads it, :func:`discount_shares`).

Over the covered lines in the quote's order: the **deductible** first (the patient
pays that much of the covered lines before any cover), then the **share** (percent of
what is left of the line, half-even) or the **fixed amount** (per line, at most what
is left of it), then the **cap** per journey (the later lines get what the earlier
ones left). Amounts of the product (deductible, fixed, cap) are in its currency,
converted once at the quote's rate table into the journey's currency.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ScalarSelect, select

from journey.builder.models import QuoteLineKind
from journey.core.extensions import db
from journey.core.money import convert_minor, percent_of, split_minor
from journey.insurance import mail
from journey.insurance.models import (
    CoverageProduct,
    Guarantee,
    GuaranteeStatus,
    InsurancePolicy,
    ProductStatus,
)
from providers.services.rates import require_rate

#: How long an insurer has to answer a guarantee request (at most until the quote
#: expires): unanswered, it lapses.
ANSWER_WITHIN = timedelta(hours=48)


def _newest_active(what, journey_id):
    """``what`` of the journey's newest policy not removed."""
    return (select(what).where(InsurancePolicy.journey_id == journey_id,
                               InsurancePolicy.removed_at.is_(None))
            .order_by(InsurancePolicy.id.desc()).limit(1))


def active_policy(journey_id: int) -> InsurancePolicy | None:
    return db.session.scalar(_newest_active(InsurancePolicy, journey_id))


def active_policy_id(journey_id) -> ScalarSelect:
    """The id of :func:`active_policy`, as a scalar subquery correlated on
    ``journey_id`` (a column or a value): a statement that reads the journey finds out
    with it whether there is a policy to load at all."""
    return _newest_active(InsurancePolicy.id, journey_id).scalar_subquery()


def discount_shares(lines, discount_minor: int, funder: int | None) -> list[int]:
    """The package discount spread over the funder's lines charged to the patient, in
    proportion to their price (as checkout gives it): one share per line."""
    return split_minor(discount_minor, [
        line.total_minor if line.kind == QuoteLineKind.ITEM and line.provider_id == funder
        and funder is not None else 0 for line in lines])


def covers(product: CoverageProduct, line) -> bool:
    if product.status != ProductStatus.PUBLISHED or line.kind != QuoteLineKind.ITEM:
        return False
    link = line.chain_link.value if line.chain_link is not None else None
    if link not in (product.chain_links or []):
        return False
    if product.offer_ids and line.offer_id not in product.offer_ids:
        return False
    return line.start_on is not None and product.valid_from <= line.start_on <= \
        product.valid_until


def _in(amount: int | None, product: CoverageProduct, currency: str, table) -> int | None:
    if amount is None or product.currency == currency:
        return amount
    rate = require_rate(table, product.currency, currency)
    return convert_minor(amount, product.currency, currency, rate.rate)


def covered_amounts(product: CoverageProduct, lines, bases: list[int], *, currency: str,
                    table) -> list[int]:
    """The covered share of each line (see the module), given each line's ``bases``
    (what it costs the patient before cover)."""
    deductible = _in(product.deductible_minor, product, currency, table) or 0
    fixed = _in(product.fixed_minor, product, currency, table)
    cap = _in(product.cap_minor, product, currency, table)
    result = []
    for line, base in zip(lines, bases, strict=True):
        if base <= 0 or not covers(product, line):
            result.append(0)
            continue
        taken = min(deductible, base)
        deductible -= taken
        left = base - taken
        amount = min(left, fixed) if fixed is not None else \
            percent_of(left, product.share_percent)
        if cap is not None:
            amount = min(amount, cap)
            cap -= amount
        result.append(max(0, amount))
    return result


def request_guarantee(policy: InsurancePolicy, quote, *, now: datetime) -> Guarantee | None:
    """Ask the insurer to guarantee the quote's covered share (none when nothing is
    covered). Its deadline: :data:`ANSWER_WITHIN`, at most the quote's expiry."""
    if quote.covered_minor <= 0:
        return None
    guarantee = Guarantee(
        policy_id=policy.id, quote_id=quote.id, provider_id=policy.provider_id,
        requested_minor=quote.covered_minor, currency=quote.currency,
        line_positions=[line.position for line in quote.lines if line.covered_minor],
        status=GuaranteeStatus.PENDING, created_at=now,
        respond_by=min(now + ANSWER_WITHIN, quote.expires_at))
    db.session.add(guarantee)
    db.session.flush()
    mail.queue_requested(guarantee, now=now)
    return guarantee


def guarantee_of(quote_id: int) -> Guarantee | None:
    return db.session.scalar(select(Guarantee).where(Guarantee.quote_id == quote_id))
