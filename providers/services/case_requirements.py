"""What a treating member asks of a patient before it reviews the case: the offer's
questionnaire (questions per language, typed), the documents it asks for, and whether
the package waits for its review before payment."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from journey.core.errors import InvalidInput
from journey.core.extensions import db
from journey.core.validation import at_most
from providers.models import (
    ChainLink,
    DocumentKind,
    Offer,
    OfferDocumentRequest,
    OfferQuestion,
    QuestionKind,
)
from providers.services.common import check_language, text_in
from providers.services.offers import get_offer, get_offer_for_change

#: The links whose member treats the patient, so has a case to ask for and review.
TREATMENT_SIDE = frozenset({ChainLink.CONSULTATION, ChainLink.DIAGNOSTICS,
                            ChainLink.TREATMENT, ChainLink.REHABILITATION})
MAX_QUESTIONS = 60
MAX_DOCUMENTS = 20
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def get_requirements(actor, offer_id: int) -> Offer:
    """The offer with its live questions and document requests (whoever may see it)."""
    return get_offer(actor, offer_id)


def live_questions(offer: Offer) -> list[OfferQuestion]:
    return [q for q in offer.questions if not q.retired]


def live_document_requests(offer: Offer) -> list[OfferDocumentRequest]:
    return [d for d in offer.document_requests if not d.retired]


def set_requirements(actor, offer_id: int, *, requires_review: bool,
                     questions: list[dict], documents: list[dict]) -> Offer:
    """Replace the offer's questionnaire and document requests (the member's staff).

    A question is known by its ``key``: one with a key already on the offer is changed
    in place (its answers stay); one left out is retired (answers kept, no longer
    asked). Document requests are replaced the same way, by position."""
    offer = get_offer_for_change(actor, offer_id)
    if (requires_review or questions or documents) and offer.chain_link not in TREATMENT_SIDE:
        raise InvalidInput(fields={"requires_review": [_l(
            "Only a consultation, diagnostics, treatment or rehabilitation asks for a "
            "patient's case.")]})
    if len(questions) > MAX_QUESTIONS:
        raise InvalidInput(fields={"questions": [at_most(MAX_QUESTIONS, "questions")]})
    if len(documents) > MAX_DOCUMENTS:
        raise InvalidInput(fields={"documents": [at_most(MAX_DOCUMENTS, "documents")]})
    cleaned = [_clean_question(q, i) for i, q in enumerate(questions)]
    keys = [q["key"] for q in cleaned]
    if len(set(keys)) != len(keys):
        raise InvalidInput(fields={"questions": [_l("Each question needs its own key.")]})
    existing = {q.key: q for q in offer.questions}
    for position, data in enumerate(cleaned):
        question = existing.get(data["key"])
        if question is None:
            question = OfferQuestion(key=data["key"])
            offer.questions.append(question)
        question.position = position
        question.kind = data["kind"]
        question.required = data["required"]
        question.choices = data["choices"]
        question.texts = data["texts"]
        question.retired = False
    for key, question in existing.items():
        if key not in keys:
            question.retired = True
    requests = [_clean_document(d, i) for i, d in enumerate(documents)]
    current = live_document_requests(offer)
    for position, data in enumerate(requests):
        if position < len(current):
            request = current[position]
        else:
            request = OfferDocumentRequest()
            offer.document_requests.append(request)
        request.position, request.kind = position, data["kind"]
        request.required, request.notes, request.retired = data["required"], data["notes"], False
    for request in current[len(requests):]:
        request.retired = True
    offer.requires_review = requires_review
    db.session.flush()
    return offer


def _clean_question(data: dict, index: int) -> dict:
    field = f"questions.{index}"
    key = (data.get("key") or "").strip()
    if not KEY.match(key):
        raise InvalidInput(fields={field: [_l(
            "A key is 1 to 40 lower-case letters, digits or underscores, starting with a "
            "letter.")]})
    kind = QuestionKind(data["kind"])
    choices = [str(c).strip() for c in data.get("choices") or []]
    if kind == QuestionKind.CHOICE:
        if len(choices) < 2 or len(set(choices)) != len(choices) or not all(choices):
            raise InvalidInput(fields={field: [_l(
                "A choice question needs at least two different choices.")]})
    elif choices:
        raise InvalidInput(fields={field: [_l("Only a choice question has choices.")]})
    texts = {}
    for language, text in (data.get("texts") or {}).items():
        language = check_language(language, field)
        label = (text.get("label") or "").strip()
        if not label:
            raise InvalidInput(fields={field: [_l("Each language needs the question's text.")]})
        labels = [str(c).strip() for c in text.get("choices") or []]
        if kind == QuestionKind.CHOICE and len(labels) not in (0, len(choices)):
            raise InvalidInput(fields={field: [_l(
                "Give a label for every choice, or none (the values are shown).")]})
        texts[language] = {"label": label, "help": (text.get("help") or "").strip(),
                           "choices": labels}
    if not texts:
        raise InvalidInput(fields={field: [_l("Write the question in at least one language.")]})
    return {"key": key, "kind": kind, "required": bool(data.get("required", True)),
            "choices": choices, "texts": texts}


def _clean_document(data: dict, index: int) -> dict:
    notes = {}
    for language, note in (data.get("notes") or {}).items():
        language = check_language(language, f"documents.{index}")
        if note and note.strip():
            notes[language] = note.strip()
    return {"kind": DocumentKind(data["kind"]), "required": bool(data.get("required", True)),
            "notes": notes}


def question_text(question: OfferQuestion, language: str | None) -> tuple[str | None, dict]:
    """The question in the reader's language along the member content's fallback chain:
    ``(language served, {"label", "help", "choices": [(value, label), ...]})``."""
    served, text = text_in(question.texts, language, question.offer.provider)
    text = text or {"label": question.key, "help": "", "choices": []}
    labels = text.get("choices") or question.choices
    return served, {"label": text["label"], "help": text.get("help", ""),
                    "choices": list(zip(question.choices, labels, strict=False))}


def document_note(request: OfferDocumentRequest, language: str | None) -> tuple[str | None, str]:
    served, note = text_in(request.notes, language, request.offer.provider)
    return served, note or ""
