"""What the case pages of the patient (:mod:`journey.pages.patient.case`), of a treating
member (:mod:`journey.pages.member.cases`) and of the coordinator share: the case as
:func:`journey.case.services.case.read_case` returns it, turned into rows for the
templates (questions in the reader's language, answers as words, what is missing
explained), a document sent back as an attachment, and the access log as a table.

Nothing here decides who sees what: every row comes from a service that did.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from babel.lists import format_list
from flask import current_app, send_file
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from journey.builder.models import Journey
from journey.case.models import AccessAction, AccessLog, CaseDocument
from journey.case.services.case import CaseView, Section
from journey.core.accounts.models import ROLE_TITLES, Role
from journey.core.extensions import db
from journey.core.files import file_size_text, type_names
from journey.core.i18n import content_language
from journey.core.types import CLUSTER_TIMEZONE
from journey.pages.common import page_locale
from journey.pages.layout import day
from journey.pages.titles import ACCESS_ACTION_TITLES
from providers.models import DOCUMENT_KIND_TITLES, OfferQuestion, Provider, QuestionKind
from providers.services.case_requirements import document_note, question_text
from providers.services.offers import offer_text


def journey_zone(journey) -> str:
    """Where the journey happens: the zone of the member that opened it, else of its
    first item's member, else the cluster's."""
    provider = journey.entry_provider or (journey.items[0].offer.provider
                                          if journey.items else None)
    return provider.timezone if provider is not None and provider.timezone else \
        CLUSTER_TIMEZONE


def document_response(document: CaseDocument, content: bytes):
    """A document's content as a download (never shown inline, never cached), as the
    case API sends it."""
    response = send_file(io.BytesIO(content), mimetype=document.content_type,
                         as_attachment=True, download_name=document.filename, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def review_parties(reviews) -> list:
    """The journeys (with their patients) and the members of ``reviews``, read in two
    queries so that a table of reviews finds them in the session instead of loading
    them row by row; keep the answer referenced until the table is rendered (the
    session holds rows weakly)."""
    if not reviews:
        return []
    journeys = db.session.scalars(select(Journey).where(
        Journey.id.in_({review.journey_id for review in reviews}))
        .options(joinedload(Journey.patient))).unique().all()
    providers = db.session.scalars(select(Provider).where(
        Provider.id.in_({review.provider_id for review in reviews}))).all()
    return [*journeys, *providers]


def case_context() -> dict:
    """What the case templates (case/_case.html) use beside every page's helpers."""
    return {"file_size": file_size_text}


def upload_hint() -> str:
    """What an upload takes: "PDF, JPEG, … or DICOM, up to 20 MB"."""
    config = current_app.config
    return _("%(types)s, up to %(size)s",
             types=format_list(type_names(config["DOCUMENT_TYPES"]), style="or",
                               locale=page_locale()),
             size=file_size_text(config["UPLOAD_MAX_BYTES"]))


# --- the case as rows ------------------------------------------------------------------------

@dataclass
class QuestionRow:
    question: OfferQuestion
    language: str | None  # the language the label was served in
    label: str
    help: str
    choices: list[tuple[str, str]]
    value: object  # the stored answer, or None
    shown: str  # the answer in words ("Yes", "Left", "82.5"), or ""


@dataclass
class RequestRow:
    request: object
    title: str
    language: str | None  # the language of the note
    note: str
    documents: list[CaseDocument]


@dataclass
class SectionRows:
    section: Section
    offers: list[tuple[str | None, str]]  # (language served, title)
    questions: list[QuestionRow] = field(default_factory=list)
    requests: list[RequestRow] = field(default_factory=list)

    @property
    def provider(self):
        return self.section.provider

    @property
    def review(self):
        return self.section.review


