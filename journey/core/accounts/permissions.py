"""One permission helper for services, API handlers and pages.

Each function returns the actor when the action is allowed and raises
:class:`~journey.core.errors.NotAuthenticated` or :class:`~journey.core.errors.Forbidden`
otherwise, so a caller writes ``actor = require_member_access(actor, provider_id)``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from journey.core.errors import Forbidden, NotAuthenticated


def require_authenticated(actor):
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated()
    return actor


def is_cluster(actor) -> bool:
    return actor is not None and actor.role.is_cluster


def is_admin(actor) -> bool:
    return actor is not None and actor.role.value == "admin"


def can_manage_member(actor, provider_id: int | None) -> bool:
    """Cluster staff manage every member; member staff their own member only."""
    if actor is None:
        return False
    if actor.role.is_cluster:
        return True
    return actor.role.is_member and provider_id is not None and actor.provider_id == provider_id


def require_cluster(actor):
    actor = require_authenticated(actor)
    if not actor.role.is_cluster:
        raise Forbidden(_l("Only the cluster's coordinators and admins may do this."))
    return actor


def require_admin(actor):
    actor = require_authenticated(actor)
    if not is_admin(actor):
        raise Forbidden(_l("Only a cluster admin may do this."))
    return actor


def require_member_access(actor, provider_id: int | None, *, manager: bool = False):
    """Allow cluster staff, or staff of ``provider_id`` (its manager when ``manager``)."""
    actor = require_authenticated(actor)
    if actor.role.is_cluster:
        return actor
    if not can_manage_member(actor, provider_id):
        raise Forbidden(_l("You may change only your own member's data."))
    if manager and actor.role.value != "member_manager":
        raise Forbidden(_l("Only the member's manager may do this."))
    return actor


def payer_refusal(actor, provider_id: int | None) -> Forbidden | None:
    """Who pays is decided by the payer: only the manager of member ``provider_id``
    makes it bear a cost (a line of another member, a discount). Nobody else, not a
    coordinator nor an admin: they may ask it (a bearing request)."""
    if (actor is not None and actor.role.value == "member_manager"
            and provider_id is not None and actor.provider_id == provider_id):
        return None
    return Forbidden(_l("Only the manager of the member that pays can decide that it pays; "
                        "ask the member with a request instead."))
