"""The maps drawn from the shipped Natural Earth data (providers/media/maps.py): a pin per
place, a viewBox that scales, nothing fetched from elsewhere."""

from __future__ import annotations

import re

from providers.media.maps import Label, Pin, countries, fit, render_map

VILNIUS, KAUNAS, PALANGA = (54.6872, 25.2797), (54.8985, 23.9036), (55.9175, 21.0686)


def _pins(*places, href=True):
    return tuple(Pin(lat, lon, f"Member {n} & Co", f"/catalogue/members/{n}" if href else None)
                 for n, (lat, lon) in enumerate(places, 1))


def test_the_shipped_countries_are_decoded():
    by_name = {c.name: c for c in countries()}
    assert len(by_name) > 200
    west, south, east, north = by_name["Lithuania"].box
    assert 20.5 < west < 21.5 and 53.5 < south < 54.2 and 26.5 < east < 27 and 56 < north < 56.7


def test_the_view_holds_every_pin_with_a_margin():
    view = fit([(lon, lat) for lat, lon in (VILNIUS, KAUNAS, PALANGA)])
    for lat, lon in (VILNIUS, KAUNAS, PALANGA):
        x, y = view.project(lon, lat)
        assert 50 < x < 950 and 20 < y < view.height - 20


def test_a_pin_per_member_a_link_and_a_title():
    svg = str(render_map(_pins(VILNIUS, KAUNAS, PALANGA), "The cluster"))
    assert svg.count('class="map-pin"') == 3
    assert sorted(re.findall(r'<a href="(/catalogue/members/\d)"', svg)) == [
        "/catalogue/members/1", "/catalogue/members/2", "/catalogue/members/3"]
    assert "<title>Member 1 &amp; Co</title>" in svg
    assert re.search(r'viewBox="0 0 1000 \d+"', svg)
    assert 'aria-label="The cluster"' in svg
    assert "<title>Lithuania</title>" in svg and "<title>Latvia</title>" in svg
    assert "<title>Brazil</title>" not in svg  # only the countries in view


def test_nothing_outside_is_referenced():
    svg = str(render_map(_pins(VILNIUS, href=False), "Where", min_span=3.0))
    assert re.findall(r"https?://[^\"']+", svg) == ["http://www.w3.org/2000/svg"]
    assert "href" not in svg and "<image" not in svg and "<script" not in svg
    assert svg.count('class="map-pin"') == 1


def test_titles_are_escaped():
    svg = str(render_map((Pin(54.7, 25.3, '<script>"x"</script>', '/a?b="c"'),), "Map"))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_place_names_are_written_beside_their_points():
    svg = str(render_map(_pins(VILNIUS), "Map", labels=(Label(*VILNIUS, "Vilnius <LT>"),)))
    assert re.search(r'<text class="map-label"[^>]*>Vilnius &lt;LT&gt;</text>', svg)
