"""The payment gateway: Stripe through its official client (localstripe on loopback in
development and tests). PaymentIntents authorise now and capture later
(``capture_method=manual``); our payment row's id is the idempotency key.

No ``stripe`` exception leaves this module: every gateway call raises one of the
:class:`GatewayError` kinds below, and the webhook's signature is checked here too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

import stripe
from flask import current_app

from bookings.models import Payment, PaymentStatus, Payout, Refund

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


#: The largest amount one card payment may carry, in minor units (Stripe's limit for
#: most currencies: eight digits).
MAX_PAYMENT_MINOR = 99_999_999


class GatewayError(Exception):
    """The gateway did not do what was asked. The message is the gateway's own words
    (kept as a note; what a person reads is translated by the caller)."""


class CardRefused(GatewayError):
    """The card was declined (for good: another card is needed)."""


class ActionRequired(GatewayError):
    """The bank wants the cardholder to confirm (3-D Secure) before it authorises."""


class GatewayUnavailable(GatewayError):
    """No answer, or an error of the gateway's: the call may or may not have taken
    effect, so it is retried with the same idempotency key."""


class InvalidSignature(GatewayError):
    """A webhook whose signature (or timestamp) does not verify."""


def _translated(method):
    """Run a gateway call, turning Stripe's exceptions into ours."""

    @functools.wraps(method)
    def call(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except stripe.CardError as error:
            message = error.user_message or str(error)
            if error.code == "authentication_required":
                raise ActionRequired(message) from error
            raise CardRefused(message) from error
        except stripe.StripeError as error:
            raise GatewayUnavailable(str(error)) from error

    return call


def verify_webhook(payload: bytes, signature: str | None, secret: str) -> None:
    """Raise :class:`InvalidSignature` unless Stripe signed ``payload`` with ``secret``
    within the default tolerance (five minutes)."""
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature or "",
                                              secret, stripe.Webhook.DEFAULT_TOLERANCE)
    except (UnicodeDecodeError, stripe.SignatureVerificationError) as error:
        raise InvalidSignature(str(error)) from error


@dataclass(frozen=True)
class Intent:
    id: str
    status: PaymentStatus
    client_secret: str | None
    amount: int
    amount_received: int | None = None  # what was captured (real Stripe says so)
    error: str | None = None  # why the last attempt failed, as Stripe words it
    #: What the cardholder must do while ``requires_action``: Stripe's ``next_action``
    #: type (``use_stripe_sdk``: Stripe.js shows the bank's step; ``redirect_to_url``:
    #: the bank's page at ``redirect_url``, which sends the patient to our return URL).
    next_action: str | None = None
    redirect_url: str | None = None


#: Our page the bank sends the patient back to after its step (3-D Secure), with
#: ``?payment_intent=pi_...`` (see journey/pages/patient/booking.py).
RETURN_PATH = "/my/payments/return"


def is_localstripe(api_base: str) -> bool:
    """Whether ``api_base`` is localstripe on loopback (development and tests)."""
    host = urlsplit(api_base).hostname or ""
    return host == "localhost" or host.startswith("127.")


def return_url_for(config) -> str | None:
    """The ``return_url`` to confirm intents with: ``STRIPE_RETURN_URL``, else our
    return page under ``PUBLIC_URL``; None for localstripe, which refuses every
    parameter it does not know (``return_url`` and ``use_stripe_sdk`` among them,
    localstripe 1.15) and has no redirect: its Stripe.js asks in the page itself."""
    if config.get("STRIPE_RETURN_URL"):
        return config["STRIPE_RETURN_URL"]
    if is_localstripe(config["STRIPE_API_BASE"]):
        return None
    return config["PUBLIC_URL"].rstrip("/") + RETURN_PATH


