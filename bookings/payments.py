"""The payment gateway: Stripe through its official client (localstripe on loopback in
development and tests). PaymentIntents authorise now and capture later
(``capture_method=manual``); our payment row's id is the idempotency key."""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from flask import current_app

from bookings.models import Payment, PaymentStatus

#: Stripe's PaymentIntent states -> ours.
INTENT_STATES = {
    "requires_payment_method": PaymentStatus.REQUIRES_PAYMENT_METHOD,
    "requires_confirmation": PaymentStatus.REQUIRES_PAYMENT_METHOD,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.REQUIRES_ACTION,
    "requires_capture": PaymentStatus.AUTHORISED,
    "succeeded": PaymentStatus.CAPTURED,
    "canceled": PaymentStatus.CANCELLED,
}


@dataclass(frozen=True)
class Intent:
    id: str
    status: PaymentStatus
    client_secret: str | None
    amount: int


class StripeGateway:
    def __init__(self, api_key: str, api_base: str):
        self.client = stripe.StripeClient(api_key, base_addresses={"api": api_base})

    @classmethod
    def from_config(cls) -> StripeGateway:
        config = current_app.config
        return cls(config["STRIPE_API_KEY"], config["STRIPE_API_BASE"])

    @staticmethod
    def _intent(obj) -> Intent:
        return Intent(obj.id, INTENT_STATES.get(obj.status, PaymentStatus.FAILED),
                      getattr(obj, "client_secret", None), obj.amount)

    def create_intent(self, payment: Payment, *, payment_method: str | None = None) -> Intent:
        params = {"amount": payment.amount_minor, "currency": payment.currency.lower(),
                  "capture_method": "manual",
                  "metadata": {"payment_id": str(payment.id),
                               "booking_id": str(payment.booking_id)}}
        if payment_method:  # set at creation: localstripe cannot confirm with one later
            params.update(payment_method=payment_method, confirm=True)
        intent = self.client.v1.payment_intents.create(
            params, options={"idempotency_key": f"payment-{payment.id}"})
        return self._intent(intent)

    def retrieve(self, intent_id: str) -> Intent:
        return self._intent(self.client.v1.payment_intents.retrieve(intent_id))

    def cancel(self, intent_id: str) -> Intent:
        """Release an authorisation (nothing was captured)."""
        return self._intent(self.client.v1.payment_intents.cancel(intent_id))
