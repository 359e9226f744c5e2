"""Pictures of members and offers: upload (type sniffed from the content, size and pixel
limits, EXIF orientation applied, every metadata dropped by re-encoding), two sizes in the
file storage, order, alt texts per language, deletion, and who may see which.

Only the member's manager (or the cluster's staff) changes a member's pictures; anyone
sees the pictures of a verified member and of its published offers; the member's own
staff also see those of its drafts."""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select

from journey.core.accounts.permissions import can_manage_member, require_member_access
from journey.core.errors import InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.files import check_upload
from journey.core.storage import MissingFile, get_storage
from providers.media.models import Picture
from providers.services import members as member_service
from providers.services.common import check_language, text_in
from providers.services.offers import get_offer, is_public

#: The types a picture may be, sniffed from its bytes (never its name or Content-Type).
PICTURE_TYPES = ("image/jpeg", "image/png", "image/webp")
#: Pillow's names of those types.
PILLOW_FORMATS = {"JPEG", "PNG", "WEBP"}
#: The largest file taken.
MAX_BYTES = 10 * 1024 * 1024
#: The most pixels an upload may have (a decompression bomb has many more).
MAX_PIXELS = 40_000_000
#: The widths (at most) of the two stored sizes; the height follows the proportions.
THUMB_WIDTH = 480
LARGE_WIDTH = 1600
SIZES = ("thumb", "large")
#: What is stored: WebP (Pillow here is built with it), quality for both sizes.
STORED_FORMAT, STORED_TYPE, QUALITY = "WEBP", "image/webp", 82
#: libwebp's effort (0-6): 2 encodes a large size in milliseconds, and smaller than 4 here.
METHOD = 2
#: The most pictures one member or offer has.
MAX_PER_OWNER = 12
ALT_TEXT_MAX = 300


@dataclass(frozen=True)
class Rendition:
    """One re-encoded size of a picture: its bytes and dimensions."""

    data: bytes
    width: int
    height: int


def _refuse(message) -> None:
    raise InvalidInput(message, fields={"file": [message]})


