"""Registering, authenticating, issuing tokens, and a member's staff (who may invite,
deactivate or change whom). Services flush; the edge commits. The single-use links of
accounts are :mod:`.tokens`; the e-mails that carry them, :mod:`.invitations`."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache

import argon2.profiles
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, has_app_context, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, bindparam, or_, select, update
from sqlalchemy.exc import OperationalError

from journey.core.accounts import throttle, tokens
from journey.core.accounts.models import ApiToken, Role, TokenPurpose, User
from journey.core.accounts.permissions import (
    require_authenticated,
    require_cluster,
    require_member_access,
)
from journey.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from journey.core.extensions import db
from journey.core.i18n import MAX_OTHER_LANGUAGES, clean_languages
from journey.core.money import require_currency
from journey.core.persistence import flush_or_conflict, own_transaction
from journey.core.types import utcnow


@lru_cache(maxsize=4)
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(argon2.profiles, profile))


def _hasher() -> PasswordHasher:
    """Argon2id with the configured profile (RFC 9106 low-memory by default; the
    test suite uses the cheapest one so that it stays fast)."""
    profile = "RFC_9106_LOW_MEMORY"
    if has_app_context():
        profile = current_app.config.get("ARGON2_PROFILE", profile)
    return _hasher_for(profile)

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "ow_"  # noqa: S105 - a visible prefix, not a secret
# A dummy hash to spend the same time on unknown e-mail addresses.
logger = logging.getLogger(__name__)
_DUMMY_PASSWORD = "not-a-real-password-" + secrets.token_hex(8)  # noqa: S105


def _dummy_hash() -> str:
    """A hash to verify against for unknown addresses, so they take as long."""
    return _dummy_hash_for(_hasher())


@lru_cache(maxsize=4)
def _dummy_hash_for(hasher: PasswordHasher) -> str:
    return hasher.hash(_DUMMY_PASSWORD)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


#: How the hash of an account without a usable password starts (a walk-in patient, an
#: invited staff member): no password verifies against it, and no Argon2 hash starts so.
UNUSABLE_PASSWORD_PREFIX = "!"  # noqa: S105 - a marker, not a password


def unusable_password_hash() -> str:
    return UNUSABLE_PASSWORD_PREFIX + "unusable-" + secrets.token_hex(16)


def has_password(user: User) -> bool:
    """Whether the account has a password its owner set (else it waits for an
    invitation to be used)."""
    return not user.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX)


#: Passwords of :data:`MIN_PASSWORD_LENGTH` characters or more that lists of leaked
#: passwords put at the top (compared case-blind, without spaces).
COMMON_PASSWORDS = (
    "0123456789", "1234567890", "0987654321", "9876543210", "12345678910",
    "123456789a", "a123456789", "1q2w3e4r5t", "q1w2e3r4t5", "1qaz2wsx3edc", "qwertyuiop",
    "qwerty1234", "qwerty123456", "asdfghjkl;", "zxcvbnm123", "password12", "password123",
    "password1234", "passw0rd123", "iloveyou12", "abcdefghij", "abcd123456", "abc1234567",
    "letmein123", "welcome123", "adminadmin", "administrator", "changeme123",
    "onewindow123",
)
_COMMON = frozenset(COMMON_PASSWORDS)

#: The rules of :func:`password_problem` that a JSON Schema can state, for the API's
#: document: at least :data:`MIN_PASSWORD_LENGTH` characters besides spaces, not one
#: character over and over, not a well-known one.
PASSWORD_SCHEMA = {
    "minLength": MIN_PASSWORD_LENGTH,
    "pattern": rf"^(?:\s*\S){{{MIN_PASSWORD_LENGTH}}}",
    "not": {"anyOf": [{"pattern": r"^\s*(\S)(?:\s*\1)*\s*$"},
                      {"enum": list(COMMON_PASSWORDS)}]},
    "description": (f"At least {MIN_PASSWORD_LENGTH} characters besides spaces; not one "
                    "character repeated, not a well-known password, not the account's "
                    "e-mail address or its name part (422)."),
}


def password_problem(password: str, email: str | None = None):
    """What is wrong with ``password`` as a new password of the account of ``email``
    (a message), or None: shorter than :data:`MIN_PASSWORD_LENGTH` characters, or as
    many besides spaces; one character repeated; a well-known one; the address or its
    name part."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    bare = "".join(password.split())
    address = normalize_email(email or "")
    if (len(bare) < MIN_PASSWORD_LENGTH or len(set(bare)) == 1
            or (bare := bare.casefold()) in _COMMON
            or (address and bare in (address, address.partition("@")[0]))):
        return _l("This password is easy to guess: use a few words of your own, not your "
                  "e-mail address.")
    return None


