"""A member's staff, by the rules of the accounts service: the manager (or the cluster)
sees them, invites new ones, deactivates, reactivates and changes their role; never
their own account, never another member's staff, never to a cluster role; staff who
are not managers do none of it. The API answers by the same rules."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from journey.core.accounts import invitations, services
from journey.core.accounts.models import AccountToken, Role, TokenPurpose, User
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from journey.core.extensions import db


@pytest.fixture
def team(make):
    clinic, hotel = make.member(name="Neris Clinic"), make.member(name="Hotel Tilto")
    return {
        "clinic": clinic, "hotel": hotel,
        "manager": make.user(Role.MEMBER_MANAGER, clinic, full_name="Tomas Manager"),
        "staff": make.user(Role.MEMBER_STAFF, clinic, full_name="Rasa Staff"),
        "hotel_manager": make.user(Role.MEMBER_MANAGER, hotel, full_name="Hotel Manager"),
        "hotel_staff": make.user(Role.MEMBER_STAFF, hotel, full_name="Hotel Staff"),
        "coordinator": make.user(Role.COORDINATOR, full_name="Cora Coordinator"),
    }


def test_a_manager_sees_the_members_staff_managers_first(team):
    people = services.list_staff(team["manager"], team["clinic"].id)
    assert [user.full_name for user in people] == ["Tomas Manager", "Rasa Staff"]
    assert services.list_staff(team["coordinator"], team["clinic"].id) == people
    with pytest.raises(Forbidden):
        services.list_staff(team["staff"], team["clinic"].id)
    with pytest.raises(Forbidden):
        services.list_staff(team["hotel_manager"], team["clinic"].id)


def test_a_manager_invites_staff_who_set_their_own_password(team):
    invited = services.invite_staff(team["manager"], team["clinic"].id,
                                    email="New.Colleague@Example.com", full_name="Nina New",
                                    role="member_manager", locale="lt")
    db.session.commit()
    assert (invited.email, invited.role, invited.provider_id, invited.locale) == (
        "new.colleague@example.com", Role.MEMBER_MANAGER, team["clinic"].id, "lt")
    assert not services.has_password(invited)
    link = db.session.scalar(select(AccountToken))
    assert (link.user_id, link.purpose, link.mail_kind, link.created_by_id) == (
        invited.id, TokenPurpose.INVITATION, "staff_invitation", team["manager"].id)


@pytest.mark.parametrize("who", ["staff", "hotel_manager"])
def test_only_the_members_manager_invites(team, who):
    with pytest.raises(Forbidden):
        services.invite_staff(team[who], team["clinic"].id, email="x@example.com",
                              full_name="X")
    assert db.session.scalar(select(User).where(User.email == "x@example.com")) is None


@pytest.mark.parametrize("role", ["coordinator", "admin", "patient", "nonsense"])
def test_nobody_is_invited_into_a_cluster_role(team, role):
    with pytest.raises(InvalidInput) as refused:
        services.invite_staff(team["manager"], team["clinic"].id, email="x@example.com",
                              full_name="X", role=role)
    assert "role" in refused.value.fields


def test_an_address_in_use_is_a_conflict(team):
    with pytest.raises(Conflict):
        services.invite_staff(team["manager"], team["clinic"].id,
                              email=team["hotel_staff"].email, full_name="X")


def test_a_manager_changes_a_colleagues_role_but_never_their_own(team):
    staff = services.change_staff_role(team["manager"], team["staff"].id, "member_manager")
    assert staff.role == Role.MEMBER_MANAGER
    with pytest.raises(Forbidden):
        services.change_staff_role(team["manager"], team["manager"].id, "member_staff")
    with pytest.raises(Forbidden):
        services.set_staff_active(team["manager"], team["manager"].id, False)
    assert services.staff_change_refusal(team["manager"], team["manager"]) == (
        "You cannot change your own account here.")
    assert services.staff_change_refusal(team["manager"], team["staff"]) is None


def test_nobody_is_made_a_cluster_role(team):
    for role in ("coordinator", "admin", "patient"):
        with pytest.raises(InvalidInput):
            services.change_staff_role(team["manager"], team["staff"].id, role)
        with pytest.raises(InvalidInput):
            services.change_staff_role(team["coordinator"], team["staff"].id, role)
    assert team["staff"].role == Role.MEMBER_STAFF


def test_another_members_staff_are_not_there(team):
    for change in (lambda: services.change_staff_role(team["manager"],
                                                      team["hotel_staff"].id, "member_manager"),
                   lambda: services.set_staff_active(team["manager"],
                                                     team["hotel_staff"].id, False),
                   lambda: services.set_staff_active(team["manager"],
                                                     team["coordinator"].id, False)):
        with pytest.raises(NotFound):
            change()
    assert team["hotel_staff"].active and team["hotel_staff"].role == Role.MEMBER_STAFF


def test_staff_change_nobody(team):
    colleague = services.invite_staff(team["manager"], team["clinic"].id,
                                      email="c@example.com", full_name="C")
    with pytest.raises(Forbidden):
        services.change_staff_role(team["staff"], colleague.id, "member_manager")
    with pytest.raises(Forbidden):
        services.set_staff_active(team["staff"], colleague.id, False)
    with pytest.raises(Forbidden):
        services.change_staff_role(team["staff"], team["staff"].id, "member_manager")


def test_a_deactivated_account_cannot_log_in_until_reactivated(team):
    staff = team["staff"]
    services.set_staff_active(team["manager"], staff.id, False)
    db.session.commit()
    with pytest.raises(NotAuthenticated):
        services.authenticate(staff.email, "correct-horse-battery")
    services.set_staff_active(team["manager"], staff.id, True)
    db.session.commit()
    assert services.authenticate(staff.email, "correct-horse-battery").id == staff.id


def test_deactivating_an_invited_colleague_voids_the_invitation(team):
    invited = services.invite_staff(team["manager"], team["clinic"].id,
                                    email="c@example.com", full_name="C")
    db.session.commit()
    services.set_staff_active(team["manager"], invited.id, False)
    db.session.commit()
    assert db.session.scalar(select(AccountToken)).revoked_at is not None
    assert invitations.invitation_refusal(team["manager"], invited) == (
        "This account is deactivated.")


def test_the_cluster_manages_any_members_staff(team):
    services.change_staff_role(team["coordinator"], team["hotel_staff"].id, "member_manager")
    services.set_staff_active(team["coordinator"], team["hotel_manager"].id, False)
    assert team["hotel_staff"].role == Role.MEMBER_MANAGER
    assert not team["hotel_manager"].active


def test_an_invitation_is_sent_again_by_whoever_may(team):
    invited = services.invite_staff(team["manager"], team["clinic"].id,
                                    email="c@example.com", full_name="C")
    db.session.commit()
    again = invitations.resend_invitation(team["manager"], invited.id)
    assert again.mail_kind == "staff_invitation"
    assert len([t for t in db.session.scalars(select(AccountToken)) if t.revoked_at is None]) == 1
    invitations.resend_invitation(team["coordinator"], invited.id)
    for who in ("staff", "hotel_manager"):
        with pytest.raises(NotFound):
            invitations.resend_invitation(team[who], invited.id)
    with pytest.raises(Conflict):  # has a password
        invitations.resend_invitation(team["manager"], team["staff"].id)


# --- the same rules through the API ------------------------------------------------------

def test_the_api_manages_staff_by_the_same_rules(client, make, team):
    manager, staff = make.token(team["manager"]), make.token(team["staff"])
    clinic = team["clinic"].id
    listed = client.get(f"/api/v1/auth/members/{clinic}/staff", headers=manager)
    assert listed.status_code == 200
    assert [row["full_name"] for row in listed.json] == ["Tomas Manager", "Rasa Staff"]
    assert all(row["has_password"] for row in listed.json)
    assert client.get(f"/api/v1/auth/members/{clinic}/staff", headers=staff).status_code == 403

    invited = client.post(f"/api/v1/auth/members/{clinic}/staff", headers=manager,
                          json={"email": "nina@example.com", "full_name": "Nina New"})
    assert invited.status_code == 201, invited.json
    assert (invited.json["role"], invited.json["has_password"]) == ("member_staff", False)
    refused = client.post(f"/api/v1/auth/members/{clinic}/staff", headers=manager,
                          json={"email": "x@example.com", "full_name": "X",
                                "role": "coordinator"})
    assert refused.status_code == 422 and "role" in refused.json["errors"]["json"]
    assert client.post(f"/api/v1/auth/members/{clinic}/staff", headers=staff, json={
        "email": "y@example.com", "full_name": "Y"}).status_code == 403

    nina = invited.json["id"]
    changed = client.patch(f"/api/v1/auth/staff/{nina}", headers=manager,
                           json={"role": "member_manager", "active": False})
    assert changed.status_code == 200, changed.json
    assert (changed.json["role"], changed.json["active"]) == ("member_manager", False)
    own = client.patch(f"/api/v1/auth/staff/{team['manager'].id}", headers=manager,
                       json={"role": "member_staff"})
    assert own.status_code == 403
    other = client.patch(f"/api/v1/auth/staff/{team['hotel_staff'].id}", headers=manager,
                         json={"active": False})
    assert other.status_code == 404
    resent = client.post(f"/api/v1/auth/users/{nina}/invitation", headers=manager)
    assert resent.status_code == 409  # deactivated