class StripeGateway:
    def __init__(self, api_key: str, api_base: str, *, return_url: str | None = None):
        self.client = stripe.StripeClient(api_key, base_addresses={"api": api_base})
        self.return_url = return_url
        self.searchable = not is_localstripe(api_base)  # localstripe has no search API

    @classmethod
    def from_config(cls) -> StripeGateway:
        """The app's gateway for its configuration, made once and reused, with the
        Stripe client's kept-alive connections (one HTTP session per thread)."""
        config = current_app.config
        key = (cls, config["STRIPE_API_KEY"], config["STRIPE_API_BASE"],
               return_url_for(config))
        made = current_app.extensions.setdefault("stripe_gateways", {})
        if key not in made:
            made[key] = cls(key[1], key[2], return_url=key[3])
        return made[key]

    @staticmethod
    def _intent(obj) -> Intent:
        error = getattr(obj, "last_payment_error", None)
        action = getattr(obj, "next_action", None)
        kind = getattr(action, "type", None) if action else None
        redirect = getattr(action, "redirect_to_url", None) if kind == "redirect_to_url" \
            else None
        return Intent(obj.id, INTENT_STATES.get(obj.status, PaymentStatus.FAILED),
                      getattr(obj, "client_secret", None), obj.amount,
                      getattr(obj, "amount_received", None),
                      getattr(error, "message", None) if error else None,
                      kind, getattr(redirect, "url", None) if redirect else None)

    def intent_params(self, payment: Payment, *, payment_method: str | None = None) -> dict:
        """What :meth:`create_intent` sends. With a card, the intent is confirmed at once
        (server-side): a card its bank wants to check (3-D Secure) leaves it in
        ``requires_action`` for Stripe.js, and with real Stripe the bank's redirect
        comes back to :attr:`return_url`."""
        params = {"amount": payment.amount_minor, "currency": payment.currency.lower(),
                  "capture_method": "manual",
                  "metadata": {"payment_id": str(payment.id),
                               "booking_id": str(payment.booking_id)}}
        if payment_method:  # set at creation: localstripe cannot confirm with one later
            params.update(payment_method=payment_method, confirm=True)
            if self.return_url:
                params.update(return_url=self.return_url, use_stripe_sdk=True)
        return params

    @_translated
    def create_intent(self, payment: Payment, *, payment_method: str | None = None) -> Intent:
        try:
            intent = self.client.v1.payment_intents.create(
                self.intent_params(payment, payment_method=payment_method),
                options={"idempotency_key": f"payment-{payment.id}"})
        except stripe.InvalidRequestError as error:
            # The payment method the client sent is not one Stripe knows (Stripe: 400,
            # ``resource_missing`` on ``payment_method``; localstripe: 404): the answer
            # is final, as a declined card's is, not "try again".
            if payment_method is not None and (
                    error.param == "payment_method" or error.http_status == 404):
                raise CardRefused(str(error) or "no such payment method") from error
            raise
        return self._intent(intent)

    @_translated
    def find_intent(self, payment: Payment) -> Intent | None:
        """The PaymentIntent Stripe made for our row when a crash lost its answer (the
        row has no intent id), found by its metadata; None when Stripe made none.
        Stripe's search (its index lags by up to a minute); localstripe's list."""
        if self.searchable:
            found = self.client.v1.payment_intents.search(
                {"query": f"metadata['payment_id']:'{payment.id}'", "limit": 10}).data
        else:
            found = self.client.v1.payment_intents.list({"limit": 100}).auto_paging_iter()
        for obj in found:
            metadata = obj.metadata.to_dict() if obj.metadata else {}
            if metadata.get("payment_id") == str(payment.id) and \
                    metadata.get("booking_id") == str(payment.booking_id):
                return self._intent(obj)
        return None

    @_translated
    def retrieve(self, intent_id: str) -> Intent:
        return self._intent(self.client.v1.payment_intents.retrieve(intent_id))

    @_translated
    def cancel(self, intent_id: str) -> Intent:
        """Release an authorisation (nothing was captured)."""
        return self._intent(self.client.v1.payment_intents.cancel(intent_id))

    @_translated
    def capture(self, payment: Payment, amount: int) -> Intent:
        """Capture ``amount`` of the authorisation; Stripe releases the rest."""
        return self._intent(self.client.v1.payment_intents.capture(
            payment.intent_id, {"amount_to_capture": amount},
            options={"idempotency_key": f"capture-{payment.id}"}))

    @_translated
    def refund(self, refund: Refund, intent_id: str) -> tuple[str, str]:
        """Give ``refund.amount_minor`` back; returns Stripe's refund id and status."""
        obj = self.client.v1.refunds.create(
            {"payment_intent": intent_id, "amount": refund.amount_minor,
             "metadata": {"refund_id": str(refund.id)}},
            options={"idempotency_key": f"refund-{refund.id}"})
        return obj.id, obj.status

    @_translated
    def find_refund(self, refund: Refund, intent_id: str) -> str | None:
        """The Stripe refund made for our row, if a crash lost its answer (a retry
        must not refund twice where idempotency keys are not honoured)."""
        listing = self.client.v1.refunds.list({"payment_intent": intent_id, "limit": 100})
        for obj in listing.data:
            metadata = obj.metadata.to_dict() if obj.metadata else {}
            if metadata.get("refund_id") == str(refund.id):
                return obj.id
        return None


