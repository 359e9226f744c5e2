"""The account pages end to end: a walk-in patient invited by the member who opened
their journey sets a password from the e-mail and finds the journey; a forgotten
password; the address confirmed; a member's manager and the staff page."""

from __future__ import annotations

import email
import email.policy
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from journey import mail
from journey.builder.models import Journey
from journey.core.accounts import invitations, tokens
from journey.core.accounts.models import AccountToken, Role, TokenPurpose, User
from journey.core.extensions import db
from tests.journey.pages.patient_fixtures import field_errors
from tests.journey.pages.portal_fixtures import count, fresh, login, portal_world

WALK_IN = {"patient_email": "walkin@example.com", "patient_name": "Walter Inn",
           "nationality": "no", "language": "nb", "currency": "NOK", "adults": "1",
           "children": "0", "arrival_on": "", "departure_on": ""}
NEW_PASSWORD = "walter-sets-a-password"


@pytest.fixture
def world(make):
    return portal_world(make)


def mails_to(folder, address) -> list:
    found = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
             for path in sorted(folder.glob("*.eml"))]
    return [message for message in found if message["To"] == address]


def link_path(message) -> str:
    url = re.search(r"http://\S+", message.get_content()).group(0)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_walk_in_patient_sets_a_password_from_the_invitation_and_finds_the_journey(
        app, client, world, tmp_path):
    # A member's staff open a journey for a patient who walked in.
    login(client, world["clinic_staff"])
    opened = client.post(f"/portal/{world['clinic'].id}/journeys/new?lang=en", data=WALK_IN)
    assert opened.status_code == 302
    page = client.get(opened.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "An invitation to set a password is on its way to walkin@example.com." in page
    assert "Patients who have not set a password yet" in page and "Walter Inn" in page
    journey = db.session.scalar(select(Journey))

    # The outbox writes the invitation, in the patient's language (Norwegian).
    assert mail.send_outbox(transport=mail.FileTransport(tmp_path)) == 1
    (invitation,) = mails_to(tmp_path, "walkin@example.com")
    assert invitation["Content-Language"] == "nb"
    assert invitation["Subject"] == "Neris Clinic har åpnet en reise for deg"
    assert "Walter Inn" in invitation.get_content()
    path = link_path(invitation)
    assert path.startswith("/account/password/owl_") and "lang=nb" in path
    assert mail.send_outbox(transport=mail.FileTransport(tmp_path)) == 0  # sent once

    # The patient follows the link, sets a password and is logged in.
    patient = app.test_client()
    form = patient.get(path)
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    assert form.headers["Referrer-Policy"] == "no-referrer"
    assert 'value="walkin@example.com"' in form.get_data(as_text=True)
    done = patient.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/my/journeys"
    assert f"/my/journeys/{journey.id}" in patient.get("/my/journeys").get_data(as_text=True)
    assert patient.get(path).status_code == 410  # used

    # Later, the usual login works, and the journey is theirs.
    patient.post("/logout")
    again = app.test_client()
    assert again.post("/login", data={"email": "walkin@example.com",
                                      "password": NEW_PASSWORD}).status_code == 302
    mine = again.get("/my/journeys?lang=en").get_data(as_text=True)
    assert f"/my/journeys/{journey.id}" in mine
    assert again.get(f"/my/journeys/{journey.id}").status_code == 200
    walter = db.session.scalar(select(User).where(User.email == "walkin@example.com"))
    assert fresh(User, walter.id).email_verified_at is not None
    # ...and the member no longer lists them as waiting.
    listed = client.get(f"/portal/{world['clinic'].id}/journeys?lang=en").get_data(as_text=True)
    assert "Patients who have not set a password yet" not in listed


def test_a_second_journey_for_the_same_walk_in_sends_no_second_invitation(client, world):
    login(client, world["clinic_staff"])
    for _n in range(2):
        client.post(f"/portal/{world['clinic'].id}/journeys/new", data=WALK_IN)
    assert count(Journey) == 2 and count(AccountToken) == 1


def test_the_member_sends_the_invitation_again_and_the_old_link_stops(app, client, world):
    login(client, world["clinic_staff"])
    client.post(f"/portal/{world['clinic'].id}/journeys/new", data=WALK_IN)
    first = db.session.scalar(select(AccountToken))
    old = tokens.raw_token(first)
    walter = first.user_id
    response = client.post(f"/portal/{world['clinic'].id}/patients/{walter}/invitation")
    assert response.status_code == 302
    assert count(AccountToken) == 2
    assert app.test_client().get(f"/account/password/{old}").status_code == 410
    # Another member did not invite Walter: not theirs to send.
    other = app.test_client()
    login(other, world["hotel_staff"])
    refused = other.post(f"/portal/{world['hotel'].id}/patients/{walter}/invitation")
    assert refused.status_code == 404 and count(AccountToken) == 2


def test_a_forgotten_password_is_set_again_from_the_link(app, client, world, tmp_path):
    patient = world["patient"]
    asked = client.post("/forgot-password?lang=en", data={"email": patient.email.upper()})
    assert asked.status_code == 200 and "Check your e-mail" in asked.get_data(as_text=True)
    mail.send_outbox(transport=mail.FileTransport(tmp_path))
    (message,) = mails_to(tmp_path, patient.email)
    assert message["Subject"] == "A new password for One Window"
    assert "within 1 hour" in message.get_content()
    path = link_path(message)

    weak = client.post(path, data={"password": "short", "confirm": "short"})
    assert weak.status_code == 422
    differ = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert differ.status_code == 422 and "The two passwords differ." in differ.get_data(
        as_text=True)
    assert client.post(path, data={"password": NEW_PASSWORD,
                                   "confirm": NEW_PASSWORD}).status_code == 302
    assert app.test_client().post("/login", data={
        "email": patient.email, "password": NEW_PASSWORD}).status_code == 302


def test_the_forgot_password_page_checks_its_field(client, ctx):
    response = client.post("/forgot-password?lang=en", data={"email": "not an address"})
    assert response.status_code == 422
    assert count(AccountToken) == 0


def test_an_unknown_link_is_explained(client):
    for path in ("/account/password/owl_" + "A" * 43, "/account/verify/nonsense"):
        response = client.get(path + "?lang=en")
        assert response.status_code == 410
        assert "This link cannot be used" in response.get_data(as_text=True)


def test_a_new_patient_confirms_the_address_from_the_profile_state(app, client, ctx, tmp_path):
    registered = client.post("/register?lang=en", data={
        "full_name": "Olga N", "email": "olga@example.com", "password": NEW_PASSWORD,
        "locale": "de"})
    assert registered.status_code == 302
    profile = client.get("/my/profile?lang=en").get_data(as_text=True)
    assert "Not confirmed yet" in profile
    assert client.post("/my/email-verification").status_code == 302  # the link again
    assert count(AccountToken) == 2
    mail.send_outbox(transport=mail.FileTransport(tmp_path))
    messages = mails_to(tmp_path, "olga@example.com")
    assert [m["Subject"] for m in messages] == ["Bestätigen Sie Ihre E-Mail-Adresse"]
    path = link_path(messages[0])  # only the newest was still live to be sent
    page = client.get(path)
    assert page.status_code == 200
    assert count(AccountToken) == 2 and fresh(
        User, db.session.scalar(select(User.id))).email_verified_at is None  # GET spends nothing
    assert client.post(path).status_code == 302
    assert "Confirmed" in client.get("/my/profile?lang=en").get_data(as_text=True)
    assert client.get(path).status_code == 410



def test_registering_names_a_wrong_address_and_a_weak_password_at_once(client, ctx):
    """A wrong address and a weak password ("aaaaaaaaaaaa") were refused one after the
    other: the password's rule came only once the address was right. Both are named
    beside their fields at once, in the page's language, and no account is made."""
    page = client.post("/register?lang=nb", data={
        "full_name": "Ingrid Solberg", "email": "not-an-address",
        "password": "aaaaaaaaaaaa", "locale": "nb"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "Ugyldig e-postadresse." in field_errors(html, "email")
    assert field_errors(html, "password") == [
        "Dette passordet er lett å gjette: bruk noen egne ord, ikke e-postadressen din."]
    short = client.post("/register?lang=nb", data={
        "full_name": "Ingrid Solberg", "email": "ingrid@example.org", "password": "kort",
        "locale": "nb"}).get_data(as_text=True)
    assert field_errors(short, "password") == ["Bruk minst 10 tegn."]
    assert count(User) == 0



def test_a_wrong_address_is_told_as_the_api_tells_it(client, ctx):
    """The page's e-mail check spoke WTForms' own Arabic ("البريد الالكتروني غير صالح."),
    spelt otherwise than the project's everywhere else; it says what the API says."""
    page = client.post("/register?lang=ar", data={
        "full_name": "Ingrid Solberg", "email": "not-an-address",
        "password": "a-long-enough-password", "locale": "ar"})
    api = client.post("/api/v1/auth/register?lang=ar", json={
        "full_name": "Ingrid Solberg", "email": "not-an-address",
        "password": "a-long-enough-password"})
    assert page.status_code == api.status_code == 422
    said = api.get_json()["errors"]["json"]["email"]
    assert said == ["عنوان بريد إلكتروني غير صالح."]
    assert field_errors(page.get_data(as_text=True), "email") == said

# --- the member's staff page -------------------------------------------------------------

def test_the_manager_sees_invites_and_changes_staff(client, world):
    clinic = world["clinic"].id
    login(client, world["clinic_manager"])
    home = client.get(f"/portal/{clinic}?lang=en").get_data(as_text=True)
    assert f'href="/portal/{clinic}/staff"' in home
    page = client.get(f"/portal/{clinic}/staff?lang=en").get_data(as_text=True)
    assert "Rasa Staff" in page and "Tomas Manager" in page
    manager_row = page.split(f'id="staff-{world["clinic_manager"].id}"')[1].split("</tr>")[0]
    assert "<form" not in manager_row  # nothing to change on one's own row
    staff_row = page.split(f'id="staff-{world["clinic_staff"].id}"')[1].split("</tr>")[0]
    assert "/role" in staff_row and "/deactivate" in staff_row

    invited = client.post(f"/portal/{clinic}/staff?lang=en", data={
        "full_name": "Nina New", "email": "nina@example.com", "role": "member_staff",
        "locale": "lt"})
    assert invited.status_code == 302
    page = client.get(f"/portal/{clinic}/staff?lang=en").get_data(as_text=True)
    assert "Nina New" in page and "Invited, no password yet" in page
    nina = db.session.scalar(select(User).where(User.email == "nina@example.com"))

    staff_id = world["clinic_staff"].id
    changed = client.post(f"/portal/{clinic}/staff/{staff_id}/role",
                          data={f"r{staff_id}-role": "member_manager"})
    assert changed.status_code == 302
    assert fresh(User, staff_id).role == Role.MEMBER_MANAGER
    assert client.post(f"/portal/{clinic}/staff/{nina.id}/deactivate").status_code == 302
    assert not fresh(User, nina.id).active
    assert client.post(f"/portal/{clinic}/staff/{nina.id}/reactivate").status_code == 302
    assert fresh(User, nina.id).active
    assert client.post(f"/portal/{clinic}/staff/{nina.id}/invitation").status_code == 302
    assert len(tokens.live_tokens(nina.id, TokenPurpose.INVITATION)) == 1


def test_the_staff_page_keeps_the_invitation_form_on_errors(client, world):
    login(client, world["clinic_manager"])
    response = client.post(f"/portal/{world['clinic'].id}/staff?lang=en", data={
        "full_name": "Dup", "email": world["hotel_staff"].email, "role": "member_staff",
        "locale": "en"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "already registered" in body and 'value="Dup"' in body


def test_the_staff_page_refuses_what_the_service_refuses(client, world):
    clinic = world["clinic"].id
    login(client, world["clinic_manager"])
    own = world["clinic_manager"].id
    refused = client.post(f"/portal/{clinic}/staff/{own}/role",
                          data={f"r{own}-role": "member_staff"})
    assert refused.status_code == 403
    assert fresh(User, own).role == Role.MEMBER_MANAGER
    other = client.post(f"/portal/{clinic}/staff/{world['hotel_staff'].id}/deactivate")
    assert other.status_code == 404
    cluster = client.post(f"/portal/{clinic}/staff/{world['clinic_staff'].id}/role",
                          data={f"r{world['clinic_staff'].id}-role": "coordinator"})
    assert cluster.status_code == 400  # not one of the choices
    assert fresh(User, world["clinic_staff"].id).role == Role.MEMBER_STAFF


def test_staff_who_are_not_managers_do_not_manage_staff(app, client, world):
    clinic = world["clinic"].id
    login(client, world["clinic_staff"])
    assert f'/portal/{clinic}/staff"' not in client.get(f"/portal/{clinic}").get_data(
        as_text=True)
    assert client.get(f"/portal/{clinic}/staff").status_code == 403
    assert client.post(f"/portal/{clinic}/staff", data={
        "full_name": "X", "email": "x@example.com", "role": "member_staff",
        "locale": "en"}).status_code == 403
    assert count(User) == 6  # portal_world's
    other = app.test_client()
    login(other, world["hotel_staff"])
    assert other.get(f"/portal/{clinic}/staff").status_code in (403, 404)


def test_an_invited_colleague_sets_a_password_and_lands_in_the_portal(app, client, world):
    login(client, world["clinic_manager"])
    client.post(f"/portal/{world['clinic'].id}/staff", data={
        "full_name": "Nina New", "email": "nina@example.com", "role": "member_staff",
        "locale": "lt"})
    link = db.session.scalar(select(AccountToken))
    path = f"/account/password/{tokens.raw_token(link)}"
    nina = app.test_client()
    done = nina.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.headers["Location"] == "/portal/"
    db.session.expire_all()
    assert invitations.password_link(tokens.raw_token(link)) is None


@pytest.mark.parametrize(("who", "landing"), [
    ("patient", "/my/journeys"), ("clinic_staff", "/portal/"),
    ("coordinator", "/coordinator/"), ("admin", "/admin/")])
def test_each_role_lands_on_its_own_work_after_login(client, world, who, landing):
    from tests.conftest import PASSWORD

    response = client.post("/login", data={"email": world[who].email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == landing
    asked = client.post("/login?next=/catalogue", data={"email": world[who].email,
                                                        "password": PASSWORD})
    assert asked.headers["Location"] == "/catalogue"  # what was asked for comes first


def test_the_favicon_is_found(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.headers["Location"].endswith(
        "/static/favicon.svg")
