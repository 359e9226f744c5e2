"""The case as its readers see it, the answers to the questionnaires and the documents.

Every function here that reads or changes medical content asks
:func:`journey.case.services.access.case_access` first and writes exactly one access-log
row. Document bytes are reached only through :func:`open_document`, which logs first.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l

from journey.case.models import (
    AccessAction,
    CaseAnswer,
    CaseDocument,
    CaseReview,
    Consent,
    ConsentScope,
)
from journey.case.services import consent as consents
from journey.case.services.access import CaseAccess, CaseRole, case_access, log_access
from journey.case.services.requirements import answers_of, documents_of, missing_items
from journey.case.services.reviews import reviews_for
from journey.core.errors import Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.files import check_upload
from journey.core.storage import get_storage
from journey.core.types import utcnow
from journey.core.validation import at_most, latest_date
from providers.models import (
    DocumentKind,
    Offer,
    OfferDocumentRequest,
    OfferQuestion,
    Provider,
    QuestionKind,
)
from providers.services.case_requirements import live_document_requests, live_questions

MAX_TEXT_ANSWER = 4000
MAX_FILENAME = 200


@dataclass
class Section:
    """What one treating member asks for, with what has been given."""

    provider: Provider
    offers: list[Offer]
    questions: list[tuple[OfferQuestion, CaseAnswer | None]] = field(default_factory=list)
    requests: list[tuple[OfferDocumentRequest, list[CaseDocument]]] = field(default_factory=list)
    review: CaseReview | None = None


@dataclass
class CaseView:
    access: CaseAccess
    sections: list[Section]
    documents: list[CaseDocument]  # every document this reader sees
    consents: list[Consent]
    missing: list[str]

    @property
    def journey(self):
        return self.access.journey

    @property
    def consented(self) -> bool:
        return any(c.scope == ConsentScope.HEALTH_DATA and c.withdrawn_at is None
                   for c in self.consents)

    @property
    def sharing(self) -> bool:
        return any(c.scope == ConsentScope.SHARE_WITH_TREATING and c.withdrawn_at is None
                   for c in self.consents)


def visible_documents(access: CaseAccess) -> list[CaseDocument]:
    """The documents ``access`` may see: all for the patient and the coordinators; for a
    treating member those it asked for, those shared with it and those its staff added."""
    documents = documents_of(access.journey.id)
    if access.sees_everything:
        return documents
    ours = {r.id for o in access.offers_seen() for r in o.document_requests}
    return [d for d in documents if d.request_id in ours
            or access.provider_id in (d.shared_with or [])
            or (d.uploaded_by is not None and d.uploaded_by.provider_id == access.provider_id)]


def read_case(actor, journey_id: int, *, reason: str | None = None) -> CaseView:
    """The case as ``actor`` may see it; one access-log row."""
    access = case_access(actor, journey_id, reason=reason)
    view = _view(access)
    log_access(access, AccessAction.READ, "case")
    db.session.flush()
    return view


def _view(access: CaseAccess) -> CaseView:
    answers = answers_of(access.journey.id)
    documents = visible_documents(access)
    reviews = {r.provider_id: r for r in reviews_for(access)}
    sections: dict[int, Section] = {}
    for offer in access.offers_seen():
        section = sections.setdefault(offer.provider_id, Section(offer.provider, []))
        section.offers.append(offer)
        section.questions += [(q, answers.get(q.id)) for q in live_questions(offer)]
        section.requests += [(r, [d for d in documents if d.request_id == r.id])
                             for r in live_document_requests(offer)]
        section.review = reviews.get(offer.provider_id)
    providers = [s.provider.id for s in sections.values()]
    return CaseView(access, list(sections.values()), documents,
                    consents.consents(access.journey.id), missing_items(access, providers))


# --- answers -------------------------------------------------------------------------------

def answer_questions(actor, journey_id: int, answers: dict, *,
                     reason: str | None = None, now: datetime | None = None) -> CaseView:
    """Save answers (``{question id: value}``; None clears one). The patient answers,
    or a treating member (its own questions) or coordinator for them; the patient's
    consent comes first. Every value is checked before anything is written."""
    access = case_access(actor, journey_id, reason=reason)
    consents.require_consent(access)
    now = now or utcnow()
    questions = {q.id: q for o in access.offers_seen() for q in live_questions(o)}
    cleaned, errors = {}, {}
    for raw_id, value in answers.items():
        question = questions.get(int(raw_id)) if str(raw_id).isdigit() else None
        if question is None:
            errors[str(raw_id)] = [_l("Not a question of this case.")]
            continue
        try:
            cleaned[question.id] = clean_answer(question, value)
        except ValueError as error:
            errors[str(raw_id)] = [error.args[0]]
    if errors:
        raise InvalidInput(fields={"answers": errors})
    existing = answers_of(access.journey.id)
    for question_id, value in cleaned.items():
        row = existing.get(question_id)
        if value is None:
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            row = CaseAnswer(journey_id=access.journey.id, question_id=question_id)
            db.session.add(row)
        row.value, row.answered_by_id, row.answered_at = value, actor.id, now
    log_access(access, AccessAction.CHANGE, "answers", now=now)
    db.session.flush()
    return _view(access)


def clean_answer(question: OfferQuestion, value):
    """The stored form of an answer, or ValueError with the message for the reader."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = question.kind
    if kind == QuestionKind.TEXT:
        text = str(value).strip()
        if len(text) > MAX_TEXT_ANSWER:
            raise ValueError(at_most(MAX_TEXT_ANSWER))
        return text
    if kind == QuestionKind.YES_NO:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("yes", "true", "1", "on"):
            return True
        if str(value).lower() in ("no", "false", "0", "off"):
            return False
        raise ValueError(_l("Answer yes or no."))
    if kind == QuestionKind.NUMBER:
        if isinstance(value, bool):
            raise ValueError(_l("Give a number."))
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            raise ValueError(_l("Give a number.")) from None
        if not number.is_finite() or abs(number) >= Decimal("1e9") or \
                number.as_tuple().exponent < -4:
            raise ValueError(_l("Give a number.")) from None
        return float(number) if number != number.to_integral_value() else int(number)
    if kind == QuestionKind.DATE:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(_l("Give a date as YYYY-MM-DD.")) from None
        if not date(1900, 1, 1) <= day <= latest_date():
            raise ValueError(_l("Give a date between 1900 and five years from now."))
        return day.isoformat()
    if str(value) not in question.choices:
        raise ValueError(_l("Choose one of the choices."))
    return str(value)


