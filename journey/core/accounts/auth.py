"""Who is asking: a session cookie (pages) or a bearer token (API).

The API accepts a session cookie for reading only; anything that changes data
through the API needs a bearer token, so cookies cannot be abused cross-site there.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_login import current_user
from sqlalchemy import event

from journey.core.accounts.models import User
from journey.core.accounts.services import (
    token_touch_rolled_back,
    token_touched_with_commit,
    touch_token,
    touch_token_with_commit,
    user_for_token,
)
from journey.core.errors import NotAuthenticated
from journey.core.extensions import db, login_manager

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_actor() -> User | None:
    """The user acting in this request, or None."""
    return g.get("actor")


def _resolve_actor() -> User | None:
    header = request.headers.get("Authorization")
    if header:
        scheme, _, raw = header.partition(" ")
        user = user_for_token(raw.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise NotAuthenticated()
        return user
    is_api = request.path.startswith("/api/")
    if is_api and request.method not in SAFE_METHODS:
        return None
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def public(method):
    """Mark an API method that changes data and is open to anonymous callers
    (registering, logging in). Every other unsafe API call needs a bearer token, which
    is checked before the body is parsed, so an anonymous caller always gets 401."""
    method.is_public = True
    return method


def _handler():
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, request.method.lower(), view)


def _requires_actor() -> bool:
    """Whether this API call must name its caller before anything of it is parsed:
    every unsafe call not marked :func:`public`, and every read documented as needing a
    bearer token (it may also come with the session cookie)."""
    if not request.path.startswith("/api/") or request.routing_exception is not None:
        return False  # 404 and 405 answer for themselves
    handler = _handler()
    if request.method in SAFE_METHODS:
        apidoc = getattr(handler, "_apidoc", None) or {}
        return bool(apidoc.get("manual_doc", {}).get("security"))
    return not getattr(handler, "is_public", False)


def install(app: Flask) -> None:
    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    # The token's use goes with the request's commit where it can (PostgreSQL; see
    # touch_token_with_commit), else after the request.
    for name, listener in (("before_commit", touch_token_with_commit),
                           ("after_commit", token_touched_with_commit),
                           ("after_soft_rollback", token_touch_rolled_back)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)

    @app.teardown_request
    def touch_used_token(_error=None):
        """After the request's session let go of its connection (see touch_token)."""
        pending = g.pop("touch_token", None)
        if pending is not None:
            db.session.remove()
            touch_token(*pending)

    @app.before_request
    def identify_actor():
        g.actor = None
        g.actor = _resolve_actor()
        # the reader's language, read once while the account is loaded (the response's
        # Content-Language is written after the commit, which expires the account)
        g.actor_locale = g.actor.locale if g.actor is not None else None
        if g.actor is None and _requires_actor():
            raise NotAuthenticated()
