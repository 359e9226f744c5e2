"""Accreditations the cluster vouches for: submitted with evidence, verified or rejected
by an admin, revoked, withdrawn; only verified, unexpired ones are public; the members
and the admins are warned 60 days before one expires, once."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bookings.models import Notification
from journey import accreditations_mail, mail
from journey.core.accounts.models import Role
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.storage import get_storage
from journey.core.types import today_in
from providers.models import Accreditation, AccreditationStatus
from providers.services import accreditations
from tests.journey.case.case_world import PDF

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
       b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01"
       b"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
S = AccreditationStatus


def later(days: int) -> date:
    return today_in() + timedelta(days=days)


@pytest.fixture
def world(make):
    clinic = make.member(name="Neris Clinic")
    other = make.member(name="Other Clinic")
    return {"clinic": clinic, "other": other, "admin": make.admin(),
            "manager": make.user(Role.MEMBER_MANAGER, clinic),
            "staff": make.user(Role.MEMBER_STAFF, clinic),
            "other_manager": make.user(Role.MEMBER_MANAGER, other),
            "coordinator": make.user(Role.COORDINATOR)}


def submit(world, *, name="JCI Gold Seal", valid_until=None, evidence=PDF, who="manager"):
    accreditation = accreditations.submit_accreditation(
        world[who], world["clinic"].id, name=name, issuer="Joint Commission International",
        valid_until=valid_until if valid_until is not None else later(400),
        evidence=evidence, filename="seal.pdf")
    db.session.commit()
    return accreditation


def public_names(client, provider_id, headers=None) -> list[str]:
    body = client.get(f"/api/v1/members/{provider_id}", headers=headers or {}).json
    return [a["name"] for a in body["accreditations"]]


def page_names(client, provider_id) -> str:
    """The public member page (the catalogue's)."""
    response = client.get(f"/catalogue/members/{provider_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- states and who may move them -------------------------------------------------------

def test_submitted_is_pending_and_hidden_until_an_admin_verifies(client, world):
    accreditation = submit(world)
    assert accreditation.status == S.PENDING and accreditation.has_evidence
    clinic = world["clinic"]
    assert public_names(client, clinic.id) == []
    assert "JCI Gold Seal" not in page_names(client, clinic.id)
    accreditations.verify_accreditation(world["admin"], accreditation.id)
    db.session.commit()
    assert public_names(client, clinic.id) == ["JCI Gold Seal"]
    page = page_names(client, clinic.id)
    assert "JCI Gold Seal" in page and "Joint Commission International" in page


@pytest.mark.parametrize("who", ["manager", "staff", "coordinator"])
def test_only_an_admin_verifies(world, who):
    accreditation = submit(world)
    with pytest.raises(Forbidden):
        accreditations.verify_accreditation(world[who], accreditation.id)
    with pytest.raises(Forbidden):
        accreditations.reject_accreditation(world[who], accreditation.id, "No")
    assert accreditation.status == S.PENDING


def test_rejected_and_revoked_never_show_and_need_a_reason(client, world):
    first, second = submit(world, name="First"), submit(world, name="Second")
    admin = world["admin"]
    with pytest.raises(InvalidInput) as refused:
        accreditations.reject_accreditation(admin, first.id, "  ")
    assert "reason" in refused.value.fields
    accreditations.reject_accreditation(admin, first.id, "The certificate is of another clinic")
    accreditations.verify_accreditation(admin, second.id)
    with pytest.raises(InvalidInput):
        accreditations.revoke_accreditation(admin, second.id, "")
    accreditations.revoke_accreditation(admin, second.id, "Withdrawn by the issuer")
    db.session.commit()
    assert (first.status, second.status) == (S.REJECTED, S.REVOKED)
    assert first.status_reason == "The certificate is of another clinic"
    assert public_names(client, world["clinic"].id) == []
    with pytest.raises(Conflict):  # a revoked one is not verified again without a change
        accreditations.verify_accreditation(admin, second.id)


def test_expired_never_shows_whatever_its_state(client, world):
    accreditation = submit(world, valid_until=later(3))
    accreditations.verify_accreditation(world["admin"], accreditation.id)
    db.session.commit()
    assert public_names(client, world["clinic"].id) == ["JCI Gold Seal"]
    # The day after valid_until (in the member's zone) it is gone from page and API.
    after = datetime.now(UTC) + timedelta(days=5)
    assert accreditations.public_accreditations(world["clinic"], after) == []
    accreditation.valid_until = later(-1)  # as it will be then
    db.session.commit()
    assert public_names(client, world["clinic"].id) == []
    assert "JCI Gold Seal" not in page_names(client, world["clinic"].id)
    assert accreditation.status == S.VERIFIED


def test_an_expired_one_is_not_verified(world):
    accreditation = submit(world, valid_until=later(-2))
    with pytest.raises(Conflict):
        accreditations.verify_accreditation(world["admin"], accreditation.id)


def test_no_verification_without_evidence(world):
    accreditation = accreditations.submit_accreditation(
        world["manager"], world["clinic"].id, name="ISO 9001", issuer="Bureau Veritas")
    with pytest.raises(Conflict):
        accreditations.verify_accreditation(world["admin"], accreditation.id)
    accreditations.attach_evidence(world["manager"], world["clinic"].id, accreditation.id,
                                   data=PNG, filename="iso.png")
    accreditations.verify_accreditation(world["admin"], accreditation.id)
    assert accreditation.evidence_content_type == "image/png"


@pytest.mark.parametrize("change", [{"name": "JCI Gold Seal 2027"}, {"issuer": "JCI Europe"},
                                    {"valid_until": date(2031, 1, 1)}])
def test_a_change_to_a_verified_one_sends_it_back_to_pending(client, world, change):
    accreditation = submit(world)
    accreditations.verify_accreditation(world["admin"], accreditation.id)
    accreditations.update_accreditation(world["manager"], world["clinic"].id, accreditation.id,
                                        **change)
    db.session.commit()
    assert accreditation.status == S.PENDING
    assert accreditation.decided_by_id is None
    assert public_names(client, world["clinic"].id) == []


def test_an_unchanged_save_keeps_it_verified(world):
    accreditation = submit(world)
    accreditations.verify_accreditation(world["admin"], accreditation.id)
    accreditations.update_accreditation(world["manager"], world["clinic"].id, accreditation.id,
                                        name=" JCI Gold Seal ")
    assert accreditation.status == S.VERIFIED


def test_new_evidence_for_a_verified_one_sends_it_back_and_replaces_the_file(world):
    accreditation = submit(world)
    accreditations.verify_accreditation(world["admin"], accreditation.id)
    old_key = accreditation.evidence_key
    accreditations.attach_evidence(world["manager"], world["clinic"].id, accreditation.id,
                                   data=PNG, filename="new.png")
    assert accreditation.status == S.PENDING
    assert not get_storage().exists(old_key)
    assert get_storage().open(accreditation.evidence_key) == PNG


def test_the_member_withdraws_its_own(client, world):
    accreditation = submit(world)
    accreditations.verify_accreditation(world["admin"], accreditation.id)
    accreditations.withdraw_accreditation(world["manager"], world["clinic"].id, accreditation.id)
    db.session.commit()
    assert accreditation.status == S.WITHDRAWN
    assert public_names(client, world["clinic"].id) == []
    with pytest.raises(Conflict):
        accreditations.update_accreditation(world["manager"], world["clinic"].id,
                                            accreditation.id, name="Back")


def test_another_members_staff_cannot_touch_it(world):
    accreditation = submit(world)
    other = world["other_manager"]
    with pytest.raises(Forbidden):  # through the member's path: not their member
        accreditations.withdraw_accreditation(other, world["clinic"].id, accreditation.id)
    for call in (
            lambda: accreditations.withdraw_accreditation(other, world["other"].id,
                                                          accreditation.id),
            lambda: accreditations.update_accreditation(other, world["other"].id,
                                                        accreditation.id, name="Mine"),
            lambda: accreditations.open_evidence(other, accreditation.id)):
        with pytest.raises(NotFound):
            call()
    assert accreditation.status == S.PENDING and accreditation.name == "JCI Gold Seal"


# --- evidence ---------------------------------------------------------------------------

def _stored_keys() -> set:
    return set(get_storage().keys())


@pytest.mark.parametrize("data, message", [
    (b"just some text, not a certificate", "not one of the allowed types"),
    (b"PK\x05\x06" + b"\x00" * 18, "not one of the allowed types"),
    (b"", "empty"),
])
def test_evidence_of_a_wrong_type_is_refused_and_nothing_is_written(world, data, message):
    keys, count = _stored_keys(), db.session.scalar(select(func.count(Accreditation.id)))
    with pytest.raises(InvalidInput) as refused:
        submit(world, evidence=data)
    assert message in str(refused.value.fields["file"][0])
    db.session.rollback()
    assert _stored_keys() == keys
    assert db.session.scalar(select(func.count(Accreditation.id))) == count


def test_evidence_too_big_is_refused(app, world):
    app.config["ACCREDITATION_EVIDENCE_MAX_BYTES"] = 200
    try:
        keys = _stored_keys()
        with pytest.raises(InvalidInput) as refused:
            submit(world, evidence=PDF + b"%" * 300)
        assert "larger than" in str(refused.value.fields["file"][0])
        assert _stored_keys() == keys
    finally:
        app.config.pop("ACCREDITATION_EVIDENCE_MAX_BYTES")


# --- expiry warnings ----------------------------------------------------------------------

def _warnings() -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind.in_(
        (accreditations_mail.MEMBER_KIND, accreditations_mail.ADMIN_KIND)))
        .order_by(Notification.id)))


