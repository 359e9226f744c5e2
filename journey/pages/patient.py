"""The patient's pages: catalogue, members, offers, packages, the package builder,
quotes, checkout, the journey and the profile.

Each view parses a form, calls the same service as the API (which checks who may do
what) and renders; a domain error is shown beside the fields, translated, with a 4xx
status so that the request's transaction is rolled back.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal

from babel.numbers import format_percent
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from bookings.models import BookingStatus, LineStatus, PaymentStatus
from journey.builder.models import JOURNEY_STATUS_TITLES, JourneyStatus, QuoteLineKind
from journey.builder.services import checkout, composition, journeys, quotes, templates
from journey.builder.services.journeys import EDITABLE
from journey.core.accounts.auth import current_actor
from journey.core.accounts.models import Role
from journey.core.accounts.services import update_profile
from journey.core.errors import DomainError, NotFound
from journey.core.i18n import content_language
from journey.core.money import Money
from journey.core.types import MAX_ID, today_in, utcnow
from journey.pages.common import (
    apply_domain_error,
    available_currencies,
    chosen_currency,
    convert_for_reader,
    language_name,
    login_required,
    page_locale,
    page_url,
    safe_next,
    show_minor,
    show_money,
    stripe_js_url,
    submit,
    submit_card,
)
from journey.pages.forms import (
    SEARCH_PAGE_SIZE,
    ActionForm,
    AddItemForm,
    ApplyTemplateForm,
    CheckoutForm,
    ItemForm,
    PlanForm,
    PreferencesForm,
    ProfileForm,
    SearchForm,
    StartFromPackageForm,
    TripDetailsForm,
    TripForm,
    as_choices,
    country_choices,
    language_choices,
)
from journey.pages.patient_booking import booking_actions
from journey.pages.portal import line_dates
from providers.models import (
    CHAIN_LINK_TITLES,
    DURATION_UNIT_TITLES,
    MEMBER_KIND_TITLES,
    PRICE_UNIT_TITLES,
    ChainLink,
    ConfirmationMode,
    DurationUnit,
    MemberKind,
)
from providers.services import members, offers
from providers.services.offers import offer_text, price_for
from providers.services.search import SearchQuery, search_offers

bp = Blueprint("patient", __name__)

LINE_STATUS_TITLES = {
    LineStatus.HELD: _l("Held for you"),
    LineStatus.REQUESTED: _l("Waiting for the member's answer"),
    LineStatus.CONFIRMED: _l("Confirmed by the member"),
    LineStatus.DECLINED: _l("Declined by the member"),
    LineStatus.CANCELLED: _l("Cancelled"),
}
BOOKING_STATUS_TITLES = {
    BookingStatus.PENDING_PAYMENT: _l("Waiting for the card"),
    BookingStatus.AUTHORISED: _l("Card authorised, members asked"),
    BookingStatus.ACTION_REQUIRED: _l("Your action is needed"),
    BookingStatus.CONFIRMED: _l("Confirmed"),
    BookingStatus.CANCELLED: _l("Cancelled"),
    BookingStatus.EXPIRED: _l("Expired unpaid"),
    BookingStatus.FAILED: _l("Payment failed"),
}
PAYMENT_STATUS_TITLES = {
    PaymentStatus.CREATED: _l("Started"),
    PaymentStatus.REQUIRES_PAYMENT_METHOD: _l("Needs a card"),
    PaymentStatus.REQUIRES_ACTION: _l("Needs your bank's confirmation"),
    PaymentStatus.AUTHORISED: _l("Authorised, not yet charged"),
    PaymentStatus.CAPTURED: _l("Charged"),
    PaymentStatus.FAILED: _l("Failed"),
    PaymentStatus.CANCELLED: _l("Released"),
}
CHANGE_TITLES = {
    "added": _l("Added"),
    "removed": _l("Removed"),
    "changed": _l("Changed"),
    "same": _l("Unchanged"),
}


@bp.app_context_processor
def page_helpers():
    return {
        "money": show_money,
        "money_minor": show_minor,
        "in_reader_currency": convert_for_reader,
        "chain_link_titles": CHAIN_LINK_TITLES,
        "member_kind_titles": MEMBER_KIND_TITLES,
        "journey_status_titles": JOURNEY_STATUS_TITLES,
        "preferences_form": PreferencesForm,
        "language_choices": language_choices,
        "line_dates": line_dates,
    }


bp.add_app_template_global(page_url)  # for the pager macro (_pager.html), on every page


@bp.app_template_filter("percent")
def percent_filter(value) -> str:
    """An integer percentage (``30``) as the locale writes it (``30 %``, ``30%``)."""
    return format_percent(Decimal(int(value)) / 100, locale=page_locale())


def _editable_journeys(actor):
    if actor is None or actor.role != Role.PATIENT:
        return []
    items, _total = journeys.list_journeys(actor, per_page=50)
    return [journey for journey in items if journey.status in EDITABLE]


def _trip_choices(form, locale: str) -> None:
    form.nationality.choices = country_choices(locale, empty=_("Choose a country"))
    form.currency.choices = as_choices((code, code) for code in available_currencies())


def _journey_title(journey) -> str:
    if journey.template_id is not None:
        template = journey.template_id
        try:
            found = templates.get_template(current_actor(), template)
        except NotFound:
            found = None
        if found is not None:
            _language, text = templates.template_text(found, page_locale())
            if text is not None:
                return _("Journey %(id)s: %(name)s", id=journey.id, name=text.name)
    return _("Journey %(id)s", id=journey.id)


# --- language and currency ---------------------------------------------------------------

@bp.post("/preferences")
def preferences():
    """The language switcher: saved to the profile of a logged-in reader, else kept for
    the session; then back to the page the reader was on."""
    form = PreferencesForm()
    target = safe_next(request.form.get("next"), url_for("main.home"))
    if not form.validate():
        flash(" ".join(form.form_errors or [_("Not a valid choice.")]))
        return redirect(target)
    actor = current_actor()
    if actor is not None:
        update_profile(actor, locale=form.lang.data)
    session["lang"] = form.lang.data
    return redirect(target)


@bp.route("/my/profile", methods=["GET", "POST"])
@login_required
def profile():
    actor = current_actor()
    form = ProfileForm(obj=None if request.method == "POST" else actor)
    form.locale.choices = as_choices(language_choices())
    form.currency.choices = as_choices((code, code) for code in available_currencies())
    if request.method == "GET":
        form.locale.data = actor.locale or page_locale()
        form.currency.data = actor.currency or chosen_currency()
    saved, status = submit(form, lambda: update_profile(
        actor, full_name=form.full_name.data, locale=form.locale.data,
        currency=form.currency.data))
    if saved is not None:
        session["lang"] = form.locale.data
        flash(_("Your profile is saved."))
        return redirect(url_for("patient.profile"))
    return render_template("patient/profile.html", form=form), status


# --- catalogue ---------------------------------------------------------------------------

@bp.get("/catalogue")
def catalogue():
    args = MultiDict(request.args)
    args.setdefault("currency", chosen_currency())
    form = SearchForm(args)
    form.currency.choices = as_choices((code, code) for code in available_currencies())
    if args["currency"] not in available_currencies():
        form.currency.choices = as_choices((code, code) for code in
                                           [*available_currencies(), args["currency"]])
    result, status = None, 200
    if form.validate():
        currency = form.currency.data
        try:
            result = search_offers(SearchQuery(
                language=content_language(), currency=currency,
                chain_link=ChainLink(form.chain_link.data) if form.chain_link.data else None,
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
            status = 422
    else:
        status = 422
    return render_template("patient/catalogue.html", form=form, result=result), status


def _minor(value, currency: str) -> int | None:
    if value is None:
        return None
    return Money.from_decimal(value, currency).amount


@bp.get(f"/catalogue/members/<int(max={MAX_ID}):provider_id>")
def member(provider_id: int):
    actor = current_actor()
    provider = members.get_member(actor, provider_id)
    language = content_language()
    _desc_language, description = members.member_description(provider, language)
    rows = []
    today = today_in()
    for offer in offers.list_member_offers(actor, provider.id):
        _text_language, text = offer_text(offer, language)
        price = price_for(offer, today)
        rows.append({"offer": offer, "text": text, "price": price,
                     "converted": convert_for_reader(price)})
    return render_template("patient/member.html", provider=provider, description=description,
                           offers=rows, price_unit_titles=PRICE_UNIT_TITLES,
                           language_name=language_name)


@bp.route(f"/catalogue/offers/<int(max={MAX_ID}):offer_id>", methods=["GET", "POST"])
def offer(offer_id: int):
    actor = current_actor()
    item = offers.get_offer(actor, offer_id)
    _text_language, text = offer_text(item, content_language())
    today = today_in()
    price = price_for(item, today)
    form = AddItemForm()
    choices = [(str(j.id), _journey_title(j)) for j in _editable_journeys(actor)]
    form.journey_id.choices = as_choices([*choices, ("new", _("A new journey"))])
    if request.method == "GET":
        form.start_on.data = today + timedelta(days=max(item.lead_time_days, 14))
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
        return redirect(url_for("patient.journey", journey_id=journey_id))
    return render_template(
        "patient/offer.html", offer=item, text=text, price=price,
        converted=convert_for_reader(price), form=form,
        price_unit_titles=PRICE_UNIT_TITLES, duration_unit_titles=DURATION_UNIT_TITLES,
        instant=item.confirmation_mode == ConfirmationMode.INSTANT), status


def _journey_for_new_item(actor, choice: str, start_on: date) -> int:
    if choice == "new":
        journey = journeys.open_journey(actor, language=page_locale(),
                                        currency=chosen_currency(), arrival_on=start_on)
        return journey.id
    return int(choice)


# --- package templates -------------------------------------------------------------------

@bp.route(f"/catalogue/packages/<int(max={MAX_ID}):template_id>", methods=["GET", "POST"])
def package(template_id: int):
    actor = current_actor()
    template = templates.get_template(actor, template_id, published_only=True)
    locale = page_locale()
    _language, text = templates.template_text(template, content_language())
    links = []
    for link in template.links:
        _offer_language, offer_text_ = offer_text(link.default_offer, content_language())
        links.append({"link": link, "offer": link.default_offer, "text": offer_text_})
    form = StartFromPackageForm()
    _trip_choices(form, locale)
    if request.method == "GET":
        form.arrival_on.data = today_in() + timedelta(days=45)
        form.currency.data = chosen_currency()
    if request.method == "POST" and actor is None:
        return redirect(url_for("accounts.login", next=request.path))

    def start():
        journey = _open_journey(actor, form)
        journeys.apply_template(actor, journey.id, template.id, arrival_on=form.arrival_on.data)
        return journey

    journey, status = submit(form, start)
    if journey is not None:
        flash(_("Your journey is started from the package. Plan the dates next."))
        return redirect(url_for("patient.journey", journey_id=journey.id))
    return render_template("patient/package.html", template=template, text=text, links=links,
                           form=form), status


# --- journeys ----------------------------------------------------------------------------

@bp.route("/my/journeys", methods=["GET", "POST"])
@login_required
def my_journeys():
    actor = current_actor()
    form = TripForm()
    _trip_choices(form, page_locale())
    if request.method == "GET":
        form.currency.data = chosen_currency()
    journey, status = submit(form, lambda: _open_journey(actor, form))
    if journey is not None:
        flash(_("Your journey is open. Add offers from the catalogue or a package."))
        return redirect(url_for("patient.journey", journey_id=journey.id))
    items, total = journeys.list_journeys(actor, per_page=50)
    return render_template("patient/journeys.html", journeys=items, total=total, form=form,
                           title_of=_journey_title), status


def _open_journey(actor, form):
    """A journey opened with a :class:`TripForm`'s party, arrival and currency."""
    return journeys.open_journey(
        actor, arrival_on=form.arrival_on.data, adults=form.adults.data,
        children=form.children.data, nationality=form.nationality.data or None,
        currency=form.currency.data, language=page_locale())


