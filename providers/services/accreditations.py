"""Accreditations the cluster vouches for.

A member's manager submits an accreditation (name, issuer, expiry) and uploads its
evidence, a PDF or an image kept in the one file storage (encrypted, as every stored
file). It waits as *pending* until an admin verifies it against the evidence or rejects
it with a reason; an admin may revoke a verified one (with a reason), the member may
withdraw its own. A change of the name, issuer, expiry or evidence of a decided one
sends it back to *pending*: the cluster vouches only for what it has seen.

Only *verified* accreditations that have not expired (``valid_until`` is today or later
in the member's time zone, or not set) are public; the member's staff and the cluster
see every one with its state.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from blinker import Namespace
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from journey.core.accounts.permissions import require_admin
from journey.core.errors import Conflict, InvalidInput, NotFound, refuse
from journey.core.extensions import db
from journey.core.files import check_upload
from journey.core.storage import get_storage
from journey.core.types import utcnow
from providers.models import Accreditation, AccreditationStatus, Provider

#: Sent as ``accreditation_decided.send(accreditation, status=..., reason=...)`` when an
#: admin verifies, rejects or revokes one (the journey layer tells the member).
accreditation_decided = Namespace().signal("accreditation-decided")

S = AccreditationStatus

#: What evidence may be: a PDF or a photo/scan of the certificate.
EVIDENCE_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic")
#: The largest evidence file unless ``ACCREDITATION_EVIDENCE_MAX_BYTES`` says otherwise
#: (never more than ``UPLOAD_MAX_BYTES``).
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
#: Days before ``valid_until`` when the member and the admins are warned.
WARN_DAYS = 60
#: States that a change by the member sends back to pending.
REOPENED_BY_CHANGE = {S.VERIFIED, S.REJECTED, S.REVOKED}
#: States whose expiry is worth a warning (a rejected, revoked or withdrawn one is not).
WARNED = (S.VERIFIED, S.PENDING)
FIELDS = ("name", "issuer", "valid_until")
MAX_FILENAME = 200


# --- what the public sees ------------------------------------------------------------

def member_today(provider: Provider, now: datetime | None = None) -> date:
    """Today's date where the member is."""
    return (now or utcnow()).astimezone(ZoneInfo(provider.timezone or "UTC")).date()


def is_expired(accreditation: Accreditation, today: date) -> bool:
    return accreditation.valid_until is not None and accreditation.valid_until < today


def is_public(accreditation: Accreditation, now: datetime | None = None) -> bool:
    """Verified and not expired (in the member's time zone)."""
    return (accreditation.status == S.VERIFIED
            and not is_expired(accreditation, member_today(accreditation.provider, now)))


def public_accreditations(provider: Provider, now: datetime | None = None
                          ) -> list[Accreditation]:
    """What the catalogue and the public API show of a member's accreditations."""
    today = member_today(provider, now)
    return [a for a in provider.accreditations
            if a.status == S.VERIFIED and not is_expired(a, today)]


def visible_accreditations(actor, provider: Provider, now: datetime | None = None
                           ) -> list[Accreditation]:
    """Every accreditation for the member's staff and the cluster, the public ones for
    anyone else."""
    if _manages(actor, provider.id):
        return list(provider.accreditations)
    return public_accreditations(provider, now)


def _manages(actor, provider_id: int) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return actor.role.is_cluster or (actor.role.is_member and actor.provider_id == provider_id)


# --- the member's side ---------------------------------------------------------------

def _member(actor, provider_id: int, *, manager: bool) -> Provider:
    # Local import: members imports this module for create_member's accreditations.
    from providers.services.members import get_member_for_change

    return get_member_for_change(actor, provider_id, manager=manager)


def list_accreditations(actor, provider_id: int) -> list[Accreditation]:
    """Every accreditation of the member with its state (its staff and the cluster)."""
    return list(_member(actor, provider_id, manager=False).accreditations)


def get_accreditation(actor, provider_id: int, accreditation_id: int, *,
                      manager: bool = False) -> Accreditation:
    provider = _member(actor, provider_id, manager=manager)
    accreditation = next((a for a in provider.accreditations if a.id == accreditation_id),
                         None)
    if accreditation is None:
        raise NotFound(_l("No such accreditation."))
    return accreditation


def new_accreditation(actor, *, name: str, issuer: str, valid_until=None,
                      now: datetime | None = None) -> Accreditation:
    """A pending accreditation, not yet attached to a member (``create_member``)."""
    clean = _clean_fields(name=name, issuer=issuer, valid_until=valid_until)
    return Accreditation(status=S.PENDING, submitted_at=now or utcnow(),
                         submitted_by_id=getattr(actor, "id", None), **clean)


