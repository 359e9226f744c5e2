"""The patient's answers to a follow-up, what they signal, and who reads them.

- Only the patient of the journey answers, once: a second answer is a 409 (the first
  stands; the treating member reads what the patient said at that moment).
- An answer that signals a problem (:func:`is_problem`, the one rule) escalates: the
  treating member and the coordinators (the journey's coordinator when it has one) are
  e-mailed, and the follow-up is marked escalated.
- Answers are health data: reading them goes through the case's access rules
  (:func:`journey.case.services.access.case_access`) and writes one access-log row;
  a member's staff see only the follow-ups of their member's lines, and a member that
  does not treat the patient gets 404. The patient's consent comes before the first
  answer, as for the case.
- A photo is a case document (:func:`journey.case.services.case.add_document`):
  type sniffed, size checked, stored encrypted, and shared with the treating member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from journey import notices
from journey.aftercare.models import FollowUp, FollowUpState
from journey.aftercare.services.followups import journey_followups, move
from journey.builder.models import Journey
from journey.builder.services.journeys import visible_journey
from journey.case.models import AccessAction, CaseDocument
from journey.case.services import consent as consents
from journey.case.services.access import CaseAccess, CaseRole, case_access, log_access
from journey.case.services.case import add_document
from journey.core.accounts.models import Role
from journey.core.accounts.permissions import require_authenticated, require_member_access
from journey.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, refuse
from journey.core.extensions import db
from journey.core.files import check_upload
from journey.core.types import utcnow
from journey.core.validation import at_most
from journey.trip.models import Task, TaskStatus
from journey.trip.services.tasks import OPEN as OPEN_TASKS
from journey.trip.services.tasks import move_task
from providers.models import DocumentKind

PROBLEM_KIND = "aftercare_problem"
#: How are you: 1 very unwell, 2 unwell, 3 so-so, 4 well, 5 very well.
WELLBEING = range(1, 6)
PAIN = range(0, 11)
MAX_TEXT = 2000
PHOTO_TYPES = ("image/jpeg", "image/png", "image/heic", "image/webp")
#: The problem rule's thresholds (see :func:`is_problem`).
PAIN_ALARM = 7
WELLBEING_ALARM = 2


def is_problem(*, wellbeing: int, pain: int, complications: bool) -> bool:
    """THE rule: an answer signals a problem when the pain is 7 or more (of 10), the
    patient reports a complication, or feels unwell or very unwell (2 or 1 of 5)."""
    return pain >= PAIN_ALARM or complications or wellbeing <= WELLBEING_ALARM


@dataclass
class Answers:
    wellbeing: int
    pain: int
    complications: bool
    complications_text: str
    photo_document_id: int | None = None


# --- answering -------------------------------------------------------------------------------

def _followup(followup_id: int) -> FollowUp:
    followup = db.session.get(FollowUp, followup_id)
    if followup is None:
        raise NotFound(_l("No such follow-up."))
    return followup


def answer_refusal(followup: FollowUp) -> DomainError | None:
    """Why this follow-up cannot be answered now, or None."""
    if followup.state == FollowUpState.SCHEDULED:
        return Conflict(_l("This follow-up is not due yet."))
    if followup.state == FollowUpState.CANCELLED:
        return Conflict(_l("This follow-up was cancelled."))
    if followup.answered_at is not None or followup.state != FollowUpState.OPEN:
        return Conflict(_l("This follow-up is answered already."))
    return None


def _int_in(value, allowed: range, message) -> int:
    if isinstance(value, bool):
        raise ValueError(message)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if number not in allowed:
        raise ValueError(message)
    return number


def _yes_no(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in ("yes", "true", "1", "on"):
        return True
    if text in ("no", "false", "0", "off"):
        return False
    raise ValueError(_l("Answer yes or no."))


def clean_answers(raw: dict, *, photo_asked: bool, photo_given: bool) -> Answers:
    """The answers as stored, or :class:`InvalidInput` with a message per field."""
    errors, values = {}, {}
    checks = {
        "wellbeing": lambda v: _int_in(v, WELLBEING, _l("Choose how you are, from 1 to 5.")),
        "pain": lambda v: _int_in(v, PAIN, _l("Give your pain from 0 (none) to 10 (worst).")),
        "complications": _yes_no,
    }
    for name, check in checks.items():
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = [_l("Please answer this question.")]
            continue
        try:
            values[name] = check(value)
        except ValueError as error:
            errors[name] = [error.args[0]]
    text = str(raw.get("complications_text") or "").strip()
    if len(text) > MAX_TEXT:
        errors["complications_text"] = [at_most(MAX_TEXT)]
    elif values.get("complications") and not text:
        errors["complications_text"] = [_l("Please say what happened.")]
    document_id = raw.get("photo_document_id")
    if photo_asked and not photo_given and document_id is None:
        errors["photo"] = [_l("Please add a photo: your doctor asks for one.")]
    if errors:
        raise InvalidInput(fields=errors)
    return Answers(values["wellbeing"], values["pain"], values["complications"],
                   text if values["complications"] else "", document_id)


def _photo_document(access: CaseAccess, document_id: int) -> CaseDocument:
    document = db.session.get(CaseDocument, document_id)
    if document is None or document.journey_id != access.journey.id \
            or document.deleted_at is not None or document.uploaded_by_id != access.actor.id \
            or document.content_type not in PHOTO_TYPES:
        raise InvalidInput(fields={"photo_document_id": [_l(
            "Not a photo you added to this journey.")]})
    return document


def answer_followup(actor, followup_id: int, answers: dict, photo: tuple[bytes, str] | None = None,
                    *, now: datetime | None = None) -> FollowUp:
    """The patient answers a due follow-up: how they are (1-5), their pain (0-10),
    complications (yes/no, and what), and a photo (``(content, file name)``, or the id
    of a photo already in the case as ``photo_document_id``) when the step asks for one.
    Everything is checked before anything is written; a problem escalates."""
    actor = require_authenticated(actor)
    followup = _followup(followup_id)
    journey = visible_journey(actor, followup.journey_id)  # 404 for whoever may not see it
    if actor.role != Role.PATIENT or journey.patient_id != actor.id:
        raise Forbidden(_l("Only the patient answers the follow-up questions."))
    refuse(answer_refusal(followup))
    cleaned = clean_answers(answers, photo_asked=followup.photo, photo_given=photo is not None)
    config = current_app.config
    allowed = set(PHOTO_TYPES) & set(config["DOCUMENT_TYPES"])
    if photo is not None:  # an image, checked before anything is written
        check_upload(photo[0], allowed=allowed, max_bytes=config["UPLOAD_MAX_BYTES"],
                     field="photo")
    access = case_access(actor, journey.id)
    consents.require_consent(access)
    now = now or utcnow()
    if cleaned.photo_document_id is not None:
        document = _photo_document(access, cleaned.photo_document_id)
    elif photo is not None:
        document = add_document(actor, journey.id, data=photo[0], filename=photo[1],
                                kind=DocumentKind.PHOTO, now=now)
    else:
        document = None
    if document is not None:  # the member that asked sees it, as a document it requested
        document.shared_with = sorted({*(document.shared_with or []), followup.provider_id})
        followup.photo_document_id = document.id
    followup.wellbeing, followup.pain = cleaned.wellbeing, cleaned.pain
    followup.complications = cleaned.complications
    followup.complications_text = cleaned.complications_text
    followup.answered_at, followup.answered_by_id = now, actor.id
    if is_problem(wellbeing=cleaned.wellbeing, pain=cleaned.pain,
                  complications=cleaned.complications):
        move(followup, FollowUpState.ESCALATED)
        followup.escalated_at = now
        _escalate(followup, journey, now)
    else:
        move(followup, FollowUpState.ANSWERED)
    log_access(access, AccessAction.CHANGE, f"aftercare:{followup.id}", now=now)
    db.session.flush()
    return followup


def problem_recipients(followup: FollowUp, journey: Journey) -> list[str]:
    """The treating member, and the journey's coordinator (else every coordinator)."""
    coordinators = (f"user:{journey.coordinator_id}" if journey.coordinator_id is not None
                    else "coordinators")
    return [f"provider:{followup.provider_id}", coordinators]


