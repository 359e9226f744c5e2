"""``Idempotency-Key``: one piece at the edge, used by the API and the pages alike.

:func:`run_once` reserves the key first, by inserting its row in the request's own
transaction, before the effect takes any other lock. So the key, the effect and the
stored answer commit together (the booking engine's one deliberate commit before a
gateway call commits the reservation with the rows it protects). A concurrent duplicate
waits on the key's unique index, then:

- the first request has finished: it gets the first answer, 4xx included;
- the first is still running (its reservation committed before the gateway call):
  ``409 idempotency_in_progress`` with ``Retry-After``, as Stripe answers;
- the first was rolled back: the duplicate's own insert goes through and it runs.

A reservation left by a process that died mid-request is taken over after
:data:`STALE_AFTER`; the effects behind it are resumable (the booking is found by its
reference, the payment row keeps its Stripe idempotency key). The same key with another
request is 422. A 503 (busy) and a 409 in progress are not stored: the client retries,
and after a 503 the key's reservation is let go at once (:func:`_release`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache

from flask import jsonify, make_response, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from bookings.models import IdempotentRequest
from journey.core.accounts.auth import current_actor
from journey.core.errors import Conflict, DomainError, InvalidInput
from journey.core.extensions import db
from journey.core.persistence import (
    commit_unit,
    dialect_name,
    driver_read,
    insert_on_conflict,
)
from journey.core.types import utcnow

#: A reservation older than this belongs to a request that died; a retry takes it over.
STALE_AFTER = timedelta(seconds=120)
RETRY_AFTER = "1"


class InProgress(Conflict):
    code = "idempotency_in_progress"
    default_message = _l("A request with this Idempotency-Key is still being processed; "
                         "retry in a moment.")

    def __init__(self, message=None, **kwargs):
        kwargs.setdefault("headers", {"Retry-After": RETRY_AFTER})
        super().__init__(message, **kwargs)


class Replayed(DomainError):
    """The stored 4xx answer of the first request with this key, given again as it was."""

    def __init__(self, status: int, body: dict):
        self.status = status
        self.body = body
        self.code = str(body.get("error", "replayed"))
        super().__init__(body.get("message", ""))

    def to_dict(self) -> dict:
        return dict(self.body)


#: The header, as the OpenAPI document describes it on every operation that honours it.
IDEMPOTENCY_KEY = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "minLength": 8, "maxLength": 200},
    "description": "A retry with the same key returns the first answer (4xx included); "
                   "the same key with another body is 422; while the first is still "
                   "running, 409 idempotency_in_progress with Retry-After."}


def answer_once(name: str, data: dict, produce: Callable[[object], object], schema,
                status: int = 200):
    """The API's edge: run ``produce(actor)`` under the request's ``Idempotency-Key``
    (optional) and answer with ``schema``'s dump of its result."""
    actor = current_actor()
    key = check_key(request.headers.get("Idempotency-Key"), required=False)
    code, body = run_once(f"user:{getattr(actor, 'id', None)}:{name}", key,
                          request_fingerprint(request.path, sorted(data.items())),
                          lambda: (status, schema.dump(produce(actor))))
    return make_response(jsonify(body), code)


def request_fingerprint(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def check_key(key: str | None, *, required: bool) -> str | None:
    if not key and not required:
        return None
    if not 8 <= len(key or "") <= 200 or not (key or "").isprintable():
        raise InvalidInput(fields={"Idempotency-Key": [
            _l("Send an Idempotency-Key header of 8 to 200 characters.")]}, location="headers")
    return key


def run_once(scope: str, key: str | None, fingerprint: str,
             produce: Callable[[], tuple[int, dict]], *,
             quick_refusal: Callable[[], DomainError | None] | None = None,
             now: datetime | None = None) -> tuple[int, dict]:
    """``produce()`` once per ``(scope, key)``; see the module. Returns ``(status, body)``
    of the first success; a first 4xx is raised again as :class:`Replayed`.

    ``quick_refusal``, when given, is asked first: a read that neither locks nor writes
    and may refuse the request outright (a checkout when every unit is sold). Its
    refusal is stored as the key's answer with one statement and raised, unless the key
    is known already: then the request goes the usual way (a replay, a 422 or a 409
    in progress), as it would have without it."""
    if key is None:
        return produce()
    now = now or utcnow()
    refusal = quick_refusal() if quick_refusal is not None else None
    if refusal is not None and _store_first_refusal(scope, key, fingerprint, refusal, now):
        raise refusal
    row_id, first = _reserve(scope, key, fingerprint, now)
    if first is not None:
        return first
    try:
        status, body = produce()
    except DomainError as error:
        if isinstance(error, InProgress):
            raise
        if error.status >= 500:
            _release(row_id, now)
            raise
        _store_refusal(scope, key, fingerprint, error, now)
        raise
    # on the session's connection: a statement of the table, not of the mapped class,
    # whose ORM execution (looking for loaded rows to change as well) cost more than
    # the UPDATE itself; nothing reads the key's row again in this request
    db.session.connection().execute(_answer_statement(), {
        "row_id": row_id, "status_code": status, "body": body})
    return status, body


def _release(row_id: int, now: datetime) -> None:
    """After a 5xx (the gateway did not answer, the database was busy): what the
    request wrote is rolled back, and a reservation it had committed on the way (with
    the payment row, before the gateway call) is let go at once, so that the client's
    retry with the same key runs again now (it resumes what was committed: the booking
    is found by its reference, the payment keeps its Stripe idempotency key) rather
    than hearing "in progress" until the reservation goes stale."""
    db.session.rollback()
    db.session.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.id == row_id, IdempotentRequest.status_code.is_(None))
        .values(locked_at=now - STALE_AFTER - timedelta(seconds=1)))
    commit_unit()


