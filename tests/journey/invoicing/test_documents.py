"""Invoices, receipts and credit notes: issued once per fact, totals and VAT from the
booking's lines, scoped access, PDFs in the payer's language."""

import io
from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from bookings.models import LineStatus, Notification, PaymentStatus, Refund, RefundStatus
from bookings.services import cancellation
from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.invoicing import follow, render, services
from journey.invoicing.models import Document, DocumentCounter, DocumentKind
from journey.invoicing.services import vat_in
from journey.pages.layout import day_range
from providers.services import offers
from tests.booking_fixtures import confirmed_booking


def _docs(booking, kind=None):
    query = db.select(Document).where(Document.booking_id == booking.id)
    if kind is not None:
        query = query.where(Document.kind == kind)
    return list(db.session.scalars(query.order_by(Document.id)))


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_vat_is_contained_in_the_gross():
    assert vat_in(11200, 12) == 1200
    assert vat_in(10000, 0) == 0
    assert vat_in(10000, Decimal("21")) == 1736  # 10000 * 21 / 121 = 1735.5 -> even


def test_confirmation_issues_the_invoice_and_the_deposit_receipt(world, gateway):
    world["hotel"].legal_name = "Hotel Baltic UAB"
    world["room"].vat_percent = Decimal("12")  # a hotel charges VAT
    db.session.commit()
    booking = confirmed_booking(world, gateway)
    [invoice] = _docs(booking, DocumentKind.INVOICE)
    confirmed = [line for line in booking.lines if line.status == LineStatus.CONFIRMED]
    assert invoice.total_minor == sum(line.amount_minor for line in confirmed)
    by_line = {item["line_id"]: item for item in invoice.content["lines"]}
    for line in confirmed:
        rate = 12 if line.offer_id == world["room"].id else 0
        assert by_line[line.id]["vat_minor"] == vat_in(line.amount_minor, rate)
    assert invoice.vat_minor == sum(item["vat_minor"] for item in by_line.values()) > 0
    assert invoice.number == f"{invoice.series}-{invoice.sequence:06d}"
    assert invoice.series.startswith("INV-")
    [receipt] = _docs(booking, DocumentKind.RECEIPT)
    deposit = next(p for p in booking.payments if p.status == PaymentStatus.CAPTURED)
    assert receipt.total_minor == deposit.captured_minor
    assert receipt.related_id == invoice.id
    assert {m.provider_id for m in invoice.members} == {line.provider_id for line in confirmed}
    # the signal again: nothing new, and no number taken (the insert is tried first and
    # rolled back to its savepoint, counter included)
    counters = dict(db.session.execute(
        db.select(DocumentCounter.series, DocumentCounter.last)).all())
    services.on_booking_confirmed(booking, now=invoice.issued_at)
    assert len(_docs(booking)) == 2
    db.session.expire_all()
    assert dict(db.session.execute(
        db.select(DocumentCounter.series, DocumentCounter.last)).all()) == counters


def _owed(booking) -> int:
    """What the booking costs now: its confirmed lines and the fees its cancelled ones
    keep."""
    return sum(line.amount_minor if line.status == LineStatus.CONFIRMED else
               line.kept_minor if line.status == LineStatus.CANCELLED else 0
               for line in booking.lines)


def _credited(booking) -> int:
    return sum(note.total_minor for note in _docs(booking, DocumentKind.CREDIT_NOTE))


def test_a_credit_note_for_each_cancelled_line_once(world, gateway):
    for name in ("room", "surgery"):
        offers.set_cancellation_tiers(world["admin"], world[name].id,
                                      [{"days_before": 0, "refund_percent": 100}])
    booking = confirmed_booking(world, gateway)
    surgery = next(line for line in booking.lines if line.offer_id == world["surgery"].id)
    cancellation.cancel_line(world["patient"], surgery.id, gateway=gateway)
    db.session.commit()
    refunds = list(db.session.scalars(db.select(Refund).where(
        Refund.booking_id == booking.id)))
    assert refunds and all(r.status == RefundStatus.SUCCEEDED for r in refunds)
    [note] = _docs(booking, DocumentKind.CREDIT_NOTE)
    invoice = services.invoice_of(booking.id)
    assert note.fact == f"credit_note:line:{surgery.id}"
    assert note.total_minor == surgery.amount_minor - surgery.kept_minor > 0
    assert note.related_id == invoice.id
    assert sum(item["gross_minor"] for item in note.content["lines"]) == note.total_minor
    assert [item["line_id"] for item in note.content["lines"]] == [surgery.id]
    assert invoice.total_minor - _credited(booking) == _owed(booking)
    # the signal again (a step run twice): still one credit note, no number taken
    services.on_line_cancellation_settled(booking, surgery, now=note.issued_at)
    assert len(_docs(booking, DocumentKind.CREDIT_NOTE)) == 1
    # the refund's e-mail names it
    [mail] = db.session.scalars(db.select(Notification).where(
        Notification.booking_id == booking.id, Notification.kind == follow.REFUND_MAIL)).all()
    assert note.number in follow._refund_params(mail)["credit_note"]


