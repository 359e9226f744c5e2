"""The itinerary: day by day on a page, and the same as a PDF that opens and holds the
traveller's name and every line; a member sees only its own lines."""

from __future__ import annotations

import io
import re
import time as clock
from datetime import datetime, time

from pypdf import PdfReader

from journey.builder.services import journeys
from journey.core.extensions import db
from journey.trip.models import LegDirection
from journey.trip.services import travel, travellers, vouchers
from tests.booking_fixtures import confirmed_booking
from tests.journey.builder_world import soon
from tests.journey.pages.patient_fixtures import text
from tests.journey.pages.portal_fixtures import login


def _trip(world, gateway):
    confirmed_booking(world, gateway)
    journey = journeys.list_journeys(world["patient"])[0][0]
    travellers.save_traveller(world["patient"], journey.id, full_name="Ingrid Solberg",
                              passport_number="NO1234567")
    travel.set_leg(world["patient"], journey.id, LegDirection.ARRIVAL, mode="flight",
                   number="LH 886", place="Vilnius Airport (VNO)",
                   local_time=datetime.combine(soon(10), time(14, 30)),
                   timezone="Europe/Vilnius")
    db.session.commit()
    return journey.id


def test_the_itinerary_page_and_its_pdf(client, world, gateway, tmp_path):
    journey_id = _trip(world, gateway)
    login(client, world["patient"])
    html = text(client.get(f"/journeys/{journey_id}/itinerary"))
    assert "Double room" in html and "Knee replacement" in html
    assert "LH 886" in html and "Lithuania Time" in html
    started = clock.perf_counter()
    response = client.get(f"/journeys/{journey_id}/itinerary.pdf")
    assert clock.perf_counter() - started < 2
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    (tmp_path / "itinerary.pdf").write_bytes(response.data)
    words = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    for expected in ("Ingrid Solberg", "Double room", "Knee replacement", "Vilnius Airport"):
        assert expected in words, expected
    assert "OW-" not in words  # the vouchers are links on the page, documents of their own


def test_a_member_sees_only_its_own_lines(client, world, gateway):
    journey_id = _trip(world, gateway)
    login(client, world["hotel_staff"])
    html = text(client.get(f"/journeys/{journey_id}/itinerary"))
    assert "Double room" in html and "Knee replacement" not in html
    assert "LH 886" not in html
    login(client, world["other_staff"])
    assert client.get(f"/journeys/{journey_id}/itinerary.pdf").status_code == 404


def test_the_arabic_pdf_opens(client, world, gateway, tmp_path):
    journey_id = _trip(world, gateway)
    login(client, world["patient"])
    client.post("/preferences", data={"language": "ar"})
    response = client.get(f"/journeys/{journey_id}/itinerary.pdf?lang=ar")
    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.data)).pages) >= 1
    (tmp_path / "itinerary-ar.pdf").write_bytes(response.data)  # to look at: pdftoppm
    print(f"\nPDF: {tmp_path / 'itinerary-ar.pdf'}")


