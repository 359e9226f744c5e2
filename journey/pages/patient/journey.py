"""The patient's journeys: the list, and one journey as the package builder while it
may change (the day-by-day timeline with its rules, the planner, the trip's details,
starting over from a package), then with its booking; and, for those who compose it,
the travellers, the arrival and departure and what happens when (the trip services).

Each view parses a form, calls the same service as the API (which checks who may do
what) and renders; a domain error is shown beside the fields, translated, with a 4xx
status so that the request's transaction is rolled back.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from bookings.models import BookingStatus
from bookings.services.amounts import price_breakdown
from journey.builder.models import JourneyStatus
from journey.builder.services import checkout, composition, journeys, progress, templates
from journey.builder.services.journeys import EDITABLE
from journey.core.accounts.auth import current_actor
from journey.core.accounts.models import Role
from journey.core.i18n import content_language
from journey.core.types import MAX_ID
from journey.pages.common import (
    available_currencies,
    chosen_currency,
    login_required,
    page_locale,
    submit,
)
from journey.pages.forms import (
    ActionForm,
    ApplyTemplateForm,
    ItemForm,
    NewTripForm,
    PlanForm,
    TripDetailsForm,
    as_choices,
    country_choices,
    known_nationality,
)
from journey.pages.layout import day
from journey.pages.patient import case
from journey.pages.patient.booking import booking_actions
from journey.pages.rows import (
    Served,
    journey_title,
    journey_titles,
    line_rows,
    offer_title,
    offers_by_id,
)
from journey.pages.trip_forms import LegForm, TravellerForm
from journey.pages.trip_rows import (
    country_name,
    leg_choices,
    need_texts,
    traveller_choices,
    trip_part,
)
from journey.trip.models import LegDirection
from journey.trip.services import travel, travellers
from providers.models import DurationUnit
from providers.services.case_requirements import TREATMENT_SIDE
from providers.services.offers import last_day

JOURNEY = f"/my/journeys/<int(max={MAX_ID}):journey_id>"
ITEM = f"{JOURNEY}/items/<int(max={MAX_ID}):item_id>"
TRAVELLER = f"{JOURNEY}/travellers/<int(max={MAX_ID}):traveller_id>"

bp = Blueprint("journey", __name__)
bp.register_blueprint(case.bp)  # the medical case: journey.case.*


def trip_choices(form) -> None:
    """The choices of a :class:`TripForm`: countries in the reader's language, and the
    currencies the stored rates reach."""
    form.nationality.choices = country_choices(page_locale(), empty=_("Choose a country"))
    form.currency.choices = as_choices((code, code) for code in available_currencies())


def open_from_trip(actor, form):
    """A journey opened with a :class:`TripForm`'s party, arrival and currency."""
    return journeys.open_journey(
        actor, arrival_on=form.arrival_on.data, adults=form.adults.data,
        children=form.children.data, nationality=form.nationality.data or None,
        currency=form.currency.data, language=page_locale())


def editable_journeys(actor) -> list:
    """The patient's journeys an offer may still be added to."""
    if actor is None or actor.role != Role.PATIENT:
        return []
    items, _total = journeys.list_journeys(actor, per_page=50)
    return [journey for journey in items if journey.status in EDITABLE]


@bp.route("/my/journeys", methods=["GET", "POST"])
@login_required
def index():
    actor = current_actor()
    form = NewTripForm()
    trip_choices(form)
    if request.method == "GET":
        form.currency.data = chosen_currency()
        form.nationality.data = known_nationality(actor)
    journey, status = submit(form, lambda: open_from_trip(actor, form))
    if journey is not None:
        flash(_("Your journey is open. Add offers from the catalogue or a package."))
        return redirect(url_for("journey.show", journey_id=journey.id))
    items, total = journeys.list_journeys(actor, per_page=50)
    return render_template("patient/journeys.html", journeys=items, total=total, form=form,
                           titles=journey_titles(items)), status


