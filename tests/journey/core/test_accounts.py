from datetime import timedelta

import pytest

from journey.core.accounts import services
from journey.core.accounts.models import LoginFailure, Role, User
from journey.core.errors import Forbidden, InvalidInput, NotAuthenticated, TooManyRequests
from journey.core.extensions import db
from journey.core.types import utcnow
from tests.conftest import PASSWORD

REGISTER = {"email": "Olga@Example.com", "password": "long-enough-pw", "full_name": "Olga N"}


def test_patient_registers_and_gets_a_token(client):
    response = client.post("/api/v1/auth/register", json=REGISTER)
    assert response.status_code == 201, response.json
    assert response.json["role"] == "patient"
    assert response.json["email"] == "olga@example.com"
    assert "password" not in response.json and "password_hash" not in response.json

    token = client.post("/api/v1/auth/tokens", json={"email": "olga@example.com",
                                                     "password": "long-enough-pw"})
    assert token.status_code == 201
    raw = token.json["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200
    assert me.json["email"] == "olga@example.com"


def test_password_is_hashed_with_argon2(app, client):
    client.post("/api/v1/auth/register", json=REGISTER)
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert user.password_hash.startswith("$argon2")
        assert REGISTER["password"] not in user.password_hash


def test_duplicate_email_is_a_conflict_and_writes_nothing(app, client):
    assert client.post("/api/v1/auth/register", json=REGISTER).status_code == 201
    again = client.post("/api/v1/auth/register", json={**REGISTER, "email": "OLGA@example.com"})
    assert again.status_code == 409
    assert "email" in again.json["errors"]["json"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1


@pytest.mark.parametrize("lang, expected", [
    ("en", "Use at least 10 characters."),
    ("de", "Verwenden Sie mindestens 10 Zeichen."),
])
def test_short_password_message_is_translated(app, client, lang, expected):
    response = client.post(f"/api/v1/auth/register?lang={lang}",
                           json={**REGISTER, "password": "short"})
    assert response.status_code == 422
    assert response.json["errors"]["json"]["password"] == [expected]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 0


@pytest.mark.parametrize("password", [
    " " * 12,  # spaces only
    "  abc   def  ",  # 6 characters besides spaces
    "aaaaaaaaaaaa", "0 0 0 0 0 0 0 0 0 0",  # one character over and over
    "1234567890", "QWERTYUIOP", "Password123",  # at the top of every leaked list
    "olga.nilsen@example.com",  # the address itself
])
def test_a_password_that_is_easy_to_guess_is_refused_and_nothing_is_written(
        app, client, password):
    response = client.post("/api/v1/auth/register?lang=nb", json={
        **REGISTER, "email": "olga.nilsen@example.com", "password": password})
    assert response.status_code == 422, response.json
    [message] = response.json["errors"]["json"]["password"]
    assert message in ("Bruk minst 10 tegn.", "Dette passordet er lett å gjette: bruk "
                       "noen egne ord, ikke e-postadressen din.")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_a_passphrase_with_spaces_is_welcome(client):
    response = client.post("/api/v1/auth/register", json={
        **REGISTER, "password": "min hund heter Fido"})
    assert response.status_code == 201, response.json


def test_a_new_password_is_held_to_the_same_rule(make):
    user = make.user(email="kristian.lunde@example.com")
    with pytest.raises(InvalidInput) as refused:
        services.update_profile(user, password="Kristian.Lunde")
    assert "password" in refused.value.fields


def test_field_errors_are_translated(client):
    response = client.post("/api/v1/auth/register", json={"email": "nope"},
                           headers={"Accept-Language": "de"})
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert errors["email"] == ["Keine gültige E-Mail-Adresse."]
    assert errors["password"] == ["Fehlende Daten für ein Pflichtfeld."]


def test_tokens_are_listed_without_their_value_and_can_be_revoked(client, make):
    user = make.user()
    headers = make.token(user)
    listed = client.get("/api/v1/auth/tokens", headers=headers)
    assert listed.status_code == 200
    assert len(listed.json) == 1
    assert "token" not in listed.json[0]
    token_id = listed.json[0]["id"]
    assert client.delete(f"/api/v1/auth/tokens/{token_id}", headers=headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_tokens_are_stored_hashed(app, make):
    user = make.user()
    issued = services.issue_token(user, name="x")
    db.session.commit()
    assert issued.token.startswith("ow_")
    assert issued.record.token_hash != issued.token
    assert issued.token not in issued.record.token_hash


def test_someone_elses_token_cannot_be_revoked(client, make):
    alice, bob = make.user(), make.user()
    alice_headers = make.token(alice)
    bob_headers = make.token(bob)
    bob_token = client.get("/api/v1/auth/tokens", headers=bob_headers).json[0]["id"]
    assert client.delete(f"/api/v1/auth/tokens/{bob_token}",
                         headers=alice_headers).status_code == 404
    assert client.get("/api/v1/auth/me", headers=bob_headers).status_code == 200


def test_expired_token_is_refused(app, make):
    user = make.user()
    issued = services.issue_token(user, name="x", expires_in_days=1,
                                  now=utcnow() - timedelta(days=2))
    db.session.commit()
    assert services.user_for_token(issued.token) is None


def test_bad_bearer_token_is_401(client):
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer ow_nope"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.commits  # failed logins stand in transactions of their own
def test_repeated_failed_logins_are_refused_even_with_the_right_password(client, make):
    user = make.user()
    for _ in range(5):
        bad = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "wrong"})
        assert bad.status_code == 401
    blocked = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0


def test_failures_age_out_of_the_window(make):
    user = make.user()
    old = utcnow() - timedelta(minutes=30)
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            services.authenticate(user.email, "wrong", now=old)
    with pytest.raises(TooManyRequests):
        services.authenticate(user.email, PASSWORD, now=old + timedelta(minutes=1))
    assert services.authenticate(user.email, PASSWORD).id == user.id
    assert db.session.scalar(db.select(db.func.count(LoginFailure.id))) == 5


def test_unknown_email_fails_like_a_wrong_password(client):
    response = client.post("/api/v1/auth/tokens", json={"email": "ghost@x.example",
                                                        "password": "whatever-long"})
    assert response.status_code == 401


def test_cookie_login_page(client, make):
    user = make.user()
    page = client.get("/login")
    assert page.status_code == 200
    wrong = client.post("/login", data={"email": user.email, "password": "nope"})
    assert wrong.status_code == 401
    assert "Wrong e-mail address or password." in wrong.get_data(as_text=True)
    ok = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert ok.status_code == 302
    # The session cookie reads the API...
    assert client.get("/api/v1/auth/me").json["email"] == user.email
    # ...but never changes anything through it (that needs a bearer token).
    response = client.post("/api/v1/members", json={"name": "x"})
    assert response.status_code == 401


def test_register_page_keeps_input_and_shows_errors(client):
    response = client.post("/register", data={"full_name": "Jonas", "email": "bad",
                                               "password": "x", "locale": "lt"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'value="Jonas"' in body
    assert 'class="error"' in body


def test_register_page_creates_a_patient(app, client):
    response = client.post("/register", data={"full_name": "Jonas", "email": "j@x.example",
                                               "password": "long-enough-pw", "locale": "lt"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert user.role == Role.PATIENT and user.locale == "lt"


def test_manager_adds_staff_only_to_own_member(make):
    own, other = make.member(), make.member()
    manager = make.user(Role.MEMBER_MANAGER, own)
    staff = services.create_user(manager, email="s@x.example", password=PASSWORD,
                                 full_name="S", role=Role.MEMBER_STAFF, provider_id=own.id)
    assert staff.provider_id == own.id
    with pytest.raises(Forbidden):
        services.create_user(manager, email="t@x.example", password=PASSWORD, full_name="T",
                             role=Role.MEMBER_STAFF, provider_id=other.id)
    with pytest.raises(Forbidden):
        services.create_user(manager, email="u@x.example", password=PASSWORD, full_name="U",
                             role=Role.COORDINATOR)


def test_a_currency_code_is_read_the_same_everywhere(client):
    """Registration takes "nok" like journeys and offers do, stores "NOK", and refuses
    what is no currency, on registration and in the profile alike."""
    response = client.post("/api/v1/auth/register", json={**REGISTER, "currency": "nok"})
    assert response.status_code == 201, response.json
    assert response.json["currency"] == "NOK"
    bad = client.post("/api/v1/auth/register",
                      json={**REGISTER, "email": "other@example.com", "currency": "xyz"})
    assert bad.status_code == 422 and "currency" in bad.json["errors"]["json"]
