"""A member's offers in the portal: a new draft, the terms and prices, the texts in
every language side by side, seasonal prices and the capacity calendar."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _

from journey.core.accounts.auth import current_actor
from journey.core.config import LANGUAGES
from journey.core.i18n import base_language
from journey.core.types import today_in
from journey.pages.common import submit
from journey.pages.forms import ActionForm
from journey.pages.member.access import ID, PREFIX, managed_member, member_or_cluster
from journey.pages.portal import formatting_context, from_minor, minor_amounts
from journey.pages.portal_forms import (
    CapacityForm,
    EditOfferForm,
    NewOfferForm,
    OfferTextForm,
    PriceRuleForm,
)
from journey.pages.rows import offer_title
from journey.views import RTL_LANGUAGES
from providers.services import offers

LANG = "string(minlength=2, maxlength=20)"
OFFER = f"/offers/<{ID}:offer_id>"

bp = Blueprint("offers", __name__, url_prefix=PREFIX)
bp.before_request(member_or_cluster)
bp.context_processor(formatting_context)


def _offer(offer_id: int):
    return offers.get_offer_for_change(current_actor(), offer_id)


def _page(template: str, item, tab: str, status: int = 200, **context):
    """One tab of an offer's pages, under the offer's title."""
    return render_template(template, offer=item, title=offer_title(item), tab=tab,
                           **context), status


# --- terms ------------------------------------------------------------------------------

def _offer_prices(form) -> dict | None:
    """An offer form's prices for the offers service (None: an amount is not valid)."""
    return minor_amounts(form.currency.data, base_price_minor=form.base_price,
                         companion_price_minor=form.companion_price)


@bp.route(f"/<{ID}:provider_id>/offers/new", methods=["GET", "POST"])
def new(provider_id):
    provider = managed_member(provider_id)
    form = NewOfferForm(currency=provider.currency, language=provider.default_language)

    def create():
        prices = _offer_prices(form)
        return prices and offers.create_offer(
            current_actor(), provider.id, texts={form.language.data: {"title": form.title.data}},
            **prices, **form.terms())

    offer, status = submit(form, create, raise_access_errors=True)
    if offer is not None:
        flash(_("The offer is saved as a draft. Add its texts, prices and capacity."))
        return redirect(url_for("offers.terms", offer_id=offer.id))
    return render_template("member/offer_new.html", provider=provider, form=form), status


@bp.route(OFFER, methods=["GET", "POST"])
def terms(offer_id):
    item = _offer(offer_id)
    form = EditOfferForm(obj=item, base_price=from_minor(item.base_price_minor, item.currency),
                         companion_price=from_minor(item.companion_price_minor, item.currency),
                         status=item.status.value)

    def save():
        prices = _offer_prices(form)
        return prices and offers.update_offer(current_actor(), item.id, status=form.status.data,
                                              **prices, **form.terms())

    saved, status = submit(form, save, raise_access_errors=True)
    if saved is not None:
        flash(_("The offer is saved."))
        return redirect(url_for("offers.terms", offer_id=item.id))
    return _page("member/offer.html", item, "terms", status, form=form,
                 deletable=deletable(item))


def deletable(item) -> bool:
    return offers.deletion_refusal(item) is None


@bp.post(f"{OFFER}/delete")
def delete(offer_id):
    item = _offer(offer_id)
    provider_id = item.provider_id
    if ActionForm().validate_on_submit():
        offers.delete_offer(current_actor(), item.id)
        flash(_("The draft is deleted."))
    return redirect(url_for("member.home", provider_id=provider_id))


# --- texts in every language ------------------------------------------------------------

def text_languages(item) -> list[str]:
    """The member's default language first, its other languages, the cluster's, then
    any other language a text exists in."""
    ordered: list[str] = []
    for language in [item.provider.default_language, *item.provider.languages, *LANGUAGES,
                     *(t.language for t in item.texts)]:
        if language and language not in ordered:
            ordered.append(language)
    return ordered


def missing_languages(item) -> list[str]:
    """The languages of :func:`text_languages` the offer has no texts in."""
    have = {t.language for t in item.texts}
    return [language for language in text_languages(item) if language not in have]


def _direction(language: str) -> str:
    """A text's own direction, whatever the page's (Arabic texts on an English page)."""
    return "rtl" if base_language(language) in RTL_LANGUAGES else "ltr"


def _column(language: str, text, form, expected: bool) -> dict:
    return {"language": language, "text": text, "form": form, "expected": expected,
            "dir": _direction(language)}


def _text_columns(item, posted_language: str | None = None, posted_form=None) -> list[dict]:
    texts = {t.language: t for t in item.texts}
    columns = []
    for language in text_languages(item):
        text = texts.get(language)
        if language == posted_language and posted_form is not None:
            form = posted_form
        elif text is not None:
            form = OfferTextForm(formdata=None, prefix=language, title=text.title,
                                 description=text.description,
                                 inclusions="\n".join(text.inclusions),
                                 exclusions="\n".join(text.exclusions))
        else:
            form = OfferTextForm(formdata=None, prefix=language)
        columns.append(_column(language, text, form, language in item.provider.languages))
    if posted_form is not None and posted_language not in {c["language"] for c in columns}:
        columns.append(_column(posted_language, None, posted_form, False))
    return columns


