"""What every page of the member portal checks first: a logged-in member's staff (or
the cluster), and the member as the actor may manage it."""

from __future__ import annotations

from flask_babel import gettext as _

from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import require_authenticated
from journey.core.errors import Forbidden
from journey.core.types import ID_CONVERTER
from journey.pages.common import login_required
from providers.services import members

ID = ID_CONVERTER
PREFIX = "/portal"


@login_required
def member_or_cluster():
    """Every portal blueprint's ``before_request``."""
    actor = require_authenticated(current_actor())
    if not (actor.role.is_member or actor.role.is_cluster):
        raise Forbidden(_("The portal is for the members' staff."))


def managed_member(provider_id: int):
    """The member as the actor may manage it: 404 or 403 as the API answers."""
    return members.get_member_for_change(current_actor(), provider_id)
