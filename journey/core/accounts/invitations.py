"""The account e-mails that carry a single-use link (:mod:`.tokens`), and what using
the link does.

- **Invitations.** An account someone else made has no password (a patient a member's
  staff opened a journey for, a member's new staff): it gets a link to set one
  (:func:`invite_patient`, :func:`.services.invite_staff`), which staff can send again
  (:func:`resend_invitation`).
- **Claims.** Registering with the address of such an account answers as a registration
  does and sends the owner a link to set the password (:func:`register`): no second
  account, and nothing tells the person registering that the account exists.
- **New passwords.** :func:`request_password_reset` answers the same whether or not
  the address has an account, and sends at most ``ACCOUNT_MAIL_ADDRESS_LIMIT`` e-mails
  to one address (``ACCOUNT_MAIL_IP_LIMIT`` requests from one client) per
  ``ACCOUNT_MAIL_WINDOW_MINUTES``: past that, every address alike is answered 429.
- **Setting the password** with an invitation or reset link (:func:`set_password`)
  uses it once, confirms the address, and voids the user's other open links.
- **E-mail verification** of a self-registered address (:func:`verify_email`): recorded
  in ``email_verified_at`` and shown; nothing is refused without it.

The e-mails themselves are written by the outbox (journey/mail.py), in the reader's
language. Services flush; the edge commits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from journey.core.accounts import tokens
from journey.core.accounts.models import (
    AccountMailRequest,
    AccountToken,
    Role,
    TokenPurpose,
    User,
)
from journey.core.accounts.permissions import require_authenticated, require_member_access
from journey.core.accounts.services import (
    UNUSABLE_PASSWORD_PREFIX,
    check_password_strength,
    get_user_by_email,
    has_password,
    hash_password,
    normalize_email,
    register_patient,
)
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from journey.core.extensions import db
from journey.core.money import require_currency
from journey.core.types import utcnow

PASSWORD_LINKS = (TokenPurpose.INVITATION, TokenPurpose.PASSWORD_RESET)


# --- how many account e-mails one address and one client may ask for -------------------

@dataclass(frozen=True)
class MailPolicy:
    address_limit: int = 3
    ip_limit: int = 20
    window: timedelta = timedelta(hours=1)

    @classmethod
    def from_config(cls) -> MailPolicy:
        if not has_app_context():
            return cls()
        config = current_app.config
        return cls(address_limit=config.get("ACCOUNT_MAIL_ADDRESS_LIMIT", 3),
                   ip_limit=config.get("ACCOUNT_MAIL_IP_LIMIT", 20),
                   window=timedelta(minutes=config.get("ACCOUNT_MAIL_WINDOW_MINUTES", 60)))


def _wait(email: str, ip: str | None, now: datetime, policy: MailPolicy) -> timedelta:
    """How long until one more e-mail may be asked for this address from this client:
    requests are counted whether or not the address has an account."""
    since = now - policy.window
    recent = select(func.count(AccountMailRequest.id), func.min(AccountMailRequest.at)).where(
        AccountMailRequest.at >= since)
    checks = [(AccountMailRequest.email == email, policy.address_limit)]
    if ip is not None:
        checks.append((AccountMailRequest.ip == ip, policy.ip_limit))
    waits = [timedelta(0)]
    for condition, limit in checks:
        count, first = db.session.execute(recent.where(condition)).one()
        if count >= limit and first is not None:
            if first.tzinfo is None:  # SQLite gives the aggregate back without its zone
                first = first.replace(tzinfo=UTC)
            waits.append(max(timedelta(seconds=1), first + policy.window - now))
    return max(waits)


def _too_many(wait: timedelta) -> TooManyRequests:
    seconds = math.ceil(wait.total_seconds())
    return TooManyRequests(
        lazy_ngettext("Too many e-mails were asked for. Try again in %(num)d minute.",
                      "Too many e-mails were asked for. Try again in %(num)d minutes.",
                      max(1, math.ceil(seconds / 60))),
        headers={"Retry-After": str(seconds)})


def _record_request(email: str, ip: str | None, kind: str, now: datetime) -> None:
    db.session.add(AccountMailRequest(email=email, ip=ip, kind=kind, at=now))


# --- invitations ------------------------------------------------------------------------

def invite_patient(actor: User | None, patient: User, *,
                   now: datetime | None = None) -> AccountToken | None:
    """The invitation of a patient whose account staff made (one window: a walk-in):
    made unless the account has a password, is deactivated or has a live invitation."""
    actor = require_authenticated(actor)
    if not (actor.role.is_member or actor.role.is_cluster):
        raise Forbidden()
    if (patient.role != Role.PATIENT or has_password(patient) or not patient.active
            or tokens.live_tokens(patient.id, TokenPurpose.INVITATION, now=now)):
        return None
    return tokens.issue(patient, TokenPurpose.INVITATION, mail_kind="patient_invitation",
                        created_by=actor, now=now)


def invited(user: User, *, now: datetime | None = None) -> bool:
    """Whether ``user`` has no password yet and a live invitation to set one."""
    return (not has_password(user)
            and bool(tokens.live_tokens(user.id, TokenPurpose.INVITATION, now=now)))


def _invited_by_member(user: User, provider_id: int | None) -> bool:
    """Whether someone of the member ``provider_id`` sent ``user`` an invitation."""
    if provider_id is None:
        return False
    inviter = aliased(User)
    return db.session.scalar(select(AccountToken.id).join(
        inviter, AccountToken.created_by_id == inviter.id).where(
        AccountToken.user_id == user.id, AccountToken.purpose == TokenPurpose.INVITATION,
        inviter.provider_id == provider_id).limit(1)) is not None


def _may_invite(actor: User, user: User) -> bool:
    """Cluster staff invite anyone; a member's manager its own staff; any of a member's
    staff the patients their member invited."""
    if actor.role.is_cluster:
        return True
    if user.role.is_member:
        return actor.role == Role.MEMBER_MANAGER and actor.provider_id == user.provider_id
    return user.role == Role.PATIENT and actor.role.is_member and _invited_by_member(
        user, actor.provider_id)


def invitation_refusal(actor: User | None, user: User) -> str | None:
    """Why ``actor`` may not send ``user`` a new invitation (None: they may)."""
    if actor is None or not _may_invite(actor, user):
        return str(_l("You are not allowed to do this."))
    if has_password(user):
        return str(_l("This account has a password already."))
    if not user.active:
        return str(_l("This account is deactivated."))
    return None


def resend_invitation(actor: User | None, user_id: int, *,
                      now: datetime | None = None) -> AccountToken:
    """A new invitation link for an account without a password; the older ones stop
    working."""
    actor = require_authenticated(actor)
    user = db.session.get(User, user_id)
    if user is None or not _may_invite(actor, user):
        raise NotFound(_l("No such account."))
    refusal = invitation_refusal(actor, user)
    if refusal is not None:
        raise Conflict(refusal)
    kind = "staff_invitation" if user.role.is_member else "patient_invitation"
    return tokens.issue(user, TokenPurpose.INVITATION, mail_kind=kind, created_by=actor,
                        now=now, replace=True)


@dataclass(frozen=True)
class PendingInvitation:
    user: User
    invited_at: datetime


def pending_invitations(actor: User | None, provider_id: int, *,
                        limit: int = 50) -> list[PendingInvitation]:
    """The patients the member's staff invited who have not set a password yet, the
    latest invited first (the ``limit`` latest)."""
    require_member_access(actor, provider_id)
    inviter = aliased(User)
    invited_at = func.max(AccountToken.created_at)
    rows = db.session.execute(
        select(User, invited_at).join(AccountToken, AccountToken.user_id == User.id)
        .join(inviter, AccountToken.created_by_id == inviter.id)
        .where(inviter.provider_id == provider_id,
               AccountToken.purpose == TokenPurpose.INVITATION,
               User.role == Role.PATIENT, User.active.is_(True),
               User.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX))
        .group_by(User.id).order_by(invited_at.desc(), User.id).limit(limit)).all()
    return [PendingInvitation(user, at) for user, at in rows]


# --- registering, and claiming an account someone else made -----------------------------

@dataclass(frozen=True)
class Registration:
    """A registration's outcome: the new account, to log in, or None when the address
    belongs to an account without a password (its owner was sent a link instead)."""

    user: User | None


def register(*, email: str, password: str, full_name: str, locale: str | None = None,
             currency: str | None = None, ip: str | None = None,
             now: datetime | None = None) -> Registration:
    """Self-registration as a patient, with a link to confirm the address. An address
    whose account has no password yet is claimed: the person registering is answered as
    for a new account, and the link to set the password goes to the address."""
    now = now or utcnow()
    check_password_strength(password, email=email)
    if currency is not None:
        require_currency(currency)
    email = normalize_email(email)
    existing = get_user_by_email(email)
    if existing is not None and not has_password(existing):
        hash_password(password)  # the time a new account's password takes
        if existing.active and _wait(email, ip, now, MailPolicy.from_config()) <= timedelta(0):
            _record_request(email, ip, "account_claim", now)
            tokens.issue(existing, TokenPurpose.INVITATION, mail_kind="account_claim",
                         now=now, replace=True)
        else:
            tokens.spend_like_issue()
        db.session.flush()
        return Registration(None)
    user = register_patient(email=email, password=password, full_name=full_name,
                            locale=locale, currency=currency)
    _record_request(email, ip, "email_verification", now)
    tokens.issue(user, TokenPurpose.EMAIL_VERIFICATION, mail_kind="email_verification",
                 now=now)
    return Registration(user)


# --- a new password -------------------------------------------------------------------

def request_password_reset(email: str, *, ip: str | None = None,
                           now: datetime | None = None) -> None:
    """Send a link to set a new password if ``email`` has an active account. Every
    address gets the same answer (None), and the same refusal past the limits."""
    now = now or utcnow()
    email = normalize_email(email)
    wait = _wait(email, ip, now, MailPolicy.from_config())
    if wait > timedelta(0):
        raise _too_many(wait)
    _record_request(email, ip, "password_reset", now)
    user = get_user_by_email(email)
    if user is not None and user.active:
        tokens.issue(user, TokenPurpose.PASSWORD_RESET, mail_kind="password_reset", now=now)
    else:
        tokens.spend_like_issue()
    db.session.flush()


def password_link(raw: str | None, *, now: datetime | None = None) -> AccountToken | None:
    """The live invitation or reset link behind ``raw`` (to show its form), or None."""
    return tokens.find_live(raw, PASSWORD_LINKS, now=now)


def set_password(raw: str | None, password: str, *, now: datetime | None = None) -> User:
    """Set the password with an invitation or reset link: the link is spent, the
    address counts as confirmed, and the user's other open links stop working."""
    now = now or utcnow()
    live = password_link(raw, now=now)  # (a dead link: refused by its consumption)
    # a weak password does not spend the link
    check_password_strength(password, email=live.user.email if live else None)
    record = tokens.consume(raw, PASSWORD_LINKS, now=now)
    user = record.user
    user.password_hash = hash_password(password)
    user.email_verified_at = user.email_verified_at or now
    tokens.revoke_open(user.id, PASSWORD_LINKS, now=now)
    db.session.flush()
    return user


