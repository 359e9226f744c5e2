"""The payment gateway is the only place that knows Stripe: its calls raise the
gateway's own errors, and no other module imports ``stripe``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bookings.models import Payment, PaymentStatus
from bookings.payments import (
    CardRefused,
    GatewayUnavailable,
    InvalidSignature,
    StripeGateway,
    verify_webhook,
)
from tests.booking_fixtures import signed
from tests.localstripe import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_gateway_imports_stripe():
    importers = []
    for package in ("bookings", "journey", "providers"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                if any(n == "stripe" or n.startswith("stripe.") for n in names):
                    importers.append(str(path.relative_to(ROOT)))
    assert importers == ["bookings/payments.py"]


def test_no_answer_is_gateway_unavailable(stripe_app):
    dead = StripeGateway("sk_test_x", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(GatewayUnavailable):
        dead.retrieve("pi_nothing")


def test_an_unknown_intent_is_a_gateway_error_not_a_stripe_one(stripe_app, ctx):
    gateway = StripeGateway.from_config()
    with pytest.raises(GatewayUnavailable):
        gateway.retrieve("pi_does_not_exist")


def test_a_declined_card_is_refused_in_the_gateways_words(stripe_app, ctx):
    gateway = StripeGateway.from_config()
    declined = gateway.client.v1.payment_methods.create({"type": "card", "card": {
        "number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    payment = Payment(id=987654, booking_id=1, amount_minor=1000, currency="EUR",
                      status=PaymentStatus.CREATED)
    try:
        intent = gateway.create_intent(payment, payment_method=declined.id)
    except CardRefused as refused:  # real Stripe raises; localstripe answers the intent
        assert str(refused)
    else:
        assert intent.status != PaymentStatus.AUTHORISED and intent.error


def test_an_unknown_payment_method_is_refused_for_good_not_unavailable(stripe_app, ctx):
    """A payment method Stripe does not know is the client's mistake: retrying the same
    call cannot succeed, so it is no "try again" (503)."""
    gateway = StripeGateway.from_config()
    payment = Payment(id=987655, booking_id=1, amount_minor=1000, currency="EUR",
                      status=PaymentStatus.CREATED)
    with pytest.raises(CardRefused):
        gateway.create_intent(payment, payment_method="pm_bogus_does_not_exist")


def test_webhook_signatures(stripe_app):
    body, headers = signed({"id": "evt_1"})
    verify_webhook(body, headers["Stripe-Signature"], "whsec_test_secret")
    with pytest.raises(InvalidSignature):
        verify_webhook(body, headers["Stripe-Signature"], "whsec_other")
    with pytest.raises(InvalidSignature):
        verify_webhook(b"\xff", headers["Stripe-Signature"], "whsec_test_secret")


def test_the_gateway_is_made_once_per_configuration_and_class(stripe_app):
    from bookings.payments import StripeGateway

    class Other(StripeGateway):
        pass

    with stripe_app.app_context():
        first = StripeGateway.from_config()
        assert StripeGateway.from_config() is first
        assert type(Other.from_config()) is Other and Other.from_config() is not first
        stripe_app.config["STRIPE_API_BASE"] = stripe_app.config["STRIPE_API_BASE"] + "/"
        try:
            assert StripeGateway.from_config() is not first
        finally:
            stripe_app.config["STRIPE_API_BASE"] = stripe_app.config["STRIPE_API_BASE"][:-1]