def test_a_line_cancelled_while_only_the_deposit_is_paid_is_credited(world, gateway):
    """Nothing goes back to the card (the deposit stays against what is still owed),
    yet the invoice listed the room: its credit note takes it off, so the invoice less
    its credit notes is what the booking costs now. (Credit notes followed refunds
    before: this cancellation had none.)"""
    offers.set_cancellation_tiers(world["admin"], world["room"].id,
                                  [{"days_before": 0, "refund_percent": 100}])
    booking = confirmed_booking(world, gateway)
    room = next(line for line in booking.lines if line.offer_id == world["room"].id)
    invoice = services.invoice_of(booking.id)
    paid = sum(p.captured_minor for p in booking.payments)
    assert paid <= _owed(booking) - room.amount_minor  # the deposit covers no more
    cancellation.cancel_line(world["patient"], room.id, gateway=gateway)
    db.session.commit()
    assert not db.session.scalars(db.select(Refund).where(
        Refund.booking_id == booking.id)).all()
    [note] = _docs(booking, DocumentKind.CREDIT_NOTE)
    assert note.total_minor == room.amount_minor
    assert invoice.total_minor - _credited(booking) == _owed(booking)


def test_a_fee_kept_is_not_credited(world, gateway):
    """A line whose terms keep its whole price: no credit note (nothing changed on what
    is owed); half kept: half credited."""
    offers.set_cancellation_tiers(world["admin"], world["room"].id,
                                  [{"days_before": 0, "refund_percent": 0}])
    offers.set_cancellation_tiers(world["admin"], world["surgery"].id,
                                  [{"days_before": 0, "refund_percent": 50}])
    booking = confirmed_booking(world, gateway)
    room = next(line for line in booking.lines if line.offer_id == world["room"].id)
    surgery = next(line for line in booking.lines if line.offer_id == world["surgery"].id)
    invoice = services.invoice_of(booking.id)
    cancellation.cancel_line(world["patient"], room.id, gateway=gateway)
    db.session.commit()
    assert _docs(booking, DocumentKind.CREDIT_NOTE) == []
    cancellation.cancel_line(world["patient"], surgery.id, gateway=gateway)
    db.session.commit()
    [note] = _docs(booking, DocumentKind.CREDIT_NOTE)
    assert note.total_minor == surgery.amount_minor - surgery.kept_minor
    assert 0 < surgery.kept_minor < surgery.amount_minor
    assert invoice.total_minor - _credited(booking) == _owed(booking)


def test_a_whole_booking_cancelled_credits_every_line(world, gateway):
    for name in ("room", "surgery"):
        offers.set_cancellation_tiers(world["admin"], world[name].id,
                                      [{"days_before": 0, "refund_percent": 100}])
    booking = confirmed_booking(world, gateway)
    invoice = services.invoice_of(booking.id)
    cancellation.cancel_booking(world["patient"], booking.id, gateway=gateway)
    db.session.commit()
    notes = _docs(booking, DocumentKind.CREDIT_NOTE)
    assert {note.fact for note in notes} == {f"credit_note:line:{line.id}"
                                            for line in booking.lines}
    assert invoice.total_minor - _credited(booking) == _owed(booking)


def test_access_is_scoped(world, gateway, make, client):
    booking = confirmed_booking(world, gateway)
    invoice = services.invoice_of(booking.id)
    stranger = make.user()
    assert services.get_document(world["patient"], invoice.id) is invoice
    assert services.get_document(world["coordinator"], invoice.id) is invoice
    assert services.get_document(world["hotel_staff"], invoice.id).number == invoice.number
    other_member = make.member()
    other_staff = make.user(Role.MEMBER_STAFF, provider=other_member)
    db.session.commit()
    for outsider in (stranger, other_staff):
        headers = make.token(outsider)
        assert client.get(f"/api/v1/documents/{invoice.id}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/documents/{invoice.id}/pdf",
                          headers=headers).status_code == 404
        assert services.list_documents(outsider, booking_id=booking.id) == []
    mine = client.get(f"/api/v1/documents/{invoice.id}", headers=make.token(world["patient"]))
    assert mine.status_code == 200 and mine.json["number"] == invoice.number


