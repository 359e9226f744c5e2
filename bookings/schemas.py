"""The booking engine's API shapes (marshmallow)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from bookings.models import (
    BookingStatus,
    EscalationKind,
    LineStatus,
    PaymentKind,
    PaymentStatus,
    PayoutStatus,
    RefundStatus,
)
from bookings.services.checkout import bank_step
from bookings.services.settlement import PERCENT_RULE, is_percent
from journey.core.api import DecimalString, Money, MoneyMap, NotBlank, QueryFlag, minor_json
from journey.core.reasons import ReasonSchema
from journey.core.validation import T, length
from providers.schemas import DECIMAL_STRING

#: 0 to 100 with at most two decimals.
PERCENT_PATTERN = r"^(?:100(?:\.0{1,2})?|[1-9]?[0-9](?:\.[0-9]{1,2})?)$"


def _percent(value: Decimal) -> None:
    if not is_percent(value):
        raise ValidationError(str(PERCENT_RULE))


def one_of(enum) -> dict:
    """An answer's state, documented as the list of its values."""
    return {"enum": [member.value for member in enum]}


class PaymentOutSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata=one_of(PaymentKind))
    status = fields.String(metadata=one_of(PaymentStatus))
    amount = Money(lambda p: (p.amount_minor, p.currency))
    captured = Money(lambda p: (p.captured_minor, p.currency))
    refunded = Money(lambda p: (p.refunded_minor, p.currency))
    intent_id = fields.String(allow_none=True)
    client_secret = fields.String(allow_none=True)
    next_action = fields.Function(lambda p: bank_step(p), allow_none=True, metadata={
        "description": "While requires_action: confirm with Stripe.js "
                       "(confirmCardPayment(client_secret)), then POST "
                       "/bookings/{id}/finish; return_url is where a bank's redirect "
                       "comes back."})


class RefundOutSchema(ReasonSchema):
    id = fields.Integer()
    payment_id = fields.Integer()
    line_id = fields.Integer(allow_none=True)
    status = fields.String(metadata=one_of(RefundStatus))
    amount = Money(lambda r: (r.amount_minor, r.currency))
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
    amount = Money(lambda line: (line.amount_minor, line.booking.currency))
    value = Money(lambda line: (line.value_minor, line.booking.currency))
    kept = Money(lambda line: (line.kept_minor, line.booking.currency))
    borne_by_provider_id = fields.Integer(allow_none=True)
    instant = fields.Boolean()
    status = fields.String(metadata=one_of(LineStatus))
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
    status = fields.String(metadata=one_of(BookingStatus))
    total = Money(lambda b: (b.total_minor, b.currency))
    due_now = Money(lambda b: (b.due_now_minor, b.currency))
    start_on = fields.Date(allow_none=True)
    balance_due_on = fields.Date(allow_none=True)
    expires_at = fields.DateTime()
    lines = fields.List(fields.Nested(BookingLineOutSchema))
    payment = fields.Function(lambda b: PaymentOutSchema().dump(b.payments[-1])
                              if b.payments else None, allow_none=True, metadata={
                                  "allOf": [{"$ref": "#/components/schemas/PaymentOut"}],
                                  "description": "The newest payment (null before any)."})
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
    include_decided = QueryFlag(load_default=False)


#: The decline's one rule, said once whichever check finds it broken.
DECLINE_REASON = _l("Tell the patient why, in 3 to 500 characters.")


class DeclineInSchema(Schema):
    reason = fields.String(required=True, validate=[
        validate.Length(min=3, max=500, error=DECLINE_REASON),
        NotBlank(3, error=DECLINE_REASON)], metadata={
            "description": "Why, for the patient: 3 to 500 characters (white space at the "
                           "ends does not count)."})


class ReasonInSchema(Schema):
    reason = fields.String(load_default="", validate=length(0, 500))


class PayInSchema(Schema):
    payment_method = fields.String(load_default=None, allow_none=True, validate=length(3, 100),
                                   metadata={"description": "A Stripe PaymentMethod id "
                                             "(`pm_...`, e.g. from Stripe.js); without one "
                                             "the answer's `client_secret` lets Stripe.js "
                                             "confirm the card."})


class CommissionRateSchema(Schema):
    chain_link = fields.String(dump_only=True)
    percent = DecimalString(PERCENT_PATTERN, example="12.50", required=True,
                            validate=_percent, metadata={
                                "description": "0 to 100, at most two decimals."})


class CommissionRateOutSchema(Schema):
    chain_link = fields.String()
    percent = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)


class CommissionRatesSchema(Schema):
    rates = fields.Dict(keys=fields.String(),
                        values=fields.Decimal(as_string=True, metadata=DECIMAL_STRING))


class StatementRowSchema(Schema):
    booking_id = fields.Integer()
    reference = fields.String()
    start_on = fields.Date(allow_none=True)
    currency = fields.String()
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "Postings by kind, in minor units of `currency`."})
    net = Money(lambda r: (r.net_minor, r.currency))
    paid_out = Money(lambda r: (r.paid_out_minor, r.currency))
    due = Money(lambda r: (r.due_minor, r.currency))


class StatementSchema(Schema):
    provider_id = fields.Integer()
    rows = fields.List(fields.Nested(StatementRowSchema))
    totals = MoneyMap(lambda s: {
        currency: {kind: minor_json(amount, currency) for kind, amount in values.items()}
        for currency, values in s.totals.items()}, depth=2, metadata={
            "description": "By currency, then by kind of posting."})
    currency = fields.String(metadata={"description": "The member's own currency."})
    in_own_currency = MoneyMap(lambda s: {
        name: minor_json(amount, s.currency) for name, amount in s.in_own_currency.items()},
        metadata={"description": "Net, paid out and due of every currency in the member's "
                  "own currency at today's rates (an indication)."})


class StatementQuerySchema(Schema):
    start = fields.Date(load_default=None, metadata={
        "description": "Bookings starting on or after this day."})
    end = fields.Date(load_default=None, metadata={
        "description": "Bookings starting on or before this day; not before `start` "
                       "(422)."})


class EscalationQuerySchema(Schema):
    open_only = QueryFlag(load_default=True)
    kind = fields.Enum(EscalationKind, by_value=True, load_default=None)


class EscalationOutSchema(ReasonSchema):
    id = fields.Integer()
    kind = fields.String(metadata=one_of(EscalationKind))
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
    status = fields.String(metadata=one_of(PayoutStatus))
    amount = Money(lambda p: (p.amount_minor, p.currency))
    transfer_id = fields.String(allow_none=True)
    error = fields.String()


class PayoutAccountStateSchema(Schema):
    account_id = fields.String(allow_none=True)
    state = fields.String(metadata={"enum": ["none", "onboarding", "active"],
                                    "description": "none: no account yet; onboarding: "
                                    "Stripe still needs details; active: payouts enabled."})
    currently_due = fields.List(fields.String(), metadata={
        "description": "What Stripe still asks of the member."})


class OnboardingLinkSchema(Schema):
    url = fields.String(metadata={"description": "Stripe's page, valid a few minutes."})


class PayoutAccountSchema(Schema):
    stripe_account_id = fields.String(
        required=True, allow_none=True,
        validate=[length(6, 100), validate.Regexp(
            r"^acct_", error=T("Invalid value."))],
        metadata={"description": "The member's Stripe Connect account (`acct_...`); null "
                  "removes it."})