def check_password_strength(password: str, field: str = "password", *,
                            email: str | None = None) -> None:
    """Refuse a weak password (:func:`password_problem`) beside ``field``."""
    problem = password_problem(password, email)
    if problem is not None:
        raise InvalidInput(fields={field: [problem]})


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def _create_user(*, email, password, full_name, role, provider_id=None, locale=None,
                 currency=None) -> User:
    """A new account; without ``password`` it has none until an invitation is used."""
    if password is not None:
        check_password_strength(password, email=email)
    if currency is not None:
        currency = require_currency(currency)
    email = normalize_email(email)
    if get_user_by_email(email) is not None:
        raise Conflict(_l("An account with this e-mail address already exists."),
                       fields={"email": [_l("This e-mail address is already registered.")]})
    password_hash = hash_password(password) if password is not None else unusable_password_hash()
    user = User(email=email, password_hash=password_hash, full_name=full_name.strip(),
                role=role, provider_id=provider_id, locale=locale, currency=currency)
    db.session.add(user)
    flush_or_conflict(  # a concurrent registration won the race
        _l("An account with this e-mail address already exists."),
        fields={"email": [_l("This e-mail address is already registered.")]})
    return user


def register_patient(*, email: str, password: str, full_name: str, locale: str | None = None,
                     currency: str | None = None) -> User:
    """Self-registration: always a patient."""
    return _create_user(email=email, password=password, full_name=full_name,
                        role=Role.PATIENT, locale=locale, currency=currency)


def bootstrap_admin(*, email: str, password: str, full_name: str) -> User:
    """The cluster's first admin, made from the command line (no actor exists yet)."""
    return _create_user(email=email, password=password, full_name=full_name, role=Role.ADMIN)


def create_user(actor: User | None, *, email: str, password: str, full_name: str, role: Role,
                provider_id: int | None = None, locale: str | None = None,
                currency: str | None = None) -> User:
    """An account created by someone else.

    Admins create any account; coordinators create member accounts and patients;
    a member's manager creates staff of that member only.
    """
    actor = require_authenticated(actor)
    role = Role(role)
    if role.is_member and provider_id is None:
        raise InvalidInput(fields={"provider_id": [_l("A member account needs its member.")]})
    if not role.is_member:
        provider_id = None
    if actor.role == Role.ADMIN:
        pass
    elif actor.role == Role.COORDINATOR:
        if role.is_cluster:
            raise Forbidden(_l("Only an admin creates cluster accounts."))
    elif actor.role == Role.MEMBER_MANAGER:
        if not role.is_member or provider_id != actor.provider_id:
            raise Forbidden(_l("A manager adds staff to their own member only."))
    else:
        raise Forbidden()
    return _create_user(email=email, password=password, full_name=full_name, role=role,
                        provider_id=provider_id, locale=locale, currency=currency)


def list_users(actor: User | None, *, provider_id: int | None = None) -> list[User]:
    actor = require_authenticated(actor)
    query = select(User).order_by(User.id)
    if actor.role.is_cluster:
        if provider_id is not None:
            query = query.where(User.provider_id == provider_id)
    elif actor.role == Role.MEMBER_MANAGER:
        query = query.where(User.provider_id == actor.provider_id)
    else:
        raise Forbidden()
    return list(db.session.scalars(query))


def list_coordinators(actor: User | None) -> list[User]:
    """The cluster's active coordinators, by name (whom a journey can be given to)."""
    require_cluster(actor)
    return list(db.session.scalars(select(User).where(
        User.role == Role.COORDINATOR, User.active.is_(True)).order_by(User.full_name,
                                                                       User.id)))