def _journey_page(journey_id: int, *, status: int = 200, forms: dict | None = None,
                  plan_reasons=None, errors: list[str] | None = None):
    """The journey: the builder while it may change, its booking afterwards."""
    actor = current_actor()
    journey = journeys.get_journey(actor, journey_id)
    journeys.load_items(journey)
    locale = page_locale()
    editable = journey.status in EDITABLE
    violations = (composition.journey_violations(journey, language=content_language())
                  if editable and journey.items else [])
    by_item: dict[str, list] = {}
    general = []
    for violation in violations:
        (by_item.setdefault(violation.item_key, []) if violation.item_key else general).append(
            violation)
    timeline = []
    for item in journey.items:
        _language, text = offer_text(item.offer, content_language())
        nightly = item.offer.duration_unit == DurationUnit.NIGHTS
        last = item.start_on + timedelta(days=item.days if nightly else item.days - 1)
        item_form = ItemForm(formdata=None, obj=item, prefix=f"item{item.id}")
        timeline.append({"item": item, "text": text, "last": last, "nightly": nightly,
                         "violations": by_item.get(str(item.id), []), "form": item_form})
    forms = forms or {}
    details = forms.get("details") or TripDetailsForm(formdata=None, obj=journey,
                                                      prefix="details")
    _trip_choices(details, locale)
    plan = forms.get("plan") or PlanForm(formdata=None, prefix="plan",
                                         arrival_on=journey.arrival_on)
    apply = forms.get("apply") or ApplyTemplateForm(formdata=None, prefix="apply",
                                                    arrival_on=journey.arrival_on)
    apply.template_id.choices = as_choices(_template_choices(actor))
    if "item" in forms:
        item_id, item_form = forms["item"]
        for row in timeline:
            if row["item"].id == item_id:
                row["form"] = item_form
    bookings = checkout.journey_bookings(actor, journey.id)
    booking = bookings[0][1] if bookings else None
    latest = journey.quotes[-1] if journey.quotes else None
    return render_template(
        "patient/journey.html", journey=journey, editable=editable, timeline=timeline,
        general_violations=general, blocking=any(v.blocking for v in violations),
        details_form=details, plan_form=plan, apply_form=apply, action_form=ActionForm(),
        plan_reasons=plan_reasons or [], errors=errors or [], booking=booking,
        booking_quote=bookings[0][0] if bookings else None, latest_quote=latest,
        next_step=_next_step(journey, booking, latest), line_titles=LINE_STATUS_TITLES,
        booking_titles=BOOKING_STATUS_TITLES, payment_titles=PAYMENT_STATUS_TITLES,
        offer_titles=_offer_titles(booking), title=_journey_title(journey),
        actions=booking_actions(actor, booking)), status


