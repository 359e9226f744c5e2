"""The patient's booking actions on the journey page: go on after a decline, cancel an
item or the booking (with the fee shown), pay the balance — through the same services
and permissions as the API."""

import pytest
from babel.dates import format_date

from bookings.models import BookingStatus, LineStatus, PaymentKind, PaymentStatus
from journey.builder.services import checkout
from journey.builder.services.booking_link import journey_of
from journey.core.extensions import db
from providers.services import offers
from tests.booking_fixtures import (
    accepted_quote,
    authorised_booking,
    confirmed_booking,
    line_of,
    room_declined_surgery_accepted,
)
from tests.journey.pages.patient_fixtures import login, text


def test_after_a_decline_the_patient_goes_on_without_it(world, gateway, client):
    booking = authorised_booking(world, gateway)
    room_declined_surgery_accepted(world, booking, gateway)
    journey = journey_of(booking)
    login(client, world["patient"])
    page = client.get(f"/my/journeys/{journey.id}")
    assert page.status_code == 200
    assert "Closed for renovation" in text(page) and 'id="proceed"' in text(page)
    answer = client.post(f"/my/bookings/{booking.id}/proceed")
    assert answer.status_code == 302
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.payments[0].captured_minor == 195000


def test_another_patient_cannot_act_on_the_booking(world, gateway, client):
    booking = authorised_booking(world, gateway)
    login(client, world["patient2"])
    assert client.post(f"/my/bookings/{booking.id}/cancel").status_code == 404
    assert client.post(f"/my/booking-lines/{booking.lines[0].id}/cancel").status_code == 404
    assert client.get(f"/my/bookings/{booking.id}/balance").status_code == 404
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AUTHORISED


def test_a_members_staff_do_not_see_the_patients_balance_page(world, gateway, client):
    """The hotel's staff see their own lines of the booking, not its total or balance."""
    booking = confirmed_booking(world, gateway)
    login(client, world["hotel_staff"])
    page = client.get(f"/my/bookings/{booking.id}/balance?lang=en")
    assert page.status_code == 403
    assert "7,300.00" not in page.get_data(as_text=True)


def test_booked_dates_name_the_last_day_not_the_day_after(world, gateway, client):
    booking = confirmed_booking(world, gateway)
    surgery = line_of(booking, world["surgery"])  # one day
    login(client, world["patient"])
    page = text(client.get(f"/my/journeys/{journey_of(booking).id}?lang=en"))
    one_day = format_date(surgery.start_on, "medium", locale="en")
    day_after = format_date(surgery.end_on, "medium", locale="en")
    assert one_day in page and f"{one_day} – {day_after}" not in page


def test_the_fee_is_shown_and_kept_when_an_item_is_cancelled(world, gateway, client):
    offers.set_cancellation_tiers(world["admin"], world["surgery"].id,
                                  [{"days_before": 7, "refund_percent": 50}])
    booking = confirmed_booking(world, gateway)
    surgery = line_of(booking, world["surgery"])
    login(client, world["patient"])
    page = text(client.get(f"/my/journeys/{journey_of(booking).id}?lang=de"))
    assert "3.250,00" in page  # the fee the clinic keeps, formatted for German
    too_long = client.post(f"/my/booking-lines/{surgery.id}/cancel", data={"reason": "x" * 501})
    assert too_long.status_code == 302
    db.session.refresh(surgery)
    assert surgery.status == LineStatus.CONFIRMED  # refused, nothing changed
    client.post(f"/my/booking-lines/{surgery.id}/cancel", data={"reason": "Changed plans"})
    db.session.refresh(surgery)
    assert surgery.status == LineStatus.CANCELLED and surgery.kept_minor == 325000


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_balance_page_asks_for_the_card(world, gateway, client, lang):
    booking = confirmed_booking(world, gateway)
    login(client, world["patient"])
    page = client.get(f"/my/bookings/{booking.id}/balance?lang={lang}")
    assert page.status_code == 200 and 'id="card-element"' in text(page)
    missing = client.post(f"/my/bookings/{booking.id}/balance",
                          data={"idempotency_key": "balance-key-01", "payment_method": ""})
    assert missing.status_code == 422
    paid = client.post(f"/my/bookings/{booking.id}/balance",
                       data={"idempotency_key": "balance-key-01",
                             "payment_method": "pm_card_visa"})
    assert paid.status_code == 302
    again = client.post(f"/my/bookings/{booking.id}/balance",  # the same form, twice
                        data={"idempotency_key": "balance-key-01",
                              "payment_method": "pm_card_visa"})
    assert again.status_code == 302
    db.session.refresh(booking)
    balance_payments = [p for p in booking.payments if p.kind == PaymentKind.BALANCE]
    assert [p.status for p in balance_payments] == [PaymentStatus.CAPTURED]


def test_a_booking_waiting_for_the_card_may_be_cancelled_not_its_items(world, gateway,
                                                                         client):
    """The page offers what the services accept: cancel_booking ends a booking still
    waiting for the card; cancel_line refuses its items."""
    booking = checkout.checkout_quote(world["patient"], accepted_quote(world).id,
                                      gateway=gateway)
    db.session.commit()
    assert booking.status == BookingStatus.PENDING_PAYMENT
    login(client, world["patient"])
    page = text(client.get(f"/my/journeys/{journey_of(booking).id}?lang=en"))
    assert 'id="cancel-booking"' in page and "/my/booking-lines/" not in page
    # a link to the preview (a form sent by GET left a bare "?" on its address)
    preview = f'href="/my/bookings/{booking.id}/cancel"'
    assert preview in page.split('id="cancel-booking"')[1].split("</p>")[0]
    assert client.post(f"/my/bookings/{booking.id}/cancel").status_code == 302
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED


