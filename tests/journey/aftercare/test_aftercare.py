"""Aftercare: follow-ups planned from the confirmed treating lines and their schedule (the
default, or the member's), opened once when due (the member's task, the patient's
questionnaire), cancelled with their line; the patient's answers, checked, escalated
when they signal a problem, and read only by those the case rules allow (logged)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bookings.services import cancellation
from journey import mail
from journey.aftercare import jobs
from journey.aftercare.models import FollowUp, FollowUpState, StepKind
from journey.aftercare.services import answers, schedules
from journey.aftercare.services import followups as planning
from journey.case.models import AccessLog, CaseDocument
from journey.case.services.consent import ConsentRequired
from journey.core.accounts.models import Role
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from journey.trip.models import TaskStatus
from tests.journey.aftercare.aftercare_world import (
    BAD,
    FINE,
    VILNIUS,
    aftercare_world,
    count,
    followup_tasks,
    followups,
    jpeg,
    local,
    mails,
)


@pytest.fixture
def w(world, gateway, make):
    return aftercare_world(world, gateway, make)


def _open_first_week(w):
    """The job at noon on day 19: the check before the flight (day 19, 11:00) and the
    one a week after the surgery (day 19, 10:00) are due."""
    return jobs.run_followups(now=local(19, 12))


# --- planning ------------------------------------------------------------------------------

def test_the_default_schedule_gives_the_due_times_on_the_members_clock(w):
    assert jobs.run_followups(now=local(13)) == 0  # planned, nothing due yet
    found = followups(w["journey"].id)
    assert [(f.step_kind, f.offset) for f in found] == [
        (StepKind.AFTER_TREATMENT, 7), (StepKind.BEFORE_DEPARTURE, 24),
        (StepKind.AFTER_TREATMENT, 28), (StepKind.AFTER_TREATMENT, 90),
        (StepKind.AFTER_TREATMENT, 365)]
    assert {f.state for f in found} == {FollowUpState.SCHEDULED}
    assert {f.timezone for f in found} == {"Europe/Vilnius"}
    assert {f.provider_id for f in found} == {w["clinic"].id}  # the room gets none
    # The surgery's last day is day 12 (its line ends on day 13, exclusive).
    assert found[0].due_at == local(19, 10) and found[0].photo is True
    assert found[1].due_at == local(19, 11)  # 24 hours before the flight at 11:00 on day 20
    assert [f.due_at for f in found[2:]] == [local(40), local(102), local(377)]
    assert followup_tasks(w["journey"].id) == [] and mails("aftercare_due") == []


def test_a_custom_schedule_in_another_zone(w, make):
    w["clinic"].timezone = "America/New_York"
    schedules.set_schedule(w["clinic_manager"], w["surgery"].id, [
        {"kind": "after_treatment", "offset": 3, "photo": True},
        {"kind": "before_departure", "offset": 48}])
    db.session.commit()
    planning.plan_followups(w["journey"], now=local(13))
    found = followups(w["journey"].id)
    new_york = ZoneInfo("America/New_York")
    assert [(f.step_kind, f.offset, f.photo) for f in found] == [
        (StepKind.AFTER_TREATMENT, 3, True), (StepKind.BEFORE_DEPARTURE, 48, False)]
    assert found[0].due_at == local(15, 10, zone=new_york)
    assert found[0].timezone == "America/New_York"
    assert found[1].due_at == local(18, 11)  # the flight is in Vilnius, whatever the zone


def test_without_a_flight_home_the_check_is_the_day_after_the_treatment(world, gateway, make):
    w = aftercare_world(world, gateway, make, departure=False)
    planning.plan_followups(w["journey"], now=local(13))
    before = next(f for f in followups(w["journey"].id)
                  if f.step_kind == StepKind.BEFORE_DEPARTURE)
    assert before.due_at == local(13, 10)


def test_changing_the_schedule_moves_only_what_was_not_sent(w):
    _open_first_week(w)
    schedules.set_schedule(w["clinic_manager"], w["surgery"].id, [
        {"kind": "after_treatment", "offset": 14}])
    planning.plan_followups(w["journey"], now=local(19, 12))
    states = {(f.step_kind, f.offset): f.state for f in followups(w["journey"].id)}
    assert states[(StepKind.AFTER_TREATMENT, 7)] == FollowUpState.OPEN  # sent: stays
    assert states[(StepKind.AFTER_TREATMENT, 14)] == FollowUpState.SCHEDULED
    assert states[(StepKind.AFTER_TREATMENT, 90)] == FollowUpState.CANCELLED


def test_the_schedule_is_the_managers_and_checked(w):
    steps = [{"kind": "after_treatment", "offset": 7}]
    with pytest.raises(Forbidden):
        schedules.set_schedule(w["clinic_staff"], w["surgery"].id, steps)
    with pytest.raises((Forbidden, NotFound)):
        schedules.set_schedule(w["other_staff"], w["surgery"].id, steps)
    for bad in ([{"kind": "after_treatment", "offset": 731}],
                [{"kind": "before_departure", "offset": 73}],
                [{"kind": "after_treatment", "offset": 0}],
                [{"kind": "later", "offset": 7}],
                [{"kind": "after_treatment", "offset": 7}] * 2,
                [{"kind": "after_treatment", "offset": n} for n in range(1, 12)]):
        with pytest.raises(InvalidInput):
            schedules.set_schedule(w["clinic_manager"], w["surgery"].id, bad)
    with pytest.raises(InvalidInput):  # a hotel room has no aftercare
        schedules.set_schedule(w["admin"], w["room"].id, steps)
    assert schedules.schedule_row(w["surgery"].id) is None
    _offer, found, default = schedules.set_schedule(w["clinic_manager"], w["surgery"].id, [])
    assert found == [] and default is False  # no follow-ups at all
    _offer, found, default = schedules.reset_schedule(w["clinic_manager"], w["surgery"].id)
    assert default is True and len(found) == 5


# --- the job -------------------------------------------------------------------------------

def test_the_job_run_twice_opens_each_due_follow_up_once(w):
    assert _open_first_week(w) == 2
    assert _open_first_week(w) == 0
    assert jobs.run_followups(now=local(19, 13)) == 0
    found = followups(w["journey"].id)
    assert len(found) == 5
    opened = [f for f in found if f.state == FollowUpState.OPEN]
    assert len(opened) == 2
    tasks = followup_tasks(w["journey"].id)
    assert sorted(t.id for t in tasks) == sorted(f.task_id for f in opened)
    assert {(t.provider_id, t.status, t.booking_line_id) for t in tasks} == {
        (w["clinic"].id, TaskStatus.OPEN, w["surgery_line"].id)}
    assert {t.due_at for t in tasks} == {local(19, 10), local(19, 11)}
    due = mails("aftercare_due")
    assert [n.recipient for n in due] == [f"user:{w['patient'].id}"] * 2
    assert sorted(n.payload["followup_id"] for n in due) == sorted(f.id for f in opened)


def test_a_follow_up_not_yet_due_opens_nothing(w):
    assert jobs.run_followups(now=local(19, 9, 59)) == 0
    assert followup_tasks(w["journey"].id) == [] and mails("aftercare_due") == []
    assert jobs.run_followups(now=local(19, 10)) == 1  # exactly at the due time


def test_a_journey_not_travelling_yet_is_not_planned(world, gateway):
    from tests.booking_fixtures import confirmed_booking
    confirmed_booking(world, gateway)
    assert jobs.run_followups(now=local(19, 12)) == 0
    assert count(FollowUp) == 0


def test_a_cancelled_line_cancels_its_follow_ups_and_their_open_tasks(w, gateway):
    _open_first_week(w)
    cancellation.cancel_line(w["coordinator"], w["surgery_line"].id, reason="Moved home",
                             gateway=gateway)
    db.session.commit()
    assert jobs.run_followups(now=local(19, 13)) == 0
    assert {f.state for f in followups(w["journey"].id)} == {FollowUpState.CANCELLED}
    assert {t.status for t in followup_tasks(w["journey"].id)} == {TaskStatus.CANCELLED}
    assert jobs.run_followups(now=local(41)) == 0  # a cancelled one never opens
    assert len(mails("aftercare_due")) == 2


def test_an_answered_follow_up_stays_when_the_line_is_cancelled(w, gateway):
    _open_first_week(w)
    first = next(f for f in followups(w["journey"].id) if f.state == FollowUpState.OPEN)
    answers.answer_followup(w["patient"], first.id, FINE, (jpeg(), "w.jpg"))
    cancellation.cancel_line(w["coordinator"], w["surgery_line"].id, gateway=gateway)
    jobs.run_followups(now=local(19, 13))
    assert db.session.get(FollowUp, first.id).state == FollowUpState.ANSWERED


# --- answering -----------------------------------------------------------------------------

def _due(w, photo: bool = False) -> FollowUp:
    _open_first_week(w)
    return next(f for f in followups(w["journey"].id)
                if f.state == FollowUpState.OPEN and f.photo == photo)


def test_a_problem_escalates_to_the_treating_member_and_the_coordinator(w):
    followup = _due(w)
    answers.answer_followup(w["patient"], followup.id, BAD)
    assert followup.state == FollowUpState.ESCALATED and followup.escalated_at is not None
    assert followup.pain == 8 and followup.answered_by_id == w["patient"].id
    sent = mails("aftercare_problem")
    assert sorted(n.recipient for n in sent) == sorted(
        [f"provider:{w['clinic'].id}", f"user:{w['coordinator'].id}"])
    assert {n.key for n in sent} == {f"aftercare_problem:{followup.id}:{n.recipient}"
                                     for n in sent}


@pytest.mark.parametrize("answer", [
    {**FINE, "wellbeing": 2},
    {**FINE, "complications": True, "complications_text": "Fever since yesterday"},
    {**FINE, "pain": 7},
])
def test_each_part_of_the_problem_rule(w, answer):
    followup = _due(w)
    answers.answer_followup(w["patient"], followup.id, answer)
    assert followup.state == FollowUpState.ESCALATED


def test_without_a_coordinator_every_coordinator_is_told(w):
    w["journey"].coordinator_id = None
    followup = _due(w)
    answers.answer_followup(w["patient"], followup.id, {**FINE, "pain": 9})
    assert {n.recipient for n in mails("aftercare_problem")} == {
        f"provider:{w['clinic'].id}", "coordinators"}


def test_a_fine_answer_does_not_escalate(w):
    followup = _due(w)
    answers.answer_followup(w["patient"], followup.id, {**FINE, "pain": 6, "wellbeing": 3})
    assert followup.state == FollowUpState.ANSWERED
    assert mails("aftercare_problem") == []


@pytest.mark.parametrize("bad, field", [
    ({**FINE, "pain": 11}, "pain"),
    ({**FINE, "pain": -1}, "pain"),
    ({**FINE, "wellbeing": 6}, "wellbeing"),
    ({"pain": 3, "complications": False}, "wellbeing"),
    ({**FINE, "complications": None}, "complications"),
    ({**FINE, "complications": True, "complications_text": ""}, "complications_text"),
    ({**FINE, "complications_text": "x" * 2001}, "complications_text"),
])
def test_bad_answers_are_refused_and_nothing_is_written(w, bad, field):
    followup = _due(w)
    logs = count(AccessLog)
    with pytest.raises(InvalidInput) as refused:
        answers.answer_followup(w["patient"], followup.id, bad)
    assert field in refused.value.fields
    db.session.expire_all()
    again = db.session.get(FollowUp, followup.id)
    assert again.state == FollowUpState.OPEN and again.answered_at is None
    assert again.pain is None and count(AccessLog) == logs


def test_the_photo_asked_is_needed_an_image_and_stored_encrypted(w, app):
    followup = _due(w, photo=True)
    with pytest.raises(InvalidInput) as refused:
        answers.answer_followup(w["patient"], followup.id, FINE)
    assert "photo" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:  # a PDF is no photo
        answers.answer_followup(w["patient"], followup.id, FINE, (b"%PDF-1.4\n%%EOF\n", "a.pdf"))
    assert "photo" in refused.value.fields and count(CaseDocument) == 0
    image = jpeg("Ingrid wound")
    answers.answer_followup(w["patient"], followup.id, FINE, (image, "wound.jpg"))
    document = db.session.get(CaseDocument, followup.photo_document_id)
    assert document.kind.value == "photo" and document.content_type == "image/jpeg"
    assert document.shared_with == [w["clinic"].id]
    path = next(Path(app.config["FILES_ROOT"]).rglob(document.storage_key))
    stored = path.read_bytes()
    assert b"Ingrid wound" not in stored and b"\xff\xd8\xff" not in stored[:16]
    from journey.case.services import case
    _doc, content = case.open_document(w["clinic_staff"], w["journey"].id, document.id)
    assert content == image


def test_only_the_patient_answers_and_only_once(w):
    followup = _due(w)
    with pytest.raises(Forbidden):
        answers.answer_followup(w["coordinator"], followup.id, FINE)
    with pytest.raises(Forbidden):
        answers.answer_followup(w["clinic_staff"], followup.id, FINE)
    with pytest.raises(NotFound):
        answers.answer_followup(w["patient2"], followup.id, FINE)
    answers.answer_followup(w["patient"], followup.id, FINE)
    with pytest.raises(Conflict):
        answers.answer_followup(w["patient"], followup.id, BAD)
    assert followup.pain == FINE["pain"] and mails("aftercare_problem") == []


def test_a_follow_up_not_due_cannot_be_answered(w):
    jobs.run_followups(now=local(13))
    later = followups(w["journey"].id)[-1]
    with pytest.raises(Conflict):
        answers.answer_followup(w["patient"], later.id, FINE)


def test_the_consent_comes_before_the_first_answer(world, gateway, make):
    w = aftercare_world(world, gateway, make, consented=False)
    followup = _due(w)
    with pytest.raises(ConsentRequired):
        answers.answer_followup(w["patient"], followup.id, FINE)


# --- who reads the answers -----------------------------------------------------------------

def test_reading_the_answers_follows_the_case_rules_and_is_logged(w):
    followup = _due(w)
    answers.answer_followup(w["patient"], followup.id, FINE)
    before = count(AccessLog, AccessLog.entity == "aftercare")
    seen = answers.read_followups(w["clinic_staff"], w["journey"].id)
    assert [f.id for f in seen if f.answered_at] == [followup.id]
    rows = list(db.session.scalars(db.select(AccessLog).where(AccessLog.entity == "aftercare")))
    assert len(rows) == before + 1
    assert rows[-1].actor_id == w["clinic_staff"].id and rows[-1].provider_id == w["clinic"].id
    with pytest.raises(NotFound):  # the hotel delivers a line but does not treat
        answers.read_followups(w["hotel_staff"], w["journey"].id)
    with pytest.raises(NotFound):
        answers.read_followup(w["hotel_staff"], followup.id)
    with pytest.raises(NotFound):  # not on the journey at all
        answers.read_followups(w["other_staff"], w["journey"].id)
    with pytest.raises(NotFound):
        answers.read_followups(w["patient2"], w["journey"].id)
    assert count(AccessLog, AccessLog.entity == "aftercare") == before + 1


def test_a_treating_member_sees_only_its_own_lines(w, make):
    followup = _due(w)
    sanatorium_staff = make.user(Role.MEMBER_STAFF, w["sanatorium"])
    # The sanatorium treats on another journey only: nothing of this one.
    with pytest.raises(NotFound):
        answers.read_followup(sanatorium_staff, followup.id)
    assert answers.member_followups(w["clinic_staff"], w["clinic"].id)[0].id in {
        f.id for f in followups(w["journey"].id)}
    with pytest.raises(Forbidden):
        answers.member_followups(w["hotel_staff"], w["clinic"].id)


def test_problems_come_first_and_closing_finishes_the_task(w):
    _open_first_week(w)
    first, second = [f for f in followups(w["journey"].id) if f.state == FollowUpState.OPEN]
    photo = first if first.photo else second
    plain = second if photo is first else first
    answers.answer_followup(w["patient"], photo.id, FINE, (jpeg(), "w.jpg"))
    answers.answer_followup(w["patient"], plain.id, BAD)
    listed = answers.member_followups(w["clinic_staff"], w["clinic"].id)
    assert [f.id for f in listed] == [plain.id, photo.id]
    with pytest.raises(Forbidden):
        answers.close_followup(w["patient"], plain.id)
    answers.close_followup(w["clinic_staff"], plain.id)
    assert plain.state == FollowUpState.CLOSED
    task = next(t for t in followup_tasks(w["journey"].id) if t.id == plain.task_id)
    assert task.status == TaskStatus.DONE
    with pytest.raises(Conflict):
        answers.close_followup(w["clinic_staff"], plain.id)


# --- the e-mails ---------------------------------------------------------------------------

def test_the_mails_speak_the_readers_language_and_the_places_time(w, app):
    followup = _due(w)
    answers.answer_followup(w["patient"], followup.id, BAD)
    due = mails("aftercare_due")[0]
    with app.test_request_context():
        message = mail.compose(due, "ingrid@example.test", "de")
        body = message.get_content()
        assert "/my/followups/" in body and "Knieprothese" in message["Subject"]
        problem = mails("aftercare_problem")[0]
        text = mail.compose(problem, "clinic@example.test", "en").get_content()
        assert f"journey {w['journey'].id}" in text and "/portal/" in text


def test_due_times_stay_in_the_zone_when_read_back(w):
    jobs.run_followups(now=local(13))
    first = followups(w["journey"].id)[0]
    assert first.due_at.astimezone(VILNIUS).hour == 10
    assert first.due_at.astimezone(VILNIUS).date() - timedelta(days=7) == \
        w["surgery_line"].start_on