def template_choices(actor) -> list[tuple[str, str]]:
    choices = []
    for template in templates.list_templates(actor):
        language, text = templates.template_text(template, content_language())
        choices.append((str(template.id), Served(text.name, language) if text
                        else Served(f"#{template.id}", None)))
    return choices


def _next_step(journey, booking, latest_quote, blocking: bool = False) -> str:
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
        if not journey.items:
            return _("Add the offers you need, plan the dates, then ask for a quote.")
        if blocking:
            return _("Plan the dates so that every item has room and follows the medical "
                     "rules, then ask for a quote.")
        if latest_quote is None:
            return _("Check the dates, then ask for a quote.")
        return _("The package has changed since the last quote: ask for a new one.")
    if status == JourneyStatus.QUOTED:
        return _("Read the quote and accept it.")
    if status == JourneyStatus.ACCEPTED:
        return _("Pay the amount due now to book every item.")
    return _("Your coordinator will be in touch.")


def _timeline(journey, violations) -> tuple[list[dict], list]:
    """The journey's items day by day, each with the rules it breaks; and the rules no
    single item breaks."""
    by_item: dict[str, list] = {}
    general = []
    for violation in violations:
        (by_item.setdefault(violation.item_key, []) if violation.item_key else general).append(
            violation)
    timeline = []
    for item in journey.items:
        nightly = item.offer.duration_unit == DurationUnit.NIGHTS
        timeline.append({
            "item": item, "title": offer_title(item.offer), "nightly": nightly,
            "last": last_day(item.offer, item.start_on,
                             item.start_on + timedelta(days=item.days)),
            "violations": by_item.get(str(item.id), []),
            "form": ItemForm(formdata=None, obj=item, prefix=f"item{item.id}")})
    return timeline, general


def journey_page(journey_id: int, *, status: int = 200, forms: dict | None = None,
                 plan_reasons=None, errors: list[str] | None = None):
    """The journey: the builder while it may change, its booking afterwards. ``forms``
    are the submitted forms to show again with their errors."""
    actor = current_actor()
    journey = journeys.get_package(actor, journey_id)
    journeys.load_items(journey)
    editable = journey.status in EDITABLE
    violations = (composition.journey_violations(journey, language=content_language())
                  if editable and journey.items else [])
    timeline, general = _timeline(journey, violations)
    forms = forms or {}
    details = forms.get("details") or TripDetailsForm(formdata=None, obj=journey,
                                                      prefix="details")
    trip_choices(details)
    plan = forms.get("plan") or PlanForm(formdata=None, prefix="plan",
                                         arrival_on=journey.arrival_on)
    apply = forms.get("apply") or ApplyTemplateForm(formdata=None, prefix="apply",
                                                    arrival_on=journey.arrival_on)
    apply.template_id.choices = as_choices(template_choices(actor))
    if "item" in forms:
        item_id, item_form = forms["item"]
        for row in timeline:
            if row["item"].id == item_id:
                row["form"] = item_form
    bookings = checkout.journey_bookings(actor, journey.id)
    booking = bookings[0][1] if bookings else None
    latest = journey.quotes[-1] if journey.quotes else None
    blocking = any(v.blocking for v in violations)
    return render_template(
        "patient/journey.html", journey=journey, editable=editable, timeline=timeline,
        general_violations=general, blocking=blocking,
        steps=progress.journey_steps(journey, booking=booking, has_problems=blocking),
        details_form=details, plan_form=plan, apply_form=apply, action_form=ActionForm(),
        plan_reasons=plan_reasons or [], errors=errors or [], booking=booking,
        booking_quote=bookings[0][0] if bookings else None, latest_quote=latest,
        breakdown=price_breakdown(booking) if booking is not None else None,
        next_step=_next_step(journey, booking, latest, blocking), title=journey_title(journey),
        lines=line_rows(booking.lines) if booking is not None else [],
        line_ranges=_line_ranges(booking),
        actions=booking_actions(actor, booking),
        has_case=any(item.offer.chain_link in TREATMENT_SIDE for item in journey.items),
        trip=trip_part(actor, journey.id, forms, **_trip_empty()), need_texts=need_texts,
        country_name=country_name), status


