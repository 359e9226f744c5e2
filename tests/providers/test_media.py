"""Pictures of members and offers (providers/media): the type comes from the content,
size and pixel limits, EXIF (place, camera) is gone from what is served, the two sizes,
order and alt texts, who may change them and who may see them."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from journey.core.accounts.models import Role
from journey.core.errors import Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.storage import get_storage
from providers.media import services as media
from providers.media.models import Picture
from providers.models import OfferStatus
from tests.journey.pages.portal_fixtures import login

MAKE, GPS_IFD, ORIENTATION = 0x010F, 0x8825, 0x0112


def photo(size=(400, 200), *, fmt="JPEG", exif=True, orientation=None, colour=(200, 80, 40)):
    """A picture as a camera would send it: EXIF with the camera's make and a GPS place."""
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    options = {}
    if exif:
        data = Image.Exif()
        data[MAKE] = "SpyCam"
        data[GPS_IFD] = {1: "N", 2: (54.0, 41.0, 13.0), 3: "E", 4: (25.0, 16.0, 47.0)}
        if orientation:
            data[ORIENTATION] = orientation
        options["exif"] = data.tobytes()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.fixture
def world(make):
    clinic = make.member(name="Clinic", latitude=54.7012, longitude=25.2624)
    hotel = make.member(name="Hotel", kind="hotel")
    return {
        "clinic": clinic, "hotel": hotel,
        "manager": make.user(Role.MEMBER_MANAGER, provider=clinic),
        "staff": make.user(Role.MEMBER_STAFF, provider=clinic),
        "other_manager": make.user(Role.MEMBER_MANAGER, provider=hotel),
        "published": make.offer(clinic),
        "draft": make.offer(clinic, status=OfferStatus.DRAFT),
    }


def _count() -> int:
    return db.session.scalar(select(func.count(Picture.id)))


# --- what an upload is ----------------------------------------------------------------------

@pytest.mark.parametrize("content", [
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n",
    b"just some text, named photo.jpg\n" * 10,
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
])
def test_what_is_not_a_picture_is_refused_whatever_its_name(world, content):
    with pytest.raises(InvalidInput) as refused:
        media.add_picture(world["manager"], content, provider_id=world["clinic"].id)
    assert "file" in refused.value.fields
    assert _count() == 0


def test_a_gif_is_refused_though_it_is_an_image(world):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(InvalidInput):
        media.add_picture(world["manager"], out.getvalue(), provider_id=world["clinic"].id)


def test_a_file_over_the_size_limit_is_refused(world, monkeypatch):
    monkeypatch.setattr(media, "MAX_BYTES", 1000)
    with pytest.raises(InvalidInput) as refused:
        media.add_picture(world["manager"], photo((800, 600)) + b"\0" * 1000,
                          provider_id=world["clinic"].id)
    assert "larger than" in str(refused.value.fields["file"][0])
    assert _count() == 0


def test_a_decompression_bomb_is_refused_before_it_is_decoded(world, monkeypatch):
    monkeypatch.setattr(media, "MAX_PIXELS", 10_000)
    with pytest.raises(InvalidInput) as refused:
        media.add_picture(world["manager"], photo((200, 200), fmt="PNG", exif=False),
                          provider_id=world["clinic"].id)
    assert "too many pixels" in str(refused.value.fields["file"][0])


def test_two_sizes_are_stored_in_proportion(world):
    picture = media.add_picture(world["manager"], photo((3200, 2000)),
                                provider_id=world["clinic"].id)
    assert (picture.width, picture.height) == (1600, 1000)
    assert (picture.thumb_width, picture.thumb_height) == (480, 300)
    for size, dims in (("large", (1600, 1000)), ("thumb", (480, 300))):
        stored = Image.open(io.BytesIO(media.picture_bytes(picture, size)))
        assert stored.format == "WEBP" and stored.size == dims


def test_a_small_picture_is_not_enlarged_and_its_orientation_is_applied(world):
    # A camera held upright: 400 x 200 pixels with "rotate 90° clockwise" in EXIF.
    picture = media.add_picture(world["manager"], photo((400, 200), orientation=6),
                                provider_id=world["clinic"].id)
    assert (picture.width, picture.height) == (200, 400)
    assert (picture.thumb_width, picture.thumb_height) == (200, 400)


def test_a_png_with_transparency_keeps_it(world):
    out = io.BytesIO()
    Image.new("RGBA", (50, 40), (0, 0, 0, 0)).save(out, "PNG")
    picture = media.add_picture(world["manager"], out.getvalue(),
                                provider_id=world["clinic"].id)
    assert Image.open(io.BytesIO(media.picture_bytes(picture, "thumb"))).mode == "RGBA"


# --- EXIF is gone from what is served ------------------------------------------------------