def submit_accreditation(actor, provider_id: int, *, name: str, issuer: str,
                         valid_until=None, evidence: bytes | None = None,
                         filename: str | None = None,
                         now: datetime | None = None) -> Accreditation:
    """Submit an accreditation for verification (the member's manager or the cluster),
    with its evidence or without it (uploaded next, :func:`attach_evidence`). The
    evidence is checked before anything is written."""
    provider = _member(actor, provider_id, manager=True)
    now = now or utcnow()
    accreditation = new_accreditation(actor, name=name, issuer=issuer,
                                      valid_until=valid_until, now=now)
    stored = _store_evidence(evidence, filename) if evidence is not None else None
    provider.accreditations.append(accreditation)
    if stored:
        _set_evidence(accreditation, stored)
    db.session.flush()
    return accreditation


def update_accreditation(actor, provider_id: int, accreditation_id: int, *,
                         now: datetime | None = None, **data) -> Accreditation:
    """Change the name, issuer or expiry; a decided one goes back to pending."""
    accreditation = get_accreditation(actor, provider_id, accreditation_id, manager=True)
    refuse(change_refusal(accreditation))
    current = {field: getattr(accreditation, field) for field in FIELDS}
    clean = _clean_fields(**{**current, **{k: v for k, v in data.items() if k in FIELDS}})
    if clean != current:
        for field, value in clean.items():
            setattr(accreditation, field, value)
        _reopen(actor, accreditation, now)
    db.session.flush()
    return accreditation


def attach_evidence(actor, provider_id: int, accreditation_id: int, *, data: bytes,
                    filename: str | None, now: datetime | None = None) -> Accreditation:
    """Upload (or replace) the evidence; a decided one goes back to pending."""
    accreditation = get_accreditation(actor, provider_id, accreditation_id, manager=True)
    refuse(change_refusal(accreditation))
    stored = _store_evidence(data, filename)
    previous = accreditation.evidence_key
    _set_evidence(accreditation, stored)
    _reopen(actor, accreditation, now)
    db.session.flush()
    if previous:
        _forget_file(previous)
    return accreditation


def withdraw_accreditation(actor, provider_id: int, accreditation_id: int, *,
                           now: datetime | None = None) -> Accreditation:
    """The member takes its accreditation back (it stops showing at once)."""
    accreditation = get_accreditation(actor, provider_id, accreditation_id, manager=True)
    refuse(change_refusal(accreditation))
    accreditation.status = S.WITHDRAWN
    accreditation.status_reason = None
    accreditation.decided_at = now or utcnow()
    accreditation.decided_by_id = actor.id
    db.session.flush()
    return accreditation


def delete_accreditation(actor, provider_id: int, accreditation_id: int) -> None:
    """Remove an accreditation and its evidence."""
    accreditation = get_accreditation(actor, provider_id, accreditation_id, manager=True)
    key = accreditation.evidence_key
    accreditation.provider.accreditations.remove(accreditation)
    db.session.flush()
    if key:
        _forget_file(key)


def change_refusal(accreditation: Accreditation):
    """Why the member may not change (or withdraw) it, or None."""
    if accreditation.status == S.WITHDRAWN:
        return Conflict(_l("This accreditation is withdrawn; submit it again as a new one."))
    return None


def _reopen(actor, accreditation: Accreditation, now: datetime | None) -> None:
    if accreditation.status in REOPENED_BY_CHANGE:
        accreditation.status = S.PENDING
        accreditation.status_reason = None
        accreditation.decided_at = None
        accreditation.decided_by_id = None
    accreditation.submitted_at = now or utcnow()
    accreditation.submitted_by_id = actor.id


def _clean_fields(*, name, issuer, valid_until) -> dict:
    name, issuer = (name or "").strip(), (issuer or "").strip()
    errors = {}
    if not name:
        errors["name"] = [_l("May not be empty.")]
    if not issuer:
        errors["issuer"] = [_l("May not be empty.")]
    if errors:
        raise InvalidInput(_l("Give a name and an issuer."),
                           fields={"accreditations": [_l("Give a name and an issuer.")],
                                   **errors})
    return {"name": name[:200], "issuer": issuer[:200], "valid_until": valid_until}


# --- evidence ---------------------------------------------------------------------------

def evidence_max_bytes() -> int:
    config = current_app.config
    return min(config.get("ACCREDITATION_EVIDENCE_MAX_BYTES") or EVIDENCE_MAX_BYTES,
               config["UPLOAD_MAX_BYTES"])


def _store_evidence(data: bytes | None, filename: str | None) -> dict:
    """Check the file (type from its content, size) and only then store it."""
    data = data or b""
    content_type = check_upload(data, allowed=EVIDENCE_TYPES, max_bytes=evidence_max_bytes(),
                                field="file")
    return {"evidence_key": get_storage().put(data), "evidence_content_type": content_type,
            "evidence_size": len(data), "evidence_filename": clean_filename(filename)}


def _set_evidence(accreditation: Accreditation, stored: dict) -> None:
    for field, value in stored.items():
        setattr(accreditation, field, value)


def _forget_file(key: str) -> None:
    get_storage().delete(key)


