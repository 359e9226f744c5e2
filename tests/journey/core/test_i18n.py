import pytest

from journey.core.i18n import fallback_chain, normalize_language, pick


@pytest.mark.parametrize("requested, member, readers, expected", [
    ("pt_BR", "lt", [], ["pt_BR", "pt", "en", "lt"]),
    ("de", "lt", [], ["de", "en", "lt"]),
    ("en", "en", [], ["en"]),
    (None, "lt", [], ["en", "lt"]),
    # DESIGN: requested, its base, the reader's other languages in order, English, member
    ("nb", "lt", ["nb", "sv", "de"], ["nb", "sv", "de", "en", "lt"]),
    ("ar", "lt", ["ar", "fr_CH", "fr"], ["ar", "fr_CH", "fr", "en", "lt"]),
])
def test_fallback_chain(requested, member, readers, expected):
    assert fallback_chain(requested, member, readers) == expected


def test_the_readers_languages_come_from_accept_language(app):
    with app.test_request_context(headers={"Accept-Language": "nb-NO, sv;q=0.8, *;q=0.1"}):
        assert fallback_chain("nb_NO", "lt") == ["nb_NO", "nb", "sv", "en", "lt"]


def test_pick_follows_the_chain_and_says_which_language_it_found():
    texts = {"lt": "Klinika", "en": "Clinic"}
    assert pick(texts, ["pt_BR", "pt", "lt", "en"]) == ("lt", "Klinika")
    assert pick(texts, ["de", "en"]) == ("en", "Clinic")
    assert pick({"ru": "Клиника"}, ["de", "en"]) == ("ru", "Клиника")
    assert pick({}, ["de"]) == (None, None)


@pytest.mark.parametrize("value, expected", [
    ("pt-BR", "pt_BR"), ("de", "de"), ("nb", "nb"), ("xx-nope", None), ("", None),
    ("../../etc", None), ("a" * 50, None),
])
def test_normalize_language(value, expected):
    assert normalize_language(value) == expected


@pytest.fixture
def offer_in_lt_and_en(make):
    member = make.member(default_language="lt")
    return make.offer(member, texts={
        "lt": {"title": "Kelio sąnario endoprotezavimas", "description": "Operacija"},
        "en": {"title": "Knee replacement", "description": "Surgery"},
        "pt": {"title": "Prótese do joelho", "description": "Cirurgia"},
    })


@pytest.mark.parametrize("query, headers, title, language", [
    ("?lang=en", {}, "Knee replacement", "en"),
    ("?lang=pt-BR", {}, "Prótese do joelho", "pt"),  # base language
    ("?lang=de", {}, "Knee replacement", "en"),  # English before the member's default
    ("", {"Accept-Language": "pt-BR,pt;q=0.9"}, "Prótese do joelho", "pt"),
    ("", {"Accept-Language": "fr-CH, fr;q=0.9"}, "Knee replacement", "en"),
    ("", {"Accept-Language": "de, pt;q=0.5"}, "Prótese do joelho", "pt"),  # reads pt too
    ("", {"Accept-Language": "en-GB,en;q=0.8"}, "Knee replacement", "en"),
])
def test_offer_texts_fall_back(client, offer_in_lt_and_en, query, headers, title, language):
    response = client.get(f"/api/v1/offers/{offer_in_lt_and_en.id}{query}", headers=headers)
    assert response.status_code == 200
    assert response.json["title"] == title
    assert response.json["language"] == language


def test_english_is_the_last_resort(client, make):
    member = make.member(default_language="lt")
    offer = make.offer(member, texts={"en": {"title": "MRI scan"}, "ru": {"title": "МРТ"}})
    assert client.get(f"/api/v1/offers/{offer.id}?lang=de").json["title"] == "MRI scan"
    assert client.get(f"/api/v1/offers/{offer.id}?lang=ru").json["title"] == "МРТ"


def test_content_language_header(client, offer_in_lt_and_en):
    response = client.get("/api/v1/offers?lang=de")
    assert response.headers["Content-Language"] == "en"  # no German text: English served
    response = client.get("/api/v1/offers", headers={"Accept-Language": "lt"})
    assert response.headers["Content-Language"] == "lt"


def test_the_clusters_languages_are_the_interface_languages(client, make):
    """An admin narrows the cluster to English and Lithuanian: German is no longer
    served (even when asked for), and the switcher offers the two."""
    from journey.builder.services.settings import update_settings
    from journey.core.extensions import db

    assert 'lang="de"' in client.get("/?lang=de").get_data(as_text=True)
    update_settings(make.admin(), languages=["lt"])
    db.session.commit()
    page = client.get("/?lang=de", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'lang="en"' in page
    assert 'value="lt"' in page and 'value="de"' not in page
    assert 'lang="lt"' in client.get("/?lang=lt").get_data(as_text=True)


def test_a_norwegian_never_reads_lithuanian_while_english_exists(client, make):
    member = make.member(default_language="lt")
    offer = make.offer(member, texts={"lt": {"title": "Dvivietis kambarys"},
                                      "en": {"title": "Double room"}})
    answer = client.get(f"/api/v1/offers/{offer.id}", headers={"Accept-Language": "nb-NO"})
    assert (answer.json["title"], answer.json["language"]) == ("Double room", "en")


def test_the_member_default_when_nothing_else_exists(client, make):
    member = make.member(default_language="lt")
    offer = make.offer(member, texts={"lt": {"title": "Dvivietis kambarys"},
                                      "ru": {"title": "Двухместный номер"}})
    answer = client.get(f"/api/v1/offers/{offer.id}?lang=nb")
    assert answer.json["language"] == "lt"


@pytest.mark.parametrize("header", ["no", "nn", "no-NO", "nn-NO, en;q=0.5", "xx, no;q=0.8"])
def test_norwegian_readers_get_bokmal_whatever_tag_they_send(client, header):
    """Many Norwegian systems send ``no`` (or Nynorsk's ``nn``): they get the Bokmål
    interface, not English."""
    answer = client.post("/api/v1/journeys", json={"foo": 1},
                         headers={"Accept-Language": header})
    assert answer.status_code == 401
    assert answer.headers["Content-Language"] == "nb"


def test_an_answer_without_member_content_says_the_language_it_is_in(client):
    """Asked for a language the interface does not have, the message is English, and
    the header says so (it said the language asked for)."""
    answer = client.get("/api/v1/journeys/1?lang=pt-BR")
    assert answer.status_code == 401
    assert answer.headers["Content-Language"] == "en"
