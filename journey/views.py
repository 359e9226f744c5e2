"""Pages shared by every persona: home and error pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import get_locale

from journey.builder.services.package_prices import package_prices
from journey.builder.services.templates import list_templates, template_text
from journey.core.accounts.auth import current_actor
from journey.core.errors import DomainError, http_message
from journey.core.i18n import content_language
from journey.pages.common import chosen_currency
from journey.pages.titles import CHAIN_LINK_TITLES
from providers.models import ChainLink
from providers.services.members import list_members

bp = Blueprint("main", __name__)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)

RTL_LANGUAGES = {"ar", "he", "fa", "ur"}


@bp.app_context_processor
def layout_context():
    locale = str(get_locale() or "en")
    return {"page_lang": locale, "page_dir": "rtl" if locale in RTL_LANGUAGES else "ltr",
            "actor": current_actor()}


#: The links a patient starts from: what they come for, before the logistics.
TREATMENT_LINKS = (ChainLink.TREATMENT, ChainLink.CONSULTATION, ChainLink.DIAGNOSTICS,
                   ChainLink.REHABILITATION)


@bp.get("/")
def home():
    actor = current_actor()
    members, total = list_members(actor, per_page=12)
    language = content_language()
    published = [template for template in list_templates(actor)
                 if template.status.value == "published"]
    prices = package_prices(published, chosen_currency())
    packages = []
    for template in published:
        text_language, text = template_text(template, language)
        packages.append({"template": template, "text": text, "language": text_language,
                         "price": prices.get(template.id)})
    return render_template("home.html", chain_links=CHAIN_LINK_TITLES,
                           treatments=[(link, CHAIN_LINK_TITLES[link]) for link in
                                       TREATMENT_LINKS],
                           packages=packages, members=members, member_total=total)


def render_http_error(error):
    return render_template("error.html", code=error.code,
                           message=http_message(error)), error.code


def render_domain_error(error: DomainError):
    return render_template("error.html", code=error.status,
                           message=str(error.message)), error.status