def _template_choices(actor) -> list[tuple[str, str]]:
    choices = []
    for template in templates.list_templates(actor):
        _language, text = templates.template_text(template, content_language())
        choices.append((str(template.id), text.name if text else f"#{template.id}"))
    return choices


def _offer_titles(booking) -> dict[int, str]:
    titles = {}
    if booking is None:
        return titles
    for line in booking.lines:
        try:
            found = offers.get_offer(current_actor(), line.offer_id)
        except NotFound:
            continue
        _language, text = offer_text(found, content_language())
        titles[line.offer_id] = text.title if text else f"#{line.offer_id}"
    return titles


def _next_step(journey, booking, latest_quote) -> str:
    status = journey.status
    if status == JourneyStatus.CANCELLED:
        return _("This journey is cancelled.")
    if booking is not None:
        if booking.status == BookingStatus.PENDING_PAYMENT:
            return _("We are waiting for your card to be authorised.")
        if booking.status == BookingStatus.AUTHORISED:
            return _("Your card is authorised, not charged. Members who confirm at once "
                     "have confirmed; the others answer within their deadline. Your card is "
                     "charged once every member has confirmed.")
        if booking.status == BookingStatus.CONFIRMED or status == JourneyStatus.CONFIRMED:
            return _("Every member has confirmed. Your coordinator will send the details "
                     "of your arrival.")
        if booking.status in (BookingStatus.EXPIRED, BookingStatus.FAILED,
                              BookingStatus.CANCELLED):
            return _("The booking did not go through. Ask for a new quote to try again.")
    if status == JourneyStatus.DRAFT:
        if latest_quote is None:
            return _("Add the offers you need, plan the dates, then ask for a quote.")
        return _("The package has changed since the last quote: ask for a new one.")
    if status == JourneyStatus.QUOTED:
        return _("Read the quote and accept it.")
    if status == JourneyStatus.ACCEPTED:
        return _("Pay the amount due now to book every item.")
    return _("Your coordinator will be in touch.")


