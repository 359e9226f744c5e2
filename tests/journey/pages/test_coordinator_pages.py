"""The coordinator's board: journeys by state, arrivals and departures of the next
seven days, and a journey's timeline; cluster staff only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bookings.models import Escalation, EscalationKind
from bookings.services import confirmation
from journey.builder.models import JourneyStatus
from journey.builder.services import journeys
from journey.builder.services.booking_link import journey_of
from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.core.types import utcnow
from tests.journey.pages.portal_fixtures import (
    field_names,
    hammer,
    line_of,
    login,
    open_journey,
    portal_world,
    soon,
)


@pytest.fixture
def world(make):
    return portal_world(make)


def book(world, journey, reason="paid"):
    """Walk a journey to *booked* through the state machine (as checkout would)."""
    for state in (JourneyStatus.QUOTED, JourneyStatus.ACCEPTED, JourneyStatus.BOOKED):
        journeys.transition(journey, state, actor=world["coordinator"], reason=reason)
    db.session.commit()
    return journey


def test_anonymous_visitor_is_sent_to_the_login_page(client, world):
    response = client.get("/coordinator/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["patient", "clinic_staff", "clinic_manager"])
def test_only_cluster_staff_see_the_board(client, world, who):
    journey = open_journey(world, by="clinic_staff")
    login(client, world[who])
    for path in ("/coordinator/", "/coordinator/journeys",
                 f"/coordinator/journeys/{journey.id}"):
        assert client.get(path).status_code == 403, path


def test_admin_sees_the_board_too(client, world):
    login(client, world["admin"])
    assert client.get("/coordinator/").status_code == 200


def test_the_week_of_arrivals_and_departures(client, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "BOARD_HORIZON_DAYS", 7)  # a week: day 10 is beyond it
    coming = book(world, open_journey(world, arrival_on=soon(2), departure_on=soon(5)))
    later = book(world, open_journey(world, arrival_on=soon(10), departure_on=soon(12)))
    open_journey(world, arrival_on=soon(1), departure_on=soon(3))  # a draft: not travelling
    leaving = book(world, open_journey(world, arrival_on=soon(-3), departure_on=soon(6),
                                       now=utcnow() - timedelta(days=10)))  # opened then
    from_items = open_journey(world)
    journeys.add_item(world["coordinator"], from_items.id, offer_id=world["room"].id,
                      start_on=soon(3), days=2)
    db.session.commit()
    book(world, from_items)
    login(client, world["coordinator"])
    page = client.get("/coordinator/?lang=en").get_data(as_text=True)
    rows = re.findall(r'<tr class="movement-(\w+)">.*?href="/coordinator/journeys/(\d+)"',
                      page, re.S)
    assert rows == [("arrival", str(coming.id)), ("arrival", str(from_items.id)),
                    ("departure", str(coming.id)), ("departure", str(from_items.id)),
                    ("departure", str(leaving.id))]
    assert str(later.id) not in [journey for _kind, journey in rows]
    assert "Ingrid Solberg" in page


def test_journeys_by_state(client, world):
    booked = book(world, open_journey(world))
    draft = open_journey(world)
    login(client, world["coordinator"])
    board = client.get("/coordinator/?lang=en").get_data(as_text=True)
    assert "Booked (1)" in board and "Draft (1)" in board and "All (2)" in board
    page = client.get("/coordinator/journeys?status=booked").get_data(as_text=True)
    assert f'href="/coordinator/journeys/{booked.id}"' in page
    assert f'href="/coordinator/journeys/{draft.id}"' not in page
    everything = client.get("/coordinator/journeys?status=nonsense&page=abc")
    assert everything.status_code == 200
    assert f'href="/coordinator/journeys/{draft.id}"' in everything.get_data(as_text=True)


def test_a_journeys_timeline_with_its_audit_trail(client, world):
    journey = open_journey(world, by="clinic_staff", arrival_on=soon(4))
    journeys.add_item(world["clinic_staff"], journey.id, offer_id=world["knee"].id,
                      start_on=soon(5))
    db.session.commit()
    book(world, journey, reason="deposit authorised")
    login(client, world["coordinator"])
    page = client.get(f"/coordinator/journeys/{journey.id}?lang=en").get_data(as_text=True)
    timeline = page[page.index('class="timeline"'):]
    assert "Opened as Draft" in timeline and "Opened by a member for the patient" in timeline
    assert "Added: Knee replacement" in timeline and "Rasa Staff" in timeline
    assert timeline.index("State: Quote accepted → Booked") > timeline.index("Added:")
    assert "deposit authorised" in timeline and "Cora Coordinator" in timeline
    assert "Opened at the window of Neris Clinic" in page
    lithuanian = client.get(f"/coordinator/journeys/{journey.id}?lang=lt").get_data(
        as_text=True)
    assert "Narys pradėjo pacientui" in lithuanian  # the stored code, read in Lithuanian
    assert "Opened by a member" not in lithuanian


def test_an_unknown_journey_is_404(client, world):
    login(client, world["coordinator"])
    assert client.get("/coordinator/journeys/999999").status_code == 404
    assert client.get("/coordinator/journeys/99999999999999999999").status_code == 404


def test_the_board_is_translated(client, world):
    book(world, open_journey(world, arrival_on=soon(1), departure_on=soon(3)))
    login(client, world["coordinator"])
    german = client.get("/coordinator/?lang=de").get_data(as_text=True)
    assert "Ankunft" in german and "Koordinationstafel" in german
    arabic = client.get("/coordinator/?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in arabic and "وصول" in arabic


# --- bookings on the board: escalations and the audit trail ------------------------------

def test_a_missed_deadline_is_on_the_board_and_resolved_with_a_note(client, world, booking):
    confirmation.chase_deadlines(now=utcnow() + timedelta(days=5))
    db.session.commit()
    escalation = db.session.scalars(select(Escalation).order_by(Escalation.id)).first()
    assert escalation.kind == EscalationKind.MEMBER_DEADLINE
    journey = journey_of(booking)
    login(client, world["coordinator"])
    board_page = client.get("/coordinator/?lang=en").get_data(as_text=True)
    row = re.search(rf'<tr id="escalation-{escalation.id}".*?</tr>', board_page, re.S).group(0)
    assert "A member missed its deadline" in row
    assert f'href="/coordinator/journeys/{journey.id}"' in row and "Ingrid Solberg" in row
    url = f"/coordinator/escalations/{escalation.id}/resolve"
    assert client.post(url, data={f"e{escalation.id}-note": "Called the clinic"}
                       ).status_code == 302
    db.session.expire_all()
    resolved = db.session.get(Escalation, escalation.id)
    assert resolved.resolved_at is not None and resolved.note == "Called the clinic"
    again = client.post(f"{url}?lang=en", data={f"e{escalation.id}-note": "Twice"})
    assert again.status_code == 409
    assert "This escalation is already resolved." in again.get_data(as_text=True)
    assert f'id="escalation-{escalation.id}"' not in client.get(
        "/coordinator/escalations").get_data(as_text=True)
    assert "Called the clinic" in client.get("/coordinator/escalations?all=1").get_data(
        as_text=True)
    assert client.post("/coordinator/escalations/999999/resolve").status_code == 404


def test_member_staff_cannot_resolve_escalations(client, world, booking):
    confirmation.chase_deadlines(now=utcnow() + timedelta(days=5))
    db.session.commit()
    escalation = db.session.scalars(select(Escalation)).first()
    login(client, world["clinic_manager"])
    assert client.post(f"/coordinator/escalations/{escalation.id}/resolve",
                       data={f"e{escalation.id}-note": "mine"}).status_code == 403
    assert client.get("/coordinator/escalations").status_code == 403
    db.session.expire_all()
    assert db.session.get(Escalation, escalation.id).resolved_at is None


def test_the_timeline_has_the_bookings_audit_trail(client, world, booking):
    knee = line_of(booking, world["knee"])
    confirmation.accept_line(world["clinic_staff"], knee.id)
    db.session.commit()
    journey = journey_of(booking)
    login(client, world["coordinator"])
    page = client.get(f"/coordinator/journeys/{journey.id}?lang=en").get_data(as_text=True)
    timeline = page[page.index('class="timeline"'):]
    assert f"Line {knee.id}: Waiting for the member → Accepted" in timeline
    assert "Rasa Staff" in timeline  # who accepted
    bookings = page[page.index("<h2>Bookings"):page.index('class="timeline"')]
    assert ('<bdi dir="auto">Knee replacement</bdi> · <bdi dir="auto">Neris Clinic</bdi>'
            in bookings) and "Accepted" in bookings
    german = client.get(f"/coordinator/journeys/{journey.id}?lang=de").get_data(as_text=True)
    assert "Angenommen" in german


def test_no_board_page_answers_bad_input_with_a_500(app, client, world):
    from journey.pages import portal_forms as f

    login(client, world["coordinator"])
    with app.test_request_context():
        names = field_names(f.NoteForm, "e1")
    assert hammer(client, "/coordinator/escalations/1/resolve", names) == []
    for query in ("status=%00", "page=99999999999999999999", "all=%00"):
        assert client.get(f"/coordinator/journeys?{query}").status_code == 200
        assert client.get(f"/coordinator/escalations?{query}").status_code == 200


def test_a_coordinator_takes_a_journey_and_finds_it_among_their_own(client, world, make):
    other = make.user(Role.COORDINATOR, full_name="Algis Coordinator")
    journey, untouched = open_journey(world), open_journey(world)
    login(client, world["coordinator"])
    page = client.get(f"/coordinator/journeys/{journey.id}?lang=en").get_data(as_text=True)
    assert "Nobody yet" in page and "Algis Coordinator" in page
    answer = client.post(f"/coordinator/journeys/{journey.id}/coordinator?lang=en",
                         data={"coordinator_id": str(world["coordinator"].id)})
    assert answer.status_code == 302
    db.session.expire_all()
    assert journey.coordinator_id == world["coordinator"].id
    mine = client.get("/coordinator/journeys?mine=1").get_data(as_text=True)
    assert f'href="/coordinator/journeys/{journey.id}"' in mine
    assert f'href="/coordinator/journeys/{untouched.id}"' not in mine
    # Handed on to a colleague, then to nobody.
    client.post(f"/coordinator/journeys/{journey.id}/coordinator",
                data={"coordinator_id": str(other.id)})
    db.session.expire_all()
    assert journey.coordinator_id == other.id
    client.post(f"/coordinator/journeys/{journey.id}/coordinator", data={"coordinator_id": ""})
    db.session.expire_all()
    assert journey.coordinator_id is None


def test_only_a_coordinator_can_be_chosen(client, world):
    journey = open_journey(world)
    login(client, world["coordinator"])
    url = f"/coordinator/journeys/{journey.id}/coordinator?lang=de"
    for value in (str(world["patient"].id), "999999", "abc"):
        answer = client.post(url, data={"coordinator_id": value})
        assert answer.status_code == 422, value
        assert "Kein gültiger Wert." in answer.get_data(as_text=True)
    db.session.expire_all()
    assert journey.coordinator_id is None
    assert hammer(client, url, ["coordinator_id"]) == []
    login(client, world["clinic_staff"])  # a member's staff may not
    assert client.post(url, data={"coordinator_id": str(world["coordinator"].id)}
                       ).status_code in (403, 404)
    db.session.expire_all()
    assert journey.coordinator_id is None


def test_refund_and_payout_states_and_system_actors_are_named_in_the_readers_language(app):
    from flask_babel import force_locale

    from journey.pages.titles import actor_title, state_title
    with app.test_request_context(), force_locale("de"):
        assert state_title("refund", "succeeded") == "Erstattet"
        assert state_title("payout", "paid") != "paid"
        assert actor_title("system") == "das System"
        assert actor_title("job:reconcile") == "die geplanten Aufgaben"
        assert actor_title("stripe") == "Stripe"


def test_stripe_js_comes_from_stripe_with_real_stripe_and_from_localstripe_otherwise(
        app, monkeypatch):
    from journey.pages.common import stripe_js_url
    monkeypatch.setitem(app.config, "STRIPE_JS_URL", "")
    with app.test_request_context():
        monkeypatch.setitem(app.config, "STRIPE_API_BASE", "https://api.stripe.com")
        assert stripe_js_url() == "https://js.stripe.com/v3/"
        monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:8420")
        assert stripe_js_url() == "http://127.0.0.1:8420/js.stripe.com/v3/"


def test_the_journey_page_names_the_nationality_in_the_readers_language(client, world):
    journey = open_journey(world, arrival_on=soon(20), nationality="NO")
    login(client, world["coordinator"])
    page = client.get(f"/coordinator/journeys/{journey.id}?lang=nb").get_data(as_text=True)
    assert "Statsborgerskap: Norge" in page


def test_the_walk_in_form_names_its_languages(client, world):
    login(client, world["clinic_manager"])
    page = client.get(f"/portal/{world['clinic'].id}/journeys/new?lang=nb").get_data(
        as_text=True)
    assert '<option value="de">tysk</option>' in page
    assert '<option value="de">de</option>' not in page


def test_the_month_of_arrivals_closes_every_name_it_isolates(client, world):
    """Each arrival's name is one closed ``<bdi>`` inside its link: an unclosed one left
    the rest of the calendar cell inside the isolate (and the link, for the parser)."""
    book(world, open_journey(world, arrival_on=soon(2), departure_on=soon(5)))
    login(client, world["coordinator"])
    page = client.get(f"/coordinator/arrivals?month={soon(2):%Y-%m}&lang=ar")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ingrid Solberg" in html
    assert html.count("<bdi") == html.count("</bdi>")


def test_the_board_and_the_admins_member_pages_close_every_isolate(client, world):
    """The same unclosed ``<bdi>`` was on the board (its attention list, its movements)
    and on the admin's member pages."""
    book(world, open_journey(world, arrival_on=soon(2), departure_on=soon(5)))
    login(client, world["coordinator"])
    board = client.get("/coordinator/?lang=ar").get_data(as_text=True)
    assert "Ingrid Solberg" in board and board.count("<bdi") == board.count("</bdi>")
    client.get("/logout")
    login(client, world["admin"])
    for url in ("/admin/members?lang=ar", f"/admin/members/{world['clinic'].id}?lang=ar"):
        html = client.get(url).get_data(as_text=True)
        assert world["clinic"].name in html, url
        assert html.count("<bdi") == html.count("</bdi>"), url
