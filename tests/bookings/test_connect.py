"""A member's payout account: its manager sets it up on Stripe's page (an account link),
its state is what Stripe says; nobody else starts it; Stripe not answering is a clear
409, nothing half-written. Against the Connect stub (localstripe has no Connect)."""

from __future__ import annotations

import pytest

from bookings.payments import ConnectGateway
from bookings.services import connect
from journey.core.accounts.models import Role
from journey.core.errors import Forbidden
from journey.core.extensions import db
from tests.connect_stub import ConnectStub, connect_stub, running_connect_stub
from tests.journey.pages.portal_fixtures import login

PAGE = "https://onewindow.test/portal/1/payouts"


@pytest.fixture
def gateway():
    with running_connect_stub() as url:
        yield ConnectGateway("sk_test_connect", url)


def test_the_manager_sets_up_payouts_on_stripes_page(world, make, gateway):
    clinic = world["clinic"]
    manager = make.user(Role.MEMBER_MANAGER, clinic)
    assert connect.payout_account(manager, clinic.id, gateway).state == "none"
    for who in (world["clinic_staff"], world["hotel_staff"], world["coordinator"]):
        with pytest.raises(Forbidden):
            connect.start_onboarding(who, clinic.id, gateway, return_url=PAGE,
                                     refresh_url=PAGE)
    assert clinic.stripe_account_id is None
    address = connect.start_onboarding(manager, clinic.id, gateway, return_url=PAGE,
                                       refresh_url=PAGE)
    assert clinic.stripe_account_id.startswith("acct_")
    assert address.endswith(clinic.stripe_account_id)
    links = [params for path, params, _key, _auth in ConnectStub.requests
             if path == "/v1/account_links"]
    assert links == [{"account": clinic.stripe_account_id, "type": "account_onboarding",
                      "return_url": PAGE, "refresh_url": PAGE}]
    state = connect.payout_account(world["clinic_staff"], clinic.id, gateway)
    assert state.state == "onboarding" and state.currently_due == ["external_account"]
    ConnectStub.accounts[clinic.stripe_account_id].update(
        details_submitted=True, payouts_enabled=True, requirements={"currently_due": []})
    assert connect.payout_account(manager, clinic.id, gateway).state == "active"
    again = connect.start_onboarding(manager, clinic.id, gateway, return_url=PAGE,
                                     refresh_url=PAGE)
    assert again == address  # the same account, a new link
    assert len(ConnectStub.accounts) == 1


def test_stripe_not_answering_is_a_clear_conflict_and_writes_nothing(world, make):
    manager = make.user(Role.MEMBER_MANAGER, world["hotel"])
    down = ConnectGateway("sk_test_connect", "http://127.0.0.1:9")
    with pytest.raises(connect.ConnectUnavailable, match="try again later"):
        connect.start_onboarding(manager, world["hotel"].id, down, return_url=PAGE,
                                 refresh_url=PAGE)
    db.session.rollback()
    assert world["hotel"].stripe_account_id is None


def test_the_payouts_page_and_the_api(app, client, world, make):
    manager = make.user(Role.MEMBER_MANAGER, world["hotel"])
    db.session.commit()
    with connect_stub(app):
        login(client, manager)
        page = client.get(f"/portal/{world['hotel'].id}/payouts")
        assert page.status_code == 200 and "Payouts are not set up yet" in page.text
        sent = client.post(f"/portal/{world['hotel'].id}/payouts/onboarding", data={})
        assert sent.status_code == 302
        assert sent.headers["Location"].startswith("https://connect.stripe.test/setup/acct_")
        token = make.token(manager)
        state = client.get(f"/api/v1/members/{world['hotel'].id}/payout-account",
                           headers=token)
        assert state.status_code == 200 and state.json["state"] == "onboarding"
        other = client.post(f"/api/v1/members/{world['clinic'].id}/payout-account/onboarding",
                            headers=token)
        assert other.status_code == 403
