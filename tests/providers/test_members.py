import pytest

from journey.core.accounts.models import Role
from journey.core.extensions import db
from providers.models import Provider

MEMBER = {"name": "Druskininkai Mineral Spa", "kind": "sanatorium", "city": "Druskininkai",
          "country": "lt", "latitude": 54.0155, "longitude": 23.9853,
          "timezone": "Europe/Vilnius", "languages": ["lt", "en", "ru", "ru-RU"],
          "default_language": "lt", "currency": "EUR",
          "descriptions": {"lt": "Sanatorija prie Nemuno", "en": "A sanatorium on the Nemunas"},
          "accreditations": [{"name": "ISO 9001", "issuer": "Bureau Veritas",
                              "valid_until": "2028-12-31"}]}


@pytest.fixture
def coordinator(make):
    return make.token(make.user(Role.COORDINATOR))


def test_coordinator_admits_a_member_as_pending(client, make, coordinator):
    response = client.post("/api/v1/members", json=MEMBER, headers=coordinator)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "pending"
    assert body["country"] == "LT"
    assert body["slug"] == "druskininkai-mineral-spa"
    assert body["languages"] == ["lt", "en", "ru", "ru_RU"]
    assert body["accreditations"][0]["valid_until"] == "2028-12-31"
    # Pending members are invisible to patients and absent from the public list.
    assert client.get(f"/api/v1/members/{body['id']}").status_code == 404
    assert client.get("/api/v1/members").json["total"] == 0
    admin = make.token(make.admin())
    verified = client.post(f"/api/v1/members/{body['id']}/status",
                           json={"status": "verified", "reason": "Documents checked"},
                           headers=admin)
    assert verified.status_code == 200
    public = client.get(f"/api/v1/members/{body['id']}?lang=en").json
    assert public["description"] == "A sanatorium on the Nemunas"
    assert client.get(f"/api/v1/members/{body['id']}?lang=de").json["description_language"] \
        == "en"  # English before the member's default
    assert client.get("/api/v1/members?city=DRUSKININKAI").json["total"] == 1


def test_slugs_stay_unique(client, coordinator):
    first = client.post("/api/v1/members", json=MEMBER, headers=coordinator).json
    second = client.post("/api/v1/members", json=MEMBER, headers=coordinator).json
    assert first["slug"] != second["slug"]


@pytest.mark.parametrize("field, value", [
    ("timezone", "Europe/Atlantis"),
    ("country", "XX"),
    ("currency", "LTL1"),
    ("default_language", "klingon-xx"),
    ("latitude", 91),
    ("kind", "casino"),
    ("name", ""),
    ("website", "not a url"),
])
def test_bad_member_input_writes_nothing(app, client, coordinator, field, value):
    response = client.post("/api/v1/members?lang=ru", json={**MEMBER, field: value},
                           headers=coordinator)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert response.headers["Content-Language"] == "ru"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Provider.id))) == 0


def test_manager_updates_the_profile_but_staff_cannot(client, make):
    member = make.member()
    manager = make.token(make.user(Role.MEMBER_MANAGER, member))
    staff = make.token(make.user(Role.MEMBER_STAFF, member))
    ok = client.patch(f"/api/v1/members/{member.id}", json={"phone": "+370 37 000000"},
                      headers=manager)
    assert ok.status_code == 200 and ok.json["phone"] == "+370 37 000000"
    assert client.patch(f"/api/v1/members/{member.id}", json={"phone": "+1"},
                        headers=staff).status_code in (403, 422)
    assert client.patch(f"/api/v1/members/{member.id}", json={"phone": "+370 1111"},
                        headers=staff).status_code == 403


def test_member_lists_see_own_pending_member(client, make):
    pending = make.member(verified=False, name="Pending Clinic")
    make.member(name="Public Clinic")
    staff = make.token(make.user(Role.MEMBER_STAFF, pending))
    names = {m["name"] for m in client.get("/api/v1/members", headers=staff).json["items"]}
    assert names == {"Pending Clinic", "Public Clinic"}
    names = {m["name"] for m in client.get("/api/v1/members").json["items"]}
    assert names == {"Public Clinic"}


def test_reference_lists_are_translated(client):
    links = client.get("/api/v1/chain-links?lang=de").json
    assert [link["value"] for link in links][:3] == ["visa_support", "travel", "transfer"]
    assert links[0]["title"] != "Visa support"
    assert len(client.get("/api/v1/member-kinds").json) == 13


def test_a_description_along_the_fallback_chain(make):
    """The member page and the API pick the description the same way: the reader's
    language, its base language, English, the member's default, then any."""
    from providers.services.common import text_in
    from providers.services.members import member_description

    member = make.member(default_language="lt",
                         descriptions={"lt": "Klinika", "en": "A clinic", "ru": "Клиника"})
    assert member_description(member, "ru_RU") == ("ru", "Клиника")
    assert member_description(member, "de") == ("en", "A clinic")
    lithuanian_only = make.member(default_language="lt", descriptions={"lt": "Klinika",
                                                                       "ru": "Клиника"})
    assert member_description(lithuanian_only, "de") == ("lt", "Klinika")
    assert member_description(make.member(descriptions={"sv": "En klinik"}), "de") == \
        ("sv", "En klinik")
    assert member_description(make.member(), "en") == (None, None)
    assert text_in({"de": 1, "en": 2}, "fr") == ("en", 2)  # no member: English next
