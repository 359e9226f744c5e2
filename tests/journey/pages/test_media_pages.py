"""Pictures, icons and maps on the pages: the member's page shows a map (not its raw
coordinates) and its pictures, the members' page a map of the cluster, the home page the
chain's icons; the pictures of a page's results are read in one query; the portal's
pictures page uploads, orders and describes them."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import event, select

from journey.core.accounts.models import Role
from journey.core.extensions import db
from providers.media import services as media
from providers.media.models import Picture
from providers.models import OfferStatus
from tests.journey.pages.portal_fixtures import login


def _png(colour=(10, 120, 200), size=(640, 400)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def world(make):
    clinic = make.member(name="Neris Clinic", latitude=54.7012, longitude=25.2624)
    spa = make.member(name="Palanga Spa", kind="spa", latitude=55.9175, longitude=21.0686)
    unplaced = make.member(name="Nowhere Agency", kind="travel_agency")
    offer = make.offer(clinic)
    manager = make.user(Role.MEMBER_MANAGER, provider=clinic)
    return {"clinic": clinic, "spa": spa, "unplaced": unplaced, "offer": offer,
            "manager": manager}


def test_the_member_page_shows_a_map_and_not_the_raw_coordinates(client, world):
    page = client.get(f"/catalogue/members/{world['clinic'].id}?lang=en").get_data(
        as_text=True)
    assert '<svg class="map map-place"' in page
    assert page.count('class="map-pin"') == 1
    assert "54.7012° N, 25.2624° E" in page  # a caption, in the reader's locale
    assert "Coordinates:" not in page and "54.7012, 25.2624" not in page
    lithuanian = client.get(f"/catalogue/members/{world['clinic'].id}?lang=lt").get_data(
        as_text=True)
    assert "54,7012" in lithuanian  # Babel's decimal comma


def test_a_member_without_coordinates_has_no_map(client, world):
    page = client.get(f"/catalogue/members/{world['unplaced'].id}").get_data(as_text=True)
    assert "<svg class=\"map" not in page


def test_the_member_page_shows_its_pictures_and_its_offers_thumbnails(client, world):
    manager = world["manager"]
    own = media.add_picture(manager, _png(), provider_id=world["clinic"].id,
                            alt_texts={"en": "The clinic's entrance", "lt": "Įėjimas"})
    of_offer = media.add_picture(manager, _png(), offer_id=world["offer"].id)
    db.session.commit()
    page = client.get(f"/catalogue/members/{world['clinic'].id}?lang=en",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    img = re.search(rf'<img[^>]*src="/media/{own.id}/large"[^>]*>', page).group(0)
    assert 'alt="The clinic\'s entrance"' in img or "alt=\"The clinic&#39;s entrance\"" in img
    assert 'lang="en" dir="auto"' in img
    assert 'loading="lazy"' in img and 'width="640"' in img and 'height="400"' in img
    assert f"/media/{own.id}/thumb 480w" in img
    assert f'src="/media/{of_offer.id}/thumb"' in page


def test_the_members_page_and_the_home_page_show_the_cluster_map(client, world):
    for path in ("/catalogue/members", "/"):
        page = client.get(path).get_data(as_text=True)
        assert 'class="media-map media-cluster-map"' in page, path
        pins = re.findall(r'<a href="/catalogue/members/(\d+)" aria-label="([^"]+)"', page)
        assert sorted(name for _id, name in pins) == ["Neris Clinic", "Palanga Spa"]


def test_the_home_page_has_an_icon_on_every_chain_tile(client, world):
    page = client.get("/").get_data(as_text=True)
    chain = page[page.index('<ol class="chain">'):]
    chain = chain[:chain.index("</ol>")]
    assert chain.count("<li>") == chain.count('class="chain-icon') == 13
    assert 'aria-hidden="true"' in chain
    assert chain.count("chain-icon-bed") == 1


def test_a_draft_offers_pictures_stay_off_the_public_pages(client, world, make):
    draft = make.offer(world["clinic"], status=OfferStatus.DRAFT)
    picture = media.add_picture(world["manager"], _png(), offer_id=draft.id)
    db.session.commit()
    page = client.get(f"/catalogue/members/{world['clinic'].id}").get_data(as_text=True)
    assert f"/media/{picture.id}/" not in page


def test_the_pictures_of_many_members_are_read_in_one_query(app, client, make):
    admin = make.admin()
    for n in range(6):
        member = make.member(name=f"Member {n:02d}")
        media.add_picture(admin, _png(colour=(n * 40, 0, 0)), provider_id=member.id)
    db.session.commit()
    statements = []

    def count(conn, cursor, statement, *args):
        if re.search(r"\bFROM picture\b", statement):
            statements.append(statement)

    engine = db.engines[None] if hasattr(db, "engines") else db.engine
    target = engine.engine if hasattr(engine, "engine") else engine
    event.listen(target, "before_cursor_execute", count)
    try:
        page = client.get("/catalogue/members").get_data(as_text=True)
    finally:
        event.remove(target, "before_cursor_execute", count)
    assert page.count('class="media-thumb-img"') == 6
    assert len(statements) == 1


def test_the_portal_uploads_several_pictures_orders_and_describes_them(client, world):
    login(client, world["manager"])
    url = f"/portal/offers/{world['offer'].id}/pictures"
    page = client.get(url + "?lang=en").get_data(as_text=True)
    assert 'type="file"' in page and "multiple" in page
    response = client.post(url, data={"files": [(io.BytesIO(_png()), "a.png"),
                                                (io.BytesIO(_png((0, 0, 0))), "b.png"),
                                                (io.BytesIO(b"not a picture"), "c.jpg")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    first, second = db.session.scalars(select(Picture).order_by(Picture.position)).all()
    page = client.get(url + "?lang=en").get_data(as_text=True)
    assert "c.jpg" in page  # the refused one is named
    assert page.index(f"/media/{first.id}/thumb") < page.index(f"/media/{second.id}/thumb")
    assert 'class="danger small" data-confirm=' in page
    assert client.post(f"/portal/pictures/{second.id}/up").status_code == 302
    assert client.post(f"/portal/pictures/{first.id}/alt",
                       data={"alt-en": "A blue square", "alt-lt": ""}).status_code == 302
    page = client.get(url + "?lang=en").get_data(as_text=True)
    assert page.index(f"/media/{second.id}/thumb") < page.index(f"/media/{first.id}/thumb")
    db.session.expire_all()
    assert db.session.get(Picture, first.id).alt_texts == {"en": "A blue square"}
    assert client.post(f"/portal/pictures/{first.id}/delete").status_code == 302
    assert db.session.scalars(select(Picture.id)).all() == [second.id]


@pytest.mark.parametrize(("lang", "lithuania"), [("nb", "Litauen"), ("ar", "ليتوانيا")])
def test_the_maps_countries_are_named_in_the_readers_language(client, world, lang, lithuania):
    """The countries' tooltips came from the map data in English ("Lithuania", "Russia")
    on every page; they are named in the reader's language."""
    page = client.get(f"/catalogue/members/{world['clinic'].id}?lang={lang}").get_data(
        as_text=True)
    assert f"<title>{lithuania}</title>" in page
    assert "<title>Lithuania</title>" not in page


