"""The member's payout account: its state as Stripe tells it, and the button that sends
the member's manager to Stripe's own page to set it up (the services decide who may)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from bookings.payments import ConnectGateway
from bookings.services import connect
from journey.core.accounts.auth import current_actor
from journey.core.errors import DomainError
from journey.pages.forms import ActionForm
from journey.pages.member.access import ID, managed_member

PAYOUTS = f"/<{ID}:provider_id>/payouts"

#: Nested in the portal's blueprint: endpoints read ``member.payouts.*``.
bp = Blueprint("payouts", __name__)


@bp.get(PAYOUTS)
def index(provider_id):
    provider = managed_member(provider_id)
    try:
        account = connect.payout_account(current_actor(), provider.id,
                                         ConnectGateway.from_config())
        problem = None
    except DomainError as error:
        account, problem = None, str(error.message)
    return render_template("member/payouts.html", provider=provider, account=account,
                           problem=problem, form=ActionForm(),
                           manager=current_actor().role.value == "member_manager")


@bp.post(f"{PAYOUTS}/onboarding")
def onboarding(provider_id):
    provider = managed_member(provider_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    page = url_for("member.payouts.index", provider_id=provider.id, _external=True)
    try:
        address = connect.start_onboarding(current_actor(), provider.id,
                                           ConnectGateway.from_config(), return_url=page,
                                           refresh_url=page)
    except DomainError as error:
        flash(str(error.message), "error")
        return redirect(page)
    return redirect(address)  # Stripe's page; it sends the manager back here
