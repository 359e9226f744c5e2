"""Booking engine endpoints: bookings and their timeline, the members' inbox and
answers, the patient's decisions, cancellations, the balance, settlement, payouts,
escalations and the Stripe webhook. Parse, call a service, serialise.

Every mutating call accepts an ``Idempotency-Key`` header: a retry with the same key
returns the first answer."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields

from bookings.idempotency import answer_once
from bookings.payments import ConnectGateway, StripeGateway
from bookings.schemas import (
    BookingLineOutSchema,
    BookingOutSchema,
    CommissionRateOutSchema,
    CommissionRateSchema,
    CommissionRatesSchema,
    DeclineInSchema,
    EscalationOutSchema,
    EscalationQuerySchema,
    EventOutSchema,
    InboxQuerySchema,
    OnboardingLinkSchema,
    PayInSchema,
    PaymentOutSchema,
    PayoutAccountSchema,
    PayoutAccountStateSchema,
    PayoutOutSchema,
    ReasonInSchema,
    RefundOutSchema,
    ResolveInSchema,
    StatementQuerySchema,
    StatementSchema,
)
from bookings.services import (
    access,
    balance,
    cancellation,
    confirmation,
    connect,
    escalations,
    settlement,
)
from bookings.services.checkout import finish_payment, pay_now
from bookings.webhooks import handle_stripe_event
from journey.core.accounts.auth import current_actor, public
from journey.core.api import (
    ADMIN,
    BEARER,
    CLUSTER,
    MEMBERS,
    PATIENT,
    STAFF,
    Blueprint,
    errors,
    idempotent,
    roles,
)
from journey.core.types import ID_CONVERTER
from providers.models import ChainLink

ID = ID_CONVERTER
#: Who decides on a booking: its patient, or the cluster for them.
CUSTOMERS = (PATIENT, *CLUSTER)

blp = Blueprint("bookings_api", __name__, url_prefix="",
                description="Bookings: member answers, capture, cancellations, refunds, "
                            "balance, settlement, payouts, escalations")
stripe_blp = Blueprint("stripe_api", __name__, url_prefix="/stripe",
                       description="Stripe webhooks (signed)")


# --- bookings ---------------------------------------------------------------------------

@blp.route(f"/bookings/<{ID}:booking_id>")
class BookingOne(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, BookingOutSchema)
    def get(self, booking_id):
        """A booking with its lines and payments (its patient, its members, the cluster)."""
        return access.booking_for(current_actor(), booking_id)


@blp.route(f"/bookings/<{ID}:booking_id>/timeline")
class BookingTimeline(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, EventOutSchema(many=True))
    def get(self, booking_id):
        """Every transition of the booking, its lines, payments, refunds and payouts:
        who, when, from, to and why."""
        return access.timeline(current_actor(), booking_id)


@blp.route(f"/bookings/<{ID}:booking_id>/refunds")
class BookingRefunds(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, RefundOutSchema(many=True))
    def get(self, booking_id):
        """The refunds of a booking."""
        return access.refunds_for(current_actor(), booking_id)


@blp.route(f"/bookings/<{ID}:booking_id>/proceed")
class BookingProceed(MethodView):
    @roles(*CUSTOMERS)
    @idempotent()
    @blp.response(200, BookingOutSchema)
    def post(self, booking_id):
        """After a decline: go on with the confirmed lines, capturing only their part."""
        return answer_once("proceed", {}, lambda actor: confirmation.proceed_without_declined(
            actor, booking_id), BookingOutSchema())


@blp.route(f"/bookings/<{ID}:booking_id>/cancel")
class BookingCancel(MethodView):
    @roles(*CUSTOMERS)
    @idempotent()
    @blp.arguments(ReasonInSchema, required=False)
    @blp.response(200, BookingOutSchema)
    def post(self, data, booking_id):
        """Cancel the booking: each line under its cancellation terms; refunds follow."""
        return answer_once("cancel-booking", data, lambda actor: cancellation.cancel_booking(
            actor, booking_id, reason=data["reason"]), BookingOutSchema())


@blp.route(f"/bookings/<{ID}:booking_id>/pay")
class BookingPay(MethodView):
    @roles(*CUSTOMERS)
    @idempotent()
    @blp.arguments(PayInSchema, required=False)
    @blp.response(201, PaymentOutSchema)
    def post(self, data, booking_id):
        """Pay a booking waiting for its card (a coordinator's payment link, or another
        card after a refusal); lapsed holds are renewed if the units are still free."""
        return answer_once("pay", data, lambda actor: pay_now(
            actor, booking_id, payment_method=data["payment_method"]),
            PaymentOutSchema(), status=201)


@blp.route(f"/bookings/<{ID}:booking_id>/finish")
class BookingFinish(MethodView):
    @roles(*CUSTOMERS)
    @errors(409, 503)
    @blp.response(200, PaymentOutSchema)
    def post(self, booking_id):
        """Back from the bank's check (3-D Secure): the payment is read again from Stripe
        and the booking moves on as after a direct authorisation (still waiting: nothing
        changes; refused: the attempt fails and the holds stay until they expire)."""
        return finish_payment(current_actor(), booking_id)


@blp.route(f"/bookings/<{ID}:booking_id>/balance")
class BookingBalance(MethodView):
    @roles(*CUSTOMERS)
    @idempotent()
    @blp.arguments(PayInSchema, required=False)
    @blp.response(201, PaymentOutSchema)
    def post(self, data, booking_id):
        """Pay the balance (a new PaymentIntent, captured at once)."""
        return answer_once("balance", data, lambda actor: balance.pay_balance(
            actor, booking_id, payment_method=data["payment_method"]),
            PaymentOutSchema(), status=201)


@blp.route(f"/bookings/<{ID}:booking_id>/payouts")
class BookingPayouts(MethodView):
    @roles(ADMIN)
    @idempotent()
    @blp.response(200, PayoutOutSchema(many=True))
    def post(self, booking_id):
        """Transfer each member's net for the booking to its Connect account (admin)."""
        return answer_once("payouts", {}, lambda actor: settlement.pay_out(
            actor, booking_id, ConnectGateway.from_config()), PayoutOutSchema(many=True))


