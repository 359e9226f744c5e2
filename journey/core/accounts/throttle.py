"""Login throttling that an attacker cannot turn against the users it protects.

Failed logins are rows (:class:`~journey.core.accounts.models.LoginFailure`: address,
client, time). Within the window (``LOGIN_FAILURE_WINDOW_MINUTES``):

- **one client guessing one account** (the pair): after ``LOGIN_FAILURE_LIMIT`` failures
  it waits ``LOGIN_BACKOFF_SECONDS``, doubled at each further failure, up to the window;
  the account's owner on another client is not slowed down by it;
- **many clients guessing one account**: after ``LOGIN_ACCOUNT_LIMIT`` failures in all,
  every attempt waits a short back-off (doubling, at most a minute), so a distributed
  guess is slowed to a crawl while the owner is delayed by seconds, never locked out;
- **one client guessing many accounts**: failures for addresses that have no account
  count first, and after ``LOGIN_UNKNOWN_IP_LIMIT`` of them that client may only try
  real accounts; after ``LOGIN_IP_LIMIT`` failures of any kind (high enough for everyone
  behind one proxy) it waits the window out.

The client is ``request.remote_addr``, which is the real client only behind a proxy
that ``PROXY_FIX_HOPS`` tells the app about (werkzeug's ProxyFix).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context
from flask_babel import lazy_ngettext
from sqlalchemy import func, insert, select

from journey.core.accounts.models import LoginFailure, User
from journey.core.errors import TooManyRequests
from journey.core.extensions import db
from journey.core.persistence import own_transaction

ACCOUNT_BACKOFF_CAP = timedelta(minutes=1)


@dataclass(frozen=True)
class Policy:
    pair_limit: int = 5
    account_limit: int = 20
    unknown_ip_limit: int = 20
    ip_limit: int = 100
    backoff: timedelta = timedelta(minutes=2)
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, **overrides) -> Policy:
        if not has_app_context():
            return cls(**overrides)
        config = current_app.config
        limit = overrides.pop("pair_limit", config["LOGIN_FAILURE_LIMIT"])
        return cls(
            pair_limit=limit,
            account_limit=config.get("LOGIN_ACCOUNT_LIMIT") or 4 * limit,
            unknown_ip_limit=config.get("LOGIN_UNKNOWN_IP_LIMIT") or 4 * limit,
            ip_limit=config.get("LOGIN_IP_LIMIT", 100),
            backoff=timedelta(seconds=config.get("LOGIN_BACKOFF_SECONDS", 120)),
            window=overrides.pop("window", timedelta(
                minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"])),
            **overrides)


def _backoff(failures: int, limit: int, base: timedelta, cap: timedelta) -> timedelta:
    if failures < limit:
        return timedelta(0)
    return min(cap, base * 2 ** min(failures - limit, 30))


def check(email: str, ip: str | None, *, known: bool, now: datetime, policy: Policy) -> None:
    """Raise :class:`TooManyRequests` (with ``Retry-After``) if this attempt must wait."""
    since = now - policy.window
    recent = select(func.count(LoginFailure.id), func.max(LoginFailure.at)).where(
        LoginFailure.at >= since)
    pair = db.session.execute(recent.where(
        LoginFailure.email == email,
        LoginFailure.ip == ip if ip is not None else LoginFailure.ip.is_(None))).one()
    account = db.session.execute(recent.where(LoginFailure.email == email)).one()
    waits = [
        _until(pair, _backoff(pair[0], policy.pair_limit, policy.backoff, policy.window), now),
        _until(account, _backoff(account[0], policy.account_limit, timedelta(seconds=1),
                                 ACCOUNT_BACKOFF_CAP), now),
    ]
    if ip is not None:
        from_ip = recent.where(LoginFailure.ip == ip)
        real = select(User.email)
        total, last = db.session.execute(from_ip).one()
        unknown = db.session.execute(from_ip.where(LoginFailure.email.not_in(real))).one()
        if total >= policy.ip_limit:
            waits.append(_until((total, last), policy.window, now))
        if not known and unknown[0] >= policy.unknown_ip_limit:
            waits.append(_until(unknown, policy.window, now))
    wait = max(waits)
    if wait > timedelta(0):
        seconds = math.ceil(wait.total_seconds())
        raise TooManyRequests(
            lazy_ngettext("Too many failed logins. Try again in %(num)d minute.",
                          "Too many failed logins. Try again in %(num)d minutes.",
                          max(1, math.ceil(seconds / 60))),
            headers={"Retry-After": str(seconds)})


def _until(row, backoff: timedelta, now: datetime) -> timedelta:
    """How long from ``now`` until ``backoff`` has passed since the last failure."""
    _count, last = row
    if last is None or backoff <= timedelta(0):
        return timedelta(0)
    if last.tzinfo is None:  # SQLite gives the aggregate back without its zone
        last = last.replace(tzinfo=UTC)
    return max(timedelta(0), last + backoff - now)


def record_failure(email: str, ip: str | None, now: datetime) -> None:
    # Its own transaction: the request that failed is rolled back, the record stays.
    with own_transaction() as conn:
        conn.execute(insert(LoginFailure).values(email=email, ip=ip, at=now))