def open_image(data: bytes) -> Image.Image:
    """``data`` as a decoded Pillow image, or :class:`InvalidInput` when it is not a
    JPEG, PNG or WebP picture (whatever its name says), is larger than
    :data:`MAX_BYTES` or has more than :data:`MAX_PIXELS` pixels."""
    check_upload(data, allowed=PICTURE_TYPES, max_bytes=MAX_BYTES)
    not_a_picture = _l("This file is not a JPEG, PNG or WebP picture.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in PILLOW_FORMATS:
                _refuse(not_a_picture)
            width, height = image.size
            if width * height > MAX_PIXELS:
                _refuse(_l("This picture has too many pixels (at most %(limit)d million).",
                           limit=MAX_PIXELS // 1_000_000))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(_l("This picture has too many pixels (at most %(limit)d million).",
                   limit=MAX_PIXELS // 1_000_000))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        _refuse(not_a_picture)
    return image


def _clean(image: Image.Image) -> Image.Image:
    """The pixels only: EXIF orientation applied, then a new image without any of the
    original's metadata (EXIF, XMP, ICC, comments, text chunks)."""
    image = ImageOps.exif_transpose(image)
    mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") and _has_alpha(image) else "RGB"
    image = image.convert(mode)
    clean = Image.new(mode, image.size)
    clean.paste(image)
    return clean


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _rendition(image: Image.Image, max_width: int) -> Rendition:
    width, height = image.size
    if width > max_width:
        height = max(1, round(height * max_width / width))
        width = max_width
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, STORED_FORMAT, quality=QUALITY, method=METHOD)
    return Rendition(out.getvalue(), width, height)


def renditions(data: bytes) -> tuple[Rendition, Rendition]:
    """``(large, thumb)`` of an uploaded picture, re-encoded without metadata."""
    image = _clean(open_image(data))
    return _rendition(image, LARGE_WIDTH), _rendition(image, THUMB_WIDTH)


# --- who may change what ----------------------------------------------------------------

def _owner(actor, *, provider_id: int | None = None, offer_id: int | None = None):
    """``(provider_id, offer_id)`` that ``actor`` may change pictures of: the member's
    manager or the cluster's staff; 404 for what the actor may not even see."""
    if offer_id is not None:
        offer = get_offer(actor, offer_id)
        require_member_access(actor, offer.provider_id, manager=True)
        return offer.provider_id, offer.id
    provider = member_service.get_member_for_change(actor, provider_id, manager=True)
    return provider.id, None


def _get_for_change(actor, picture_id: int) -> Picture:
    picture = db.session.get(Picture, picture_id)
    if picture is None or not can_manage_member(actor, picture.provider_id):
        raise NotFound(_l("No such picture."))
    _owner(actor, provider_id=picture.provider_id, offer_id=picture.offer_id)
    return picture


def _owned_by(provider_id: int, offer_id: int | None):
    return (Picture.provider_id == provider_id) & (
        Picture.offer_id.is_(None) if offer_id is None else Picture.offer_id == offer_id)


# --- changes ------------------------------------------------------------------------------

def clean_alt_texts(texts: Mapping[str, str] | None) -> dict[str, str]:
    """Alt texts by language: known languages, stripped, empty ones left out."""
    clean: dict[str, str] = {}
    for language, text in (texts or {}).items():
        text = (text or "").strip()
        if not text:
            continue
        if len(text) > ALT_TEXT_MAX:
            raise InvalidInput(fields={"alt_texts": [
                _l("At most %(num)d characters.", num=ALT_TEXT_MAX)]})
        clean[check_language(language, "alt_texts")] = text
    return clean


def add_picture(actor, data: bytes, *, provider_id: int | None = None,
                offer_id: int | None = None,
                alt_texts: Mapping[str, str] | None = None) -> Picture:
    """Add a picture of a member (``provider_id``) or of an offer (``offer_id``), last
    in their order. The upload is checked and re-encoded before anything is stored."""
    provider_id, offer_id = _owner(actor, provider_id=provider_id, offer_id=offer_id)
    alt = clean_alt_texts(alt_texts)
    count = db.session.scalar(select(func.count(Picture.id))
                              .where(_owned_by(provider_id, offer_id)))
    if count >= MAX_PER_OWNER:
        _refuse(_l("At most %(num)d pictures each.", num=MAX_PER_OWNER))
    large, thumb = renditions(data)
    storage = get_storage()
    last = db.session.scalar(select(func.max(Picture.position))
                             .where(_owned_by(provider_id, offer_id)))
    picture = Picture(provider_id=provider_id, offer_id=offer_id,
                      position=0 if last is None else last + 1, mime_type=STORED_TYPE,
                      large_key=storage.put(large.data), width=large.width,
                      height=large.height, thumb_key=storage.put(thumb.data),
                      thumb_width=thumb.width, thumb_height=thumb.height, alt_texts=alt)
    db.session.add(picture)
    db.session.flush()
    return picture


def set_alt_texts(actor, picture_id: int, texts: Mapping[str, str]) -> Picture:
    """Replace a picture's alt texts (languages left empty are removed)."""
    picture = _get_for_change(actor, picture_id)
    picture.alt_texts = clean_alt_texts(texts)
    db.session.flush()
    return picture


def move_picture(actor, picture_id: int, step: int) -> Picture:
    """Move a picture one place earlier (``step=-1``) or later (``+1``) among its owner's."""
    picture = _get_for_change(actor, picture_id)
    ordered = list_pictures(picture.provider_id, picture.offer_id)
    index = ordered.index(picture)
    target = index + (1 if step > 0 else -1)
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
        for position, each in enumerate(ordered):
            each.position = position
        db.session.flush()
    return picture


def delete_picture(actor, picture_id: int) -> None:
    """Delete a picture and both its stored sizes."""
    picture = _get_for_change(actor, picture_id)
    keys = (picture.large_key, picture.thumb_key)
    db.session.delete(picture)
    db.session.flush()
    storage = get_storage()
    for key in keys:
        storage.delete(key)


# --- reading ------------------------------------------------------------------------------

def list_pictures(provider_id: int, offer_id: int | None = None) -> list[Picture]:
    """A member's own pictures (``offer_id`` None) or one offer's, in their order."""
    return list(db.session.scalars(select(Picture).where(_owned_by(provider_id, offer_id))
                                   .order_by(Picture.position, Picture.id)))


def _grouped(pictures: Iterable[Picture], attribute: str, ids) -> dict[int, list[Picture]]:
    found: dict[int, list[Picture]] = {i: [] for i in ids}
    for picture in pictures:
        found.setdefault(getattr(picture, attribute), []).append(picture)
    return found


def pictures_of_offers(offer_ids: Iterable[int]) -> dict[int, list[Picture]]:
    """The pictures of each offer, in order, in one query (every id has an entry)."""
    ids = sorted(set(offer_ids))
    if not ids:
        return {}
    rows = db.session.scalars(select(Picture).where(Picture.offer_id.in_(ids))
                              .order_by(Picture.offer_id, Picture.position, Picture.id))
    return _grouped(rows, "offer_id", ids)


def pictures_of_members(provider_ids: Iterable[int]) -> dict[int, list[Picture]]:
    """The members' own pictures (not their offers'), in order, in one query."""
    ids = sorted(set(provider_ids))
    if not ids:
        return {}
    rows = db.session.scalars(select(Picture).where(Picture.provider_id.in_(ids),
                                                    Picture.offer_id.is_(None))
                              .order_by(Picture.provider_id, Picture.position, Picture.id))
    return _grouped(rows, "provider_id", ids)


def is_public_picture(picture: Picture) -> bool:
    """Shown to everyone: its member is verified and, for an offer's, the offer is on
    sale (:func:`providers.services.offers.is_public`)."""
    if picture.offer_id is not None:
        return is_public(picture.offer)
    return picture.provider.is_verified


def get_picture(actor, picture_id: int) -> Picture:
    """A picture as ``actor`` may see it: public ones for everyone, the rest for the
    member's own staff and the cluster; 404 for anyone else."""
    picture = db.session.get(Picture, picture_id)
    if picture is None or not (is_public_picture(picture)
                               or can_manage_member(actor, picture.provider_id)):
        raise NotFound(_l("No such picture."))
    return picture


def picture_bytes(picture: Picture, size: str) -> bytes:
    """The stored bytes of one size (``thumb`` or ``large``)."""
    if size not in SIZES:
        raise NotFound(_l("No such picture."))
    try:
        return get_storage().open(picture.thumb_key if size == "thumb" else picture.large_key)
    except MissingFile:
        raise NotFound(_l("No such picture.")) from None


def etag(picture: Picture, size: str) -> str:
    """A strong validator of one size: its content never changes under a key."""
    key = picture.thumb_key if size == "thumb" else picture.large_key
    return hashlib.sha256(f"{picture.id}:{size}:{key}".encode()).hexdigest()[:32]


def alt_text(picture: Picture, language: str | None) -> tuple[str | None, str]:
    """The picture's alt text along the catalogue's fallback chain: ``(language, text)``,
    ``(None, "")`` when it has none."""
    chosen, text = text_in(picture.alt_texts or {}, language, picture.provider)
    return chosen, text or ""

