"""The accreditation pages: the member submits one with its evidence, changes and
withdraws it; the admin's queue verifies against the evidence or rejects with a reason;
the public member page shows only verified, unexpired ones."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.core.storage import get_storage
from journey.core.types import today_in
from providers.models import AccreditationStatus
from providers.services import accreditations
from tests.journey.case.case_world import PDF
from tests.journey.pages.portal_fixtures import login

S = AccreditationStatus


@pytest.fixture
def world(make):
    clinic = make.member(name="Neris Clinic")
    other = make.member(name="Other Clinic")
    return {"clinic": clinic, "other": other, "admin": make.admin(),
            "manager": make.user(Role.MEMBER_MANAGER, clinic),
            "staff": make.user(Role.MEMBER_STAFF, clinic),
            "other_manager": make.user(Role.MEMBER_MANAGER, other)}


def _page(world) -> str:
    return f"/portal/{world['clinic'].id}/accreditations"


def _submit(client, world, data=PDF, name="seal.pdf", **fields):
    form = {"name": "JCI Gold Seal", "issuer": "Joint Commission International",
            "valid_until": (today_in() + timedelta(days=400)).isoformat(),
            "file": (io.BytesIO(data), name), **fields}
    return client.post(_page(world), data=form, content_type="multipart/form-data")


def _only(world):
    db.session.expire_all()
    (accreditation,) = world["clinic"].accreditations
    return accreditation


def test_the_member_submits_with_evidence_and_the_admin_verifies(client, world):
    login(client, world["manager"])
    page = client.get(_page(world))
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.get_data(as_text=True)
    response = _submit(client, world)
    assert response.status_code == 302
    accreditation = _only(world)
    assert accreditation.status == S.PENDING and accreditation.evidence_filename == "seal.pdf"
    listed = client.get(_page(world)).get_data(as_text=True)
    assert "Waiting for verification" in listed and "Not shown publicly" in listed
    public = f"/catalogue/members/{world['clinic'].id}"
    assert "JCI Gold Seal" not in client.get(public).get_data(as_text=True)

    login(client, world["admin"])
    queue = client.get("/admin/accreditations").get_data(as_text=True)
    assert "JCI Gold Seal" in queue and "Neris Clinic" in queue
    evidence = client.get(f"/admin/accreditations/{accreditation.id}/evidence")
    assert evidence.status_code == 200 and evidence.data == PDF
    assert evidence.headers["Cache-Control"] == "private, no-store"
    verified = client.post(f"/admin/accreditations/{accreditation.id}/verify",
                           data={}, follow_redirects=True)
    assert verified.status_code == 200
    assert "is verified" in verified.get_data(as_text=True)
    assert _only(world).status == S.VERIFIED
    shown = client.get(public).get_data(as_text=True)
    assert "JCI Gold Seal" in shown and "Joint Commission International" in shown


@pytest.mark.parametrize("data, name, message", [
    (b"plain text, not a certificate", "seal.pdf", "not one of the allowed types"),
    (b"", "empty.pdf", "The file is empty."),
])
def test_wrong_evidence_is_refused_with_a_message_and_nothing_written(client, world, data,
                                                                      name, message):
    login(client, world["manager"])
    keys = set(get_storage().keys())
    response = _submit(client, world, data=data, name=name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert world["clinic"].accreditations == []
    assert set(get_storage().keys()) == keys


def test_evidence_too_big_is_refused(app, client, world):
    app.config["ACCREDITATION_EVIDENCE_MAX_BYTES"] = 200
    try:
        login(client, world["manager"])
        response = _submit(client, world, data=PDF + b"%" * 400)
        assert response.status_code == 422
        assert "larger than" in response.get_data(as_text=True)
    finally:
        app.config.pop("ACCREDITATION_EVIDENCE_MAX_BYTES")
    db.session.expire_all()
    assert world["clinic"].accreditations == []


def test_the_message_is_translated(client, world):
    login(client, world["manager"])
    response = client.post(_page(world) + "?lang=de", data={
        "name": "JCI", "issuer": "JCI", "file": (io.BytesIO(b"text"), "a.pdf")},
        content_type="multipart/form-data", headers={"Accept-Language": "de"})
    assert response.status_code == 422
    assert "not one of the allowed types" not in response.get_data(as_text=True)


def test_reject_needs_a_reason_and_the_member_sees_it(client, world):
    login(client, world["manager"])
    _submit(client, world)
    accreditation = _only(world)
    login(client, world["admin"])
    url = f"/admin/accreditations/{accreditation.id}/reject"
    refused = client.post(url, data={f"r{accreditation.id}-reason": ""})
    assert refused.status_code == 422
    assert "Give the reason." in refused.get_data(as_text=True)
    assert _only(world).status == S.PENDING
    done = client.post(url, data={f"r{accreditation.id}-reason": "The scan is unreadable"})
    assert done.status_code == 302
    assert _only(world).status == S.REJECTED
    login(client, world["staff"])
    seen = client.get(_page(world)).get_data(as_text=True)
    assert "The scan is unreadable" in seen and "Rejected" in seen
    assert "Submit for verification" not in seen  # staff read, the manager submits


def test_a_change_sends_a_verified_one_back_and_withdraw(client, world):
    login(client, world["manager"])
    _submit(client, world)
    accreditation = _only(world)
    accreditations.verify_accreditation(world["admin"], accreditation.id)
    db.session.commit()
    prefix = f"c{accreditation.id}"
    changed = client.post(f"{_page(world)}/{accreditation.id}/change", data={
        f"{prefix}-name": "JCI Gold Seal", f"{prefix}-issuer": "JCI Europe",
        f"{prefix}-valid_until": (today_in() + timedelta(days=500)).isoformat()},
        content_type="multipart/form-data")
    assert changed.status_code == 302
    assert _only(world).status == S.PENDING and _only(world).issuer == "JCI Europe"
    withdrawn = client.post(f"{_page(world)}/{accreditation.id}/withdraw", data={})
    assert withdrawn.status_code == 302
    assert _only(world).status == S.WITHDRAWN


def test_only_the_admin_and_the_members_own_staff_get_in(client, world):
    login(client, world["manager"])
    _submit(client, world)
    accreditation = _only(world)
    assert client.post(f"/admin/accreditations/{accreditation.id}/verify",
                       data={}).status_code == 403
    login(client, world["other_manager"])
    assert client.get(_page(world)).status_code == 403
    assert client.get(f"/portal/{world['other'].id}/accreditations/{accreditation.id}"
                      "/evidence").status_code == 404
    assert client.post(f"/portal/{world['other'].id}/accreditations/{accreditation.id}"
                       "/withdraw", data={}).status_code == 404
    assert _only(world).status == S.PENDING
