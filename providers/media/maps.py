"""Maps without a tile server: inline SVG drawn from the Natural Earth countries that
the project ships (``data/countries-50m.json``, TopoJSON from the world-atlas package).

* :func:`countries` decodes the TopoJSON once (arcs, quantization, polygons) into rings
  of longitude/latitude with a bounding box per country.
* :func:`render_map` draws pins over the countries around them: an equirectangular
  projection scaled by the cosine of the view's middle latitude (right for the few
  hundred kilometres a cluster spans), rings clipped to the view, points closer than
  half a unit dropped. The result is cached per set of pins.

No request leaves the server: the SVG has no external reference at all."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from markupsafe import Markup, escape

DATA = Path(__file__).resolve().parent / "data" / "countries-50m.json"
#: The SVG's coordinate system: 1000 units wide, the height from the view's proportions.
WIDTH = 1000.0
#: Proportions (height / width) a map keeps within.
MIN_RATIO, MAX_RATIO = 0.45, 0.6
#: The smallest view (degrees of latitude) and the margin around the pins.
MIN_SPAN, MARGIN = 1.2, 0.2

Ring = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Country:
    """A country's polygons (each a tuple of rings, outer first) in lon/lat, its box."""

    id: str
    name: str
    polygons: tuple[tuple[Ring, ...], ...]
    box: tuple[float, float, float, float]  # west, south, east, north


@dataclass(frozen=True)
class Pin:
    """A place on the map: where, its title (a tooltip and the link's name), its link."""

    latitude: float
    longitude: float
    title: str
    href: str | None = None


def _decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def _ring(arcs, indexes) -> Ring:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return tuple(points)


@lru_cache(maxsize=1)
def countries() -> tuple[Country, ...]:
    """Every country of the shipped data, decoded once."""
    topology = json.loads(DATA.read_text(encoding="utf-8"))
    arcs = _decode_arcs(topology)
    found = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        if geometry["type"] == "Polygon":
            shapes = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            shapes = geometry["arcs"]
        else:
            continue
        polygons = tuple(tuple(_ring(arcs, ring) for ring in shape) for shape in shapes)
        xs = [x for polygon in polygons for x, _ in polygon[0]]
        ys = [y for polygon in polygons for _, y in polygon[0]]
        found.append(Country(id=str(geometry.get("id", "")),
                             name=geometry.get("properties", {}).get("name", ""),
                             polygons=polygons, box=(min(xs), min(ys), max(xs), max(ys))))
    return tuple(found)


def country_name(country: Country, language: str) -> str:
    """A country's name in ``language`` (CLDR's, through its ISO 3166 number), else the
    data's English one."""
    codes = get_global("territory_aliases").get(country.id.zfill(3), [])
    if len(codes) == 1:
        try:
            return Locale.parse(language).territories.get(codes[0]) or country.name
        except (ValueError, UnknownLocaleError):
            pass
    return country.name


# --- the view -----------------------------------------------------------------------------

@dataclass(frozen=True)
class View:
    """The part of the world shown: its box in degrees and the projection onto the SVG."""

    west: float
    south: float
    east: float
    north: float

    @property
    def cos(self) -> float:
        return math.cos(math.radians((self.south + self.north) / 2))

    @property
    def scale(self) -> float:
        return WIDTH / ((self.east - self.west) * self.cos)

    @property
    def height(self) -> float:
        return (self.north - self.south) * self.scale

    def project(self, longitude: float, latitude: float) -> tuple[float, float]:
        return ((longitude - self.west) * self.cos * self.scale,
                (self.north - latitude) * self.scale)


def fit(points: list[tuple[float, float]], *, min_span: float = MIN_SPAN,
        margin: float = MARGIN) -> View:
    """A view around ``points`` (lon, lat): a margin on every side, at least ``min_span``
    degrees of latitude tall, its proportions within :data:`MIN_RATIO`..:data:`MAX_RATIO`."""
    lons = [p[0] for p in points] or [0.0]
    lats = [p[1] for p in points] or [0.0]
    middle_lat = (min(lats) + max(lats)) / 2
    cos = max(math.cos(math.radians(middle_lat)), 0.1)
    # Work in "ground" units where one unit is the same distance both ways.
    width = max((max(lons) - min(lons)) * cos, 1e-9)
    height = max(max(lats) - min(lats), 1e-9)
    width, height = width * (1 + 2 * margin), height * (1 + 2 * margin)
    height = max(height, min_span)
    width = max(width, height / MAX_RATIO)
    height = max(height, width * MIN_RATIO)
    centre_lon, centre_lat = (min(lons) + max(lons)) / 2, middle_lat
    half_lon, half_lat = width / cos / 2, height / 2
    return View(max(centre_lon - half_lon, -180), max(centre_lat - half_lat, -89.9),
                min(centre_lon + half_lon, 180), min(centre_lat + half_lat, 89.9))


