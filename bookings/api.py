"""Booking engine endpoints: the Stripe webhook."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from bookings.checkout import handle_stripe_event
from bookings.payments import StripeGateway
from journey.accounts.auth import public

blp = Blueprint("stripe_api", __name__, url_prefix="/stripe",
                description="Stripe webhooks (signed)")


class WebhookAnswerSchema(Schema):
    received = fields.Boolean()
    changed = fields.Boolean()


@blp.route("/webhook")
class Webhook(MethodView):
    @public
    @blp.response(200, WebhookAnswerSchema)
    def post(self):
        """Stripe's events: the signature is checked, each event takes effect once, and
        the PaymentIntent is fetched again rather than trusted from the payload."""
        changed = handle_stripe_event(
            request.get_data(), request.headers.get("Stripe-Signature"),
            secret=current_app.config["STRIPE_WEBHOOK_SECRET"],
            gateway=StripeGateway.from_config())
        return {"received": True, "changed": changed}