def _line_ranges(booking) -> dict[int, tuple]:
    """Each booked line's dates as ``(first, last)`` for ``day_range``: a stay from its
    first night to the departure day, anything else from its first to its last day.
    The offers are in the session already (:func:`line_rows` read them)."""
    if booking is None:
        return {}
    found = offers_by_id(line.offer_id for line in booking.lines)
    return {line.id: (line.start_on, last_day(found.get(line.offer_id), line.start_on,
                                              line.end_on))
            for line in booking.lines}


def _trip_empty() -> dict:
    """The first choice of the traveller form's lists: none chosen."""
    return {"empty_country": _("Choose a country"),
            "empty_language": _("No interpreter needed")}


@bp.get(JOURNEY)
@login_required
def show(journey_id: int):
    return journey_page(journey_id)


def _change(journey_id: int, form, forms: dict, done: str, action, *, anchor=None,
            raise_access_errors: bool = False):
    """Submit one of the journey page's forms to ``action``: back to the journey with
    ``done`` flashed, or the page again showing ``forms`` with their errors."""
    result, status = submit(form, action, raise_access_errors=raise_access_errors)
    if result is None:
        return journey_page(journey_id, status=status, forms=forms)
    flash(done)
    return redirect(url_for("journey.show", journey_id=journey_id, _anchor=anchor))


@bp.post(f"{JOURNEY}/details")
@login_required
def details(journey_id: int):
    form = TripDetailsForm(prefix="details")
    trip_choices(form)
    return _change(
        journey_id, form, {"details": form}, _("The trip details are saved."),
        lambda: journeys.update_journey(
            current_actor(), journey_id, arrival_on=form.arrival_on.data,
            departure_on=form.departure_on.data, adults=form.adults.data,
            children=form.children.data, nationality=form.nationality.data or None,
            currency=form.currency.data))


@bp.post(f"{JOURNEY}/plan")
@login_required
def plan(journey_id: int):
    form = PlanForm(prefix="plan")
    planned, status = submit(form, lambda: composition.plan_journey(
        current_actor(), journey_id, arrival_on=form.arrival_on.data,
        treatment_start=form.treatment_start.data))
    reasons = planned[1] if planned is not None else []
    if planned is None or reasons:
        return journey_page(journey_id, status=422 if reasons else status,
                            forms={"plan": form}, plan_reasons=reasons)
    flash(_("Your dates are planned."))
    return redirect(url_for("journey.show", journey_id=journey_id))


def package_started(started: progress.PackageStart) -> str:
    """What the patient is told once a package is applied: its dates are planned (on
    a later arrival when the wished one left an item without room), or no arrival
    near the wished one fits and they choose another."""
    if started.moved:
        return _("The package is applied. Not every item had room for an arrival on "
                 "%(wished)s, so the dates are planned from %(arrival)s. Check them, then "
                 "ask for a quote.", wished=day(started.wished_on),
                 arrival=day(started.arrival_on))
    if started.planned:
        return _("The package is applied and its dates are planned. Check them, then ask "
                 "for a quote.")
    return ngettext("The package is applied, but no arrival within %(num)d day of the "
                    "one you chose gives every item room. Choose another arrival and plan "
                    "the dates.",
                    "The package is applied, but no arrival within %(num)d days of the "
                    "one you chose gives every item room. Choose another arrival and plan "
                    "the dates.", progress.ARRIVAL_SEARCH_DAYS)


def start_package(actor, journey_id: int, template_id: int, arrival_on) -> str:
    """Apply a package to the journey with its dates planned
    (:func:`journey.builder.services.progress.start_from_package`); the message to
    flash. The catalogue's package page starts a journey with it too."""
    return package_started(progress.start_from_package(actor, journey_id, template_id,
                                                       arrival_on=arrival_on))


