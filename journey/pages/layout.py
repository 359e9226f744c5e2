"""What every page's template may use, whichever blueprint renders it: money in the
reader's locale, the titles of states and kinds (journey.pages.titles), the language
switcher's choices, percentages and the pager's addresses. A blueprint without views:
it only carries these to the application."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_percent
from flask import Blueprint
from markupsafe import Markup, escape

from journey.pages.common import page_locale, page_url, show_minor, show_money
from journey.pages.forms import language_choices
from journey.pages.titles import TEMPLATE_TITLES

bp = Blueprint("layout", __name__)


@bp.app_context_processor
def page_helpers() -> dict:
    return {"money": show_money, "money_minor": show_minor,
            "language_choices": language_choices, **TEMPLATE_TITLES}


bp.add_app_template_global(page_url)  # for the pager macro (_pager.html)


@bp.app_template_global()
def served(language: str | None) -> Markup:
    """The attributes that mark member content with the language it was served in (the
    fallback chain may give another than the page's) and let the browser find its
    direction: `` lang="lt" dir="auto"``."""
    if not language:
        return Markup(' dir="auto"')
    return Markup(' lang="{}" dir="auto"').format(escape(language.replace("_", "-")))


@bp.app_template_filter("percent")
def percent_filter(value) -> str:
    """An integer percentage (``30``) as the locale writes it (``30 %``, ``30%``)."""
    return format_percent(Decimal(int(value)) / 100, locale=page_locale())