def test_the_cancel_preview_keeps_a_latin_member_name_apart_from_arabic_dates(
        world, gateway, client):
    """On a right-to-left page a member's Latin name followed by the dates ("Hotel Tilto
    · 20 يناير") took the day's number into its left-to-right run, so the day stood
    beside the name, away from its month: the name is isolated in its own <bdi>."""
    booking = confirmed_booking(world, gateway)
    room = line_of(booking, world["room"])
    login(client, world["patient"])
    for url in (f"/my/booking-lines/{room.id}/cancel?lang=ar",
                f"/my/bookings/{booking.id}/cancel?lang=ar"):
        page = text(client.get(url))
        assert 'dir="rtl"' in page
        assert "<bdi>Hotel Tilto</bdi> · " in page, url


def _dl(html: str, dl_id: str) -> dict[str, str]:
    """The terms and values of the <dl id=dl_id>, as text."""
    import re
    block = re.search(rf'<dl[^>]*id="{dl_id}"[^>]*>(.*?)</dl>', html, re.S).group(1)
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", block, re.S)
    return {re.sub(r"<[^>]+>", "", term): re.sub(r"<[^>]+>", "", value)
            for term, value in pairs}


def test_the_price_breakdown_adds_up_after_an_item_is_cancelled(world, gateway, client):
    """The list price, the package discount and what the patient pays are those of the
    lines still booked: after the room is cancelled the page no longer shows the quote's
    list price and discount above a total that left the room out."""
    from babel.numbers import format_currency

    from bookings.services import cancellation
    from tests.booking_fixtures import knee_package

    booking = authorised_booking(world, gateway, template=knee_package(world))
    room, surgery = line_of(booking, world["room"]), line_of(booking, world["surgery"])
    login(client, world["patient"])
    url = f"/my/journeys/{journey_of(booking).id}?lang=en"

    def eur(minor):
        return format_currency(minor / 100, "EUR", locale="en")

    before = _dl(text(client.get(url)), "booking-breakdown")
    assert before["List price"] == eur(room.value_minor + surgery.value_minor)
    cancellation.cancel_line(world["patient"], room.id, gateway=gateway)
    db.session.commit()
    db.session.refresh(booking)
    after = _dl(text(client.get(url)), "booking-breakdown")
    assert after["List price"] == eur(surgery.value_minor)
    assert after["Package discount"] == "−" + eur(surgery.value_minor - surgery.amount_minor)
    assert after.get("Cancellation fees kept", eur(0)) == eur(room.kept_minor)
    assert after["You pay"] == eur(booking.total_minor) == \
        eur(surgery.amount_minor + room.kept_minor)


def test_the_cancel_preview_says_what_was_paid_stays_against_what_is_left(world, gateway,
                                                                           client):
    """Only the deposit is paid and the room's price is more than it: nothing goes back
    to the card. The preview says the money paid is not lost: it counts towards the new
    total, and what is left to pay (the API's preview carries it as ``still_due``)."""
    offers.set_cancellation_tiers(world["admin"], world["room"].id,
                                  [{"days_before": 0, "refund_percent": 100}])
    booking = confirmed_booking(world, gateway)
    room = line_of(booking, world["room"])
    login(client, world["patient"])
    page = text(client.get(f"/my/booking-lines/{room.id}/cancel?lang=en"))
    paid = sum(p.captured_minor for p in booking.payments)
    owed_after = booking.total_minor - room.amount_minor
    assert 'data-refund="0"' in page and 0 < paid < owed_after
    assert (f"What you have paid, €{paid / 100:,.2f}, stays with the booking and counts "
            f"towards it: €{(owed_after - paid) / 100:,.2f} is left to pay.") in page
    preview = client.get(f"/api/v1/bookings/{booking.id}/cancellation-preview"
                         f"?line_id={room.id}").get_json()
    assert preview["still_due"]["amount_minor"] == owed_after - paid


def test_the_cancellation_reason_is_a_styled_field(world, gateway, client):
    """The reason's box was a bare input (21 px high, 2 px of padding, the browser's own
    border) under its label: the one unstyled field a patient meets, a small target on a
    phone. It is a .field like every other, and takes a reason in any script."""
    booking = confirmed_booking(world, gateway)
    login(client, world["patient"])
    page = text(client.get(f"/my/booking-lines/{booking.lines[0].id}/cancel?lang=nb"))
    field = page.split('id="confirm-cancel"')[1].split("</form>")[0]
    assert '<div class="field">' in field.split('for="cancel-reason"')[0]
    assert 'id="cancel-reason" name="reason" maxlength="500" dir="auto"' in field


def test_the_balance_page_leads_back_to_the_journey(world, gateway, client):
    """The balance page had no way back but the site's menu (and, with nothing owed,
    no way on at all); like the cancel page it leads back to the journey's booking."""
    booking = confirmed_booking(world, gateway)
    login(client, world["patient"])
    page = text(client.get(f"/my/bookings/{booking.id}/balance?lang=nb"))
    journey = journey_of(booking)
    assert f'<a href="/my/journeys/{journey.id}#booking">Tilbake til reisen</a>' in page