@bp.post(f"{JOURNEY}/apply-template")
@login_required
def apply_template(journey_id: int):
    form = ApplyTemplateForm(prefix="apply")
    form.template_id.choices = as_choices(template_choices(current_actor()))
    message, status = submit(form, lambda: start_package(
        current_actor(), journey_id, int(form.template_id.data), form.arrival_on.data))
    if message is None:
        return journey_page(journey_id, status=status, forms={"apply": form})
    flash(message)
    return redirect(url_for("journey.show", journey_id=journey_id))


@bp.post(ITEM)
@login_required
def change_item(journey_id: int, item_id: int):
    form = ItemForm(prefix=f"item{item_id}")
    return _change(
        journey_id, form, {"item": (item_id, form)}, _("The item is changed."),
        lambda: journeys.update_item(current_actor(), journey_id, item_id,
                                     start_on=form.start_on.data, days=form.days.data,
                                     quantity=form.quantity.data))


@bp.post(f"{ITEM}/remove")
@login_required
def remove_item(journey_id: int, item_id: int):
    form = ActionForm()
    if not form.validate():
        return journey_page(journey_id, status=400, errors=form.form_errors)
    journeys.remove_item(current_actor(), journey_id, item_id)
    flash(_("The item is removed."))
    return redirect(url_for("journey.show", journey_id=journey_id))


# --- the trip: travellers, arrival and departure -----------------------------------------

def _traveller_form(prefix: str) -> TravellerForm:
    return traveller_choices(TravellerForm(prefix=prefix), **_trip_empty())


@bp.post(f"{JOURNEY}/travellers")
@login_required
def add_traveller(journey_id: int):
    form = _traveller_form("traveller")
    return _change(
        journey_id, form, {("traveller", None): form}, _("The traveller is added."),
        lambda: travellers.save_traveller(current_actor(), journey_id, **form.fields(),
                                          needs=form.needs()),
        anchor="travellers", raise_access_errors=True)


@bp.post(TRAVELLER)
@login_required
def change_traveller(journey_id: int, traveller_id: int):
    form = _traveller_form(f"traveller{traveller_id}")

    def save():
        actor = current_actor()
        known = next((person for person in travellers.list_travellers(actor, journey_id)
                      if person.id == traveller_id), None)
        return travellers.save_traveller(actor, journey_id, traveller_id, **form.fields(),
                                         needs=form.needs(known.needs if known else []))

    return _change(journey_id, form, {("traveller", traveller_id): form},
                   _("The traveller is saved."), save, anchor="travellers",
                   raise_access_errors=True)


@bp.post(f"{TRAVELLER}/remove")
@login_required
def remove_traveller(journey_id: int, traveller_id: int):
    form = ActionForm()
    done, status = submit(form, lambda: travellers.remove_traveller(
        current_actor(), journey_id, traveller_id) or True, raise_access_errors=True,
        invalid_status=400)
    if done is None:
        return journey_page(journey_id, status=status, errors=form.form_errors)
    flash(_("The traveller is removed."))
    return redirect(url_for("journey.show", journey_id=journey_id, _anchor="travellers"))


@bp.post(f"{JOURNEY}/travel/<any(arrival, departure):direction>")
@login_required
def travel_leg(journey_id: int, direction: str):
    direction = LegDirection(direction)
    form = leg_choices(LegForm(prefix=direction.value))
    done = (_("Your arrival is saved.") if direction == LegDirection.ARRIVAL
            else _("Your departure is saved."))
    return _change(
        journey_id, form, {("leg", direction): form}, done,
        lambda: travel.set_leg(current_actor(), journey_id, direction,
                               mode=form.mode.data, place=form.place.data,
                               local_time=form.local_time.data, timezone=form.timezone.data,
                               number=form.number.data, carrier=form.carrier.data),
        anchor="travel", raise_access_errors=True)
