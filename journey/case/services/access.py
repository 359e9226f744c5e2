"""Who may touch the medical content of a journey, and the log of every time they do.

Decided here for the API and the pages alike (DESIGN: scoped access):

- the patient: everything of their own journey;
- a *treating* member (one of its offers on the journey is a consultation, diagnostics,
  treatment or rehabilitation): its own questionnaire and review, the documents it
  asked for and those the patient shared with it;
- the journey's coordinator: all of it; any other coordinator only after stating a
  reason ("break the glass"), and that access is flagged;
- a member that only supplies a line, and the cluster's admins: 403 (no medical
  content); anyone who may not see the journey at all: 404.

Every read or change of medical content writes exactly one :class:`AccessLog` row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from journey.builder.models import Journey, JourneyItem
from journey.builder.services.journeys import visible_journey
from journey.case.models import AccessAction, AccessLog
from journey.core.accounts.models import Role
from journey.core.errors import Forbidden, NotFound
from journey.core.extensions import db
from journey.core.persistence import keep_on_rollback, own_transaction
from journey.core.types import utcnow
from providers.models import Offer
from providers.services.case_requirements import TREATMENT_SIDE

MIN_REASON = 10


class CaseRole(enum.StrEnum):
    PATIENT = "patient"
    TREATING = "treating"
    COORDINATOR = "coordinator"


class ReasonRequired(Forbidden):
    """A coordinator outside their own journeys must say why before reading."""

    code = "reason_required"
    default_message = _l("This journey is not yours to coordinate: state why you open the "
                         "patient's medical records (at least 10 characters).")


@dataclass
class CaseAccess:
    """How ``actor`` may touch ``journey``'s case: as the patient, as the treating
    member ``provider_id`` or as a coordinator (``flagged`` with ``reason`` when it is
    not theirs)."""

    actor: object
    journey: Journey
    role: CaseRole
    provider_id: int | None = None
    reason: str = ""
    flagged: bool = False
    treating_offers: list[Offer] = field(default_factory=list)

    @property
    def sees_everything(self) -> bool:
        return self.role in (CaseRole.PATIENT, CaseRole.COORDINATOR)

    def offers_seen(self) -> list[Offer]:
        """The treating offers whose questionnaire and requests this reader sees."""
        if self.sees_everything:
            return self.treating_offers
        return [o for o in self.treating_offers if o.provider_id == self.provider_id]


def treating_offers(journey_id: int) -> list[Offer]:
    """The journey's treatment-side offers, in the order of the package."""
    offers = db.session.scalars(
        select(Offer).join(JourneyItem, JourneyItem.offer_id == Offer.id)
        .where(JourneyItem.journey_id == journey_id, Offer.chain_link.in_(TREATMENT_SIDE))
        .order_by(JourneyItem.start_on, JourneyItem.id)).all()
    return list(dict.fromkeys(offers))


def case_access(actor, journey_id: int, *, reason: str | None = None) -> CaseAccess:
    """The access ``actor`` has to the case of ``journey_id``, or the refusal, which is
    logged (in a transaction of its own: the request that was refused rolls back)."""
    try:
        return _case_access(actor, journey_id, reason)
    except (Forbidden, NotFound) as refusal:
        _log_refusal(actor, journey_id, refusal)
        raise


def _log_refusal(actor, journey_id: int, refusal) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return
    journey = db.session.get(Journey, journey_id)
    with own_transaction() as conn:
        conn.execute(insert(AccessLog).values(
            at=utcnow(), actor_id=actor.id, actor_role=actor.role.value,
            provider_id=getattr(actor, "provider_id", None),
            journey_id=journey.id if journey is not None else None,
            patient_id=journey.patient_id if journey is not None else None,
            action=AccessAction.READ, entity=f"case:{journey_id}:{refusal.code}"[:60],
            reason="", flagged=False, refused=True))