def clean_filename(name: str | None) -> str:
    """A file name fit to show and to send back: no folders, controls or quotes."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in '"<>')
    return name.strip(" .")[:MAX_FILENAME] or "evidence"


def open_evidence(actor, accreditation_id: int, *, provider_id: int | None = None
                  ) -> tuple[Accreditation, bytes]:
    """The evidence and its content, for the member's staff and the cluster (404 for
    anyone else, so ids reveal nothing; under ``provider_id``, as the member's other
    pages answer)."""
    if provider_id is not None:
        accreditation = get_accreditation(actor, provider_id, accreditation_id)
    else:
        accreditation = db.session.get(Accreditation, accreditation_id)
        if accreditation is None or not _manages(actor, accreditation.provider_id):
            raise NotFound(_l("No such accreditation."))
    if accreditation.evidence_key is None:
        raise NotFound(_l("No evidence is uploaded for this accreditation."))
    return accreditation, get_storage().open(accreditation.evidence_key)


# --- the admin's side -------------------------------------------------------------------

def _for_admin(actor, accreditation_id: int) -> Accreditation:
    require_admin(actor)
    accreditation = db.session.get(Accreditation, accreditation_id)
    if accreditation is None:
        raise NotFound(_l("No such accreditation."))
    return accreditation


def list_for_admin(actor, *, status: AccreditationStatus | None = S.PENDING
                   ) -> list[Accreditation]:
    """The admins' queue: by default the pending ones, oldest submission first."""
    require_admin(actor)
    query = select(Accreditation).options(selectinload(Accreditation.provider))
    if status is not None:
        query = query.where(Accreditation.status == status)
    return list(db.session.scalars(query.order_by(Accreditation.submitted_at,
                                                  Accreditation.id)))


def verify_refusal(accreditation: Accreditation, now: datetime | None = None):
    if accreditation.status != S.PENDING:
        return Conflict(_l("Only a pending accreditation can be verified."))
    if not accreditation.has_evidence:
        return Conflict(_l("Its evidence is not uploaded yet."))
    if is_expired(accreditation, member_today(accreditation.provider, now)):
        return Conflict(_l("It has expired; the member must submit the renewed one."))
    return None


def verify_accreditation(actor, accreditation_id: int, *,
                         now: datetime | None = None) -> Accreditation:
    """An admin vouches for it, having checked its evidence."""
    accreditation = _for_admin(actor, accreditation_id)
    refuse(verify_refusal(accreditation, now))
    _decide(actor, accreditation, S.VERIFIED, None, now)
    return accreditation


def reject_accreditation(actor, accreditation_id: int, reason: str, *,
                         now: datetime | None = None) -> Accreditation:
    """An admin refuses a pending one, saying why (the member sees the reason)."""
    accreditation = _for_admin(actor, accreditation_id)
    reason = _reason(reason)
    if accreditation.status != S.PENDING:
        raise Conflict(_l("Only a pending accreditation can be rejected."))
    _decide(actor, accreditation, S.REJECTED, reason, now)
    return accreditation


def revoke_accreditation(actor, accreditation_id: int, reason: str, *,
                         now: datetime | None = None) -> Accreditation:
    """An admin withdraws the cluster's word for a verified one, saying why."""
    accreditation = _for_admin(actor, accreditation_id)
    reason = _reason(reason)
    if accreditation.status != S.VERIFIED:
        raise Conflict(_l("Only a verified accreditation can be revoked."))
    _decide(actor, accreditation, S.REVOKED, reason, now)
    return accreditation


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Give the reason."), fields={"reason": [_l("Give the reason.")]})
    return reason


def _decide(actor, accreditation: Accreditation, status: AccreditationStatus,
            reason: str | None, now: datetime | None) -> None:
    accreditation.status = status
    accreditation.status_reason = reason
    accreditation.decided_at = now or utcnow()
    accreditation.decided_by_id = actor.id
    db.session.flush()
    accreditation_decided.send(accreditation, status=status, reason=reason or "")


# --- expiry ----------------------------------------------------------------------------

def expiring(now: datetime | None = None, days: int = WARN_DAYS) -> list[Accreditation]:
    """Verified or pending accreditations whose ``valid_until`` is between today and
    ``days`` days from today where the member is."""
    now = now or utcnow()
    utc_today = now.date()
    # A day of slack each way for the members' time zones, then the exact rule per member.
    candidates = db.session.scalars(
        select(Accreditation).options(selectinload(Accreditation.provider))
        .where(Accreditation.status.in_(WARNED),
               Accreditation.valid_until.is_not(None),
               Accreditation.valid_until >= utc_today - timedelta(days=1),
               Accreditation.valid_until <= utc_today + timedelta(days=days + 1))
        .order_by(Accreditation.valid_until, Accreditation.id))
    return [a for a in candidates if _within(a, now, days)]


def _within(accreditation: Accreditation, now: datetime, days: int) -> bool:
    today = member_today(accreditation.provider, now)
    return today <= accreditation.valid_until <= today + timedelta(days=days)


def days_left(accreditation: Accreditation, now: datetime | None = None) -> int | None:
    if accreditation.valid_until is None:
        return None
    return (accreditation.valid_until - member_today(accreditation.provider, now)).days