def test_the_member_page_names_its_country_and_keeps_its_phone_left_to_right(client, world):
    """The member's location read "Palanga, LT" (the code) and, on an Arabic page, its
    phone "+370 460 00 501" came out as "501 00 460 370+"; the country is named in the
    reader's language and the number reads left to right."""
    clinic = world["clinic"]
    clinic.phone, clinic.country = "+370 5 000 0105", "LT"
    db.session.commit()
    page = client.get(f"/catalogue/members/{clinic.id}?lang=ar").get_data(as_text=True)
    assert "ليتوانيا" in page and f", {clinic.country}</p>" not in page
    assert 'dir="ltr">+370 5 000 0105</a>' in page


def test_the_member_pages_location_is_written_as_the_language_writes_it(client, world):
    """"Palanga, ليتوانيا": the city and the country were joined by a Latin comma on an
    Arabic page; the language's own joins them ("،")."""
    clinic = world["clinic"]
    page = client.get(f"/catalogue/members/{clinic.id}?lang=ar").get_data(as_text=True)
    assert f'<bdi dir="auto">{clinic.city}</bdi>، ليتوانيا</p>' in page
    norwegian = client.get(f"/catalogue/members/{clinic.id}?lang=nb").get_data(as_text=True)
    assert f'<bdi dir="auto">{clinic.city}</bdi>, Litauen</p>' in norwegian
