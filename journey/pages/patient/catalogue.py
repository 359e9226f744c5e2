"""The catalogue as a patient finds it: the search, a member's page, an offer's page
(add it to a journey) and a package's page (start a journey from it)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from journey.builder.services import journeys, templates
from journey.builder.services.package_prices import default_arrival, package_price
from journey.core.accounts.auth import current_actor
from journey.core.errors import DomainError, InvalidInput
from journey.core.i18n import content_language
from journey.core.money import Money, is_currency
from journey.core.types import MAX_ID, today_in
from journey.pages.common import (
    apply_domain_error,
    available_currencies,
    chosen_currency,
    convert_for_reader,
    page_arg,
    page_locale,
    submit,
)
from journey.pages.forms import (
    SEARCH_PAGE_SIZE,
    AddItemForm,
    SearchForm,
    StartFromPackageForm,
    as_choices,
    known_nationality,
)
from journey.pages.patient.journey import (
    editable_journeys,
    open_from_trip,
    start_package,
    trip_choices,
)
from journey.pages.portal import formatting_context
from journey.pages.rows import journey_titles, offers_by_id
from journey.pages.trip_rows import country_name
from journey.reviews.models import DIMENSION_TITLES, HIDE_REASON_TITLES
from journey.reviews.services import ratings
from providers.models import CHAIN_LINK_TITLES, ChainLink, ConfirmationMode, MemberKind
from providers.procedures import PROCEDURE_TITLES, Procedure
from providers.services import members, offers
from providers.services.offers import offer_text, price_for
from providers.services.search import (
    RANKED_FROM_REVIEWS,
    SearchQuery,
    check_query,
    search_offers,
)

bp = Blueprint("catalogue", __name__)


def _minor(value, currency: str) -> int | None:
    if value is None:
        return None
    return Money.from_decimal(value, currency).amount


@bp.get("/catalogue")
def search():
    args = MultiDict(request.args)
    args.setdefault("currency", chosen_currency())
    form = SearchForm(args)
    currencies = available_currencies()
    if args["currency"] not in currencies:
        currencies = [*currencies, args["currency"]]
    form.currency.choices = as_choices((code, code) for code in currencies)
    if not form.validate():
        _refused_between_fields(form, args["currency"])
        return _catalogue(form, None), 422
    currency = form.currency.data
    try:
        result = search_offers(SearchQuery(
            language=content_language(), currency=currency,
            chain_link=ChainLink(form.chain_link.data) if form.chain_link.data else None,
            procedure=Procedure(form.procedure.data) if form.procedure.data else None,
            city=form.city.data or None,
            member_kind=MemberKind(form.member_kind.data) if form.member_kind.data else None,
            text=form.q.data or None,
            price_min=_minor(form.price_min.data, currency),
            price_max=_minor(form.price_max.data, currency),
            start=form.start.data, end=form.end.data,
            quantity=form.quantity.data or 1, sort=form.sort.data,
            page=form.page.data or 1, per_page=SEARCH_PAGE_SIZE))
    except DomainError as error:
        apply_domain_error(form, error)
        return _catalogue(form, None), 422
    return _catalogue(form, result)


def _refused_between_fields(form: SearchForm, currency: str) -> None:
    """The search's rules between fields (journey.pages.forms cannot know them), asked of
    the fields the form could read, so that an end before the start is named with a
    price written in letters, not in a second round."""
    def read(*fields):
        return [None if any(f.errors for f in fields) else f.data for f in fields]

    start, end = read(form.start, form.end)
    price_min, price_max = read(form.price_min, form.price_max) if is_currency(currency) \
        else (None, None)
    try:
        check_query(SearchQuery(language=content_language(), currency=currency,
                                price_min=_minor(price_min, currency),
                                price_max=_minor(price_max, currency), start=start, end=end))
    except InvalidInput as refused:
        apply_domain_error(form, refused)


def _catalogue(form: SearchForm, result):
    return render_template("patient/catalogue.html", form=form, result=result,
                           procedure_titles=PROCEDURE_TITLES, ranked_from=RANKED_FROM_REVIEWS)


MEMBERS_PER_PAGE = 24


@bp.get("/catalogue/members")
def members_index():
    """Every member of the cluster, by name, a kind to narrow them to."""
    kind = request.args.get("kind") or None
    if kind is not None and kind not in {k.value for k in MemberKind}:
        kind = None
    page = page_arg()
    found, total = members.list_members(current_actor(), kind=kind, page=page,
                                        per_page=MEMBERS_PER_PAGE)
    return render_template("patient/members.html", members=found, total=total, page=page,
                           per_page=MEMBERS_PER_PAGE, kind=kind, kinds=list(MemberKind))


@bp.get(f"/catalogue/members/<int(max={MAX_ID}):provider_id>")
def member(provider_id: int):
    actor = current_actor()
    provider = members.get_member(actor, provider_id)
    language = content_language()
    description_language, description = members.member_description(provider, language)
    found = offers.list_member_offers(actor, provider.id)
    offers_by_id((offer.id for offer in found), with_prices=True)  # not one query each
    today = today_in()
    rows = []
    for offer in found:
        text_language, text = offer_text(offer, language)
        price = price_for(offer, default_start_of(offer, today))  # as the offer's page
        rows.append({"offer": offer, "text": text, "language": text_language, "price": price,
                     "converted": convert_for_reader(price)})
    page = page_arg()
    reviews, reviews_total = ratings.public_reviews(provider.id, page=page,
                                                    per_page=REVIEWS_PER_PAGE)
    return render_template("patient/member.html", provider=provider, description=description,
                           description_language=description_language, offers=rows,
                           rating=_rating_of(provider.id), reviews=reviews,
                           reviews_total=reviews_total, page=page,
                           reviews_per_page=REVIEWS_PER_PAGE, country_name=country_name,
                           **_review_titles())


#: The member's page shows its published reviews this many at a time, the latest first.
REVIEWS_PER_PAGE = 10


def _rating_of(provider_id: int) -> ratings.RatingSummary:
    return ratings.provider_ratings([provider_id]).get(provider_id, ratings.EMPTY)


def _review_titles() -> dict:
    """What reviews/_review.html reads besides the review (titles, formatting)."""
    return {**formatting_context(), "dimension_titles": DIMENSION_TITLES,
            "link_titles": CHAIN_LINK_TITLES, "reason_titles": HIDE_REASON_TITLES}


def _journey_for_new_item(actor, choice: str, start_on: date) -> int:
    if choice == "new":
        journey = journeys.open_journey(actor, language=page_locale(),
                                        currency=chosen_currency(), arrival_on=start_on)
        return journey.id
    return int(choice)


def default_start_of(offer, today: date) -> date:
    """The start the offer's page proposes (and prices its "from" for): two weeks ahead,
    or the offer's lead time when that is longer."""
    return today + timedelta(days=max(offer.lead_time_days, 14))