# --- lines ------------------------------------------------------------------------------------

@blp.route(f"/booking-lines/<{ID}:line_id>/accept")
class LineAccept(MethodView):
    @roles(*STAFF)
    @idempotent()
    @blp.response(200, BookingLineOutSchema)
    def post(self, line_id):
        """The member confirms a requested line (the last one triggers the capture)."""
        return answer_once("accept", {}, lambda actor: confirmation.accept_line(actor, line_id),
                     BookingLineOutSchema())


@blp.route(f"/booking-lines/<{ID}:line_id>/decline")
class LineDecline(MethodView):
    @roles(*STAFF)
    @idempotent()
    @blp.arguments(DeclineInSchema)
    @blp.response(200, BookingLineOutSchema)
    def post(self, data, line_id):
        """The member declines a requested line, with a reason for the patient."""
        return answer_once("decline", data, lambda actor: confirmation.decline_line(
            actor, line_id, data["reason"]), BookingLineOutSchema())


@blp.route(f"/booking-lines/<{ID}:line_id>/cancel")
class LineCancel(MethodView):
    @blp.doc(security=BEARER)
    @idempotent()
    @blp.arguments(ReasonInSchema, required=False)
    @blp.response(200, BookingLineOutSchema)
    def post(self, data, line_id):
        """Cancel one line: by the patient or a coordinator under its terms, by its
        member with a full refund."""
        return answer_once("cancel-line", data, lambda actor: cancellation.cancel_line(
            actor, line_id, reason=data["reason"]), BookingLineOutSchema())


# --- members ------------------------------------------------------------------------------

@blp.route(f"/members/<{ID}:provider_id>/inbox")
class MemberInbox(MethodView):
    @roles(*STAFF)
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, BookingLineOutSchema(many=True))
    def get(self, args, provider_id):
        """Requests waiting for the member's answer, nearest deadline first."""
        return confirmation.member_inbox(current_actor(), provider_id,
                                         include_decided=args["include_decided"])


@blp.route(f"/members/<{ID}:provider_id>/statement")
class MemberStatement(MethodView):
    @roles(*STAFF)
    @blp.arguments(StatementQuerySchema, location="query")
    @blp.response(200, StatementSchema)
    def get(self, args, provider_id):
        """The member's settlement: per booking gross, commission, borne lines, fees
        kept, net, paid out and due."""
        return settlement.member_statement(current_actor(), provider_id, **args)


@blp.route(f"/members/<{ID}:provider_id>/payout-account")
class MemberPayoutAccount(MethodView):
    @roles(ADMIN)
    @blp.arguments(PayoutAccountSchema)
    @blp.response(200, PayoutAccountSchema)
    def put(self, data, provider_id):
        """Set the member's Stripe Connect account (admin)."""
        return settlement.set_payout_account(current_actor(), provider_id,
                                             data["stripe_account_id"])

    @roles(*STAFF)
    @errors(409)
    @blp.response(200, PayoutAccountStateSchema)
    def get(self, provider_id):
        """The member's payout account as Stripe tells it (none, onboarding, active)."""
        return connect.payout_account(current_actor(), provider_id,
                                      ConnectGateway.from_config())


