"""The demo cluster's pictures: drawn here with Pillow (gradients and simple shapes in
each member's own colours), the same on every load, nothing downloaded or copied.

:func:`attach_demo_pictures` gives each demo member a picture of what it is (a clinic's
building, a spa's waves, a hotel's room...) and the first offers of each member a picture
of what they sell, through the pictures service like any upload (so they are resized,
stored encrypted and served as the members' own)."""

from __future__ import annotations

import colorsys
import io
import math
import zlib

from PIL import Image, ImageDraw
from sqlalchemy import select

from journey.core.extensions import db
from journey.demo_data import MEMBERS
from providers.media import services as media
from providers.media.models import Picture
from providers.models import ChainLink, MemberKind, Offer, Provider

#: The drawings' size (the service keeps it as the large size and makes a thumbnail).
SIZE = (720, 480)
#: How many offers of each member get a picture.
OFFERS_PER_MEMBER = 1

_CLINICS = {MemberKind.CLINIC, MemberKind.DENTAL_CLINIC, MemberKind.HOSPITAL,
            MemberKind.DIAGNOSTIC_CENTRE}


def palette(seed: str) -> tuple[tuple[int, int, int], tuple[int, int, int],
                                 tuple[int, int, int]]:
    """Three colours of one member, from its slug: a light sky, a main and an accent."""
    hue = (zlib.crc32(seed.encode()) % 360) / 360

    def rgb(h, lightness, saturation):
        return tuple(round(c * 255) for c in colorsys.hls_to_rgb(h % 1, lightness, saturation))

    return rgb(hue, 0.88, 0.55), rgb(hue, 0.42, 0.45), rgb(hue + 0.45, 0.55, 0.7)


def _gradient(top, bottom) -> Image.Image:
    width, height = SIZE
    column = Image.new("RGB", (1, height))
    for y in range(height):
        t = y / (height - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom,
                                                                             strict=True)))
    return column.resize(SIZE)


def _ground(draw, colour, level=380):
    draw.rectangle((0, level, SIZE[0], SIZE[1]), fill=colour)


def _building(draw, main, accent, *, cross=True, floors=4, x=200, width=320):
    top = 380 - floors * 62 - 20
    draw.rectangle((x, top, x + width, 380), fill=main)
    for floor in range(floors):
        for column in range(5):
            wx = x + 22 + column * (width - 44) // 5
            wy = top + 24 + floor * 62
            draw.rectangle((wx, wy, wx + 34, wy + 36), fill=(236, 244, 250))
    door = x + width // 2
    draw.rectangle((door - 26, 320, door + 26, 380), fill=(60, 60, 70))
    if cross:
        cx, cy = x + width // 2, top - 40
        draw.ellipse((cx - 34, cy - 34, cx + 34, cy + 34), fill=(255, 255, 255))
        draw.rectangle((cx - 8, cy - 24, cx + 8, cy + 24), fill=accent)
        draw.rectangle((cx - 24, cy - 8, cx + 24, cy + 8), fill=accent)


def _bed(draw, main, accent):
    draw.rectangle((0, 300, SIZE[0], SIZE[1]), fill=(214, 200, 180))  # floor
    draw.rectangle((470, 70, 640, 210), fill=(240, 248, 255), outline=main, width=10)  # window
    draw.line((555, 70, 555, 210), fill=main, width=6)
    draw.rectangle((90, 250, 560, 340), fill=(250, 250, 250))  # mattress
    draw.rectangle((90, 330, 560, 360), fill=main)
    draw.rectangle((70, 170, 100, 400), fill=main)  # headboard
    draw.rectangle((550, 260, 575, 400), fill=main)
    draw.rounded_rectangle((115, 215, 230, 262), radius=18, fill=(255, 255, 255),
                           outline=(200, 200, 200), width=3)  # pillow
    draw.rectangle((240, 240, 560, 300), fill=accent)  # blanket


def _waves(draw, main, accent, *, pines=False):
    draw.ellipse((520, 50, 620, 150), fill=(255, 214, 102))  # the sun
    if pines:
        for i, x in enumerate(range(40, 700, 110)):
            h = 150 + (i * 37) % 60
            draw.polygon([(x, 300 - h), (x - 45, 300), (x + 45, 300)], fill=(40, 100, 60))
    for row in range(5):
        y0 = 290 + row * 40
        points = [(x, y0 + 12 * math.sin((x + row * 40) / 38)) for x in range(0, 721, 12)]
        draw.polygon([*points, (720, 480), (0, 480)],
                     fill=tuple(max(0, c - row * 18) for c in main))
    draw.ellipse((300, 340, 420, 380), outline=accent, width=6)