def answer_words(question: OfferQuestion, value, choices) -> str:
    """A stored answer as the reader reads it."""
    if value is None or value == "":
        return ""
    if question.kind == QuestionKind.YES_NO:
        return _("Yes") if value else _("No")
    if question.kind == QuestionKind.CHOICE:
        return dict(choices).get(str(value), str(value))
    if question.kind == QuestionKind.NUMBER:
        return format_decimal(value)
    if question.kind == QuestionKind.DATE:
        try:
            return day(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    return str(value)


def _title(offer, language: str) -> tuple[str | None, str]:
    served, text = offer_text(offer, language)
    return served, text.title if text else f"#{offer.id}"


def section_rows(view: CaseView) -> list[SectionRows]:
    """Each treating member's part of the case, in the reader's language."""
    language = content_language()
    rows = []
    for section in view.sections:
        part = SectionRows(section, [_title(offer, language) for offer in section.offers])
        for question, answer in section.questions:
            served, text = question_text(question, language)
            value = answer.value if answer is not None else None
            part.questions.append(QuestionRow(
                question, served, text["label"], text["help"], text["choices"], value,
                answer_words(question, value, text["choices"])))
        for request, documents in section.requests:
            served, note = document_note(request, language)
            part.requests.append(RequestRow(request, str(DOCUMENT_KIND_TITLES[request.kind]),
                                            served, note, documents))
        rows.append(part)
    return rows


def other_documents(view: CaseView) -> list[CaseDocument]:
    """The documents the reader sees that answer none of the requests shown."""
    asked = {doc.id for section in view.sections for _request, docs in section.requests
             for doc in docs}
    return [doc for doc in view.documents if doc.id not in asked]


@dataclass
class Gap:
    """One thing still missing: the member that asks, what it asks (in ``language``)
    and, for a document, its note; ``anchor`` is where the patient's page gives it."""

    member: str
    text: str
    language: str | None
    anchor: str
    note: str = ""
    note_language: str | None = None


def explain_missing(view: CaseView, codes: list[str]) -> list[Gap]:
    """``question:<question id>`` and ``document:<request id>`` (what
    :func:`journey.case.services.requirements.missing_items` lists) as the questions'
    labels and the documents' kinds and notes, each with its member's name."""
    language = content_language()
    questions, requests = {}, {}
    for section in view.sections:
        for question, _answer in section.questions:
            questions[str(question.id)] = (section.provider, question)
        for request, _documents in section.requests:
            requests[str(request.id)] = (section.provider, request)
    gaps = []
    for code in codes:
        kind, _sep, key = code.partition(":")
        if kind == "question" and key in questions:
            provider, question = questions[key]
            served, text = question_text(question, language)
            gaps.append(Gap(provider.name, text["label"], served, f"q{question.id}"))
        elif kind == "document" and key in requests:
            provider, request = requests[key]
            served, note = document_note(request, language)
            gaps.append(Gap(provider.name, str(DOCUMENT_KIND_TITLES[request.kind]), None,
                            f"request-{request.id}", note, served))
    return gaps


# --- who has seen the records ------------------------------------------------------------------

@dataclass
class AccessRow:
    row: AccessLog
    person: str
    role: str
    member: str
    what: str  # what they did, in words: "Read the case", "Downloaded knee.pdf"


def _what(row: AccessLog, documents: dict[int, CaseDocument]) -> str:
    """What the row says was done, as one phrase (the entity's forms are those of
    :class:`~journey.case.models.AccessLog`)."""
    kind, _sep, rest = row.entity.partition(":")
    if row.refused:
        return _("Tried to open the case (refused)")
    if kind == "document":
        ident, _sep, detail = rest.partition(":")
        document = documents.get(int(ident)) if ident.isdigit() else None
        name = document.filename if document is not None else \
            _("document %(id)s", id=ident)
        if row.action == AccessAction.DOWNLOAD:
            return _("Downloaded %(document)s", document=name)
        if detail == "shared":
            return _("Changed who %(document)s is shared with", document=name)
        if detail == "removed":
            return _("Removed %(document)s", document=name)
        return _("Added %(document)s", document=name)
    phrases = {"answers": _("Changed the answers"), "review": _("Decided on the review"),
               "consent": _("Gave consent"), "withdrawn": _("Withdrew consent")}
    if row.entity == "case:submitted":
        return _("Sent the case for review")
    if kind in phrases:
        return phrases[kind]
    return str(ACCESS_ACTION_TITLES.get(row.action, row.action))


def access_rows(rows: list[AccessLog], *, documents: list[CaseDocument],
                me=None) -> list[AccessRow]:
    """The access log as a table: who (``me`` is "You"), with what role, for which
    member, and what they did. ``me``'s own readings are left out: the patient asks
    who else has seen the records (the API's log has every row)."""
    by_id = {doc.id: doc for doc in documents}
    table = []
    for row in rows:
        if me is not None and row.actor_id == me.id:
            if row.action == AccessAction.READ:
                continue
            person = _("You")
        else:
            person = row.actor.full_name if row.actor is not None else _("A deleted account")
        try:
            role = str(ROLE_TITLES[Role(row.actor_role)])
        except ValueError:
            role = row.actor_role
        table.append(AccessRow(row, person, role, row.provider.name if row.provider else "",
                               _what(row, by_id)))
    return table
