"""Pictures, chain-link icons and maps on the pages (journey/templates/_media.html).

* ``/media/<id>/<size>`` serves one size of a picture: a public one with a year-long
  ``Cache-Control`` and an ``ETag``; one of a draft offer or an unverified member only to
  the member's own staff and the cluster (not cached by shared caches); 404 for anyone
  else.
* The template globals the macros call. Pictures are read in one query for every offer
  (or member) the request has loaded so far, the first time a macro asks for one not yet
  read, so a catalogue page of 20 results costs one query, not 20.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, g, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup

from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import can_manage_member
from journey.core.extensions import db
from journey.core.i18n import content_language
from journey.core.types import ID_CONVERTER
from journey.pages.common import page_locale
from providers.media import services as media
from providers.media.maps import Label, Pin, render_map
from providers.models import ChainLink, Offer, Provider
from providers.services.members import placed_members

bp = Blueprint("media", __name__)

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
#: One Tabler outline icon per link of the chain (journey/static/icons/, MIT licence).
CHAIN_ICONS = {
    ChainLink.VISA_SUPPORT: "file-certificate",
    ChainLink.TRAVEL: "plane",
    ChainLink.TRANSFER: "car",
    ChainLink.ACCOMMODATION: "bed",
    ChainLink.CONSULTATION: "stethoscope",
    ChainLink.DIAGNOSTICS: "microscope",
    ChainLink.TREATMENT: "first-aid-kit",
    ChainLink.REHABILITATION: "massage",
    ChainLink.LEISURE: "beach",
    ChainLink.TRANSLATION: "language",
    ChainLink.CHILDCARE: "baby-carriage",
    ChainLink.INSURANCE: "shield-heart",
    ChainLink.AFTERCARE: "clipboard-heart",
}
#: A public picture never changes under its address (a new upload is a new picture).
PUBLIC_CACHE = "public, max-age=31536000, immutable"
PRIVATE_CACHE = "private, no-cache"


@bp.get(f"/media/<{ID_CONVERTER}:picture_id>/<any(thumb, large):size>")
def picture(picture_id: int, size: str):
    item = media.get_picture(current_actor(), picture_id)
    tag = media.etag(item, size)
    public = media.is_public_picture(item)
    response = Response(status=200, mimetype=item.mime_type)
    response.set_etag(tag)
    response.headers["Cache-Control"] = PUBLIC_CACHE if public else PRIVATE_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.if_none_match.contains(tag):
        response.status_code = 304
        return response
    response.set_data(media.picture_bytes(item, size))
    return response


# --- pictures for the macros --------------------------------------------------------------

def _visible(pictures):
    actor = current_actor()
    return [p for p in pictures
            if media.is_public_picture(p) or can_manage_member(actor, p.provider_id)]


def _loaded(model) -> list[int]:
    """The ids of every ``model`` row this request's session holds."""
    return [obj.id for obj in list(db.session.identity_map.values())
            if isinstance(obj, model) and obj.id is not None]


@bp.app_template_global()
def offer_pictures(offer) -> list:
    """The pictures of ``offer`` the reader may see, in order."""
    cache = g.setdefault("_offer_pictures", {})
    if offer.id not in cache:
        ids = {offer.id, *(i for i in _loaded(Offer) if i not in cache)}
        cache.update(media.pictures_of_offers(ids))
    return _visible(cache.get(offer.id, []))


@bp.app_template_global()
def member_pictures(provider) -> list:
    """The member's own pictures (its profile) the reader may see, in order."""
    cache = g.setdefault("_member_pictures", {})
    if provider.id not in cache:
        ids = {provider.id, *(i for i in _loaded(Provider) if i not in cache)}
        cache.update(media.pictures_of_members(ids))
    return _visible(cache.get(provider.id, []))


@bp.app_template_global()
def picture_url(item, size: str = "thumb") -> str:
    return url_for("media.picture", picture_id=item.id, size=size)


@bp.app_template_global()
def picture_alt(item) -> dict:
    """``{"language": ..., "text": ...}``: the alt text along the fallback chain."""
    language, text = media.alt_text(item, content_language())
    return {"language": language, "text": text}


# --- chain-link icons ---------------------------------------------------------------------

@lru_cache(maxsize=32)
def _icon(name: str) -> Markup:
    svg = (ICONS / f"{name}.svg").read_text(encoding="utf-8")
    svg = svg.replace("<svg\n", '<svg aria-hidden="true" focusable="false"\n', 1)
    start = svg.index('class="')
    end = svg.index('"', start + len('class="'))
    svg = svg[:start] + f'class="chain-icon chain-icon-{name}"' + svg[end + 1:]
    svg = svg.replace('<path stroke="none" d="M0 0h24v24H0z" fill="none" />', "")
    return Markup(" ".join(svg.split()))  # noqa: S704 (a vendored icon of ours)


@bp.app_template_global()
def chain_icon_svg(link) -> Markup:
    """The inline SVG icon of a chain link (decorative: its name is written beside it)."""
    try:
        name = CHAIN_ICONS[ChainLink(link)]
    except (ValueError, KeyError):
        return Markup("")
    return _icon(name)


# --- maps ---------------------------------------------------------------------------------

def _placed(provider) -> bool:
    return provider.latitude is not None and provider.longitude is not None


@bp.app_template_global()
def map_members() -> list:
    """Every verified member with coordinates, for the cluster map (one query)."""
    return placed_members()


@bp.app_template_global()
def cluster_map_svg(members) -> Markup:
    """The cluster's members with coordinates as pins, each a link to its page."""
    pins = tuple(Pin(m.latitude, m.longitude, m.name,
                     url_for("catalogue.member", provider_id=m.id))
                 for m in members if _placed(m))
    if not pins:
        return Markup("")
    return render_map(pins, _("Map of the cluster's members"), labels=city_labels(members),
                      language=page_locale())


def city_labels(members) -> tuple[Label, ...]:
    """One label per city of the members, at the middle of its members' places."""
    places: dict[str, list] = {}
    for member in members:
        if _placed(member):
            places.setdefault(member.city.strip(), []).append(member)
    return tuple(Label(sum(m.latitude for m in group) / len(group),
                       sum(m.longitude for m in group) / len(group), city)
                 for city, group in sorted(places.items()))


@bp.app_template_global()
def member_map_svg(provider) -> Markup:
    """Where one member is: zoomed around it, with the countries around."""
    if not _placed(provider):
        return Markup("")
    pin = Pin(provider.latitude, provider.longitude, provider.name)
    return render_map((pin,), _("Map: where %(name)s is", name=provider.name),
                      min_span=3.0, css_class="map map-place",
                      labels=city_labels([provider]), language=page_locale())


@bp.app_template_global()
def coordinates_text(provider) -> str:
    """The member's coordinates in the reader's locale, with the hemispheres."""
    lat, lon = provider.latitude, provider.longitude
    latitude = format_decimal(abs(lat), format="0.0000")
    longitude = format_decimal(abs(lon), format="0.0000")
    if lat >= 0 and lon >= 0:
        return _("%(lat)s° N, %(lon)s° E", lat=latitude, lon=longitude)
    if lat >= 0:
        return _("%(lat)s° N, %(lon)s° W", lat=latitude, lon=longitude)
    if lon >= 0:
        return _("%(lat)s° S, %(lon)s° E", lat=latitude, lon=longitude)
    return _("%(lat)s° S, %(lon)s° W", lat=latitude, lon=longitude)

