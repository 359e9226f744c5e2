"""Pages shared by every persona: home and error pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from journey.accounts.auth import current_actor
from journey.errors import DomainError
from providers.models import CHAIN_LINK_TITLES
from providers.services.members import list_members

bp = Blueprint("main", __name__)

RTL_LANGUAGES = {"ar", "he", "fa", "ur"}


@bp.app_context_processor
def layout_context():
    locale = str(get_locale() or "en")
    return {"page_lang": locale, "page_dir": "rtl" if locale in RTL_LANGUAGES else "ltr",
            "actor": current_actor()}


@bp.get("/")
def home():
    members, total = list_members(current_actor(), per_page=12)
    return render_template("home.html", chain_links=CHAIN_LINK_TITLES, members=members,
                           member_total=total)


def render_http_error(error):
    return render_template("error.html", code=error.code, title=error.name,
                           message=error.description), error.code


def render_domain_error(error: DomainError):
    return render_template("error.html", code=error.status, title=error.code,
                           message=str(error.message)), error.status
