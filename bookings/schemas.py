"""The booking engine's API shapes (marshmallow)."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields

from bookings.models import EscalationKind
from bookings.services.settlement import PERCENT_RULE, is_percent
from journey.core.reasons import ReasonSchema
from journey.core.validation import length
from providers.schemas import DECIMAL_STRING, minor_json


def _percent(value: Decimal) -> None:
    if not is_percent(value):
        raise ValidationError(str(PERCENT_RULE))


class PaymentOutSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    amount = fields.Function(lambda p: minor_json(p.amount_minor, p.currency))
    captured = fields.Function(lambda p: minor_json(p.captured_minor, p.currency))
    refunded = fields.Function(lambda p: minor_json(p.refunded_minor, p.currency))
    intent_id = fields.String(allow_none=True)
    client_secret = fields.String(allow_none=True)


class RefundOutSchema(ReasonSchema):
    id = fields.Integer()
    payment_id = fields.Integer()
    line_id = fields.Integer(allow_none=True)
    status = fields.String()
    amount = fields.Function(lambda r: minor_json(r.amount_minor, r.currency))
    stripe_refund_id = fields.String(allow_none=True)
    created_at = fields.DateTime()


class BookingLineOutSchema(Schema):
    id = fields.Integer()
    booking_id = fields.Integer()
    offer_id = fields.Integer()
    provider_id = fields.Integer()
    chain_link = fields.String(allow_none=True)
    start_on = fields.Date()
    days = fields.Integer()
    quantity = fields.Integer()
    amount = fields.Function(lambda line: minor_json(line.amount_minor, line.booking.currency))
    value = fields.Function(lambda line: minor_json(line.value_minor, line.booking.currency))
    kept = fields.Function(lambda line: minor_json(line.kept_minor, line.booking.currency))
    borne_by_provider_id = fields.Integer(allow_none=True)
    instant = fields.Boolean()
    status = fields.String()
    respond_by = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decline_reason = fields.String()
    ended_by = fields.String(allow_none=True, metadata={
        "enum": ["member", "patient", "cluster", "system", None],
        "description": "Who declined or cancelled the line (member: the patient is "
                       "offered alternatives)."})


class BookingOutSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    status = fields.String()
    total = fields.Function(lambda b: minor_json(b.total_minor, b.currency))
    due_now = fields.Function(lambda b: minor_json(b.due_now_minor, b.currency))
    start_on = fields.Date(allow_none=True)
    balance_due_on = fields.Date(allow_none=True)
    expires_at = fields.DateTime()
    lines = fields.List(fields.Nested(BookingLineOutSchema))
    payment = fields.Function(lambda b: PaymentOutSchema().dump(b.payments[-1])
                              if b.payments else None, allow_none=True)
    payments = fields.List(fields.Nested(PaymentOutSchema))


class EventOutSchema(ReasonSchema):
    id = fields.Integer()
    subject = fields.String()
    subject_id = fields.Integer()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    actor = fields.String()
    at = fields.DateTime()


class InboxQuerySchema(Schema):
    include_decided = fields.Boolean(load_default=False)


class DeclineInSchema(Schema):
    reason = fields.String(required=True, validate=length(3, 500))


class ReasonInSchema(Schema):
    reason = fields.String(load_default="", validate=length(0, 500))


class PayInSchema(Schema):
    payment_method = fields.String(load_default=None, allow_none=True, validate=length(3, 100))


class CommissionRateSchema(Schema):
    chain_link = fields.String(dump_only=True)
    percent = fields.Decimal(required=True, as_string=True, validate=_percent,
                             metadata=DECIMAL_STRING)


class CommissionRatesSchema(Schema):
    rates = fields.Dict(keys=fields.String(),
                        values=fields.Decimal(as_string=True, metadata=DECIMAL_STRING))


class StatementRowSchema(Schema):
    booking_id = fields.Integer()
    reference = fields.String()
    start_on = fields.Date(allow_none=True)
    currency = fields.String()
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer())
    net = fields.Function(lambda r: minor_json(r.net_minor, r.currency))
    paid_out = fields.Function(lambda r: minor_json(r.paid_out_minor, r.currency))
    due = fields.Function(lambda r: minor_json(r.due_minor, r.currency))


class StatementSchema(Schema):
    provider_id = fields.Integer()
    rows = fields.List(fields.Nested(StatementRowSchema))
    totals = fields.Function(lambda s: {
        currency: {kind: minor_json(amount, currency) for kind, amount in values.items()}
        for currency, values in s.totals.items()})


class StatementQuerySchema(Schema):
    start = fields.Date(load_default=None)
    end = fields.Date(load_default=None)


class EscalationQuerySchema(Schema):
    open_only = fields.Boolean(load_default=True)
    kind = fields.Enum(EscalationKind, by_value=True, load_default=None)


class EscalationOutSchema(ReasonSchema):
    id = fields.Integer()
    kind = fields.String()
    booking_id = fields.Integer()
    line_id = fields.Integer(allow_none=True)
    payment_id = fields.Integer(allow_none=True)
    opened_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    note = fields.String()


class ResolveInSchema(Schema):
    note = fields.String(load_default="", validate=length(0, 500))


class PayoutOutSchema(Schema):
    id = fields.Integer()
    provider_id = fields.Integer()
    status = fields.String()
    amount = fields.Function(lambda p: minor_json(p.amount_minor, p.currency))
    transfer_id = fields.String(allow_none=True)
    error = fields.String()


class PayoutAccountSchema(Schema):
    stripe_account_id = fields.String(required=True, allow_none=True, validate=length(6, 100))