def test_exif_of_the_upload_is_gone_from_both_served_sizes(client, world):
    upload = photo((2000, 1200), orientation=1)
    assert Image.open(io.BytesIO(upload)).getexif()[MAKE] == "SpyCam"  # the test's premise
    login(client, world["manager"])
    response = client.post(f"/portal/{world['clinic'].id}/pictures",
                           data={"files": (io.BytesIO(upload), "holiday.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    picture = db.session.scalars(select(Picture)).one()
    for size in ("thumb", "large"):
        served = client.get(f"/media/{picture.id}/{size}")
        assert served.status_code == 200
        assert served.mimetype == "image/webp"
        image = Image.open(io.BytesIO(served.data))
        assert dict(image.getexif()) == {}
        assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(image.info)
        assert b"SpyCam" not in served.data


# --- order, alt texts, deletion -----------------------------------------------------------

def test_pictures_are_added_last_and_moved_up_and_down(world):
    actor, clinic = world["manager"], world["clinic"].id
    first, second, third = (media.add_picture(actor, photo(colour=(i * 60, 0, 0)),
                                              provider_id=clinic) for i in range(3))
    assert media.list_pictures(clinic) == [first, second, third]
    media.move_picture(actor, third.id, -1)
    assert media.list_pictures(clinic) == [first, third, second]
    media.move_picture(actor, first.id, -1)  # already first: stays
    media.move_picture(actor, first.id, 1)
    assert media.list_pictures(clinic) == [third, first, second]


def test_offer_pictures_and_member_pictures_are_apart(world):
    actor = world["manager"]
    own = media.add_picture(actor, photo(), provider_id=world["clinic"].id)
    of_offer = media.add_picture(actor, photo(), offer_id=world["published"].id)
    assert of_offer.provider_id == world["clinic"].id
    assert media.list_pictures(world["clinic"].id) == [own]
    assert media.list_pictures(world["clinic"].id, world["published"].id) == [of_offer]
    assert media.pictures_of_offers([world["published"].id, world["draft"].id]) == {
        world["published"].id: [of_offer], world["draft"].id: []}
    assert media.pictures_of_members([world["clinic"].id]) == {world["clinic"].id: [own]}


def test_alt_texts_follow_the_fallback_chain(world):
    picture = media.add_picture(world["manager"], photo(), provider_id=world["clinic"].id,
                                alt_texts={"en": "The entrance", "lt": "Įėjimas", "de": " "})
    assert picture.alt_texts == {"en": "The entrance", "lt": "Įėjimas"}
    assert media.alt_text(picture, "lt") == ("lt", "Įėjimas")
    assert media.alt_text(picture, "nb") == ("en", "The entrance")
    media.set_alt_texts(world["manager"], picture.id, {"en": ""})
    assert media.alt_text(picture, "en") == (None, "")
    with pytest.raises(InvalidInput):
        media.set_alt_texts(world["manager"], picture.id, {"not a language": "x"})


def test_deleting_a_picture_deletes_both_stored_sizes(world):
    picture = media.add_picture(world["manager"], photo(), provider_id=world["clinic"].id)
    keys = (picture.large_key, picture.thumb_key)
    assert all(get_storage().exists(key) for key in keys)
    media.delete_picture(world["manager"], picture.id)
    assert _count() == 0
    assert not any(get_storage().exists(key) for key in keys)


# --- who may change them ------------------------------------------------------------------

def test_only_the_members_manager_or_the_cluster_change_its_pictures(world, make):
    clinic = world["clinic"].id
    with pytest.raises(Forbidden):
        media.add_picture(world["other_manager"], photo(), provider_id=clinic)
    with pytest.raises(Forbidden):
        media.add_picture(world["staff"], photo(), provider_id=clinic)
    with pytest.raises(NotFound):  # another member's draft: not even seen
        media.add_picture(world["other_manager"], photo(), offer_id=world["draft"].id)
    coordinator = make.user(Role.COORDINATOR)
    picture = media.add_picture(coordinator, photo(), provider_id=clinic)
    with pytest.raises(NotFound):
        media.delete_picture(world["other_manager"], picture.id)
    with pytest.raises(NotFound):
        media.set_alt_texts(world["other_manager"], picture.id, {"en": "x"})
    with pytest.raises(Forbidden):
        media.move_picture(world["staff"], picture.id, 1)
    assert _count() == 1


def test_another_members_manager_gets_403_or_404_from_the_pages(client, world):
    picture = media.add_picture(world["manager"], photo(), provider_id=world["clinic"].id)
    db.session.commit()
    login(client, world["other_manager"])
    assert client.get(f"/portal/{world['clinic'].id}/pictures").status_code == 403
    response = client.post(f"/portal/{world['clinic'].id}/pictures",
                           data={"files": (io.BytesIO(photo()), "a.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 403
    assert client.get(f"/portal/offers/{world['draft'].id}/pictures").status_code == 404
    assert client.post(f"/portal/pictures/{picture.id}/delete").status_code == 404
    assert _count() == 1


def test_the_portal_refuses_a_pdf_named_like_a_photo(client, world):
    login(client, world["manager"])
    response = client.post(
        f"/portal/offers/{world['published'].id}/pictures?lang=en",
        data={"files": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "photo.jpg", "image/jpeg")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "not one of the allowed types" in response.get_data(as_text=True)
    assert _count() == 0


# --- who may see them ---------------------------------------------------------------------

def test_public_pictures_are_cached_for_long_with_an_etag(client, world):
    picture = media.add_picture(world["manager"], photo(), offer_id=world["published"].id)
    db.session.commit()
    response = client.get(f"/media/{picture.id}/thumb")
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "public" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get(f"/media/{picture.id}/thumb", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get(f"/media/{picture.id}/large").headers["ETag"] != etag
    assert client.get(f"/media/{picture.id}/huge").status_code == 404


def test_pictures_of_a_draft_or_an_unverified_member_are_404_to_the_public(client, world,
                                                                          make):
    draft = media.add_picture(world["manager"], photo(), offer_id=world["draft"].id)
    pending = make.member(name="Pending", verified=False)
    admin = make.admin()
    hidden = media.add_picture(admin, photo(), provider_id=pending.id)
    db.session.commit()
    for picture in (draft, hidden):
        assert client.get(f"/media/{picture.id}/thumb").status_code == 404
    login(client, world["other_manager"])
    assert client.get(f"/media/{draft.id}/large").status_code == 404
    login(client, world["staff"])  # the member's own staff see their draft's pictures
    response = client.get(f"/media/{draft.id}/large")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("private")