def _case_access(actor, journey_id: int, reason: str | None) -> CaseAccess:
    journey = visible_journey(actor, journey_id)  # 404 for whoever may not see it
    offers = treating_offers(journey.id)
    if actor.role == Role.PATIENT:
        return CaseAccess(actor, journey, CaseRole.PATIENT, treating_offers=offers)
    if actor.role.is_member:
        if any(o.provider_id == actor.provider_id for o in offers):
            return CaseAccess(actor, journey, CaseRole.TREATING, provider_id=actor.provider_id,
                              treating_offers=offers)
        raise Forbidden(_l("The patient's medical records are only for the patient, the "
                           "members that treat them and the coordinators."))
    if actor.role == Role.COORDINATOR:
        if journey.coordinator_id == actor.id:
            return CaseAccess(actor, journey, CaseRole.COORDINATOR, treating_offers=offers)
        stated = (reason or "").strip()
        if len(stated) < MIN_REASON:
            raise ReasonRequired(fields={"reason": [ReasonRequired.default_message]})
        return CaseAccess(actor, journey, CaseRole.COORDINATOR, reason=stated[:500],
                          flagged=True, treating_offers=offers)
    raise Forbidden(_l("Cluster admins do not see patients' medical records."))


def log_access(access: CaseAccess, action: AccessAction, entity: str, *,
               now: datetime | None = None) -> AccessLog:
    """The one access-log row of this read or change (append-only: never updated)."""
    values = {"at": now or utcnow(), "actor_id": access.actor.id,
              "actor_role": access.actor.role.value,
              "provider_id": getattr(access.actor, "provider_id", None),
              "journey_id": access.journey.id, "patient_id": access.journey.patient_id,
              "action": action, "entity": entity, "reason": access.reason,
              "flagged": access.flagged}
    row = AccessLog(**values)
    db.session.add(row)
    if action in (AccessAction.READ, AccessAction.DOWNLOAD):
        # What was read was seen, even on a page that answers 4xx and rolls back.
        keep_on_rollback(AccessLog, values)
    return row


def access_log(actor, journey_id: int) -> list[AccessLog]:
    """Who has seen or changed the case ("who has seen my records"): the patient, or
    a coordinator of the journey. Reading the log is not itself medical content."""
    journey = visible_journey(actor, journey_id)
    if not (actor.role in (Role.PATIENT, Role.ADMIN)
            or (actor.role == Role.COORDINATOR and journey.coordinator_id == actor.id)):
        raise Forbidden(_l("Only the patient, the journey's coordinator and the cluster's "
                           "admins read this log."))
    return list(db.session.scalars(select(AccessLog).where(AccessLog.journey_id == journey.id)
                                   .order_by(AccessLog.at.desc(), AccessLog.id.desc())))


def as_audit_event(row: AccessLog) -> dict:
    """The row as a FHIR R4 AuditEvent (IHE Basic Audit Log Patterns, the "read" and
    "update" of a patient's records)."""
    subtype = {AccessAction.READ: "read", AccessAction.DOWNLOAD: "read",
               AccessAction.CHANGE: "update", AccessAction.EXPORT: "read",
               AccessAction.ERASE: "delete", AccessAction.CONSENT: "update"}[row.action]
    action = {"read": "R", "update": "U", "delete": "D"}[subtype]
    event = {
        "resourceType": "AuditEvent",
        "id": str(row.id),
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
                 "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": subtype}],
        "action": action,
        "recorded": row.at.isoformat(),
        "outcome": "4" if row.refused else "0",
        "agent": [{
            "who": {"reference": f"Practitioner/{row.actor_id}" if row.actor_role != "patient"
                    else f"Patient/{row.actor_id}"},
            "role": [{"text": row.actor_role}],
            "requestor": True,
            **({"purposeOfUse": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                "code": "ETREAT", "display": "Emergency treatment"}],
                "text": row.reason}]} if row.flagged else {}),
        }],
        "source": {"observer": {"display": "One Window"}},
        "entity": [{"what": {"reference": f"Patient/{row.patient_id}"},
                    "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role",
                             "code": "1", "display": "Patient"}},
                   {"what": {"display": row.entity},
                    "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role",
                             "code": "4", "display": "Domain Resource"}}],
    }
    if row.provider_id is not None:
        event["agent"][0]["who"]["display"] = f"member {row.provider_id}"
    return event
