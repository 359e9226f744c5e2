"""Marshmallow schemas of the case API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from journey.case.models import REVIEW_STATUS_TITLES, ConsentScope, ReviewStatus
from journey.case.services.consent import CONSENT_TEXTS, CONSENT_VERSION
from journey.core.i18n import content_language
from journey.core.types import MAX_ID, utcnow
from journey.core.validation import Day, T, length
from providers.models import DOCUMENT_KIND_TITLES, DocumentKind
from providers.services.case_requirements import document_note, question_text

REASON_FIELD = fields.String(load_default=None, validate=length(0, 500), metadata={
    "description": "Why a coordinator who does not coordinate this journey opens its "
                   "medical records (at least 10 characters); logged and flagged."})


class ReasonArgs(Schema):
    reason = REASON_FIELD


class ConsentSchema(Schema):
    scope = fields.Enum(ConsentScope, by_value=True)
    version = fields.String()
    language = fields.String()
    given_at = fields.DateTime()
    given_by_id = fields.Integer()
    withdrawn_at = fields.DateTime(allow_none=True)


class ConsentInSchema(Schema):
    scopes = fields.List(fields.Enum(ConsentScope, by_value=True), required=True,
                         validate=length(1, 2))


class DocumentSchema(Schema):
    id = fields.Integer()
    kind = fields.Enum(DocumentKind, by_value=True)
    kind_title = fields.Function(lambda d: str(DOCUMENT_KIND_TITLES[d.kind]))
    request_id = fields.Integer(allow_none=True)
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    shared_with = fields.List(fields.Integer())
    uploaded_by_id = fields.Integer(allow_none=True)
    uploaded_at = fields.DateTime()


class UploadFormSchema(Schema):
    kind = fields.Enum(DocumentKind, by_value=True, load_default=None)
    request_id = fields.Integer(load_default=None, validate=validate.Range(1, MAX_ID))
    share_with = fields.List(fields.Integer(validate=validate.Range(1, MAX_ID)),
                             load_default=list, validate=length(0, 20))
    reason = REASON_FIELD


class UploadFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class ShareInSchema(Schema):
    provider_ids = fields.List(fields.Integer(validate=validate.Range(1, MAX_ID)),
                               required=True, validate=length(0, 20))


class ReviewSchema(Schema):
    id = fields.Integer()
    provider_id = fields.Integer()
    provider_name = fields.Function(lambda r: r.provider.name)
    status = fields.Enum(ReviewStatus, by_value=True)
    status_title = fields.Function(lambda r: str(REVIEW_STATUS_TITLES[r.status]))
    missing = fields.List(fields.String())
    notes = fields.String()
    submitted_at = fields.DateTime(allow_none=True)
    respond_by = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    escalated_at = fields.DateTime(allow_none=True)


class AmendmentSchema(Schema):
    item_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID))
    start_on = Day(load_default=None, allow_none=True)
    days = fields.Integer(strict=True, load_default=None, allow_none=True,
                          validate=validate.Range(1, 365))
    quantity = fields.Integer(strict=True, load_default=None, allow_none=True,
                              validate=validate.Range(1, 50))


class DecisionInSchema(Schema):
    decision = fields.Enum(ReviewStatus, by_value=True, required=True, metadata={
        "description": "`approved`, `more_requested` (with `missing`) or `declined` "
                       "(with `notes`)."})
    notes = fields.String(load_default="", validate=length(0, 4000))
    missing = fields.List(fields.String(validate=length(1, 300)), load_default=list,
                          validate=length(0, 20))
    amendments = fields.List(fields.Nested(AmendmentSchema), load_default=list,
                             validate=length(0, 20), metadata={
                                 "description": "With an approval: new dates or extent "
                                                "of your own lines; the patient gets a "
                                                "new quote version to accept."})


class AnswersInSchema(Schema):
    answers = fields.Dict(keys=fields.String(validate=validate.Regexp(
                              r"^[1-9][0-9]{0,9}$", error=T("Not a question of this case."))),
                          values=fields.Raw(allow_none=True), required=True,
                          validate=length(1, 200), metadata={
                              "description": "Question id → answer: text, true/false, a "
                                             "number, a date (YYYY-MM-DD) or a choice's "
                                             "value; null clears an answer."})
    reason = REASON_FIELD


def _question(pair) -> dict:
    question, answer = pair
    served, text = question_text(question, content_language())
    return {"id": question.id, "key": question.key, "kind": question.kind.value,
            "required": question.required, "label": text["label"], "help": text["help"],
            "language": served,
            "choices": [{"value": v, "label": label} for v, label in text["choices"]],
            "answer": answer.value if answer is not None else None,
            "answered_at": answer.answered_at.isoformat() if answer is not None else None}


def _request(pair) -> dict:
    request, documents = pair
    served, note = document_note(request, content_language())
    return {"id": request.id, "kind": request.kind.value,
            "kind_title": str(DOCUMENT_KIND_TITLES[request.kind]), "required": request.required,
            "note": note, "language": served, "document_ids": [d.id for d in documents]}


class SectionSchema(Schema):
    provider_id = fields.Function(lambda s: s.provider.id)
    provider_name = fields.Function(lambda s: s.provider.name)
    offer_ids = fields.Function(lambda s: [o.id for o in s.offers])
    review = fields.Nested(ReviewSchema, allow_none=True)
    questions = fields.Function(lambda s: [_question(p) for p in s.questions])
    documents_requested = fields.Function(lambda s: [_request(p) for p in s.requests])


class CaseSchema(Schema):
    journey_id = fields.Function(lambda v: v.journey.id)
    your_access = fields.Function(lambda v: v.access.role.value)
    flagged = fields.Function(lambda v: v.access.flagged)
    consented = fields.Boolean()
    sharing = fields.Boolean()
    consent_version = fields.Function(lambda _v: CONSENT_VERSION)
    consent_texts = fields.Function(lambda _v: {s.value: str(t) for s, t in CONSENT_TEXTS.items()})
    consents = fields.List(fields.Nested(ConsentSchema))
    sections = fields.List(fields.Nested(SectionSchema))
    documents = fields.List(fields.Nested(DocumentSchema))
    missing = fields.List(fields.String())


class AccessLogSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.Function(lambda r: r.actor.full_name if r.actor else None)
    actor_role = fields.String()
    provider_id = fields.Integer(allow_none=True)
    provider_name = fields.Function(lambda r: r.provider.name if r.provider else None)
    action = fields.String()
    entity = fields.String()
    reason = fields.String()
    flagged = fields.Boolean()


class AccessLogArgs(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(
        ["json", "fhir"], error=T("Must be one of: {choices}.")))


class WaitingReviewSchema(ReviewSchema):
    journey_id = fields.Integer()
    overdue = fields.Function(lambda r: r.respond_by is not None and r.respond_by < utcnow())