def test_a_voucher_per_confirmed_line_with_its_own_number(client, world, gateway, tmp_path):
    journey_id = _trip(world, gateway)
    login(client, world["patient"])
    html = client.get(f"/journeys/{journey_id}/itinerary").get_data(as_text=True)
    links = re.findall(r'href="(/journeys/\d+/vouchers/(\d+)\.pdf)"', html)
    assert len(links) == 2  # the room and the surgery, both confirmed
    room = next(v for v in vouchers.vouchers(world["patient"], journey_id)
                if v.provider.id == world["hotel"].id)
    response = client.get(f"/journeys/{journey_id}/vouchers/{room.line.id}.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    for expected in (room.number, "Ingrid Solberg", "Hotel Tilto", "Double room"):
        assert expected in words, expected
    (tmp_path / "voucher.pdf").write_bytes(response.data)
    # The hotel's staff hold the hotel's voucher, not the clinic's.
    login(client, world["hotel_staff"])
    assert client.get(f"/journeys/{journey_id}/vouchers/{room.line.id}.pdf").status_code == 200
    surgery = next(v for v in vouchers.vouchers(world["patient"], journey_id)
                   if v.provider.id == world["clinic"].id)
    assert client.get(
        f"/journeys/{journey_id}/vouchers/{surgery.line.id}.pdf").status_code == 404
    assert len({v.number for v in vouchers.vouchers(world["patient"], journey_id)}) == 2


def test_each_day_is_in_the_order_it_is_lived(client, world, gateway, tmp_path):
    """The lines have no hour: on the arrival day the hotel comes after the flight and
    the pick-up, on the last day the check-out before the drop-off and the flight."""
    booking = confirmed_booking(world, gateway)
    journey = journeys.list_journeys(world["patient"])[0][0]
    room = next(line for line in booking.lines if line.offer_id == world["room"].id)
    for direction, day, at, number in ((LegDirection.ARRIVAL, room.start_on, time(14, 30),
                                        "LH 886"),
                                       (LegDirection.DEPARTURE, room.end_on, time(18, 5),
                                        "LH 887")):
        travel.set_leg(world["patient"], journey.id, direction, mode="flight",
                       number=number, place="Vilnius Airport (VNO)",
                       local_time=datetime.combine(day, at), timezone="Europe/Vilnius")
    db.session.commit()
    login(client, world["patient"])
    html = client.get(f"/journeys/{journey.id}/itinerary?lang=en").get_data(as_text=True)
    days = re.findall(r'<article class="day">(.*?)</article>', html, re.S)
    arrival = next(day for day in days if "LH 886" in day)
    assert arrival.index("LH 886") < arrival.index("Pick-up on arrival") \
        < arrival.index("Double room")
    departure = next(day for day in days if "LH 887" in day)
    assert departure.index("Check-out") < departure.index("Drop-off for departure") \
        < departure.index("LH 887")
    pdf = client.get(f"/journeys/{journey.id}/itinerary.pdf?lang=en").data
    (tmp_path / "itinerary.pdf").write_bytes(pdf)  # to look at: pdftoppm
    words = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert words.index("LH 886") < words.index("Double room") < words.index("Check-out") \
        < words.index("LH 887")
    print(f"\nPDF: {tmp_path / 'itinerary.pdf'}")


def test_the_arabic_pdf_gives_latin_content_its_direction(client, world, gateway, monkeypatch):
    """WeasyPrint knows no dir="auto": on an Arabic page, a Latin name or place so marked
    took the page's direction and, wrapped, put its arrow or comma at the wrong end of
    the line. The printed HTML names each one's direction."""
    journey_id = _trip(world, gateway)
    login(client, world["patient"])
    printed = []

    class Capture:
        def __init__(self, string, base_url=None):
            printed.append(string)

        def write_pdf(self):
            return b"%PDF-1.7"

    monkeypatch.setattr("journey.pages.itinerary.HTML", Capture)
    assert client.get(f"/journeys/{journey_id}/itinerary.pdf?lang=ar").status_code == 200
    html = printed[0]
    assert 'dir="rtl"' in html and 'dir="auto"' not in html
    assert re.search(r'<bdi dir="ltr">Vilnius Airport \(VNO\)</bdi>', html)
    assert re.search(r'<bdi dir="ltr">Ingrid Solberg</bdi>', html)


def test_the_travellers_needs_are_said_in_the_readers_language(client, world, gateway):
    """The itinerary (page and PDF) printed the stored codes of a traveller's needs,
    "wheelchair, diet:halal, language:lt"; it says them as the journey page does, as one
    list in the reader's language."""
    journey_id = _trip(world, gateway)
    traveller = travellers.list_travellers(world["patient"], journey_id)[0]
    travellers.save_traveller(world["patient"], journey_id, traveller.id,
                              needs=["wheelchair", "diet:halal", "language:lt"])
    db.session.commit()
    login(client, world["patient"])
    html = text(client.get(f"/journeys/{journey_id}/itinerary?lang=en"))
    assert "diet:halal" not in html and "wheelchair," not in html
    assert "Wheelchair, Diet: halal, and Interpreter: Lithuanian" in html


def test_a_check_out_isolates_the_offers_title(client, world, gateway):
    """"Check-out: Spa week (7 nights)" on an Arabic itinerary read "Spa week (7
    :تسجيل المغادرة nights)": the English title, set into the Arabic sentence without
    isolation, had its parenthesis taken by the line's direction."""
    journey_id = _trip(world, gateway)
    login(client, world["patient"])
    html = text(client.get(f"/journeys/{journey_id}/itinerary?lang=ar"))
    checkouts = re.findall(r'<li class="checkout muted">(.*?)</li>', html, re.S)
    assert checkouts
    assert all(re.search(r'<bdi dir="ltr">[^<]+</bdi>', line) for line in checkouts), checkouts
