"""The e-mails about accreditations, and the scheduled job that sends the expiry
warnings (registered with :mod:`journey.notices`; the admin and member pages import
this module, so the kinds are registered when the app starts).

- ``accreditation_expiring`` (to the member, ``provider:<id>``): an accreditation
  expires in 60 days or less; renew it and submit the renewed one with its evidence.
- ``accreditation_expiring_admin`` (to every active admin, ``user:<id>``): the same, for
  the admins who vouch for it.

Each is queued once per accreditation, expiry date and recipient (a new ``valid_until``
warns again), however often :func:`warn_expiring` runs.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bookings.models import Notification
from journey import notices
from journey.core.accounts.models import Role, User
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.types import utcnow
from providers.models import Accreditation
from providers.services import accreditations

MEMBER_KIND, ADMIN_KIND = "accreditation_expiring", "accreditation_expiring_admin"


def _link(endpoint: str, **values) -> str:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def _params(notification: Notification) -> dict:
    payload = notification.payload
    if notification.kind == MEMBER_KIND:
        link = _link("member.accreditations.index", provider_id=payload["provider_id"])
    else:
        link = _link("admin.accreditations_page", status="verified")
    return {"name": payload["name"], "issuer": payload["issuer"],
            "member": payload["member"],
            "date": format_date(date.fromisoformat(payload["valid_until"]), "long"),
            "link": link}


notices.register(
    MEMBER_KIND, _l("Your accreditation %(name)s expires on %(date)s"),
    _l("The accreditation \"%(name)s\" (%(issuer)s) of %(member)s is valid until "
       "%(date)s. From the next day on it no longer shows on your public page.\n\n"
       "When it is renewed, enter the new expiry date and upload the renewed certificate, "
       "so that the cluster's admins can verify it again:\n%(link)s"),
    _params)
notices.register(
    ADMIN_KIND, _l("Accreditation expiring: %(name)s of %(member)s, %(date)s"),
    _l("The accreditation \"%(name)s\" (%(issuer)s) of %(member)s is valid until "
       "%(date)s; it leaves the public page after that day. The member has been told "
       "to submit the renewed one. The accreditations:\n%(link)s"),
    _params)


def _admins() -> list[int]:
    return list(db.session.scalars(select(User.id).where(
        User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id)))


def warn_expiring(now: datetime | None = None) -> int:
    """Queue the warnings for accreditations (verified or pending) that expire within
    60 days, to the member and to each active admin; how many e-mails were queued."""
    now = now or utcnow()
    admins = _admins()
    queued = 0
    for accreditation in accreditations.expiring(now):
        until = accreditation.valid_until.isoformat()
        payload = {"accreditation_id": accreditation.id,
                   "provider_id": accreditation.provider_id, "name": accreditation.name,
                   "issuer": accreditation.issuer, "member": accreditation.provider.name,
                   "valid_until": until}
        key = f"accreditation-expiry:{accreditation.id}:{until}"
        queued += notices.queue(f"{key}:provider", f"provider:{accreditation.provider_id}",
                                MEMBER_KIND, payload=payload, now=now)
        for admin_id in admins:
            queued += notices.queue(f"{key}:user:{admin_id}", f"user:{admin_id}",
                                    ADMIN_KIND, payload=payload, now=now)
    return queued


def run_expiry_warnings(_gateway=None) -> int:
    """The scheduled job: :func:`warn_expiring`, committed as one unit."""
    count = warn_expiring()
    commit_unit()
    return count


# --- an admin's decision, told to the member -------------------------------------------------

DECIDED_KIND = "accreditation_decided"
DECISIONS = {"rejected": _l("rejected"), "revoked": _l("withdrawn by the cluster")}


def _decided_params(notification: Notification) -> dict:
    accreditation = db.session.get(Accreditation, notification.payload["accreditation_id"])
    return {"name": accreditation.name, "member": accreditation.provider.name,
            "decision": str(DECISIONS[notification.payload["status"]]),
            "reason": notification.payload.get("reason") or "—",
            "link": _link("member.accreditations.index",
                          provider_id=accreditation.provider_id)}


notices.register(
    DECIDED_KIND, _l("Your accreditation %(name)s: %(decision)s"),
    _l("The cluster's admins have looked at the accreditation \"%(name)s\" of %(member)s: "
       "%(decision)s.\nTheir reason: %(reason)s\n\nYour accreditations:\n%(link)s"),
    _decided_params)


@accreditations.accreditation_decided.connect
def tell_the_member(accreditation: Accreditation, *, status, reason: str) -> None:
    """Rejected or revoked: the member hears why, once per decision (a verification
    shows on its page and needs nothing of it)."""
    if status.value not in ("rejected", "revoked"):
        return
    at = accreditation.decided_at.isoformat() if accreditation.decided_at else ""
    notices.queue(f"{DECIDED_KIND}:{accreditation.id}:{status.value}:{at}",
                  f"provider:{accreditation.provider_id}", DECIDED_KIND,
                  payload={"accreditation_id": accreditation.id, "status": status.value,
                           "reason": reason[:500]})
