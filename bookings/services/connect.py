"""A member's payout account: a Stripe Connect Express account that the member completes
on Stripe's own pages (account links), and its state as Stripe tells it. Only the
member's manager starts it (or an admin may set an existing account id, see
:func:`bookings.services.settlement.set_payout_account`). Nothing is stored but the
account's id: Stripe is asked for the state when it is shown, so it is never stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from bookings.payments import GatewayError
from journey.core.accounts.permissions import require_member_access
from journey.core.errors import Conflict, Forbidden, NotFound
from journey.core.extensions import db
from providers.models import Provider


class ConnectUnavailable(Conflict):
    code = "connect_unavailable"


@dataclass
class PayoutAccount:
    """The member's account as Stripe tells it (``state``: none, onboarding, active)."""

    account_id: str | None
    state: str
    currently_due: list[str] = field(default_factory=list)


def _member(actor, provider_id: int) -> Provider:
    require_member_access(actor, provider_id)
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise NotFound(_l("No such member."))
    return provider


def payout_account(actor, provider_id: int, gateway) -> PayoutAccount:
    provider = _member(actor, provider_id)
    if not provider.stripe_account_id:
        return PayoutAccount(None, "none")
    try:
        state = gateway.account_state(provider.stripe_account_id)
    except GatewayError as error:
        raise ConnectUnavailable(_l("Stripe cannot be asked about the payout account now; "
                                    "try again later.")) from error
    active = state["details_submitted"] and state["payouts_enabled"]
    return PayoutAccount(provider.stripe_account_id, "active" if active else "onboarding",
                         state["currently_due"])


def start_onboarding(actor, provider_id: int, gateway, *, return_url: str,
                     refresh_url: str) -> str:
    """The address of Stripe's onboarding page for the member's account, made for the
    member's manager; the account is created first if the member has none."""
    provider = _member(actor, provider_id)
    if actor.role.value != "member_manager":  # the member's bank: its manager's to give
        raise Forbidden(_l("Only the member's manager sets up its payouts."))
    try:
        if not provider.stripe_account_id:
            provider.stripe_account_id = gateway.create_account(
                email=provider.email, country=provider.country, provider_id=provider.id)
            db.session.flush()
        return gateway.onboarding_link(provider.stripe_account_id, return_url=return_url,
                                       refresh_url=refresh_url)
    except GatewayError as error:
        raise ConnectUnavailable(_l("Stripe cannot open the payout account's page now; "
                                    "try again later.")) from error