def _intersects(box, view: View) -> bool:
    west, south, east, north = box
    return not (east < view.west or west > view.east or north < view.south
                or south > view.north)


def _clip(ring: list[tuple[float, float]], xmin, ymin, xmax, ymax):
    """Sutherland-Hodgman: ``ring`` (projected) clipped to the rectangle."""
    def clip_edge(points, inside, cross):
        out = []
        for i, current in enumerate(points):
            previous = points[i - 1]
            if inside(current):
                if not inside(previous):
                    out.append(cross(previous, current))
                out.append(current)
            elif inside(previous):
                out.append(cross(previous, current))
        return out

    def at_x(x):
        return lambda a, b: (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))

    def at_y(y):
        return lambda a, b: (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)

    points = ring
    for inside, cross in ((lambda p: p[0] >= xmin, at_x(xmin)),
                          (lambda p: p[0] <= xmax, at_x(xmax)),
                          (lambda p: p[1] >= ymin, at_y(ymin)),
                          (lambda p: p[1] <= ymax, at_y(ymax))):
        if not points:
            break
        points = clip_edge(points, inside, cross)
    return points


def _path(polygons, view: View) -> str:
    pad = 20.0
    xmin, ymin, xmax, ymax = -pad, -pad, WIDTH + pad, view.height + pad
    parts = []
    for polygon in polygons:
        for ring in polygon:
            projected = [view.project(lon, lat) for lon, lat in ring]
            clipped = _clip(projected, xmin, ymin, xmax, ymax)
            kept: list[tuple[float, float]] = []
            for x, y in clipped:
                if not kept or abs(x - kept[-1][0]) + abs(y - kept[-1][1]) >= 0.8:
                    kept.append((x, y))
            if len(kept) < 3:
                continue
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in kept) + "Z")
    return "".join(parts)


def _pin(pin: Pin, view: View, radius: float) -> str:
    x, y = view.project(pin.longitude, pin.latitude)
    title = escape(pin.title)
    # A drop: the point at the place, the head above it.
    head = (f'<path class="map-pin" d="M{x:.1f},{y:.1f}l{-radius * 0.75:.1f},'
            f'{-radius * 1.6:.1f}a{radius:.1f},{radius:.1f} 0 1 1 {radius * 1.5:.1f},0z"/>'
            f'<circle class="map-pin-dot" cx="{x:.1f}" cy="{y - radius * 2.1:.1f}" '
            f'r="{radius * 0.4:.1f}"/>')
    body = f"<title>{title}</title>{head}"
    if pin.href:
        return f'<a href="{escape(pin.href)}" aria-label="{title}">{body}</a>'
    return f'<g role="img" aria-label="{title}">{body}</g>'


@dataclass(frozen=True)
class Label:
    """A place name written on the map (a city of the pins), beside its point."""

    latitude: float
    longitude: float
    text: str


def _label(label: Label, view: View) -> str:
    x, y = view.project(label.longitude, label.latitude)
    return (f'<text class="map-label" x="{x + 16:.1f}" y="{y + 8:.1f}" '
            f'text-anchor="start">{escape(label.text)}</text>')


@lru_cache(maxsize=256)
def render_map(pins: tuple[Pin, ...], label: str, *, min_span: float = MIN_SPAN,
               css_class: str = "map", labels: tuple[Label, ...] = (),
               language: str = "en") -> Markup:
    """An inline SVG of ``pins`` over the countries around them, fitted with a margin,
    with ``labels`` (place names) under them. ``label`` names the map for screen readers;
    the countries' tooltips are in ``language``. Cached per (pins, label, span, labels,
    language)."""
    view = fit([(p.longitude, p.latitude) for p in pins], min_span=min_span)
    shapes = []
    for country in countries():
        if _intersects(country.box, view):
            d = _path(country.polygons, view)
            if d:
                shapes.append(f'<path class="map-country" d="{d}"><title>'
                              f'{escape(country_name(country, language))}</title></path>')
    radius = 14.0
    pins_svg = "".join(_pin(pin, view, radius) for pin in
                       sorted(pins, key=lambda p: (-p.latitude, p.longitude)))
    height = view.height
    return Markup(  # noqa: S704 (every text in it is escaped above)
        f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH:.0f} {height:.0f}" preserveAspectRatio="xMidYMid meet" '
        f'role="group" aria-label="{escape(label)}">'
        f'<rect class="map-sea" x="0" y="0" width="{WIDTH:.0f}" height="{height:.0f}"/>'
        f'{"".join(shapes)}<g class="map-pins">{pins_svg}</g>'
        f'<g class="map-labels" aria-hidden="true">'
        f'{"".join(_label(each, view) for each in labels)}</g></svg>')