def _escalate(followup: FollowUp, journey: Journey, now: datetime) -> None:
    for recipient in problem_recipients(followup, journey):
        notices.queue(f"{PROBLEM_KIND}:{followup.id}:{recipient}", recipient, PROBLEM_KIND,
                      payload={"followup_id": followup.id, "journey_id": journey.id}, now=now)


# --- reading ---------------------------------------------------------------------------------

def _access(actor, journey_id: int, reason: str | None) -> CaseAccess:
    """The case access to a journey's aftercare: as the case's, but a member that does
    not treat the patient gets 404 (it has no follow-ups there), not 403."""
    try:
        return case_access(actor, journey_id, reason=reason)
    except Forbidden:
        if getattr(actor, "role", None) is not None and actor.role.is_member:
            raise NotFound(_l("No such follow-up.")) from None
        raise


def _seen(access: CaseAccess, followups: list[FollowUp]) -> list[FollowUp]:
    if access.role == CaseRole.TREATING:
        return [f for f in followups if f.provider_id == access.provider_id]
    return followups


def read_followups(actor, journey_id: int, *, reason: str | None = None,
                   now: datetime | None = None) -> list[FollowUp]:
    """The journey's follow-ups with their answers as ``actor`` may see them (the
    treating member: its own lines'); one access-log row."""
    access = _access(actor, journey_id, reason)
    found = _seen(access, journey_followups(journey_id))
    log_access(access, AccessAction.READ, "aftercare", now=now)
    db.session.flush()
    return found


