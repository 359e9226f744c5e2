"""Schemas of the insurance API."""

from __future__ import annotations

from marshmallow import Schema, fields

from journey.core.api import Currency, Money
from journey.core.types import MAX_ID
from journey.core.validation import Day, in_range, length
from journey.insurance.models import GUARANTEE_STATUS_TITLES, GuaranteeStatus, ProductStatus
from providers.models import ChainLink
from providers.schemas import MAX_MINOR


class CoverageProductInSchema(Schema):
    name = fields.String(required=True, validate=length(1, 200))
    description = fields.String(load_default="", validate=length(0, 5000))
    chain_links = fields.List(fields.Enum(ChainLink, by_value=True), required=True,
                              validate=length(1, len(ChainLink)))
    offer_ids = fields.List(fields.Integer(strict=True, validate=in_range(1, MAX_ID)),
                            load_default=list, validate=length(0, 200))
    share_percent = fields.Integer(strict=True, allow_none=True, load_default=None,
                                   validate=in_range(1, 100))
    fixed_minor = fields.Integer(strict=True, allow_none=True, load_default=None,
                                 validate=in_range(1, MAX_MINOR))
    cap_minor = fields.Integer(strict=True, allow_none=True, load_default=None,
                               validate=in_range(1, MAX_MINOR))
    deductible_minor = fields.Integer(strict=True, load_default=0,
                                      validate=in_range(0, MAX_MINOR))
    currency = Currency(required=True)
    valid_from = Day(required=True)
    valid_until = Day(required=True)
    status = fields.Enum(ProductStatus, by_value=True, load_default=ProductStatus.DRAFT)


class CoverageProductUpdateSchema(Schema):
    """Only the fields given change."""

    name = fields.String(validate=length(1, 200))
    description = fields.String(validate=length(0, 5000))
    chain_links = fields.List(fields.Enum(ChainLink, by_value=True),
                              validate=length(1, len(ChainLink)))
    offer_ids = fields.List(fields.Integer(strict=True, validate=in_range(1, MAX_ID)),
                            validate=length(0, 200))
    share_percent = fields.Integer(strict=True, allow_none=True, validate=in_range(1, 100))
    fixed_minor = fields.Integer(strict=True, allow_none=True, validate=in_range(1, MAX_MINOR))
    cap_minor = fields.Integer(strict=True, allow_none=True, validate=in_range(1, MAX_MINOR))
    deductible_minor = fields.Integer(strict=True, validate=in_range(0, MAX_MINOR))
    currency = Currency()
    valid_from = Day()
    valid_until = Day()
    status = fields.Enum(ProductStatus, by_value=True)


class CoverageProductSchema(Schema):
    id = fields.Integer()
    provider_id = fields.Integer()
    name = fields.String()
    description = fields.String()
    chain_links = fields.List(fields.String())
    offer_ids = fields.List(fields.Integer())
    share_percent = fields.Integer(allow_none=True)
    fixed = Money(lambda p: (p.fixed_minor, p.currency) if p.fixed_minor else None,
                  allow_none=True)
    cap = Money(lambda p: (p.cap_minor, p.currency) if p.cap_minor else None,
                allow_none=True)
    deductible = Money(lambda p: (p.deductible_minor, p.currency))
    currency = fields.String()
    valid_from = fields.Date()
    valid_until = fields.Date()
    status = fields.Enum(ProductStatus, by_value=True)


class InsurancePolicyInSchema(Schema):
    product_id = fields.Integer(strict=True, required=True, validate=in_range(1, MAX_ID))
    policy_number = fields.String(required=True, validate=length(1, 60))
    holder_name = fields.String(required=True, validate=length(1, 200))


class InsurancePolicySchema(Schema):
    id = fields.Integer()
    journey_id = fields.Integer()
    product_id = fields.Integer()
    provider_id = fields.Integer()
    policy_number = fields.String()
    holder_name = fields.String()
    created_at = fields.DateTime()


class GuaranteeSchema(Schema):
    id = fields.Integer()
    quote_id = fields.Integer()
    journey_id = fields.Function(lambda g: g.policy.journey_id)
    provider_id = fields.Integer()
    policy_number = fields.Function(lambda g: g.policy.policy_number)
    holder_name = fields.Function(lambda g: g.policy.holder_name)
    requested = Money(lambda g: (g.requested_minor, g.currency))
    approved = Money(lambda g: (g.approved_minor, g.currency)
                     if g.approved_minor is not None else None, allow_none=True)
    line_positions = fields.List(fields.Integer())
    status = fields.Enum(GuaranteeStatus, by_value=True)
    status_title = fields.Function(lambda g: str(GUARANTEE_STATUS_TITLES[g.status]))
    respond_by = fields.DateTime()
    valid_until = fields.DateTime(allow_none=True)
    note = fields.String()
    decided_at = fields.DateTime(allow_none=True)


class GuaranteeQuerySchema(Schema):
    status = fields.Enum(GuaranteeStatus, by_value=True)


class GuaranteeApproveSchema(Schema):
    amount_minor = fields.Integer(strict=True, required=True, validate=in_range(1, MAX_MINOR))
    valid_until = Day(required=True)
    note = fields.String(load_default="", validate=length(0, 500))


class GuaranteeDeclineSchema(Schema):
    note = fields.String(load_default="", validate=length(0, 500))


class InsurerReceivableSchema(Schema):
    id = fields.Integer()
    booking_id = fields.Integer()
    provider_id = fields.Integer()
    amount = Money(lambda r: (r.amount_minor, r.currency))
    paid = Money(lambda r: (r.paid_minor, r.currency))
    outstanding = Money(lambda r: (r.outstanding_minor, r.currency))
    credit = Money(lambda r: (r.credit_minor, r.currency), metadata={
        "description": "Owed back to the insurer after a cancellation."})
    status = fields.String(attribute="status.value")
    due_on = fields.Date()
    paid_at = fields.DateTime(allow_none=True)
    reference = fields.String()


class InsurerReceivableQuerySchema(Schema):
    provider_id = fields.Integer(validate=in_range(1, MAX_ID))


class InsurerPaymentInSchema(Schema):
    amount_minor = fields.Integer(strict=True, required=True, validate=in_range(1, MAX_MINOR))
    paid_on = Day(required=True)
    reference = fields.String(required=True, validate=length(1, 100))

