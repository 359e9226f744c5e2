"""The member's translations: which offers lack a title or a description in each of the
cluster's interface languages, with a count per language and a link to each offer's
texts (:mod:`providers.services.translations` reads it)."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from journey.core.accounts.auth import current_actor
from journey.core.i18n import content_language, interface_languages
from journey.pages.member.access import ID
from providers.services.translations import TextState, translation_table

TRANSLATIONS = f"/<{ID}:provider_id>/translations"

#: Nested in the portal's blueprint: endpoints read ``member.translations.*``.
bp = Blueprint("translations", __name__)


@bp.get(TRANSLATIONS)
def index(provider_id):
    table = translation_table(current_actor(), provider_id, interface_languages(),
                              reader_language=content_language())
    return render_template("member/translations.html", provider=table.provider, table=table,
                           states=TextState)


@bp.app_template_global()
def translations_url(provider_id: int) -> str:
    """The address of a member's translations page, for the portal's navigation (which
    shows the link only where this blueprint is registered)."""
    return url_for("member.translations.index", provider_id=provider_id)
