"""How messages name their writers."""

from __future__ import annotations

from flask_babel import gettext

from journey.core.accounts.models import Role
from journey.messages.models import Message


def author_label(message: Message) -> str:
    """Who wrote ``message``, as the parties read it: the person and their member, or
    their role in the cluster (in the current locale)."""
    name = message.author.full_name if message.author is not None else gettext("Someone")
    if message.author_provider is not None:
        return gettext("%(name)s (%(member)s)", name=name, member=message.author_provider.name)
    if message.author_role in (Role.COORDINATOR.value, Role.ADMIN.value):
        return gettext("%(name)s (%(member)s)", name=name, member=gettext("coordinator"))
    return name
