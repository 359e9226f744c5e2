"""Registering answers with what a client needs next: the account, and a bearer token
when the request asks for one (else the documented link to log in)."""

REGISTER = {"email": "olga@example.com", "password": "long-enough-pw", "full_name": "Olga N"}


def test_registering_can_log_in_at_once(client):
    response = client.post("/api/v1/auth/register", json={**REGISTER, "issue_token": True})
    assert response.status_code == 201, response.json
    token = response.json["token"]
    assert token["token"].startswith("ow_") and token["name"] == "registration"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token['token']}"})
    assert me.status_code == 200 and me.json["email"] == "olga@example.com"


def test_registering_without_asking_gives_no_token(client):
    response = client.post("/api/v1/auth/register", json=REGISTER)
    assert response.status_code == 201
    assert response.json["token"] is None and response.json["role"] == "patient"
    login = client.post("/api/v1/auth/tokens", json={k: REGISTER[k]
                                                     for k in ("email", "password")})
    assert login.status_code == 201


def test_a_token_is_asked_for_with_a_json_boolean(client):
    response = client.post("/api/v1/auth/register", json={**REGISTER, "issue_token": "yes"})
    assert response.status_code == 422 and "issue_token" in response.json["errors"]["json"]