# --- e-mail verification ---------------------------------------------------------------

def verification_link(raw: str | None, *, now: datetime | None = None) -> AccountToken | None:
    return tokens.find_live(raw, (TokenPurpose.EMAIL_VERIFICATION,), now=now)


def verify_email(raw: str | None, *, now: datetime | None = None) -> User:
    """Record that the address is its owner's (the link is spent)."""
    now = now or utcnow()
    record = tokens.consume(raw, (TokenPurpose.EMAIL_VERIFICATION,), now=now)
    user = record.user
    user.email_verified_at = user.email_verified_at or now
    tokens.revoke_open(user.id, (TokenPurpose.EMAIL_VERIFICATION,), now=now)
    db.session.flush()
    return user


def send_verification(actor: User | None, *, ip: str | None = None,
                      now: datetime | None = None) -> AccountToken:
    """The verification link again, to the actor's own address (the older one stops
    working)."""
    actor = require_authenticated(actor)
    now = now or utcnow()
    if actor.email_verified_at is not None:
        raise InvalidInput(_l("Your e-mail address is confirmed already."))
    wait = _wait(actor.email, ip, now, MailPolicy.from_config())
    if wait > timedelta(0):
        raise _too_many(wait)
    _record_request(actor.email, ip, "email_verification", now)
    return tokens.issue(actor, TokenPurpose.EMAIL_VERIFICATION,
                        mail_kind="email_verification", now=now, replace=True)