@bp.get(f"{OFFER}/texts")
def texts(offer_id):
    item = _offer(offer_id)
    return _page("member/offer_texts.html", item, "texts", columns=_text_columns(item),
                 delete_form=ActionForm())


@bp.post(f"{OFFER}/texts/<{LANG}:language>")
def save_text(offer_id, language):
    item = _offer(offer_id)
    form = OfferTextForm(prefix=language)
    saved, status = submit(form, lambda: offers.set_offer_text(current_actor(), item.id,
                                                               language, **form.text()),
                           raise_access_errors=True)
    if saved is not None:
        flash(_("The texts in %(language)s are saved.", language=saved.language))
        return redirect(url_for("offers.texts", offer_id=item.id) + f"#text-{language}")
    return _page("member/offer_texts.html", item, "texts", status,
                 columns=_text_columns(item, language, form), delete_form=ActionForm())


@bp.post(f"{OFFER}/texts/<{LANG}:language>/delete")
def delete_text(offer_id, language):
    item = _offer(offer_id)
    if ActionForm().validate_on_submit():
        offers.delete_offer_text(current_actor(), item.id, language)
        flash(_("The texts in %(language)s are removed.", language=language))
    return redirect(url_for("offers.texts", offer_id=item.id))


# --- seasonal prices --------------------------------------------------------------------

def _rule_values(form, currency: str) -> dict | None:
    """A seasonal price form's values for the offers service (None: an amount is not
    valid)."""
    amounts = minor_amounts(currency, price_minor=form.price,
                            companion_price_minor=form.companion_price)
    return amounts and {"name": form.name.data or "", "starts_on": form.starts_on.data,
                        "ends_on": form.ends_on.data, **amounts}


@bp.route(f"{OFFER}/prices", methods=["GET", "POST"])
def prices(offer_id):
    item = _offer(offer_id)
    form = PriceRuleForm()

    def add():
        values = _rule_values(form, item.currency)
        return values and offers.add_price_rule(current_actor(), item.id, **values)

    rule, status = submit(form, add, raise_access_errors=True)
    if rule is not None:
        flash(_("The seasonal price is added."))
        return redirect(url_for("offers.prices", offer_id=item.id))
    return _page("member/offer_prices.html", item, "prices", status, form=form,
                 delete_form=ActionForm())


@bp.route(f"{OFFER}/prices/<{ID}:rule_id>", methods=["GET", "POST"])
def edit_price_rule(offer_id, rule_id):
    item = _offer(offer_id)
    rule = next((r for r in item.price_rules if r.id == rule_id), None)
    if rule is None:
        abort(404)
    form = PriceRuleForm(obj=rule, price=from_minor(rule.price_minor, item.currency),
                         companion_price=from_minor(rule.companion_price_minor, item.currency))

    def save():
        values = _rule_values(form, item.currency)
        return values and offers.update_price_rule(current_actor(), item.id, rule.id, **values)

    saved, status = submit(form, save, raise_access_errors=True)
    if saved is not None:
        flash(_("The seasonal price is saved."))
        return redirect(url_for("offers.prices", offer_id=item.id))
    return _page("member/price_rule.html", item, "prices", status, rule=rule, form=form)


@bp.post(f"{OFFER}/prices/<{ID}:rule_id>/delete")
def delete_price_rule(offer_id, rule_id):
    item = _offer(offer_id)
    if ActionForm().validate_on_submit():
        offers.delete_price_rule(current_actor(), item.id, rule_id)
        flash(_("The seasonal price is removed."))
    return redirect(url_for("offers.prices", offer_id=item.id))


# --- capacity calendar ------------------------------------------------------------------

def _month(value: str | None) -> date:
    """``?month=2026-05`` -> its first day; anything else -> this month."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        if 1900 <= year <= 2999:
            return date(year, month, 1)
    except ValueError:
        pass
    return today_in().replace(day=1)


def _weeks(calendar: list[dict]) -> list[list[dict | None]]:
    """The month's days in rows of seven (Monday first), blanks before and after."""
    cells: list[dict | None] = [None] * calendar[0]["day"].weekday() + list(calendar)
    cells += [None] * (-len(cells) % 7)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]


@bp.route(f"{OFFER}/calendar", methods=["GET", "POST"])
def calendar(offer_id):
    item = _offer(offer_id)
    first = _month(request.args.get("month"))
    last = first.replace(day=monthrange(first.year, first.month)[1])
    form = CapacityForm()

    def write():
        return offers.set_capacity(current_actor(), item.id, start=form.start.data,
                                   end=form.end.data, capacity=form.capacity.data,
                                   weekdays=form.weekdays.data or None)

    written, status = submit(form, write, raise_access_errors=True)
    if written is not None:
        flash(ngettext("The capacity of %(num)d day is set.",
                       "The capacity of %(num)d days is set.", written))
        return redirect(url_for("offers.calendar", offer_id=item.id,
                                month=form.start.data.strftime("%Y-%m")))
    days = offers.get_calendar(current_actor(), item.id, start=first, end=last)
    return _page("member/offer_calendar.html", item, "calendar", status, form=form,
                 weeks=_weeks(days), month_name=format_date(first, "LLLL y"),
                 previous=(first - timedelta(days=1)).replace(day=1),
                 following=last + timedelta(days=1))