def test_a_member_sees_only_its_own_lines_of_a_document(world, gateway, make, client, app):
    """The invoice lists the hotel's room and the clinic's surgery: the hotel reads an
    extract with its room alone (its sum as the total), through the API, the PDF and
    the page, and not the patient's receipts; the patient and the cluster the whole."""
    booking = confirmed_booking(world, gateway)
    invoice = services.invoice_of(booking.id)
    hotel, clinic = world["hotel"], world["clinic"]
    room = next(item for item in invoice.content["lines"] if item["member_id"] == hotel.id)
    surgery = next(item for item in invoice.content["lines"]
                   if item["member_id"] == clinic.id)
    seen = services.get_document(world["hotel_staff"], invoice.id)
    assert [item["member_id"] for item in seen.content["lines"]] == [hotel.id]
    assert set(seen.content["members"]) == {str(hotel.id)}
    assert (seen.total_minor, seen.vat_minor) == (room["gross_minor"], room["vat_minor"])
    assert invoice.total_minor == room["gross_minor"] + surgery["gross_minor"]
    db.session.expire_all()  # the document itself was not changed
    assert db.session.get(Document, invoice.id).total_minor == invoice.total_minor
    headers = make.token(world["hotel_staff"])
    answer = client.get(f"/api/v1/documents/{invoice.id}", headers=headers)
    assert answer.status_code == 200
    assert answer.json["total"]["amount_minor"] == room["gross_minor"]
    pdf = client.get(f"/api/v1/documents/{invoice.id}/pdf?lang=nb", headers=headers)
    assert pdf.headers["Content-Language"] == invoice.language != "nb"
    text = _text(pdf.data)
    assert pdf.status_code == 200 and invoice.number in text and room["title"] in text
    assert surgery["title"] not in text
    assert "extract for" in " ".join(text.split())
    listed = client.get(f"/api/v1/bookings/{booking.id}/documents", headers=headers).json
    assert {doc["kind"] for doc in listed} == {"invoice"}  # no receipt of everything paid
    assert [doc["total"]["amount_minor"] for doc in listed] == [room["gross_minor"]]
    receipt = _docs(booking, DocumentKind.RECEIPT)[0]
    assert client.get(f"/api/v1/documents/{receipt.id}", headers=headers).status_code == 404
    for whole in (world["patient"], world["coordinator"]):
        assert services.get_document(whole, invoice.id) is invoice
        answer = client.get(f"/api/v1/documents/{invoice.id}", headers=make.token(whole))
        assert answer.json["total"]["amount_minor"] == invoice.total_minor
    clinic_view = services.get_document(world["clinic_staff"], invoice.id)
    assert [item["title"] for item in clinic_view.content["lines"]] == [surgery["title"]]


def test_bad_input_is_a_clear_4xx(world, gateway, make, client):
    booking = confirmed_booking(world, gateway)
    headers = {**make.token(world["patient"]), "Accept-Language": "de"}
    answer = client.get(f"/api/v1/bookings/{booking.id}/cancellation-preview?line_id=abc",
                        headers=headers)
    assert answer.status_code == 422 and answer.json["errors"]
    answer = client.get(f"/api/v1/bookings/{booking.id}/cancellation-preview?line_id=999999",
                        headers=headers)
    assert answer.status_code == 404
    assert client.get("/api/v1/documents/999999", headers=headers).status_code == 404
    assert client.get("/api/v1/documents/0", headers=headers).status_code in (404, 422)
    assert client.get(f"/api/v1/bookings/{booking.id}/documents").status_code == 401


def test_the_pdf_in_german_with_number_payer_and_member(world, gateway, app, make, tmp_path):
    world["patient"].locale = "de"
    world["clinic"].legal_name = "Klinika Sveikata UAB"
    db.session.commit()
    booking = confirmed_booking(world, gateway)
    invoice = services.invoice_of(booking.id)
    assert invoice.language == "de"
    from journey.invoicing import render
    with app.test_request_context("/"):
        content = render.pdf_bytes(invoice)
    (tmp_path / "invoice-de.pdf").write_bytes(content)  # to look at: pdftoppm
    text = _text(content)
    assert invoice.number in text
    assert world["patient"].full_name in text
    assert "Klinika Sveikata UAB" in text
    assert "Rechnung" in text
    with app.test_request_context("/"):
        page = render.body_html(invoice)
    assert invoice.number in page


def test_the_patient_sees_documents_and_refunds_on_the_journey_page(world, gateway, make,
                                                                     client):
    for name in ("room", "surgery"):
        offers.set_cancellation_tiers(world["admin"], world[name].id,
                                      [{"days_before": 0, "refund_percent": 100}])
    booking = confirmed_booking(world, gateway)
    from journey.builder.services.booking_link import journey_of
    journey = journey_of(booking)
    surgery = next(line for line in booking.lines if line.offer_id == world["surgery"].id)
    plan = cancellation.preview_cancellation(world["patient"], booking.id, surgery.id)
    cancellation.cancel_line(world["patient"], surgery.id, gateway=gateway,
                             expect_refund_minor=plan.refund_minor)
    db.session.commit()
    docs = services.journey_documents(world["patient"], journey.id)
    assert {d.kind for d in docs} >= {DocumentKind.INVOICE, DocumentKind.RECEIPT}
    if plan.refund_minor:
        assert DocumentKind.CREDIT_NOTE in {d.kind for d in docs}