# --- documents -----------------------------------------------------------------------------

def add_document(actor, journey_id: int, *, data: bytes, filename: str,
                 kind: DocumentKind | str | None = None, request_id: int | None = None,
                 share_with: list[int] | None = None, reason: str | None = None,
                 now: datetime | None = None) -> CaseDocument:
    """Store a document of the case, encrypted, after its type is sniffed from its
    content and its size checked (nothing is stored when either is refused)."""
    access = case_access(actor, journey_id, reason=reason)
    consents.require_consent(access)
    request = None
    if request_id is not None:
        request = next((r for o in access.offers_seen() for r in live_document_requests(o)
                        if r.id == request_id), None)
        if request is None:
            raise InvalidInput(fields={"request_id": [_l("Not a document this case asks for.")]})
    try:
        kind = DocumentKind(kind) if kind else (request.kind if request else DocumentKind.OTHER)
    except ValueError:
        raise InvalidInput(fields={"kind": [_l("Not a known kind of document.")]}) from None
    config = current_app.config
    content_type = check_upload(data, allowed=set(config["DOCUMENT_TYPES"]),
                                max_bytes=config["UPLOAD_MAX_BYTES"])
    shared = _check_share(access, share_with or [])
    now = now or utcnow()
    document = CaseDocument(
        journey_id=access.journey.id, kind=kind, request_id=request.id if request else None,
        filename=clean_filename(filename), content_type=content_type, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), shared_with=shared,
        uploaded_by_id=actor.id, uploaded_at=now)
    document.storage_key = get_storage().put(data)
    db.session.add(document)
    db.session.flush()
    log_access(access, AccessAction.CHANGE, f"document:{document.id}", now=now)
    return document


def clean_filename(name: str | None) -> str:
    """A file name fit to show and to send back: no folders, controls or quotes."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in '"<>')
    name = name.strip(" .")[:MAX_FILENAME]
    return name or "document"


def _check_share(access: CaseAccess, provider_ids: list[int]) -> list[int]:
    if not provider_ids:
        return []
    if access.role != CaseRole.PATIENT:
        raise Forbidden(_l("Only the patient shares their documents."))
    if consents.active(access.journey.id, ConsentScope.SHARE_WITH_TREATING) is None:
        raise InvalidInput(fields={"share_with": [_l(
            "Sharing needs the patient's consent to share with the treating members.")]})
    treating = {o.provider_id for o in access.treating_offers}
    wrong = [p for p in provider_ids if p not in treating]
    if wrong:
        raise InvalidInput(fields={"share_with": [_l(
            "Documents are shared only with the members that treat the patient.")]})
    return sorted(set(provider_ids))


def _document(access: CaseAccess, document_id: int) -> CaseDocument:
    document = next((d for d in visible_documents(access) if d.id == document_id), None)
    if document is None:
        raise NotFound(_l("No such document."))
    return document


def open_document(actor, journey_id: int, document_id: int, *,
                  reason: str | None = None) -> tuple[CaseDocument, bytes]:
    """A document and its content, decrypted, for a reader who may see it; logged."""
    access = case_access(actor, journey_id, reason=reason)
    document = _document(access, document_id)
    log_access(access, AccessAction.DOWNLOAD, f"document:{document.id}")
    db.session.flush()
    return document, get_storage().open(document.storage_key)


def share_document(actor, journey_id: int, document_id: int,
                   provider_ids: list[int]) -> CaseDocument:
    """The patient sets the treating members a document is shared with (beside the one
    that asked for it); an empty list stops sharing it."""
    access = case_access(actor, journey_id)
    if access.role != CaseRole.PATIENT:
        raise Forbidden(_l("Only the patient shares their documents."))
    document = _document(access, document_id)
    document.shared_with = _check_share(access, provider_ids) if provider_ids else []
    log_access(access, AccessAction.CHANGE, f"document:{document.id}:shared")
    db.session.flush()
    return document


def remove_document(actor, journey_id: int, document_id: int, *,
                    now: datetime | None = None) -> None:
    """The patient (or whoever added it) removes a document: its content is deleted
    from the storage at once; the row stays as a trace, without the content."""
    access = case_access(actor, journey_id)
    document = _document(access, document_id)
    if access.role != CaseRole.PATIENT and document.uploaded_by_id != actor.id:
        raise Forbidden(_l("Only the patient or whoever added it removes a document."))
    document.deleted_at = now or utcnow()
    key, document.storage_key = document.storage_key, None
    log_access(access, AccessAction.CHANGE, f"document:{document.id}:removed")
    db.session.flush()
    if key:
        get_storage().delete(key)