@bp.get(f"/my/journeys/<int(max={MAX_ID}):journey_id>")
@login_required
def journey(journey_id: int):
    return _journey_page(journey_id)


def _change_journey(journey_id: int, form, forms: dict, done: str, action):
    """Submit one of the journey page's forms to ``action``: back to the journey with
    ``done`` flashed, or the page again showing ``forms`` with their errors."""
    result, status = submit(form, action)
    if result is None:
        return _journey_page(journey_id, status=status, forms=forms)
    flash(done)
    return redirect(url_for("patient.journey", journey_id=journey_id))


@bp.post(f"/my/journeys/<int(max={MAX_ID}):journey_id>/details")
@login_required
def journey_details(journey_id: int):
    form = TripDetailsForm(prefix="details")
    _trip_choices(form, page_locale())
    return _change_journey(
        journey_id, form, {"details": form}, _("The trip details are saved."),
        lambda: journeys.update_journey(
            current_actor(), journey_id, arrival_on=form.arrival_on.data,
            departure_on=form.departure_on.data, adults=form.adults.data,
            children=form.children.data, nationality=form.nationality.data or None,
            currency=form.currency.data))


@bp.post(f"/my/journeys/<int(max={MAX_ID}):journey_id>/plan")
@login_required
def journey_plan(journey_id: int):
    form = PlanForm(prefix="plan")
    planned, status = submit(form, lambda: composition.plan_journey(
        current_actor(), journey_id, arrival_on=form.arrival_on.data,
        treatment_start=form.treatment_start.data))
    reasons = planned[1] if planned is not None else []
    if planned is None or reasons:
        return _journey_page(journey_id, status=422 if reasons else status,
                             forms={"plan": form}, plan_reasons=reasons)
    flash(_("Your dates are planned."))
    return redirect(url_for("patient.journey", journey_id=journey_id))