# --- a member's staff -------------------------------------------------------------------
#
# The member's manager (and the cluster's coordinators and admins) see the member's
# staff, invite new ones, deactivate and reactivate them and change their role between
# staff and manager. Never their own account, never another member's staff (404, as
# for anything else of another member), never to a cluster role.

MEMBER_ROLES = (Role.MEMBER_STAFF, Role.MEMBER_MANAGER)


def _member_exists(provider_id: int) -> bool:
    # The core imports no domain code: the member's table is read through the metadata.
    table = db.metadata.tables["provider"]
    return db.session.scalar(select(table.c.id).where(table.c.id == provider_id)) is not None


def may_manage_staff(actor: User | None, provider_id: int) -> bool:
    """Cluster staff, or the member's own manager."""
    return actor is not None and (actor.role.is_cluster or (
        actor.role == Role.MEMBER_MANAGER and actor.provider_id == provider_id))


def list_staff(actor: User | None, provider_id: int) -> list[User]:
    """The member's accounts, managers first, then by name."""
    require_member_access(actor, provider_id, manager=True)
    people = db.session.scalars(select(User).where(User.provider_id == provider_id)
                                .order_by(User.full_name, User.id)).all()
    return sorted(people, key=lambda user: user.role != Role.MEMBER_MANAGER)


def _member_role(role) -> Role:
    try:
        role = Role(role)
    except ValueError:
        role = None
    if role not in MEMBER_ROLES:
        raise InvalidInput(fields={"role": [
            _l("A member's accounts are its manager or its staff; an admin gives the "
               "cluster's roles.")]})
    return role


def invite_staff(actor: User | None, provider_id: int, *, email: str, full_name: str,
                 role: Role | str = Role.MEMBER_STAFF, locale: str | None = None,
                 now: datetime | None = None) -> User:
    """A new account of the member, without a password: an invitation (a link to set
    one) goes to ``email``."""
    actor = require_member_access(actor, provider_id, manager=True)
    role = _member_role(role)
    if not _member_exists(provider_id):
        raise NotFound(_l("No such member."))
    if not (full_name or "").strip():
        raise InvalidInput(fields={"full_name": [_l("Give the person's name.")]})
    user = _create_user(email=email, password=None, full_name=full_name, role=role,
                        provider_id=provider_id, locale=locale)
    tokens.issue(user, TokenPurpose.INVITATION, mail_kind="staff_invitation",
                 created_by=actor, now=now)
    return user


def staff_change_refusal(actor: User | None, target: User) -> str | None:
    """Why ``actor`` may not change ``target``'s role or activity (None: they may)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return str(NotAuthenticated.default_message)
    if target.id == actor.id:
        return str(_l("You cannot change your own account here."))
    if not target.role.is_member:
        return str(NotFound.default_message)
    if actor.role.is_cluster:
        return None
    if actor.provider_id != target.provider_id:
        return str(NotFound.default_message)
    if actor.role != Role.MEMBER_MANAGER:
        return str(_l("Only the member's manager may do this."))
    return None


def _staff_for_change(actor: User | None, user_id: int) -> User:
    actor = require_authenticated(actor)
    target = db.session.get(User, user_id)
    if target is None or not target.role.is_member or not (
            actor.role.is_cluster or actor.provider_id == target.provider_id):
        raise NotFound(_l("No such staff member."))
    refusal = staff_change_refusal(actor, target)
    if refusal is not None:
        raise Forbidden(refusal)
    return target


def set_staff_active(actor: User | None, user_id: int, active: bool, *,
                     now: datetime | None = None) -> User:
    """Deactivate (no login, no token, no link works) or reactivate a member's account."""
    target = _staff_for_change(actor, user_id)
    target.active = bool(active)
    if not target.active:
        tokens.revoke_open(target.id, list(TokenPurpose), now=now)
    db.session.flush()
    return target


