"""Single-use, expiring account links (:class:`AccountToken`): made and used only here.

- **Stored hashed.** A link carries ``owl_<43 characters>``; the database keeps its
  SHA-256 (as for API tokens). The raw token is an HMAC of the row's random ``salt``
  under the application's ``SECRET_KEY``, so the outbox (journey/mail.py) can write it
  into the e-mail later without anyone keeping it.
- **Used once.** :func:`consume` is one conditional ``UPDATE ... WHERE used_at IS NULL
  AND revoked_at IS NULL AND expires_at > now`` whose row count is checked: of two
  clicks at once, one wins and the other is told the link is spent.
- **Expiring.** Invitations and e-mail verification live ``ACCOUNT_INVITATION_DAYS`` /
  ``EMAIL_VERIFICATION_DAYS`` (7), a password reset ``PASSWORD_RESET_MINUTES`` (60).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from journey.core.accounts.models import AccountToken, TokenPurpose, User
from journey.core.errors import InvalidInput
from journey.core.extensions import db
from journey.core.types import utcnow

LINK_PREFIX = "owl_"
RAW_LENGTH = len(LINK_PREFIX) + 43  # base64 of 32 bytes, unpadded

#: purpose -> (configuration key, its default, the unit of both)
LIFETIMES = {
    TokenPurpose.INVITATION: ("ACCOUNT_INVITATION_DAYS", 7, "days"),
    TokenPurpose.PASSWORD_RESET: ("PASSWORD_RESET_MINUTES", 60, "minutes"),
    TokenPurpose.EMAIL_VERIFICATION: ("EMAIL_VERIFICATION_DAYS", 7, "days"),
}

INVALID_LINK = _l("This link cannot be used any more: it was used already, it expired or "
                  "a newer one replaced it. Ask for a new one.")


def lifetime(purpose: TokenPurpose) -> timedelta:
    key, default, unit = LIFETIMES[purpose]
    value = current_app.config.get(key, default) if has_app_context() else default
    return timedelta(**{unit: value})


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _derive(purpose: str, salt: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"account-link:{purpose}:{salt}".encode(), hashlib.sha256).digest()
    return LINK_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def raw_token(record: AccountToken) -> str:
    """The token a link carries. Only the outbox asks, to write the e-mail; it fails
    (rather than mail a dead link) when ``SECRET_KEY`` changed since the link was made."""
    raw = _derive(TokenPurpose(record.purpose).value, record.salt)
    if not hmac.compare_digest(hash_token(raw), record.token_hash):
        raise RuntimeError("SECRET_KEY changed since this link was made; send a new one")
    return raw


def issue(user: User, purpose: TokenPurpose, *, mail_kind: str, created_by: User | None = None,
          now: datetime | None = None, replace: bool = False) -> AccountToken:
    """A new link for ``user``, waiting in the outbox as a ``mail_kind`` e-mail. With
    ``replace``, the user's open links of this purpose stop working (only the newest
    counts)."""
    now = now or utcnow()
    if replace:
        revoke_open(user.id, (purpose,), now=now)
    salt = secrets.token_hex(32)
    record = AccountToken(user=user, purpose=purpose, mail_kind=mail_kind, salt=salt,
                          token_hash=hash_token(_derive(purpose.value, salt)),
                          created_by=created_by, created_at=now,
                          expires_at=now + lifetime(purpose))
    db.session.add(record)
    db.session.flush()
    return record


def spend_like_issue() -> None:
    """The work :func:`issue` does to derive and hash a token, for a request that makes
    none (an unknown address), so that both take the same path as far as practical."""
    hash_token(_derive(TokenPurpose.PASSWORD_RESET.value, secrets.token_hex(32)))


def _well_formed(raw: str | None) -> bool:
    return bool(raw) and len(raw) == RAW_LENGTH and raw.startswith(LINK_PREFIX) and all(
        char.isalnum() or char in "-_" for char in raw[len(LINK_PREFIX):])


def find_live(raw: str | None, purposes: Iterable[TokenPurpose], *,
              now: datetime | None = None) -> AccountToken | None:
    """The live link behind ``raw`` for one of ``purposes`` (its user active), or None."""
    if not _well_formed(raw):
        return None
    now = now or utcnow()
    record = db.session.scalar(select(AccountToken).where(
        AccountToken.token_hash == hash_token(raw)))
    if record is None or record.purpose not in set(purposes) or not record.is_live(now):
        return None
    return record if record.user.active else None


def consume(raw: str | None, purposes: Iterable[TokenPurpose], *,
            now: datetime | None = None) -> AccountToken:
    """Use the link once, or raise :class:`InvalidInput` (on ``token``) when it is unknown,
    used, revoked, expired or its account deactivated. One conditional update: two
    uses at once spend it once."""
    now = now or utcnow()
    record = find_live(raw, purposes, now=now)
    if record is not None:
        spent = db.session.execute(
            update(AccountToken).where(
                AccountToken.id == record.id, AccountToken.used_at.is_(None),
                AccountToken.revoked_at.is_(None), AccountToken.expires_at > now)
            .values(used_at=now).execution_options(synchronize_session=False)).rowcount
        if spent == 1:
            db.session.expire(record, ["used_at"])
            return record
    raise InvalidInput(INVALID_LINK, fields={"token": [INVALID_LINK]})


def revoke_open(user_id: int, purposes: Iterable[TokenPurpose], *,
                now: datetime | None = None) -> int:
    """Make the user's open links of ``purposes`` void; how many there were."""
    now = now or utcnow()
    revoked = db.session.execute(
        update(AccountToken).where(
            AccountToken.user_id == user_id, AccountToken.purpose.in_(list(purposes)),
            AccountToken.used_at.is_(None), AccountToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, AccountToken) and loaded.user_id == user_id:
            db.session.expire(loaded, ["revoked_at"])
    return revoked


def live_tokens(user_id: int, purpose: TokenPurpose, *,
                now: datetime | None = None) -> list[AccountToken]:
    now = now or utcnow()
    return list(db.session.scalars(select(AccountToken).where(
        AccountToken.user_id == user_id, AccountToken.purpose == purpose,
        AccountToken.used_at.is_(None), AccountToken.revoked_at.is_(None),
        AccountToken.expires_at > now).order_by(AccountToken.id)))


def outbox(*, now: datetime | None = None, limit: int = 200,
           max_attempts: int = 8) -> list[AccountToken]:
    """The live links whose e-mail has not gone out yet, oldest first (a link that
    expired or was replaced before it was sent is never sent)."""
    now = now or utcnow()
    return list(db.session.scalars(select(AccountToken).where(
        AccountToken.sent_at.is_(None), AccountToken.attempts < max_attempts,
        AccountToken.used_at.is_(None), AccountToken.revoked_at.is_(None),
        AccountToken.expires_at > now).order_by(AccountToken.id).limit(limit)))