@bp.post(f"/my/journeys/<int(max={MAX_ID}):journey_id>/apply-template")
@login_required
def journey_apply_template(journey_id: int):
    form = ApplyTemplateForm(prefix="apply")
    form.template_id.choices = as_choices(_template_choices(current_actor()))
    return _change_journey(
        journey_id, form, {"apply": form}, _("The package is applied. Plan the dates next."),
        lambda: journeys.apply_template(current_actor(), journey_id, int(form.template_id.data),
                                        arrival_on=form.arrival_on.data))


@bp.post(f"/my/journeys/<int(max={MAX_ID}):journey_id>/items/<int(max={MAX_ID}):item_id>")
@login_required
def journey_item(journey_id: int, item_id: int):
    form = ItemForm(prefix=f"item{item_id}")
    return _change_journey(
        journey_id, form, {"item": (item_id, form)}, _("The item is changed."),
        lambda: journeys.update_item(current_actor(), journey_id, item_id,
                                     start_on=form.start_on.data, days=form.days.data,
                                     quantity=form.quantity.data))


@bp.post(f"/my/journeys/<int(max={MAX_ID}):journey_id>/items/<int(max={MAX_ID}):item_id>"
         "/remove")
@login_required
def journey_item_remove(journey_id: int, item_id: int):
    form = ActionForm()
    if not form.validate():
        return _journey_page(journey_id, status=400, errors=form.form_errors)
    journeys.remove_item(current_actor(), journey_id, item_id)
    flash(_("The item is removed."))
    return redirect(url_for("patient.journey", journey_id=journey_id))


@bp.route(f"/my/journeys/<int(max={MAX_ID}):journey_id>/items/<int(max={MAX_ID}):item_id>"
          "/alternatives", methods=["GET", "POST"])
@login_required
def journey_alternatives(journey_id: int, item_id: int):
    actor = current_actor()
    journey = journeys.get_journey(actor, journey_id)
    item = journeys.journey_item(journey, item_id)
    form = ActionForm()

    def swap():
        offer_id = request.form.get("offer_id", "")
        if not (offer_id.isdigit() and int(offer_id) <= MAX_ID):
            form.form_errors.append(_("Not a valid choice."))
            return None
        return journeys.update_item(actor, journey_id, item_id, offer_id=int(offer_id))

    swapped, status = submit(form, swap)
    if swapped is not None:
        flash(_("The item is swapped."))
        return redirect(url_for("patient.journey", journey_id=journey_id))
    rows = []
    for candidate, converted in composition.suggest_alternatives(actor, journey_id, item_id):
        _language, text = offer_text(candidate, content_language())
        rows.append({"offer": candidate, "text": text, "price": converted})
    _language, current_text = offer_text(item.offer, content_language())
    return render_template("patient/alternatives.html", journey=journey, item=item,
                           current_text=current_text, alternatives=rows, form=form), status


