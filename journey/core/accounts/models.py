"""Users, API tokens, failed-login records, and the single-use links of accounts
(invitations, password resets, e-mail verification) with the requests for them."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.core.extensions import db
from journey.core.types import StrEnumType, UTCDateTime, utcnow


class Role(enum.StrEnum):
    PATIENT = "patient"
    MEMBER_STAFF = "member_staff"
    MEMBER_MANAGER = "member_manager"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def title(self):
        return ROLE_TITLES[self]

    @property
    def is_member(self) -> bool:
        return self in (Role.MEMBER_STAFF, Role.MEMBER_MANAGER)

    @property
    def is_cluster(self) -> bool:
        return self in (Role.COORDINATOR, Role.ADMIN)


ROLE_TITLES = {
    Role.PATIENT: _l("Patient"),
    Role.MEMBER_STAFF: _l("Member staff"),
    Role.MEMBER_MANAGER: _l("Member manager"),
    Role.COORDINATOR: _l("Coordinator"),
    Role.ADMIN: _l("Cluster admin"),
}


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "(role IN ('member_staff', 'member_manager')) = (provider_id IS NOT NULL)",
            name="member_role_has_provider",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(StrEnumType(Role), default=Role.PATIENT)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str | None] = mapped_column(String(20))
    #: The other languages the person reads, best first (normalised codes such as
    #: ``"en"``, ``"pt_BR"``): member content falls back to them, in this order, before
    #: English (journey.core.i18n.fallback_chain).
    other_languages: Mapped[list[str]] = mapped_column(JSON, default=list,
                                                       server_default="[]")
    currency: Mapped[str | None] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the owner proved the address is theirs (a verification, invitation or reset
    #: link used); None until then. Nothing is refused without it.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the patient's personal fields and health data were erased (GDPR art. 17);
    #: the account stays, under a pseudonym, for the financial records.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class ApiToken(db.Model):
    """A bearer token. Only its SHA-256 is stored; the raw token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")

    def is_live(self, now: datetime) -> bool:
        return self.live(self.revoked_at, self.expires_at, now)

    @staticmethod
    def live(revoked_at: datetime | None, expires_at: datetime | None,
             now: datetime) -> bool:
        """Whether a token with these dates may be used at ``now`` (the one rule, for a
        token read as an object or as columns)."""
        return revoked_at is None and (expires_at is None or expires_at > now)


class LoginFailure(db.Model):
    """One failed login; recent ones slow the next attempts down."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TokenPurpose(enum.StrEnum):
    #: Set the first password of an account someone else made (a walk-in patient, staff).
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password
    EMAIL_VERIFICATION = "email_verification"

    @property
    def sets_password(self) -> bool:
        return self in (TokenPurpose.INVITATION, TokenPurpose.PASSWORD_RESET)


class AccountToken(db.Model):
    """A single-use, expiring link sent by e-mail, and its place in the outbox.

    Only the SHA-256 of the link's token is stored. The token itself is derived from
    ``salt`` with the application's secret key (HMAC), so the outbox can write it into
    the e-mail later without keeping it. Made and used only through
    :mod:`journey.core.accounts.tokens`; using it is one conditional update.
    """

    __tablename__ = "account_token"
    __table_args__ = (Index("ix_account_token_user_id_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    purpose: Mapped[TokenPurpose] = mapped_column(StrEnumType(TokenPurpose))
    #: Which e-mail announces it (journey/mail.py), e.g. ``patient_invitation``.
    mail_kind: Mapped[str] = mapped_column(String(40))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    salt: Mapped[str] = mapped_column(String(64))
    #: Who had it sent (staff inviting someone); None when the owner asked for it.
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Replaced by a newer link, or made void when another link set the password.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The outbox: sent once the mail server took it (journey/mail.py).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(String(500), default="", server_default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def is_live(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


class AccountMailRequest(db.Model):
    """Someone asked for an account e-mail to an address (a new password, the
    verification link again, a registration): recent ones limit how many are sent."""

    __tablename__ = "account_mail_request"
    __table_args__ = (Index("ix_account_mail_request_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