def change_staff_role(actor: User | None, user_id: int, role: Role | str) -> User:
    """Make a member's account its manager or its staff."""
    target = _staff_for_change(actor, user_id)
    target.role = _member_role(role)
    db.session.flush()
    return target


def update_staff(actor: User | None, user_id: int, *, role: Role | str | None = None,
                 active: bool | None = None) -> User:
    """Either change or both, under the same rules."""
    target = _staff_for_change(actor, user_id)
    if role is not None:
        change_staff_role(actor, user_id, role)
    if active is not None:
        set_staff_active(actor, user_id, active)
    return target


def check_other_languages(values, field: str = "other_languages") -> list[str]:
    """A profile's list of the other languages its owner reads: known language codes
    (normalised: ``pt-BR`` -> ``pt_BR``), without repeats, in the given order, at most
    :data:`MAX_OTHER_LANGUAGES`; anything else is refused (422)."""
    if isinstance(values, str):
        values = [values]
    languages, unknown = clean_languages(values)
    if unknown:
        raise InvalidInput(fields={field: [_l(
            "Not a known language code: %(codes)s.", codes=", ".join(unknown[:5]))]})
    if len(languages) > MAX_OTHER_LANGUAGES:
        raise InvalidInput(fields={field: [_l(
            "List at most %(n)d languages.", n=MAX_OTHER_LANGUAGES)]})
    return languages


def update_profile(user: User, *, full_name=None, locale=None, currency=None,
                   password=None, other_languages=None) -> User:
    """Change the given fields of ``user``'s profile (None: leave it).
    ``other_languages``: the other languages the person reads, best first (member
    content falls back to them before English); ``[]`` clears it."""
    languages = check_other_languages(other_languages) if other_languages is not None \
        else None
    if full_name is not None:
        user.full_name = full_name.strip()
    if locale is not None:
        user.locale = locale
    if currency is not None:
        user.currency = require_currency(currency)
    if languages is not None:
        user.other_languages = languages
    if password is not None:
        check_password_strength(password, email=user.email)
        user.password_hash = hash_password(password)
    db.session.flush()
    return user