def _plane(draw, main, accent):
    for cx, cy in ((150, 330), (520, 380), (330, 420)):
        draw.ellipse((cx - 90, cy - 30, cx + 90, cy + 30), fill=(255, 255, 255))
    draw.polygon([(160, 220), (560, 160), (600, 175), (200, 250)], fill=(250, 250, 250))
    draw.polygon([(330, 195), (420, 90), (450, 95), (400, 200)], fill=main)
    draw.polygon([(330, 220), (430, 300), (455, 295), (395, 210)], fill=main)
    draw.polygon([(180, 230), (150, 170), (175, 168), (215, 225)], fill=accent)


def _car(draw, main, accent):
    draw.rectangle((0, 360, 720, 480), fill=(70, 74, 82))
    for x in range(20, 720, 120):
        draw.rectangle((x, 412, x + 60, 422), fill=(240, 240, 240))
    draw.rounded_rectangle((170, 250, 560, 350), radius=30, fill=main)
    draw.polygon([(250, 250), (300, 180), (450, 180), (500, 250)], fill=main)
    draw.polygon([(270, 248), (310, 195), (370, 195), (370, 248)], fill=(220, 236, 248))
    draw.polygon([(385, 248), (385, 195), (440, 195), (480, 248)], fill=(220, 236, 248))
    for x in (250, 480):
        draw.ellipse((x - 42, 310, x + 42, 394), fill=(30, 30, 30))
        draw.ellipse((x - 18, 334, x + 18, 370), fill=accent)


def _bubbles(draw, main, accent):
    draw.rounded_rectangle((90, 90, 400, 250), radius=40, fill=main)
    draw.polygon([(150, 245), (130, 320), (220, 248)], fill=main)
    draw.rounded_rectangle((320, 200, 640, 360), radius=40, fill=accent)
    draw.polygon([(560, 355), (600, 430), (520, 358)], fill=accent)
    for i in range(3):
        draw.ellipse((180 + i * 60, 155, 210 + i * 60, 185), fill=(255, 255, 255))
        draw.rectangle((380, 250 + i * 30, 580 - i * 40, 262 + i * 30), fill=(255, 255, 255))


def _blocks(draw, main, accent):
    _ground(draw, (230, 220, 200), 360)
    colours = [main, accent, (240, 180, 60), (90, 170, 110)]
    for i in range(4):
        x = 150 + i * 110
        draw.rectangle((x, 260, x + 100, 360), fill=colours[i % 4])
    for i in range(2):
        x = 205 + i * 220
        draw.rectangle((x, 160, x + 100, 260), fill=colours[(i + 2) % 4])
    for i, x in enumerate((120, 600)):
        draw.line((x, 60 + i * 20, x + 10, 200), fill=(120, 120, 120), width=2)
        draw.ellipse((x - 40, 10 + i * 20, x + 40, 110 + i * 20), fill=colours[i + 1])


def _towers(draw, main, accent):
    _ground(draw, (150, 150, 140))
    for i, x in enumerate(range(60, 700, 130)):
        height = 170 + (i * 53) % 110
        draw.rectangle((x, 380 - height, x + 90, 380), fill=main)
        draw.polygon([(x - 10, 380 - height), (x + 45, 380 - height - 80),
                      (x + 100, 380 - height)], fill=accent)
        draw.rectangle((x + 32, 330, x + 58, 380), fill=(60, 50, 50))


def _shield(draw, main, accent):
    cx = 360
    draw.polygon([(cx, 60), (cx + 150, 110), (cx + 130, 300), (cx, 420), (cx - 130, 300),
                  (cx - 150, 110)], fill=main)
    draw.rectangle((cx - 16, 160, cx + 16, 300), fill=(255, 255, 255))
    draw.rectangle((cx - 70, 214, cx + 70, 246), fill=(255, 255, 255))
    draw.ellipse((cx - 200, 380, cx + 200, 460), fill=accent)


def _document(draw, main, accent):
    draw.rounded_rectangle((220, 50, 500, 430), radius=14, fill=(255, 255, 255),
                           outline=main, width=6)
    for i in range(7):
        draw.rectangle((260, 110 + i * 34, 460 - (i % 3) * 40, 124 + i * 34), fill=(180, 190, 200))
    draw.ellipse((390, 330, 470, 410), fill=accent)
    draw.polygon([(405, 400), (395, 460), (430, 440), (465, 460), (455, 400)], fill=accent)