@blp.route(f"/members/<{ID}:provider_id>/payout-account/onboarding")
class MemberPayoutOnboarding(MethodView):
    @roles(*MEMBERS)
    @errors(409)
    @blp.response(200, OnboardingLinkSchema)
    def post(self, provider_id):
        """Stripe's page where the member's manager sets up payouts (the account is
        created first if the member has none); send the manager there."""
        base = current_app.config["PUBLIC_URL"].rstrip("/")
        page = f"{base}/portal/{provider_id}/payouts"
        return {"url": connect.start_onboarding(
            current_actor(), provider_id, ConnectGateway.from_config(), return_url=page,
            refresh_url=page)}


# --- cluster ------------------------------------------------------------------------------

@blp.route("/commission-rates")
class CommissionRates(MethodView):
    @blp.response(200, CommissionRatesSchema)
    def get(self):
        """The cluster's commission per chain link, in percent."""
        return {"rates": settlement.commission_rates()}


@blp.route("/commission-rates/<string:chain_link>", parameters=[{
    "in": "path", "name": "chain_link", "required": True,
    "schema": {"type": "string", "enum": [link.value for link in ChainLink]}}])
class CommissionRate(MethodView):
    @roles(ADMIN)
    @blp.arguments(CommissionRateSchema)
    @blp.response(200, CommissionRateOutSchema)
    def put(self, data, chain_link):
        """Set the commission on a chain link (admin)."""
        return settlement.set_commission_rate(current_actor(), chain_link, data["percent"])


@blp.route("/escalations")
class Escalations(MethodView):
    @roles(*CLUSTER)
    @blp.arguments(EscalationQuerySchema, location="query")
    @blp.response(200, EscalationOutSchema(many=True))
    def get(self, args):
        """Missed member deadlines, failed payments, unpaid balances, declines
        (coordinators)."""
        return escalations.list_escalations(current_actor(), **args)


@blp.route(f"/escalations/<{ID}:escalation_id>/resolve")
class EscalationResolve(MethodView):
    @roles(*CLUSTER)
    @idempotent()
    @blp.arguments(ResolveInSchema, required=False)
    @blp.response(200, EscalationOutSchema)
    def post(self, data, escalation_id):
        """Mark an escalation handled, with a note."""
        return answer_once("resolve", data, lambda actor: escalations.resolve_escalation(
            actor, escalation_id, note=data["note"]), EscalationOutSchema())


# --- Stripe ------------------------------------------------------------------------------------

class WebhookAnswerSchema(Schema):
    received = fields.Boolean()
    changed = fields.Boolean(metadata={"description": "Whether this delivery changed "
                                       "anything (false for a repeat or an event of no "
                                       "concern)."})


#: Stripe's identifiers and event types as the webhook takes them (bookings/webhooks.py).
STRIPE_WORD = "^[A-Za-z0-9_.\\-]{1,100}$"

STRIPE_EVENT = {
    "type": "object",
    "description": "A Stripe event, as Stripe sends it (only these members are read; the "
                   "PaymentIntent itself is fetched again from Stripe).",
    "required": ["id", "type", "data"],
    "properties": {
        "id": {"type": "string", "pattern": STRIPE_WORD, "example": "evt_1PmQ"},
        "type": {"type": "string", "pattern": STRIPE_WORD,
                 "example": "payment_intent.succeeded",
                 "description": "`payment_intent.*` events need `data.object.id`; others "
                                "are acknowledged and ignored."},
        "data": {"type": "object", "required": ["object"], "properties": {
            "object": {"type": "object", "properties": {
                "id": {"type": "string", "pattern": STRIPE_WORD, "example": "pi_3PmQ"}}}}},
    },
}


@stripe_blp.route("/webhook")
class Webhook(MethodView):
    @public
    @errors(400, 401, 409, 413, 503, only=True)
    @stripe_blp.doc(
        parameters=[{
            "in": "header", "name": "Stripe-Signature", "required": True,
            "schema": {"type": "string", "minLength": 1},
            "description": "`t=<unix time>,v1=<HMAC-SHA256 of \"<t>.<body>\" with the "
                           "webhook secret, hex>` (STRIPE_WEBHOOK_SECRET; "
                           "`whsec_localstripe` in development). A bad one is 400."}],
        requestBody={"required": True, "content": {"application/json": {
            "schema": STRIPE_EVENT}}})
    @stripe_blp.response(200, WebhookAnswerSchema)
    def post(self):
        """Stripe's events: the signature is checked, each event takes effect once, and
        the PaymentIntent is fetched again rather than trusted from the payload.

        A bad signature, or anything but a well-formed event, is 400 and writes nothing.
        The body is read as sent (the signature covers its exact bytes).
        """
        changed = handle_stripe_event(
            request.get_data(), request.headers.get("Stripe-Signature"),
            secret=current_app.config["STRIPE_WEBHOOK_SECRET"],
            gateway=StripeGateway.from_config())
        return {"received": True, "changed": changed}
