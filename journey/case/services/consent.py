"""The patient's consent: to the processing of their health data, and to sharing it
with the treating members of this journey. Given before the first answer or upload,
in the version and language of the text read; withdrawable (withdrawing stops new
sharing and is logged), never deleted."""

from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from journey.case.models import AccessAction, Consent, ConsentScope
from journey.case.services.access import CaseAccess, CaseRole, case_access, log_access
from journey.core.errors import Conflict, Forbidden
from journey.core.extensions import db
from journey.core.types import utcnow

#: The version of the texts below; a new wording gets a new version.
CONSENT_VERSION = "2026-12"
CONSENT_TEXTS = {
    ConsentScope.HEALTH_DATA: _l(
        "I agree that One Window and the members of the cluster process the health "
        "information I give for this journey (answers, records, images) to plan, review "
        "and deliver my treatment. I can withdraw this consent at any time."),
    ConsentScope.SHARE_WITH_TREATING: _l(
        "I agree that the clinics, hospitals and rehabilitation centres that treat me on "
        "this journey see the answers and documents they ask for, and those I choose to "
        "share with them. Hotels, transfers and other services never see them."),
}


class ConsentRequired(Conflict):
    code = "consent_required"
    default_message = _l("The patient's consent to the processing of their health data "
                         "comes first.")


def active(journey_id: int, scope: ConsentScope) -> Consent | None:
    return db.session.scalar(select(Consent).where(
        Consent.journey_id == journey_id, Consent.scope == scope,
        Consent.withdrawn_at.is_(None)).order_by(Consent.id.desc()).limit(1))


def consents(journey_id: int) -> list[Consent]:
    return list(db.session.scalars(select(Consent).where(Consent.journey_id == journey_id)
                                   .order_by(Consent.given_at, Consent.id)))


def require_consent(access: CaseAccess) -> None:
    if active(access.journey.id, ConsentScope.HEALTH_DATA) is None:
        raise ConsentRequired()


def give_consent(actor, journey_id: int, scopes: list[ConsentScope], *,
                 now: datetime | None = None) -> list[Consent]:
    """The patient consents (a coordinator or treating member may record a consent the
    patient gave them, which is marked with who recorded it). Giving a consent that
    stands already changes nothing."""
    access = case_access(actor, journey_id)
    now = now or utcnow()
    scopes = [ConsentScope(s) for s in scopes]
    if ConsentScope.SHARE_WITH_TREATING in scopes and ConsentScope.HEALTH_DATA not in scopes \
            and active(journey_id, ConsentScope.HEALTH_DATA) is None:
        raise ConsentRequired()
    given = []
    for scope in dict.fromkeys(scopes):
        if active(journey_id, scope) is None:
            row = Consent(journey_id=journey_id, patient_id=access.journey.patient_id,
                          scope=scope, version=CONSENT_VERSION, language=str(get_locale()),
                          given_at=now, given_by_id=actor.id)
            db.session.add(row)
            given.append(row)
    if given:
        log_access(access, AccessAction.CONSENT,
                   "consent:" + ",".join(row.scope.value for row in given), now=now)
    db.session.flush()
    return consents(journey_id)


def withdraw_consent(actor, journey_id: int, scope: ConsentScope, *,
                     now: datetime | None = None) -> list[Consent]:
    """Only the patient withdraws. Withdrawing the processing withdraws the sharing."""
    access = case_access(actor, journey_id)
    if access.role != CaseRole.PATIENT:
        raise Forbidden(_l("Only the patient withdraws their consent."))
    now = now or utcnow()
    scope = ConsentScope(scope)
    scopes = [scope] + ([ConsentScope.SHARE_WITH_TREATING]
                        if scope == ConsentScope.HEALTH_DATA else [])
    withdrawn = []
    for each in scopes:
        row = active(journey_id, each)
        if row is not None:
            row.withdrawn_at = now
            withdrawn.append(each.value)
    if withdrawn:
        log_access(access, AccessAction.CONSENT, "withdrawn:" + ",".join(withdrawn), now=now)
    db.session.flush()
    return consents(journey_id)