@bp.route(f"/catalogue/offers/<int(max={MAX_ID}):offer_id>", methods=["GET", "POST"])
def offer(offer_id: int):
    actor = current_actor()
    item = offers.get_offer(actor, offer_id)
    text_language, text = offer_text(item, content_language())
    today = today_in()
    default_start = default_start_of(item, today)
    price = price_for(item, default_start)  # "from": for the dates the form proposes
    form = AddItemForm()
    choices = editable_journeys(actor)
    titles = journey_titles(choices)
    form.journey_id.choices = as_choices([*((str(j.id), titles[j.id]) for j in choices),
                                          ("new", _("A new journey"))])
    if request.method == "GET":
        form.start_on.data = default_start
        form.days.data = max(1, item.duration_value)
        form.quantity.data = max(1, item.min_quantity)
    if request.method == "POST" and actor is None:
        return redirect(url_for("accounts.login", next=request.path))

    def add() -> int:
        journey_id = _journey_for_new_item(actor, form.journey_id.data, form.start_on.data)
        journeys.add_item(actor, journey_id, offer_id=item.id, start_on=form.start_on.data,
                          days=form.days.data, quantity=form.quantity.data)
        return journey_id

    journey_id, status = submit(form, add)
    if journey_id is not None:
        flash(_("Added to your journey."))
        return redirect(url_for("journey.show", journey_id=journey_id))
    return render_template(
        "patient/offer.html", offer=item, text=text, text_language=text_language, price=price,
        converted=convert_for_reader(price), price_on=default_start, form=form,
        procedure_titles=PROCEDURE_TITLES, rating=_rating_of(item.provider_id),
        instant=item.confirmation_mode == ConfirmationMode.INSTANT), status


@bp.route(f"/catalogue/packages/<int(max={MAX_ID}):template_id>", methods=["GET", "POST"])
def package(template_id: int):
    actor = current_actor()
    template = templates.get_template(actor, template_id, published_only=True)
    text_language, text = templates.template_text(template, content_language())
    found = offers_by_id((link.default_offer_id for link in template.links), with_prices=True)
    links = []
    for link in template.links:
        default = found[link.default_offer_id]
        offer_language, default_text = offer_text(default, content_language())
        links.append({"link": link, "offer": default, "text": default_text,
                      "language": offer_language})
    form = StartFromPackageForm()
    trip_choices(form)
    if request.method == "GET":
        form.arrival_on.data = default_arrival()
        form.currency.data = chosen_currency()
        form.nationality.data = known_nationality(actor)
    if request.method == "POST" and actor is None:
        return redirect(url_for("accounts.login", next=request.path))

    def start():
        journey = open_from_trip(actor, form)
        # the package with its dates planned, every item available (or told why not)
        return journey, start_package(actor, journey.id, template.id, form.arrival_on.data)

    started, status = submit(form, start)
    if started is not None:
        journey, message = started
        flash(message)
        return redirect(url_for("journey.show", journey_id=journey.id))
    return render_template("patient/package.html", template=template, text=text,
                           text_language=text_language, links=links, form=form,
                           from_price=package_price(template, chosen_currency())), status