def test_expiry_warnings_go_once_to_the_member_and_each_admin(world, make):
    second_admin = make.user(Role.ADMIN)
    soon = submit(world, name="Soon", valid_until=later(59))
    accreditations.verify_accreditation(world["admin"], soon.id)
    submit(world, name="Pending soon", valid_until=later(10))
    far = submit(world, name="Far", valid_until=later(61))
    accreditations.verify_accreditation(world["admin"], far.id)
    rejected = submit(world, name="Rejected", valid_until=later(20))
    accreditations.reject_accreditation(world["admin"], rejected.id, "Not ours")
    db.session.commit()
    assert accreditations_mail.warn_expiring() == 6  # 2 accreditations x (member + 2 admins)
    assert accreditations_mail.warn_expiring() == 0  # run twice: nothing new
    warnings = _warnings()
    assert {(w.payload["name"], w.recipient) for w in warnings} == {
        (name, recipient) for name in ("Soon", "Pending soon")
        for recipient in (f"provider:{world['clinic'].id}", f"user:{world['admin'].id}",
                          f"user:{second_admin.id}")}
    # Renewed with a new date: warned again when that one comes near.
    accreditations.update_accreditation(world["manager"], world["clinic"].id, soon.id,
                                        valid_until=later(30))
    assert accreditations_mail.warn_expiring() == 3