def authenticate(email: str, password: str, *, ip: str | None = None,
                 now: datetime | None = None, limit: int | None = None,
                 window: timedelta | None = None) -> User:
    """The user with these credentials, or an error (401 for a wrong address or
    password alike; 429 while :mod:`journey.core.accounts.throttle` says to wait, even
    with the right password)."""
    now = now or utcnow()
    email = normalize_email(email)
    overrides = {k: v for k, v in (("pair_limit", limit), ("window", window)) if v}
    user = get_user_by_email(email)
    throttle.check(email, ip, known=user is not None, now=now,
                   policy=throttle.Policy.from_config(**overrides))
    try:
        _hasher().verify(user.password_hash if user else _dummy_hash(), password or "")
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        throttle.record_failure(email, ip, now)
        raise NotAuthenticated(_l("Wrong e-mail address or password."))
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: its record, and the raw value shown this once."""

    record: ApiToken
    token: str

    def __getattr__(self, name):
        return getattr(self.record, name)


def issue_token(user: User, *, name: str, expires_in_days: int | None = 90,
                now: datetime | None = None) -> IssuedToken:
    """A new bearer token; the raw value is returned once and never stored."""
    now = now or utcnow()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name.strip() or "token", token_hash=_hash_token(raw),
                     prefix=raw[:10], created_at=now,
                     expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None)
    db.session.add(token)
    db.session.flush()
    return IssuedToken(token, raw)


def list_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke_token(actor: User | None, token_id: int, *, now: datetime | None = None) -> ApiToken:
    actor = require_authenticated(actor)
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and actor.role != Role.ADMIN):
        raise NotFound(_l("No such token."))
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    db.session.flush()
    return token


TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def _touch_later(token_id: int, now: datetime) -> None:
    """Note that the token was used, once the request commits or is over (in a request)
    or now.

    Bookkeeping never holds up or fails a request, and only one request in five minutes
    pays for it. On PostgreSQL a request that commits writes it with its own commit
    (:func:`touch_token_with_commit`: one statement more in a transaction that is being
    committed anyway, skipped when another request holds the token's row). Otherwise
    (SQLite, a request that rolled back or wrote nothing) it is written in a short
    transaction of its own once the request's session has given its connection back:
    a request never holds two connections at once (a burst on one token would exhaust
    the pool), and a request that failed still records the use."""
    if has_request_context():
        g.touch_token = (token_id, now)
    else:
        touch_token(token_id, now)


@cache
def _touch_statement(*, skip_locked: bool):
    """``UPDATE api_token SET last_used_at = :now`` of the token ``:token_id``, unless a
    request set it in the last :data:`TOKEN_TOUCH_INTERVAL` (``:since``). With
    ``skip_locked`` (PostgreSQL): not when another transaction holds the row, rather than
    waiting for it. Built once (every request whose token was not used for five minutes
    writes it)."""
    due = and_(ApiToken.id == bindparam("token_id"),
               or_(ApiToken.last_used_at.is_(None),
                   ApiToken.last_used_at < bindparam("since")))
    if skip_locked:
        due = ApiToken.id == select(ApiToken.id).where(due) \
            .with_for_update(skip_locked=True).scalar_subquery()
    return update(ApiToken).where(due).values(last_used_at=bindparam("now"))


def touch_token_with_commit(session) -> None:
    """Before a request's session commits (PostgreSQL): write the use of its token noted
    by :func:`_touch_later` in that transaction, instead of in one of its own after the
    request. Never waits for the token's row (``SKIP LOCKED``): a request using the same
    token at this moment writes the same thing. The note stays until the commit has
    succeeded (:func:`token_touched_with_commit`): a commit that fails leaves the use to
    be written after the request."""
    if not has_request_context() or "touch_token" not in g or "touching_token" in g:
        return
    if session.in_nested_transaction():  # a savepoint's release: wait for the real commit
        return
    if session.get_bind().dialect.name != "postgresql":
        return
    token_id, now = g.touch_token
    # On the session's connection: the session's ORM execution of an UPDATE of a
    # mapped class (which also looks for loaded objects to change) cost 0.50-0.68 ms
    # against 0.15 ms here; the request edge loads no token object (user_for_token reads
    # its columns), so there is none to keep in step.
    session.connection().execute(_touch_statement(skip_locked=True), {
        "token_id": token_id, "now": now, "since": now - TOKEN_TOUCH_INTERVAL})
    g.touching_token = True


def token_touched_with_commit(_session) -> None:
    """After a commit: a use written with it is done with."""
    if has_request_context() and g.pop("touching_token", False):
        g.pop("touch_token", None)


def token_touch_rolled_back(_session, *_args) -> None:
    """After a roll-back: a use written in the transaction is to be written again."""
    if has_request_context():
        g.pop("touching_token", None)


def touch_token(token_id: int, now: datetime) -> None:
    """Set ``last_used_at`` unless a request did it lately, in a transaction of its own;
    skipped when the database is busy (bookkeeping never fails a request)."""
    try:
        with own_transaction() as conn:
            conn.execute(_touch_statement(skip_locked=False), {
                "token_id": token_id, "now": now, "since": now - TOKEN_TOUCH_INTERVAL})
    except OperationalError:
        logger.info("token %s: last_used_at not updated (database busy)", token_id)


def user_for_token(raw: str, *, now: datetime | None = None) -> User | None:
    """The active user behind a live token, or None. Touches ``last_used_at`` lightly."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = now or utcnow()
    found = db.session.execute(_token_statement(), {"token_hash": _hash_token(raw)}).first()
    if found is None:
        return None
    user, token_id, revoked_at, expires_at, last_used_at = found
    if not ApiToken.live(revoked_at, expires_at, now) or not user.active:
        return None
    if last_used_at is None or now - last_used_at > TOKEN_TOUCH_INTERVAL:
        _touch_later(token_id, now)
    return user


@cache
def _token_statement():
    """The one SELECT of every request with a bearer token (built once, its hash bound):
    the account, and of the token only what deciding needs."""
    return (select(User, ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at,
                   ApiToken.last_used_at)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == bindparam("token_hash", type_=String())))
