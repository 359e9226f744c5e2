"""The case's messages and scheduled work: the member is told of a case to review and the
patient of the decision, each in their language; a review past its deadline is marked
for the coordinators once."""

from __future__ import annotations

from datetime import timedelta

from journey import mail
from journey.case import jobs
from journey.case.models import CaseReview, ConsentScope, ReviewStatus
from journey.case.services import case, consent, reviews
from journey.core.extensions import db
from journey.core.types import utcnow
from tests.journey.case.case_world import PDF, case_world, full_answers


class Outbox:
    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)


def _submitted(make):
    world = case_world(make)
    patient, journey_id = world["patient"], world["journey_id"]
    consent.give_consent(patient, journey_id, [ConsentScope.HEALTH_DATA])
    case.answer_questions(patient, journey_id, full_answers(world))
    case.add_document(patient, journey_id, data=PDF, filename="mri.pdf",
                      request_id=world["request_id"])
    reviews.submit_case(patient, journey_id)
    db.session.commit()
    return world


def test_the_member_and_then_the_patient_are_written_to(make):
    world = _submitted(make)
    world["patient"].locale = "de"
    world["clinic"].email = "review@neris.example"
    reviews.decide(world["clinic_staff"], world["journey_id"],
                   decision=ReviewStatus.MORE_REQUESTED, missing=["X-ray, standing"])
    db.session.commit()
    outbox = Outbox()
    assert mail.send_outbox(transport=outbox) == 2
    to_member = next(m for m in outbox.sent if m["To"] == "review@neris.example")
    assert "Knee replacement" in to_member.get_content()
    to_patient = next(m for m in outbox.sent if m["To"] != "review@neris.example")
    assert to_patient["Content-Language"] == "de"
    assert "- X-ray, standing" in to_patient.get_content()
    assert mail.send_outbox(transport=outbox) == 0  # each once


def test_a_review_past_its_deadline_is_marked_once(make):
    world = _submitted(make)
    review = db.session.query(CaseReview).filter_by(journey_id=world["journey_id"]).one()
    assert jobs.escalate_overdue_reviews() == 0
    review.respond_by = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert jobs.escalate_overdue_reviews() == 1
    assert jobs.escalate_overdue_reviews() == 0
    waiting = reviews.waiting_reviews()
    assert [r.id for r in waiting] == [review.id] and waiting[0].escalated_at is not None