@bp.post(f"/my/journeys/<int(max={MAX_ID}):journey_id>/quotes")
@login_required
def journey_quote(journey_id: int):
    form = ActionForm()
    created, status = submit(form, lambda: quotes.create_quote(current_actor(), journey_id),
                             invalid_status=400)
    if created is None:
        return _journey_page(journey_id, status=status, errors=form.form_errors)
    return redirect(url_for("patient.quote", quote_id=created.id))


# --- quotes ------------------------------------------------------------------------------

@bp.get(f"/my/quotes/<int(max={MAX_ID}):quote_id>")
@login_required
def quote(quote_id: int, *, status: int = 200, errors: list[str] | None = None):
    actor = current_actor()
    found = quotes.get_quote(actor, quote_id)
    journey = found.journey
    groups: dict[str, list] = {}
    for line in found.lines:
        if line.kind == QuoteLineKind.DISCOUNT:
            continue
        groups.setdefault(line.provider_name, []).append(line)
    discount = next((line for line in found.lines if line.kind == QuoteLineKind.DISCOUNT),
                    None)
    against = request.args.get("against", "")
    changes, other = None, None
    if against.isdigit() and int(against) <= MAX_ID:
        other = quotes.get_quote(actor, int(against))
        changes = quotes.diff_quotes(actor, found.id, other.id)
    latest = quotes.latest_version(journey)
    can_accept = found.accepted_at is None and quotes.acceptance_refusal(
        current_actor(), found, now=utcnow()) is None
    can_pay = (found.accepted_at is not None and found.version == latest
               and journey.status == JourneyStatus.ACCEPTED)
    return render_template(
        "patient/quote.html", quote=found, journey=journey, groups=groups, discount=discount,
        changes=changes, other=other, change_titles=CHANGE_TITLES, can_accept=can_accept,
        can_pay=can_pay, action_form=ActionForm(), errors=errors or [],
        other_versions=[q for q in journey.quotes if q.id != found.id],
        is_latest=found.version == latest, BORNE=QuoteLineKind.BORNE,
        title=_journey_title(journey)), status


@bp.post(f"/my/quotes/<int(max={MAX_ID}):quote_id>/accept")
@login_required
def quote_accept(quote_id: int):
    form = ActionForm()
    accepted, status = submit(form, lambda: quotes.accept_quote(current_actor(), quote_id),
                              invalid_status=400)
    if accepted is None:
        return quote(quote_id, status=status, errors=form.form_errors)
    flash(_("You accepted the quote. Pay the amount due now to book."))
    return redirect(url_for("patient.checkout_page", quote_id=quote_id))


# --- checkout ----------------------------------------------------------------------------

@bp.route(f"/my/quotes/<int(max={MAX_ID}):quote_id>/checkout", methods=["GET", "POST"])
@login_required
def checkout_page(quote_id: int):
    actor = current_actor()
    found = quotes.get_quote(actor, quote_id)
    journey = found.journey
    if found.accepted_at is None:
        flash(_("Accept the quote before paying."))
        return redirect(url_for("patient.quote", quote_id=quote_id))
    form = CheckoutForm()
    if request.method == "GET":
        form.idempotency_key.data = secrets.token_urlsafe(24)
    paid, status = submit_card(form, lambda: checkout.checkout_once(
        actor, found.id, key=form.idempotency_key.data,
        payment_method=form.payment_method.data,
        render=lambda booking: {"booking_id": booking.id}))
    if paid is not None:
        flash(_("Thank you. Your card is authorised; the members are asked to confirm."))
        return redirect(url_for("patient.journey", journey_id=journey.id))
    due_now = found.deposit_minor or found.total_minor
    return render_template(
        "patient/checkout.html", quote=found, journey=journey, form=form,
        due_now=Money(due_now, found.currency), stripe_js=stripe_js_url(),
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        title=_journey_title(journey)), status