def read_followup(actor, followup_id: int, *, reason: str | None = None,
                  now: datetime | None = None) -> FollowUp:
    """One follow-up with its answers (logged); 404 for a member whose line it is not."""
    followup = _followup(followup_id)
    access = _access(actor, followup.journey_id, reason)
    if not _seen(access, [followup]):
        raise NotFound(_l("No such follow-up."))
    log_access(access, AccessAction.READ, f"aftercare:{followup.id}", now=now)
    db.session.flush()
    return followup


#: Problems first, then those answered, then those waiting, then the rest; latest first.
_ORDER = {FollowUpState.ESCALATED: 0, FollowUpState.ANSWERED: 1, FollowUpState.OPEN: 2,
          FollowUpState.CLOSED: 3}


def member_followups(actor, provider_id: int, *, now: datetime | None = None
                     ) -> list[FollowUp]:
    """The follow-ups of a member's lines that are due or done (problems first), with
    the answers; one access-log row per journey read."""
    require_member_access(actor, provider_id)
    found = list(db.session.scalars(select(FollowUp).where(
        FollowUp.provider_id == provider_id, FollowUp.state.in_(tuple(_ORDER)))))
    journeys = {f.journey_id for f in found}
    readable = set()
    for journey_id in sorted(journeys):
        try:
            access = case_access(actor, journey_id)
        except (Forbidden, NotFound):
            continue  # a coordinator who would have to state why: not on this list
        log_access(access, AccessAction.READ, "aftercare", now=now)
        readable.add(journey_id)
    db.session.flush()
    found = [f for f in found if f.journey_id in readable]
    return sorted(found, key=lambda f: (_ORDER[f.state], -f.due_at.timestamp(), -f.id))


def close_followup(actor, followup_id: int, *, now: datetime | None = None) -> FollowUp:
    """The treating member's staff (or the journey's coordinator) close a follow-up they
    have dealt with; its task is done."""
    followup = _followup(followup_id)
    access = _access(actor, followup.journey_id, None)
    if not _seen(access, [followup]):
        raise NotFound(_l("No such follow-up."))
    if access.role == CaseRole.PATIENT:
        raise Forbidden(_l("The treating member closes a follow-up."))
    if followup.state not in (FollowUpState.OPEN, FollowUpState.ANSWERED,
                              FollowUpState.ESCALATED):
        raise Conflict(_l("This follow-up cannot be closed now."))
    now = now or utcnow()
    move(followup, FollowUpState.CLOSED)
    followup.closed_at, followup.closed_by_id = now, actor.id
    task = db.session.get(Task, followup.task_id) if followup.task_id else None
    if task is not None and task.status in OPEN_TASKS:
        move_task(task, TaskStatus.DONE, actor=actor, now=now)
    log_access(access, AccessAction.CHANGE, f"aftercare:{followup.id}:closed", now=now)
    db.session.flush()
    return followup


# --- the journey's panel (dates and states, no answers) --------------------------------------

def followup_overview(actor, journey: Journey) -> list[FollowUp]:
    """The follow-ups of a journey the actor sees (as its page does) without answers:
    all for the patient and the cluster, a member's staff those of their member's lines.
    Whether an answer signalled a problem is health data: only the patient, the
    journey's coordinator and the treating member see it (:func:`shows_problem`)."""
    followups = [f for f in journey_followups(journey.id)
                 if f.state != FollowUpState.CANCELLED]
    if actor is None:
        return []
    if actor.role.is_member:
        return [f for f in followups if f.provider_id == actor.provider_id]
    if actor.role == Role.PATIENT and journey.patient_id != actor.id:
        return []
    return followups


def shows_problem(actor, journey: Journey) -> bool:
    return actor is not None and (
        actor.id in (journey.patient_id, journey.coordinator_id) or actor.role.is_member)