def draw(scene: str, seed: str) -> bytes:
    """A PNG of ``scene`` in the colours of ``seed`` (a member's slug)."""
    sky, main, accent = palette(seed)
    image = _gradient(sky, (255, 255, 255))
    pen = ImageDraw.Draw(image)
    if scene == "clinic":
        _ground(pen, (200, 214, 190))
        _building(pen, main, accent)
    elif scene == "hotel":
        _ground(pen, (200, 214, 190))
        _building(pen, main, accent, cross=False, floors=5, x=160, width=400)
    elif scene == "room":
        _bed(pen, main, accent)
    elif scene == "spa":
        _waves(pen, main, accent)
    elif scene == "sanatorium":
        _waves(pen, main, accent, pines=True)
    elif scene == "plane":
        _plane(pen, main, accent)
    elif scene == "car":
        _car(pen, main, accent)
    elif scene == "bubbles":
        _bubbles(pen, main, accent)
    elif scene == "blocks":
        _blocks(pen, main, accent)
    elif scene == "towers":
        _towers(pen, main, accent)
    elif scene == "shield":
        _shield(pen, main, accent)
    else:
        _document(pen, main, accent)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


MEMBER_SCENES = {
    MemberKind.HOTEL: "hotel", MemberKind.SANATORIUM: "sanatorium", MemberKind.SPA: "spa",
    MemberKind.TRAVEL_AGENCY: "plane", MemberKind.TRANSFER_OPERATOR: "car",
    MemberKind.INTERPRETER_SERVICE: "bubbles", MemberKind.CHILDCARE: "blocks",
    MemberKind.EXCURSION_OPERATOR: "towers", MemberKind.INSURER: "shield",
}
OFFER_SCENES = {
    ChainLink.ACCOMMODATION: "room", ChainLink.REHABILITATION: "spa",
    ChainLink.TRAVEL: "plane", ChainLink.TRANSFER: "car", ChainLink.TRANSLATION: "bubbles",
    ChainLink.CHILDCARE: "blocks", ChainLink.LEISURE: "towers",
    ChainLink.INSURANCE: "shield", ChainLink.VISA_SUPPORT: "document",
    ChainLink.AFTERCARE: "document", ChainLink.TREATMENT: "room",
    ChainLink.CONSULTATION: "clinic", ChainLink.DIAGNOSTICS: "clinic",
}
#: The alt text of each scene ("%s": the member's name), in English.
ALT = {
    "clinic": "A drawing of the building of %s", "hotel": "A drawing of the building of %s",
    "room": "A drawing of a room with a bed at %s", "spa": "A drawing of a pool and waves at %s",
    "sanatorium": "A drawing of pines and the sea near %s",
    "plane": "A drawing of a plane above the clouds, for %s",
    "car": "A drawing of a car on the road, for %s",
    "bubbles": "A drawing of two speech bubbles, for %s",
    "blocks": "A drawing of toy blocks and balloons at %s",
    "towers": "A drawing of old town towers, for %s",
    "shield": "A drawing of a shield with a cross, for %s",
    "document": "A drawing of a document with a seal, for %s",
}


def _member_scene(provider: Provider) -> str:
    if provider.kind in _CLINICS:
        return "clinic"
    return MEMBER_SCENES.get(provider.kind, "document")


def attach_demo_pictures(admin) -> int:
    """Drawn pictures for every demo member (:data:`MEMBERS`) that has none yet, and for
    its first :data:`OFFERS_PER_MEMBER` offers; how many were added."""
    have = set(db_scalars(select(Picture.provider_id).distinct()))
    added = 0
    slugs = [spec["slug"] for spec in MEMBERS]
    providers = db_scalars(select(Provider).where(Provider.slug.in_(slugs))
                           .order_by(Provider.id))
    for provider in providers:
        if provider.id in have:
            continue
        scene = _member_scene(provider)
        media.add_picture(admin, draw(scene, provider.slug), provider_id=provider.id,
                          alt_texts={"en": ALT[scene] % provider.name})
        added += 1
        offers = db_scalars(select(Offer).where(Offer.provider_id == provider.id)
                            .order_by(Offer.id).limit(OFFERS_PER_MEMBER))
        for offer in offers:
            scene = OFFER_SCENES.get(offer.chain_link, "document")
            media.add_picture(admin, draw(scene, f"{provider.slug}/{offer.id}"),
                              offer_id=offer.id,
                              alt_texts={"en": ALT[scene] % provider.name})
            added += 1
    return added


def db_scalars(statement) -> list:
    return list(db.session.scalars(statement))
