"""The member portal: a member's staff answer requests, edit offers (terms, texts in
every language, seasonal prices, capacity) and open journeys for walk-in patients."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from bookings import confirmation, settlement
from bookings.models import LineStatus
from journey.builder.models import JOURNEY_STATUS_TITLES
from journey.builder.services import journeys
from journey.builder.services.booking_link import journey_of
from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import require_authenticated, require_member_access
from journey.core.config import LANGUAGES
from journey.core.errors import Forbidden
from journey.core.i18n import base_language, content_language
from journey.core.types import ID_CONVERTER, today_in, utcnow
from journey.pages.common import login_required, page_arg
from journey.pages.forms import ActionForm
from journey.pages.portal import formatting_context, from_minor, line_dates, minor_amounts, submit
from journey.pages.portal_forms import (
    CAPACITY_UNIT_TITLES,
    CONFIRMATION_TITLES,
    OFFER_STATUS_TITLES,
    CapacityForm,
    EditOfferForm,
    NewOfferForm,
    OfferTextForm,
    PriceRuleForm,
    ReasonForm,
    WalkInForm,
)
from journey.views import RTL_LANGUAGES
from providers.models import CHAIN_LINK_TITLES, PRICE_UNIT_TITLES
from providers.services import members, offers

ID = ID_CONVERTER
LANG = "string(minlength=2, maxlength=20)"

bp = Blueprint("member", __name__, url_prefix="/portal")
bp.context_processor(formatting_context)


@bp.context_processor
def titles():
    return {"chain_titles": CHAIN_LINK_TITLES, "price_unit_titles": PRICE_UNIT_TITLES,
            "capacity_unit_titles": CAPACITY_UNIT_TITLES,
            "offer_status_titles": OFFER_STATUS_TITLES,
            "confirmation_titles": CONFIRMATION_TITLES,
            "journey_status_titles": JOURNEY_STATUS_TITLES,
            "offer_title": offer_title, "missing_languages": missing_languages,
            "text_direction": text_direction,
            "line_title": line_title, "line_journey": line_journey, "line_dates": line_dates,
            "line_status_titles": LINE_STATUS_TITLES, "ledger_kinds": LEDGER_KIND_TITLES,
            "blank_confirm": ActionForm, "blank_reason": ReasonForm}


LINE_STATUS_TITLES = {
    LineStatus.HELD: _l("Held"),
    LineStatus.REQUESTED: _l("Waiting for your answer"),
    LineStatus.CONFIRMED: _l("Accepted"),
    LineStatus.DECLINED: _l("Declined"),
    LineStatus.CANCELLED: _l("Cancelled"),
}
#: The settlement ledger's kinds of posting, as the statement's columns.
LEDGER_KIND_TITLES = {
    "gross": _l("Gross"),
    "commission": _l("Commission"),
    "borne": _l("Borne for others"),
    "fee": _l("Cancellation fees kept"),
}


def line_journey(line):
    """The journey a booking line belongs to (for the patient's name and party)."""
    return journey_of(line.booking)


def line_title(line) -> str:
    """The booked offer's title in the reader's language."""
    return offer_title(offers.get_offer(current_actor(), line.offer_id))


def text_direction(language: str) -> str:
    """A text's own direction, whatever the page's (Arabic texts on an English page)."""
    return "rtl" if base_language(language) in RTL_LANGUAGES else "ltr"


def offer_title(item) -> str:
    """The offer's title in the reader's language (or the nearest one it has)."""
    _language, text = offers.offer_text(item, content_language())
    return text.title if text else f"#{item.id}"


def missing_languages(item) -> list[str]:
    have = {t.language for t in item.texts}
    return [language for language in _text_languages(item) if language not in have]


@bp.before_request
@login_required
def member_or_cluster():
    actor = require_authenticated(current_actor())
    if not (actor.role.is_member or actor.role.is_cluster):
        raise Forbidden(_("The portal is for the members' staff."))


def _member(provider_id: int):
    """The member as the actor may manage it: 404 or 403 as the API answers."""
    return members.get_member_for_change(current_actor(), provider_id)


@bp.get("/")
def index():
    actor = current_actor()
    if actor.role.is_member:
        return redirect(url_for("member.home", provider_id=actor.provider_id))
    all_members, _total = members.list_members(actor, per_page=100)
    return render_template("member/index.html", members=all_members)


@bp.get(f"/<{ID}:provider_id>")
def home(provider_id):
    provider = _member(provider_id)
    member_offers = offers.list_member_offers(current_actor(), provider.id)
    inbox = confirmation.member_inbox(current_actor(), provider.id)
    return render_template("member/home.html", provider=provider, offers=member_offers,
                           inbox=inbox, answers={}, now=utcnow())


# --- requests: accept or decline ---------------------------------------------------------

def _requests_page(provider, answers: dict | None = None, status: int = 200):
    """The requests waiting for an answer (nearest deadline first), then those answered.
    ``answers`` maps a line to the form (or message) of a refused answer."""
    lines = confirmation.member_inbox(current_actor(), provider.id, include_decided=True)
    return render_template("member/requests.html", provider=provider, lines=lines,
                           answers=answers or {}, now=utcnow()), status


@bp.get(f"/<{ID}:provider_id>/requests")
def requests_page(provider_id):
    return _requests_page(_member(provider_id))


@bp.post(f"/<{ID}:provider_id>/requests/<{ID}:line_id>/accept")
def accept(provider_id, line_id):
    provider = _member(provider_id)
    form = ActionForm(prefix=f"a{line_id}")
    line, status = submit(form, lambda: confirmation.accept_line(current_actor(), line_id))
    if line is not None:
        flash(_("Request %(id)s is accepted.", id=line.id))
        return redirect(url_for("member.requests_page", provider_id=provider.id))
    return _requests_page(provider, {line_id: form}, status)


@bp.post(f"/<{ID}:provider_id>/requests/<{ID}:line_id>/decline")
def decline(provider_id, line_id):
    provider = _member(provider_id)
    form = ReasonForm(prefix=f"d{line_id}")
    line, status = submit(form, lambda: confirmation.decline_line(current_actor(), line_id,
                                                                  form.reason.data))
    if line is not None:
        flash(_("Request %(id)s is declined; the patient is told why.", id=line.id))
        return redirect(url_for("member.requests_page", provider_id=provider.id))
    return _requests_page(provider, {line_id: form}, status)


# --- the settlement statement -----------------------------------------------------------

def _day_arg(name: str):
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get(f"/<{ID}:provider_id>/statement")
def statement(provider_id):
    provider = _member(provider_id)
    start, end = _day_arg("start"), _day_arg("end")
    found = settlement.member_statement(current_actor(), provider.id, start=start, end=end)
    return render_template("member/statement.html", provider=provider, statement=found,
                           start=start, end=end)


# --- offers: terms --------------------------------------------------------------------

def _offer_prices(form) -> dict | None:
    """An offer form's prices for the offers service (None: an amount is not valid)."""
    return minor_amounts(form.currency.data, base_price_minor=form.base_price,
                         companion_price_minor=form.companion_price)


@bp.route(f"/<{ID}:provider_id>/offers/new", methods=["GET", "POST"])
def new_offer(provider_id):
    provider = _member(provider_id)
    form = NewOfferForm(currency=provider.currency, language=provider.default_language)

    def create():
        prices = _offer_prices(form)
        return prices and offers.create_offer(
            current_actor(), provider.id, texts={form.language.data: {"title": form.title.data}},
            **prices, **form.terms())

    offer, status = submit(form, create)
    if offer is not None:
        flash(_("The offer is saved as a draft. Add its texts, prices and capacity."))
        return redirect(url_for("member.offer", offer_id=offer.id))
    return render_template("member/offer_new.html", provider=provider, form=form), status


@bp.route(f"/offers/<{ID}:offer_id>", methods=["GET", "POST"])
def offer(offer_id):
    item = offers.get_offer_for_change(current_actor(), offer_id)
    form = EditOfferForm(obj=item, base_price=from_minor(item.base_price_minor, item.currency),
                         companion_price=from_minor(item.companion_price_minor, item.currency),
                         status=item.status.value)

    def save():
        prices = _offer_prices(form)
        return prices and offers.update_offer(current_actor(), item.id, status=form.status.data,
                                              **prices, **form.terms())

    saved, status = submit(form, save)
    if saved is not None:
        flash(_("The offer is saved."))
        return redirect(url_for("member.offer", offer_id=item.id))
    return render_template("member/offer.html", offer=item, form=form, tab="terms"), status


@bp.post(f"/offers/<{ID}:offer_id>/delete")
def delete_offer(offer_id):
    item = offers.get_offer_for_change(current_actor(), offer_id)
    provider_id = item.provider_id
    if ActionForm().validate_on_submit():
        offers.delete_offer(current_actor(), item.id)
        flash(_("The draft is deleted."))
    return redirect(url_for("member.home", provider_id=provider_id))


# --- offers: texts in every language ----------------------------------------------------

def _text_languages(item) -> list[str]:
    """The member's default language first, its other languages, the cluster's, then
    any other language a text exists in."""
    ordered: list[str] = []
    for language in [item.provider.default_language, *item.provider.languages, *LANGUAGES,
                     *(t.language for t in item.texts)]:
        if language and language not in ordered:
            ordered.append(language)
    return ordered


def _text_forms(item, posted_language: str | None = None, posted_form=None) -> list[dict]:
    texts = {t.language: t for t in item.texts}
    columns = []
    for language in _text_languages(item):
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
        columns.append({"language": language, "text": text, "form": form,
                        "expected": language in item.provider.languages})
    return columns


@bp.get(f"/offers/<{ID}:offer_id>/texts")
def offer_texts(offer_id):
    item = offers.get_offer_for_change(current_actor(), offer_id)
    return render_template("member/offer_texts.html", offer=item, columns=_text_forms(item),
                           delete_form=ActionForm(), tab="texts")


@bp.post(f"/offers/<{ID}:offer_id>/texts/<{LANG}:language>")
def save_offer_text(offer_id, language):
    item = offers.get_offer_for_change(current_actor(), offer_id)
    form = OfferTextForm(prefix=language)
    saved, status = submit(form, lambda: offers.set_offer_text(current_actor(), item.id,
                                                               language, **form.text()))
    if saved is not None:
        flash(_("The texts in %(language)s are saved.", language=saved.language))
        return redirect(url_for("member.offer_texts", offer_id=item.id) + f"#text-{language}")
    columns = _text_forms(item, language, form)
    if not any(column["language"] == language for column in columns):
        columns.append({"language": language, "text": None, "form": form, "expected": False})
    return render_template("member/offer_texts.html", offer=item, columns=columns,
                           delete_form=ActionForm(), tab="texts"), status


@bp.post(f"/offers/<{ID}:offer_id>/texts/<{LANG}:language>/delete")
def delete_offer_text(offer_id, language):
    item = offers.get_offer_for_change(current_actor(), offer_id)
    if ActionForm().validate_on_submit():
        offers.delete_offer_text(current_actor(), item.id, language)
        flash(_("The texts in %(language)s are removed.", language=language))
    return redirect(url_for("member.offer_texts", offer_id=item.id))


# --- offers: seasonal prices ------------------------------------------------------------

def _rule_values(form, currency: str) -> dict | None:
    """A seasonal price form's values for the offers service (None: an amount is not
    valid)."""
    amounts = minor_amounts(currency, price_minor=form.price,
                            companion_price_minor=form.companion_price)
    return amounts and {"name": form.name.data or "", "starts_on": form.starts_on.data,
                        "ends_on": form.ends_on.data, **amounts}


@bp.route(f"/offers/<{ID}:offer_id>/prices", methods=["GET", "POST"])
def offer_prices(offer_id):
    item = offers.get_offer_for_change(current_actor(), offer_id)
    form = PriceRuleForm()

    def add():
        values = _rule_values(form, item.currency)
        return values and offers.add_price_rule(current_actor(), item.id, **values)

    rule, status = submit(form, add)
    if rule is not None:
        flash(_("The seasonal price is added."))
        return redirect(url_for("member.offer_prices", offer_id=item.id))
    return render_template("member/offer_prices.html", offer=item, form=form,
                           delete_form=ActionForm(), tab="prices"), status


@bp.route(f"/offers/<{ID}:offer_id>/prices/<{ID}:rule_id>", methods=["GET", "POST"])
def edit_price_rule(offer_id, rule_id):
    item = offers.get_offer_for_change(current_actor(), offer_id)
    rule = next((r for r in item.price_rules if r.id == rule_id), None)
    if rule is None:
        abort(404)
    form = PriceRuleForm(obj=rule, price=from_minor(rule.price_minor, item.currency),
                         companion_price=from_minor(rule.companion_price_minor, item.currency))

    def save():
        values = _rule_values(form, item.currency)
        return values and offers.update_price_rule(current_actor(), item.id, rule.id, **values)

    saved, status = submit(form, save)
    if saved is not None:
        flash(_("The seasonal price is saved."))
        return redirect(url_for("member.offer_prices", offer_id=item.id))
    return render_template("member/price_rule.html", offer=item, rule=rule, form=form,
                           tab="prices"), status


@bp.post(f"/offers/<{ID}:offer_id>/prices/<{ID}:rule_id>/delete")
def delete_price_rule(offer_id, rule_id):
    item = offers.get_offer_for_change(current_actor(), offer_id)
    if ActionForm().validate_on_submit():
        offers.delete_price_rule(current_actor(), item.id, rule_id)
        flash(_("The seasonal price is removed."))
    return redirect(url_for("member.offer_prices", offer_id=item.id))


# --- offers: capacity calendar ---------------------------------------------------------

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


@bp.route(f"/offers/<{ID}:offer_id>/calendar", methods=["GET", "POST"])
def offer_calendar(offer_id):
    item = offers.get_offer_for_change(current_actor(), offer_id)
    first = _month(request.args.get("month"))
    last = first.replace(day=monthrange(first.year, first.month)[1])
    form = CapacityForm()

    def write():
        return offers.set_capacity(current_actor(), item.id, start=form.start.data,
                                   end=form.end.data, capacity=form.capacity.data,
                                   weekdays=form.weekdays.data or None)

    written, status = submit(form, write)
    if written is not None:
        flash(_("The capacity of %(n)d days is set.", n=written))
        return redirect(url_for("member.offer_calendar", offer_id=item.id,
                                month=form.start.data.strftime("%Y-%m")))
    calendar = offers.get_calendar(current_actor(), item.id, start=first, end=last)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    return render_template("member/offer_calendar.html", offer=item, form=form,
                           weeks=_weeks(calendar), month_name=format_date(first, "LLLL y"),
                           previous=previous,
                           following=following, tab="calendar"), status


# --- journeys opened at this member's window ------------------------------------------

@bp.get(f"/<{ID}:provider_id>/journeys")
def member_journeys(provider_id):
    provider = _member(provider_id)
    actor = current_actor()
    if not actor.role.is_member:
        return redirect(url_for("coordinator.journeys"))
    page = page_arg()
    items, total = journeys.list_journeys(actor, page=page, per_page=25)
    return render_template("member/journeys.html", provider=provider, journeys=items,
                           total=total, page=page, per_page=25)


@bp.route(f"/<{ID}:provider_id>/journeys/new", methods=["GET", "POST"])
def walk_in(provider_id):
    provider = _member(provider_id)
    require_member_access(current_actor(), provider.id)
    form = WalkInForm(language=provider.default_language
                      if provider.default_language in LANGUAGES else "en",
                      currency=provider.currency)

    def open_it():
        return journeys.open_journey(
            current_actor(), patient_email=form.patient_email.data,
            patient_name=form.patient_name.data, entry_provider_id=provider.id,
            nationality=form.nationality.data,
            language=form.language.data, currency=form.currency.data,
            adults=form.adults.data, children=form.children.data,
            arrival_on=form.arrival_on.data, departure_on=form.departure_on.data)

    opened, status = submit(form, open_it)
    if opened is not None:
        flash(_("Journey %(id)s is open for %(name)s.", id=opened.id,
                name=opened.patient.full_name))
        if current_actor().role.is_member:
            return redirect(url_for("member.member_journeys", provider_id=provider.id))
        return redirect(url_for("coordinator.journey", journey_id=opened.id))
    return render_template("member/walk_in.html", provider=provider, form=form), status