def test_the_warning_reads_in_the_readers_language(world):
    accreditation = submit(world, valid_until=later(45))
    accreditations.verify_accreditation(world["admin"], accreditation.id)
    accreditations_mail.warn_expiring()
    member_warning = next(w for w in _warnings() if w.recipient.startswith("provider:"))
    message = mail.compose(member_warning, "clinic@test.example", "en")
    assert "JCI Gold Seal" in message["Subject"]
    body = message.get_content()
    assert "Joint Commission International" in body and "/accreditations" in body
    german = mail.compose(member_warning, "clinic@test.example", "de")
    assert german["To"] == "clinic@test.example"


def test_nothing_expiring_nothing_sent(world):
    submit(world, valid_until=later(200))
    assert accreditations_mail.warn_expiring() == 0


# --- the API ------------------------------------------------------------------------------

def _headers(make, world, who):
    return make.token(world[who])


def test_api_round_trip(client, make, world):
    manager, admin = _headers(make, world, "manager"), _headers(make, world, "admin")
    clinic = world["clinic"].id
    base = f"/api/v1/members/{clinic}/accreditations"
    created = client.post(base, json={"name": "ISO 9001", "issuer": "Bureau Veritas",
                                      "valid_until": later(300).isoformat()}, headers=manager)
    assert created.status_code == 201, created.json
    assert created.json["status"] == "pending" and created.json["evidence"] is None
    item = f"{base}/{created.json['id']}"
    verify = f"/api/v1/accreditations/{created.json['id']}/verification"
    assert client.post(verify, headers=admin).status_code == 409  # no evidence yet
    wrong = client.put(f"{item}/evidence", headers=manager, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"hello"), "iso.txt")})
    assert wrong.status_code == 422 and "file" in wrong.json["errors"]["form"]
    uploaded = client.put(f"{item}/evidence", headers=manager,
                          content_type="multipart/form-data",
                          data={"file": (io.BytesIO(PDF), "iso.pdf")})
    assert uploaded.status_code == 200, uploaded.json
    assert uploaded.json["evidence"] == {"filename": "iso.pdf",
                                         "content_type": "application/pdf", "size": len(PDF)}
    queue = client.get("/api/v1/accreditations", headers=admin).json
    assert [a["id"] for a in queue] == [created.json["id"]]
    assert client.get("/api/v1/accreditations", headers=manager).status_code == 403
    assert client.post(verify, headers=manager).status_code == 403  # not its own
    verified = client.post(verify, headers=admin)
    assert verified.status_code == 200 and verified.json["status"] == "verified"
    public = client.get(f"/api/v1/members/{clinic}").json["accreditations"]
    assert public == [{"id": created.json["id"], "name": "ISO 9001", "issuer": "Bureau Veritas",
                       "valid_until": later(300).isoformat(), "status": "verified"}]
    download = client.get(f"{item}/evidence", headers=manager)
    assert download.status_code == 200 and download.data == PDF
    assert client.get(f"{item}/evidence").status_code == 401
    other = _headers(make, world, "other_manager")
    assert client.get(f"{item}/evidence", headers=other).status_code == 403
    assert client.get(f"/api/v1/members/{world['other'].id}/accreditations/"
                      f"{created.json['id']}/evidence", headers=other).status_code == 404
    changed = client.patch(item, json={"issuer": "DNV"}, headers=manager)
    assert changed.status_code == 200 and changed.json["status"] == "pending"
    assert client.get(f"/api/v1/members/{clinic}").json["accreditations"] == []
    rejected = client.post(f"/api/v1/accreditations/{created.json['id']}/rejection",
                           json={"reason": "The scan is unreadable"}, headers=admin)
    assert rejected.json["status"] == "rejected"
    listed = client.get(base, headers=_headers(make, world, "staff")).json
    assert listed[0]["status_reason"] == "The scan is unreadable"
    withdrawn = client.post(f"{item}/withdrawal", headers=manager)
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"


