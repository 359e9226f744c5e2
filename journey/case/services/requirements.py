"""What the treating members on a journey ask for, and what of it is still missing."""

from __future__ import annotations

from sqlalchemy import select

from journey.case.models import CaseAnswer, CaseDocument
from journey.case.services.access import CaseAccess
from journey.core.extensions import db
from providers.services.case_requirements import live_document_requests, live_questions


def answers_of(journey_id: int) -> dict[int, CaseAnswer]:
    return {a.question_id: a for a in db.session.scalars(
        select(CaseAnswer).where(CaseAnswer.journey_id == journey_id))}


def documents_of(journey_id: int) -> list[CaseDocument]:
    return list(db.session.scalars(select(CaseDocument).where(
        CaseDocument.journey_id == journey_id, CaseDocument.deleted_at.is_(None))
        .order_by(CaseDocument.uploaded_at, CaseDocument.id)))


def missing_items(access: CaseAccess, provider_ids: list[int]) -> list[str]:
    """The required answers and documents the members ``provider_ids`` still wait for,
    as ``question:<question id>`` and ``document:<request id>``."""
    answers = answers_of(access.journey.id)
    uploaded = {d.request_id for d in documents_of(access.journey.id)}
    gaps = []
    for offer in access.treating_offers:
        if offer.provider_id not in provider_ids:
            continue
        for question in live_questions(offer):
            answer = answers.get(question.id)
            if question.required and (answer is None or answer.value in (None, "")):
                gaps.append(f"question:{question.id}")
        for request in live_document_requests(offer):
            if request.required and request.id not in uploaded:
                gaps.append(f"document:{request.id}")
    return gaps
