"""Single-use account links (journey.core.accounts.tokens) and what they do
(journey.core.accounts.invitations): stored hashed, used once even by two clicks at
once, expiring, voiding the user's other links; a new password asked for without
telling whether the address has an account; walk-in accounts claimed, not duplicated."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from journey.core.accounts import invitations, services, tokens
from journey.core.accounts.models import AccountToken, Role, TokenPurpose, User
from journey.core.errors import InvalidInput, NotAuthenticated, TooManyRequests
from journey.core.extensions import db
from journey.core.types import utcnow
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-brand-new-password"


def walk_in(email="walter@example.com", name="Walter Inn", locale="nb") -> User:
    """An account as the walk-in page makes it: no password."""
    user = User(email=email, full_name=name, role=Role.PATIENT, locale=locale,
                password_hash=services.unusable_password_hash())
    db.session.add(user)
    db.session.commit()
    return user


def issued(user, purpose=TokenPurpose.PASSWORD_RESET, now=None, **kw) -> tuple:
    record = tokens.issue(user, purpose, mail_kind=purpose.value, now=now, **kw)
    db.session.commit()
    return record, tokens.raw_token(record)


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_only_the_sha256_of_a_link_is_stored(make):
    user = make.user()
    record, raw = issued(user)
    assert raw.startswith("owl_") and len(raw) == tokens.RAW_LENGTH
    assert record.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = " ".join(str(value) for value in db.session.execute(
        select(AccountToken.__table__)).one())
    assert raw not in stored and raw[4:] not in stored


def test_a_link_sets_the_password_once(make):
    user = walk_in()
    _record, raw = issued(user, TokenPurpose.INVITATION)
    assert not services.has_password(user)
    with pytest.raises(NotAuthenticated):
        services.authenticate(user.email, "")
    invitations.set_password(raw, NEW_PASSWORD)
    db.session.commit()
    assert services.authenticate(user.email, NEW_PASSWORD).id == user.id
    assert user.email_verified_at is not None  # the link proved the address
    with pytest.raises(InvalidInput) as refused:
        invitations.set_password(raw, "another-password-here")
    assert "token" in refused.value.fields
    db.session.rollback()
    assert services.authenticate(user.email, NEW_PASSWORD).id == user.id


@pytest.mark.parametrize("password", [
    "short",
    "Walter.Inn@Example.com",  # the account's own address
])
def test_a_weak_password_does_not_spend_the_link(make, password):
    user = make.user(email="walter.inn@example.com")
    _record, raw = issued(user)
    with pytest.raises(InvalidInput) as refused:
        invitations.set_password(raw, password)
    assert "password" in refused.value.fields
    db.session.rollback()
    assert invitations.password_link(raw) is not None


@pytest.mark.commits  # threads at once, each with its own connection
def test_two_uses_at_once_spend_the_link_once(app, make):
    user = make.user()
    _record, raw = issued(user)
    user_id = user.id
    results, barrier = [], threading.Barrier(2)

    def use(password):
        with app.app_context():
            barrier.wait()
            try:
                invitations.set_password(raw, password)
                db.session.commit()
                results.append(password)
            except InvalidInput:
                db.session.rollback()
                results.append("spent")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=use, args=(f"password-number-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results, key=lambda r: r == "spent") == [
        next(r for r in results if r != "spent"), "spent"], results
    winner = next(r for r in results if r != "spent")
    db.session.expire_all()
    assert services.authenticate(db.session.get(User, user_id).email, winner)
    assert count(AccountToken, AccountToken.used_at.is_not(None)) == 1


@pytest.mark.commits  # threads at once, each with its own connection
def test_two_requests_at_once_through_the_api_spend_the_link_once(app, make):
    user = make.user()
    _record, raw = issued(user)
    statuses, barrier = [], threading.Barrier(2)

    def use(password):
        barrier.wait()
        response = app.test_client().post("/api/v1/auth/passwords",
                                          json={"token": raw, "password": password})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=use, args=(f"password-number-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) in ([200, 422], [200, 503]), statuses
    assert count(AccountToken, AccountToken.used_at.is_not(None)) == 1


def test_links_expire(make):
    user = make.user()
    then = utcnow() - timedelta(minutes=61)
    _record, raw = issued(user, now=then)  # a reset link lives an hour
    assert invitations.password_link(raw, now=then + timedelta(minutes=59)) is not None
    with pytest.raises(InvalidInput):
        invitations.set_password(raw, NEW_PASSWORD)
    db.session.rollback()
    week_ago = utcnow() - timedelta(days=7, seconds=1)
    _record, invitation = issued(user, TokenPurpose.INVITATION, now=week_ago)
    assert invitations.password_link(invitation) is None
    assert invitations.password_link(invitation, now=week_ago + timedelta(days=6)) is not None


def test_a_new_password_voids_the_other_open_links(make):
    user = make.user()
    _first, first = issued(user)
    _second, second = issued(user)
    _invitation, invitation = issued(user, TokenPurpose.INVITATION)
    _verification, verification = issued(user, TokenPurpose.EMAIL_VERIFICATION)
    invitations.set_password(second, NEW_PASSWORD)
    db.session.commit()
    assert invitations.password_link(first) is None
    assert invitations.password_link(invitation) is None
    assert invitations.verification_link(verification) is not None  # another purpose


def test_a_link_is_for_its_purpose_and_its_active_user_only(make):
    user = make.user()
    _record, verification = issued(user, TokenPurpose.EMAIL_VERIFICATION)
    with pytest.raises(InvalidInput):
        invitations.set_password(verification, NEW_PASSWORD)
    db.session.rollback()
    _record, reset = issued(user)
    user.active = False
    db.session.commit()
    assert invitations.password_link(reset) is None
    for junk in (None, "", "owl_", "owl_" + "x" * 43, reset[:-1] + "?", "x" * 5000):
        assert invitations.password_link(junk) is None


def test_verifying_the_address_records_when(make):
    user = make.user()
    assert user.email_verified_at is None
    _record, raw = issued(user, TokenPurpose.EMAIL_VERIFICATION)
    invitations.verify_email(raw)
    db.session.commit()
    assert user.email_verified_at is not None
    with pytest.raises(InvalidInput):
        invitations.verify_email(raw)


def test_a_replaced_invitation_stops_working(make):
    user = walk_in()
    _old, old = issued(user, TokenPurpose.INVITATION)
    _new, new = issued(user, TokenPurpose.INVITATION, replace=True)
    assert invitations.password_link(old) is None
    assert invitations.password_link(new) is not None


# --- a new password, without telling who has an account ---------------------------------

def test_a_reset_is_made_for_an_account_and_for_nobody_else(make):
    user = make.user(email="known@example.com")
    assert invitations.request_password_reset("Known@Example.com ", ip="10.0.0.1") is None
    assert invitations.request_password_reset("nobody@example.com", ip="10.0.0.1") is None
    db.session.commit()
    made = db.session.scalars(select(AccountToken)).all()
    assert [(t.user_id, t.purpose, t.mail_kind) for t in made] == [
        (user.id, TokenPurpose.PASSWORD_RESET, "password_reset")]


def test_a_deactivated_account_gets_no_link(make):
    user = make.user(email="gone@example.com")
    user.active = False
    db.session.commit()
    invitations.request_password_reset("gone@example.com")
    assert count(AccountToken) == 0


@pytest.mark.parametrize("address", ["known@example.com", "nobody@example.com"])
def test_an_address_gets_a_few_links_an_hour_whether_or_not_it_has_an_account(make, address):
    make.user(email="known@example.com")
    now = utcnow()
    for minute in range(3):  # from three clients: the limit is the address's
        invitations.request_password_reset(address, ip=f"10.0.0.{minute}",
                                           now=now + timedelta(minutes=minute))
    db.session.commit()
    with pytest.raises(TooManyRequests) as refused:
        invitations.request_password_reset(address, ip="10.0.0.9",
                                           now=now + timedelta(minutes=10))
    assert str(refused.value.message) == (
        "Too many e-mails were asked for. Try again in 50 minutes.")
    assert refused.value.headers["Retry-After"] == str(50 * 60)
    db.session.rollback()
    invitations.request_password_reset(address, now=now + timedelta(minutes=61))
    db.session.commit()
    links = count(AccountToken)
    assert links == (4 if address.startswith("known") else 0)


def test_one_client_asks_for_a_limited_number_of_addresses(app, make):
    app.config["ACCOUNT_MAIL_IP_LIMIT"] = 3
    try:
        for n in range(3):
            invitations.request_password_reset(f"someone{n}@example.com", ip="10.9.9.9")
        with pytest.raises(TooManyRequests):
            invitations.request_password_reset("someone9@example.com", ip="10.9.9.9")
        db.session.rollback()
        invitations.request_password_reset("someone9@example.com", ip="10.9.9.10")
    finally:
        del app.config["ACCOUNT_MAIL_IP_LIMIT"]


def _answer(client, email, *, lang="en"):
    response = client.post(f"/api/v1/auth/password-resets?lang={lang}", json={"email": email})
    return response.status_code, response.get_json(), response.headers.get("Retry-After")


def test_the_api_answers_alike_for_known_and_unknown_addresses(client, make):
    make.user(email="known@example.com")
    answers = {email: [_answer(client, email) for _n in range(4)]
               for email in ("known@example.com", "nobody@example.com")}
    assert answers["known@example.com"] == answers["nobody@example.com"]
    statuses = [status for status, _body, _retry in answers["known@example.com"]]
    assert statuses == [202, 202, 202, 429]
    assert answers["known@example.com"][0][1] == {
        "message": "If this address belongs to an account, a link to set a new password "
                   "is on its way."}
    german = _answer(client, "other@example.com", lang="de")
    assert german[0] == 202 and "Passwort" in german[1]["message"]


def test_the_forgot_password_page_answers_alike(client, make):
    make.user(email="known@example.com")
    pages = []
    for email in ("known@example.com", "nobody@example.com"):
        response = client.post("/forgot-password?lang=en", data={"email": email})
        # (the CSRF token carries the second it was signed in: not a difference
        # between the two answers)
        page = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""',
                      response.get_data(as_text=True))
        pages.append((response.status_code, page.replace(email, "ADDRESS")))
    assert pages[0] == pages[1]
    assert pages[0][0] == 200 and "Check your e-mail" in pages[0][1]
    assert count(AccountToken) == 1


# --- registering with the address of a walk-in ---------------------------------------------

def test_registering_with_a_walk_ins_address_claims_it(make):
    user = walk_in()
    done = invitations.register(email="Walter@Example.com", password=NEW_PASSWORD,
                                full_name="Someone Else")
    db.session.commit()
    assert done.user is None
    assert count(User) == 1 and user.full_name == "Walter Inn"
    assert not services.has_password(user)  # the password typed is not taken
    claim = db.session.scalar(select(AccountToken))
    assert (claim.user_id, claim.purpose, claim.mail_kind) == (
        user.id, TokenPurpose.INVITATION, "account_claim")


def test_a_new_registration_gets_a_verification_link(make):
    done = invitations.register(email="new@example.com", password=NEW_PASSWORD,
                                full_name="New Person", locale="de")
    db.session.commit()
    assert done.user.role == Role.PATIENT and done.user.email_verified_at is None
    link = db.session.scalar(select(AccountToken))
    assert (link.purpose, link.mail_kind) == (TokenPurpose.EMAIL_VERIFICATION,
                                              "email_verification")


def test_an_address_with_a_password_is_still_a_conflict(make):
    make.user(email="taken@example.com")
    with pytest.raises(Exception) as refused:
        invitations.register(email="taken@example.com", password=NEW_PASSWORD,
                             full_name="X")
    assert refused.value.status == 409


def test_registering_through_the_api_sends_the_link_to_confirm_the_address(client, make):
    response = client.post("/api/v1/auth/register", json={
        "email": "New@Example.com", "password": NEW_PASSWORD, "full_name": "New Person"})
    assert response.status_code == 201, response.json
    link = db.session.scalar(select(AccountToken))
    assert (link.user.email, link.purpose) == ("new@example.com",
                                               TokenPurpose.EMAIL_VERIFICATION)


def test_registering_a_walk_ins_address_through_the_api_claims_it(client, make):
    user = walk_in(email="walter@example.com")
    response = client.post("/api/v1/auth/register?lang=nb", json={
        "email": "walter@example.com", "password": NEW_PASSWORD, "full_name": "Someone",
        "issue_token": True})
    assert response.status_code == 202, response.json
    assert response.json == {"message": "Denne adressen har en konto uten passord: en "
                                        "lenke for å velge et er på vei dit."}
    assert count(User) == 1 and not services.has_password(user)
    claim = db.session.scalar(select(AccountToken))
    assert (claim.user_id, claim.mail_kind) == (user.id, "account_claim")
    taken = client.post("/api/v1/auth/register", json={
        "email": "walter@example.com", "password": NEW_PASSWORD, "full_name": "Someone"})
    assert taken.status_code == 202  # (not 409: the account still has no password)


def test_the_register_page_answers_a_claim_as_a_registration(app, make):
    walk_in(email="walter@example.com")
    answers = []
    for email in ("walter@example.com", "fresh@example.com"):
        client = app.test_client()
        response = client.post("/register?lang=en", data={
            "full_name": "Someone", "email": email, "password": NEW_PASSWORD,
            "locale": "en"})
        home = client.get("/?lang=en").get_data(as_text=True)
        flash = home.split('class="flash" role="status">')[1].split("<")[0]
        answers.append((response.status_code, response.headers["Location"],
                        flash.replace(email, "ADDRESS")))
    assert answers[0] == answers[1]
    assert answers[0][2] == ("Welcome! We have sent a link to ADDRESS: follow it to confirm "
                             "your address.")
    assert count(User) == 2  # the walk-in and the fresh one: no duplicate
    assert sorted(db.session.scalars(select(AccountToken.mail_kind))) == [
        "account_claim", "email_verification"]


def test_claims_are_limited_per_address_like_resets(make):
    user = walk_in()
    for _n in range(5):
        assert invitations.register(email=user.email, password=NEW_PASSWORD,
                                    full_name="X").user is None
    db.session.commit()
    assert count(AccountToken) == 3
    assert len(tokens.live_tokens(user.id, TokenPurpose.INVITATION)) == 1  # the newest


def test_the_password_still_logs_in_after_all_that(make):
    user = make.user(email="ok@example.com")
    invitations.request_password_reset("ok@example.com")
    db.session.commit()
    assert services.authenticate("ok@example.com", PASSWORD).id == user.id


# --- the outbox -------------------------------------------------------------------------

class Collect:
    def __init__(self):
        self.messages = []

    def send(self, message):
        self.messages.append(message)


def test_the_outbox_sends_each_live_link_once_in_the_readers_language(app, make):
    from journey import mail

    user = make.user(email="ingrid@example.com", full_name="Ingrid", locale="de")
    issued(user)
    replaced, _raw = issued(user, TokenPurpose.EMAIL_VERIFICATION)
    issued(user, TokenPurpose.EMAIL_VERIFICATION, replace=True)
    expired = tokens.issue(user, TokenPurpose.PASSWORD_RESET, mail_kind="password_reset",
                           now=utcnow() - timedelta(hours=2))
    db.session.commit()
    outbox = Collect()
    assert mail.send_outbox(transport=outbox) == 2
    assert mail.send_outbox(transport=outbox) == 0
    subjects = sorted(message["Subject"] for message in outbox.messages)
    assert subjects == ["Bestätigen Sie Ihre E-Mail-Adresse", "Ein neues Passwort für One Window"]
    body = next(m for m in outbox.messages if "Passwort" in m["Subject"]).get_content()
    assert "Hallo Ingrid," in body and "1 Stunde gültig" in body
    assert "/account/password/owl_" in body and "lang=de" in body
    db.session.expire_all()
    assert db.session.get(AccountToken, replaced.id).sent_at is None  # replaced first
    assert db.session.get(AccountToken, expired.id).sent_at is None


def test_a_link_made_under_another_secret_key_is_not_mailed_dead(app, make):
    from journey import mail

    user = make.user()
    record, _raw = issued(user)
    key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-secret-key-for-this-test-only"
    try:
        assert mail.send_outbox(transport=Collect()) == 0
    finally:
        app.config["SECRET_KEY"] = key
    db.session.expire_all()
    failed = db.session.get(AccountToken, record.id)
    assert failed.attempts == 1 and "SECRET_KEY changed" in failed.last_error
