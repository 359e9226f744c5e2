"""The demo's own pictures (journey/demo_pictures.py): drawn, the same on every load,
attached through the pictures service once."""

from __future__ import annotations

import io

from PIL import Image

from journey.demo_pictures import attach_demo_pictures, draw
from providers.media import services as media
from providers.models import MemberKind


def test_drawings_are_the_same_on_every_load_and_differ_by_member():
    first = draw("spa", "kopu-vejas-spa")
    assert first == draw("spa", "kopu-vejas-spa")
    assert first != draw("spa", "surus-saltinis-spa")
    image = Image.open(io.BytesIO(first))
    assert image.format == "PNG" and image.size == (720, 480)


def test_demo_members_get_pictures_once(make):
    admin = make.admin()
    hotel = make.member(name="Tilto Namai Hotel", kind=MemberKind.HOTEL,
                        slug="tilto-namai-hotel")
    room = make.offer(hotel)
    other = make.member(name="Not of the demo")
    assert attach_demo_pictures(admin) == 2
    (own,) = media.list_pictures(hotel.id)
    assert media.alt_text(own, "en") == ("en", "A drawing of the building of Tilto Namai Hotel")
    (of_room,) = media.list_pictures(hotel.id, room.id)
    assert media.alt_text(of_room, "lt")[1].startswith("A drawing of a room with a bed")
    assert media.list_pictures(other.id) == []
    assert attach_demo_pictures(admin) == 0