@pytest.fixture
def world(stripe_app, make):
    from tests.journey.builder_world import build_world
    return build_world(make)


def test_a_stay_is_dated_from_its_first_night_to_its_departure(world, gateway, app):
    """The room's ten nights read as a range on the invoice, the surgery as its day."""
    booking = confirmed_booking(world, gateway)
    invoice = services.invoice_of(booking.id)
    room = next(i for i in invoice.content["lines"] if i["member_id"] == world["hotel"].id)
    surgery = next(i for i in invoice.content["lines"]
                   if i["member_id"] == world["clinic"].id)
    assert (room["start_on"], room["last_on"]) == (room["start_on"], room["end_on"])
    assert surgery["last_on"] == surgery["start_on"]
    with app.test_request_context("/"):
        page = render.body_html(invoice)
        with force_locale(invoice.language):
            shown = day_range(date.fromisoformat(room["start_on"]),
                              date.fromisoformat(room["end_on"]))
    assert shown in page


@pytest.mark.parametrize(("locale", "written"), [("ar", "12%"), ("nb", "12\xa0%"),
                                                 ("en", "12%")])
def test_the_vat_rate_is_written_as_the_invoice_s_language_writes_a_percentage(
        world, gateway, app, locale, written):
    """Babel's percentage, the sign joined to the number: a hand-written "12 %" came
    apart in an Arabic line ("% 12")."""
    world["patient"].locale = locale
    world["room"].vat_percent = Decimal("12")
    db.session.commit()
    booking = confirmed_booking(world, gateway)
    invoice = services.invoice_of(booking.id)
    assert invoice.language == locale
    with app.test_request_context("/"):
        page = render.body_html(invoice)
    assert f"({written})" in page  # the line's rate
    assert f"{written} " in page.split(f"({written})", 1)[1]  # and the summary's
    assert "12 %" not in page


def test_a_document_issued_during_a_request_does_not_change_its_content_language(
        world, gateway, make, client):
    """The member's accept that confirms the booking issues the invoice, whose line
    titles are the offers' texts in the patient's language (here English, for a Norwegian
    patient): the answer, a booking line with no member text, is Norwegian all the same
    (its Content-Language said "en", as if the texts picked for the invoice were on it)."""
    from bookings.services import confirmation
    from tests.booking_fixtures import authorised_booking

    world["patient"].locale = "nb"
    booking = authorised_booking(world, gateway)
    room = next(line for line in booking.lines if line.provider_id == world["hotel"].id)
    surgery = next(line for line in booking.lines if line.provider_id == world["clinic"].id)
    confirmation.accept_line(world["hotel_staff"], room.id, gateway=gateway)
    db.session.commit()
    accepted = client.post(f"/api/v1/booking-lines/{surgery.id}/accept?lang=nb",
                           headers=make.token(world["clinic_staff"]))
    assert accepted.status_code == 200, accepted.json
    assert services.invoice_of(booking.id) is not None  # issued by this request
    assert accepted.headers["Content-Language"] == "nb"


def test_latin_names_and_addresses_keep_their_direction_on_an_arabic_invoice(world, gateway,
                                                                            app, tmp_path):
    """WeasyPrint knows no dir="auto": a Latin address on an Arabic invoice took the
    page's direction and printed 'Vilnius ,Ratai g. 48', a title ending in a bracket
    broke it over two lines ('Seaside spa week (7 / (nights'). Each carries its own
    direction, found from its text."""
    world["patient"].locale = "ar"
    world["hotel"].street_address = "Ratai g. 48, Vilnius"
    world["hotel"].legal_name = "Hotel Baltic UAB"
    db.session.commit()
    booking = confirmed_booking(world, gateway)
    invoice = services.invoice_of(booking.id)
    with app.test_request_context("/"):
        page = render.body_html(invoice)
        (tmp_path / "invoice-ar.pdf").write_bytes(render.pdf_bytes(invoice))  # pdftoppm
    assert 'dir="auto"' not in page
    assert '<bdi dir="ltr">Ratai g. 48, Vilnius</bdi>' in page
    assert '<h2><bdi dir="ltr">Hotel Baltic UAB</bdi></h2>' in page  # on the page's side
    room = next(i for i in invoice.content["lines"] if i["member_id"] == world["hotel"].id)
    assert f'<bdi dir="ltr">{room["title"]}</bdi>' in page