class ConnectGateway:
    """Payouts to members: Stripe Connect transfers, grouped per booking. localstripe
    has no Connect, so this client has its own base address (a local stub in tests)."""

    def __init__(self, api_key: str, api_base: str):
        self.client = stripe.StripeClient(api_key, base_addresses={"api": api_base})

    @classmethod
    def from_config(cls) -> ConnectGateway:
        config = current_app.config
        return cls(config["STRIPE_API_KEY"], config["STRIPE_CONNECT_API_BASE"])

    @_translated
    def transfer(self, payout: Payout, destination: str) -> str:
        obj = self.client.v1.transfers.create(
            {"amount": payout.amount_minor, "currency": payout.currency.lower(),
             "destination": destination, "transfer_group": f"booking-{payout.booking_id}",
             "metadata": {"payout_id": str(payout.id)}},
            options={"idempotency_key": f"payout-{payout.id}"})
        return obj.id

    @_translated
    def create_account(self, *, email: str | None, country: str, provider_id: int) -> str:
        """An Express account for a member, which it completes on Stripe's pages."""
        obj = self.client.v1.accounts.create(
            {"type": "express", "country": country, **({"email": email} if email else {}),
             "capabilities": {"transfers": {"requested": True}},
             "metadata": {"provider_id": str(provider_id)}},
            options={"idempotency_key": f"member-account-{provider_id}"})
        return obj.id

    @_translated
    def onboarding_link(self, account_id: str, *, return_url: str, refresh_url: str) -> str:
        """Stripe's page where the member gives its bank and identity (an account link,
        valid a few minutes: made when the member clicks)."""
        obj = self.client.v1.account_links.create(
            {"account": account_id, "type": "account_onboarding", "return_url": return_url,
             "refresh_url": refresh_url})
        return obj.url

    @_translated
    def account_state(self, account_id: str) -> dict:
        """What Stripe says of the account: details submitted, payouts enabled, and what
        it still needs."""
        obj = self.client.v1.accounts.retrieve(account_id)
        requirements = getattr(obj, "requirements", None)
        due = list(getattr(requirements, "currently_due", None) or []) if requirements else []
        return {"details_submitted": bool(getattr(obj, "details_submitted", False)),
                "payouts_enabled": bool(getattr(obj, "payouts_enabled", False)),
                "currently_due": due}

    @_translated
    def reverse(self, payout: Payout, transfer_id: str) -> str:
        """Take ``payout.amount_minor`` back from transfer ``transfer_id``."""
        obj = self.client.v1.transfers.reversals.create(
            transfer_id, {"amount": payout.amount_minor,
                          "metadata": {"payout_id": str(payout.id)}},
            options={"idempotency_key": f"payout-{payout.id}"})
        return obj.id