@cache
def _answer_statement():
    """The first answer written on the key's reserved row (built once)."""
    table = IdempotentRequest.__table__
    return (update(table).where(table.c.id == bindparam("row_id"))
            .values(status_code=bindparam("status_code", type_=table.c.status_code.type),
                    body=bindparam("body", type_=table.c.body.type)))


def _reserve(scope: str, key: str, fingerprint: str,
             now: datetime) -> tuple[int, tuple[int, dict] | None]:
    """The id of the key's row, reserved for this request; or the first success to
    replay. One statement when the key is new (``INSERT … ON CONFLICT DO NOTHING``:
    no savepoint to set and release); a key being inserted by a request still running
    is waited for, up to the connection's lock timeout."""
    try:
        reserved = driver_read(_new_key_statement(dialect_name(), answered=False), {
            "scope": scope, "key": key, "request_hash": fingerprint, "locked_at": now,
            "created_at": now})
    except OperationalError as error:  # a lock on the key that cannot be had in time
        raise InProgress() from error
    if reserved:
        return reserved[0].id, None
    existing = _existing(scope, key)
    if existing is None:  # gone meanwhile (the first was rolled back): the caller retries
        raise InProgress()
    if existing.request_hash != fingerprint:
        raise InvalidInput(_l("This Idempotency-Key was used for another request."))
    if existing.status_code is not None:
        if existing.status_code >= 400:
            raise Replayed(existing.status_code, existing.body)
        return existing.id, (existing.status_code, existing.body)
    taken = db.session.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.id == existing.id, IdempotentRequest.status_code.is_(None),
               IdempotentRequest.locked_at < now - STALE_AFTER)
        .values(locked_at=now)).rowcount
    if not taken:
        raise InProgress()
    return existing.id, None


def _existing(scope: str, key: str) -> IdempotentRequest | None:
    return db.session.scalar(select(IdempotentRequest).where(
        IdempotentRequest.scope == scope, IdempotentRequest.key == key)
        .execution_options(populate_existing=True))


def _store_first_refusal(scope: str, key: str, fingerprint: str, error: DomainError,
                         now: datetime) -> bool:
    """Store ``error`` as the answer of a key not seen before and commit it (True); a
    key that exists already is left as it is (False)."""
    stored = driver_read(_new_key_statement(dialect_name(), answered=True), {
        "scope": scope, "key": key, "request_hash": fingerprint, "locked_at": now,
        "created_at": now, "status_code": error.status, "body": error.to_dict()})
    if not stored:
        return False
    commit_unit()
    return True


@cache
def _new_key_statement(dialect: str, *, answered: bool):
    """``INSERT … ON CONFLICT (scope, key) DO NOTHING RETURNING id`` of a key's row, its
    values bound (built once per database and shape: the hot path of every keyed
    request, run on the driver's cursor by ``driver_read``, with no flush first: the key
    is taken before the request's own writes take their locks); ``answered``: with the
    answer (status and body) already."""
    table = IdempotentRequest.__table__
    columns = ["scope", "key", "request_hash", "locked_at", "created_at"]
    columns += ["status_code", "body"] if answered else []
    return (insert_on_conflict(table, dialect)
            .values({name: bindparam(name, type_=table.c[name].type) for name in columns})
            .on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(table.c.id))


def _store_refusal(scope: str, key: str, fingerprint: str, error: DomainError,
                   now: datetime) -> None:
    """Keep a 4xx answer for the replays. What the refused request wrote is rolled back
    (up to a gateway commit, which stands); the answer is committed on its own."""
    body = error.to_dict()
    db.session.rollback()
    # one statement: the row, or the answer on the row a gateway commit kept
    stored = insert_on_conflict(IdempotentRequest).values(
        scope=scope, key=key, request_hash=fingerprint, locked_at=now, created_at=now,
        status_code=error.status, body=body)
    try:
        db.session.execute(stored.on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={"status_code": error.status, "body": body}))
        commit_unit()
    except (IntegrityError, OperationalError):
        db.session.rollback()  # a duplicate stored it first: the same answer either way