def test_api_reason_is_required(client, make, world):
    accreditation = submit(world)
    response = client.post(f"/api/v1/accreditations/{accreditation.id}/rejection",
                           json={"reason": ""}, headers=_headers(make, world, "admin"))
    assert response.status_code == 422
    assert accreditation.status == S.PENDING


def test_staff_see_every_state_the_public_only_verified(client, make, world):
    submit(world, name="Pending one")
    clinic = world["clinic"].id
    assert public_names(client, clinic) == []
    assert public_names(client, clinic, _headers(make, world, "other_manager")) == []
    assert public_names(client, clinic, _headers(make, world, "staff")) == ["Pending one"]
    assert public_names(client, clinic, _headers(make, world, "admin")) == ["Pending one"]


def test_a_rejection_is_written_to_the_member_with_the_reason(world, make):
    admin = world["admin"]
    manager = make.user(Role.MEMBER_MANAGER, world["clinic"])
    created = accreditations.submit_accreditation(
        manager, world["clinic"].id, name="JCI Gold Seal",
        issuer="Joint Commission International", evidence=PDF, filename="jci.pdf")
    accreditations.reject_accreditation(admin, created.id, "The certificate is from 2019.")
    db.session.flush()
    queued = db.session.scalars(select(Notification).where(
        Notification.kind == "accreditation_decided")).all()
    assert [n.recipient for n in queued] == [f"provider:{world['clinic'].id}"]
    message = mail.compose(queued[0], "manager@clinic.test", "en")
    assert "rejected" in message["Subject"] and "JCI Gold Seal" in message["Subject"]
    assert "The certificate is from 2019." in message.get_content()
