"""The composition rules: each catches a bad plan, accepts a good one and explains
itself in the reader's language (dates in the reader's format)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from babel.dates import format_date

from journey.builder.plan import PlanContext, PlanItem
from journey.builder.rules import RULES, blocking, check_plan, run_rule
from providers.models import ChainLink, DurationUnit

TODAY = date(2031, 1, 1)
ARRIVAL = date(2031, 3, 1)
DEPARTURE = date(2031, 3, 16)
CTX = PlanContext(today=TODAY, arrival_on=ARRIVAL, departure_on=DEPARTURE,
                  nationality="IN", visa_free=frozenset({"LT", "DE", "NO"}))
NIGHTS = DurationUnit.NIGHTS


def d(month: int, day: int) -> date:
    return date(2031, month, day)


def item(key: str, link: ChainLink, start: date, days: int = 1, **kw) -> PlanItem:
    return PlanItem(key=key, chain_link=link, start_on=start, days=days, **kw)


# A patient from India: knee replacement in Vilnius with sanatorium rehabilitation.
GOOD = [
    item("visa", ChainLink.VISA_SUPPORT, d(1, 6), 10, title="Schengen visa letter",
         lead_time_days=5),
    item("transfer", ChainLink.TRANSFER, ARRIVAL, title="Airport transfer"),
    item("hotel", ChainLink.ACCOMMODATION, ARRIVAL, 2, title="Hotel Neris",
         duration_unit=NIGHTS),
    item("consult", ChainLink.CONSULTATION, d(3, 2), title="Orthopaedic consultation"),
    item("surgery", ChainLink.TREATMENT, d(3, 3), 2, title="Knee replacement",
         duration_unit=NIGHTS, requires_consultation=True, recovery_days=5,
         fit_to_fly_days=3),
    item("hotel#2", ChainLink.ACCOMMODATION, d(3, 5), 11, title="Hotel Neris",
         duration_unit=NIGHTS),
    item("rehab", ChainLink.REHABILITATION, d(3, 6), 10, title="Sanatorium rehabilitation",
         min_days_after_treatment=2),
    item("excursion", ChainLink.LEISURE, d(3, 10), title="Trakai castle excursion"),
    item("transfer-out", ChainLink.TRANSFER, DEPARTURE, title="Airport transfer"),
]


def changed(key: str, **changes) -> list[PlanItem]:
    """The good plan with one item changed."""
    assert any(i.key == key for i in GOOD)
    return [replace(i, **changes) if i.key == key else i for i in GOOD]


def without(*keys: str) -> list[PlanItem]:
    return [i for i in GOOD if i.key not in keys]


def found(violations) -> list[tuple]:
    return [(v.code, v.item_key, v.blocking) for v in violations]


@pytest.fixture
def render(app):
    def render(message, lang: str = "en") -> str:
        with app.test_request_context(f"/?lang={lang}"):
            return str(message)
    return render


def test_the_good_plan_breaks_no_rule():
    assert check_plan(CTX, GOOD) == []
    for name in RULES:
        assert run_rule(name, CTX, GOOD) == [], name


def test_the_registry_names_every_rule_and_check_plan_runs_them_all():
    assert list(RULES) == [
        "visa_before_travel", "arrival_transfer", "accommodation_cover",
        "consultation_before_treatment", "rehabilitation_after_treatment",
        "no_leisure_in_recovery", "fit_to_fly", "lead_time", "quantity_limits",
        "childcare_needs_children", "visa_needed", "within_trip"]
    bad = changed("excursion", start_on=d(3, 5), quantity=0)
    assert found(check_plan(CTX, bad)) == [
        ("leisure_in_recovery", "excursion", True), ("quantity_too_small", "excursion", True)]
    with pytest.raises(KeyError):
        run_rule("no_such_rule", CTX, GOOD)


# --- visa_before_travel ------------------------------------------------------------------


def test_visa_must_be_ready_before_travel_and_arrival(render):
    flight = item("flight", ChainLink.TRAVEL, ARRIVAL, title="Flight to Vilnius")
    bad = [*changed("visa", start_on=d(2, 25)), flight]
    violations = run_rule("visa_before_travel", CTX, bad)
    assert found(violations) == [("visa_after_travel", "visa", True),
                                 ("visa_after_arrival", "visa", True)]
    travel, arrival = (v.message for v in violations)
    assert render(travel) == (
        "Schengen visa letter lasts until Mar 6, 2031, but Flight to Vilnius starts on "
        "Mar 1, 2031. The visa must be ready before you travel.")
    assert render(travel, "de") == (
        "„Schengen visa letter“ dauert bis zum 06.03.2031, aber „Flight to Vilnius“ "
        "beginnt am 01.03.2031. Das Visum muss vor Ihrer Reise vorliegen.")
    assert render(arrival, "de") == (
        "„Schengen visa letter“ dauert bis zum 06.03.2031, aber Sie reisen am 01.03.2031 "
        "an. Das Visum muss vor Ihrer Ankunft vorliegen.")
    assert render(arrival, "fr") == (  # French sets no-break spaces inside « »
        "La prestation «\u00a0Schengen visa letter\u00a0» dure jusqu'au 6 mars 2031, mais "
        "vous arrivez le 1 mars 2031. Le visa doit être prêt avant votre arrivée.")


def test_visa_finished_the_day_before_arrival_is_fine():
    flight = item("flight", ChainLink.TRAVEL, ARRIVAL, title="Flight to Vilnius")
    good = [*changed("visa", start_on=d(2, 19)), flight]  # last day Feb 28
    assert run_rule("visa_before_travel", CTX, good) == []


def test_visa_respects_its_lead_time_and_today(render):
    soon = run_rule("visa_before_travel", CTX, changed("visa", start_on=d(1, 5)))
    assert found(soon) == [("lead_time", "visa", True)]
    assert render(soon[0].message) == (
        "Schengen visa letter cannot start before Jan 6, 2031: the provider needs time "
        "to prepare it.")
    assert render(soon[0].message, "de") == (
        "„Schengen visa letter“ kann nicht vor dem 06.01.2031 beginnen: Der Anbieter "
        "benötigt Zeit zur Vorbereitung.")
    past = run_rule("visa_before_travel", CTX, changed("visa", start_on=date(2030, 12, 30)))
    assert found(past) == [("starts_in_past", "visa", True)]
    # the lead_time rule leaves visa support to this rule: no double report
    assert run_rule("lead_time", CTX, changed("visa", start_on=d(1, 5))) == []


# --- arrival_transfer ---------------------------------------------------------------------


def test_a_transfer_meets_the_patient_on_arrival(render):
    violations = run_rule("arrival_transfer", CTX, changed("transfer", start_on=d(3, 2)))
    assert found(violations) == [("transfer_missing_on_arrival", None, True),
                                 ("transfer_wrong_day", "transfer", True)]
    missing, wrong = (v.message for v in violations)
    assert render(missing) == "No transfer is planned on your arrival day, Mar 1, 2031."
    assert render(missing, "de") == (
        "Am Tag Ihrer Ankunft, dem 01.03.2031, ist kein Transfer geplant.")
    assert render(wrong) == (
        "Airport transfer is on Mar 2, 2031; a transfer should be on your arrival day "
        "(Mar 1, 2031) or your departure day (Mar 16, 2031).")
    assert render(wrong, "de") == (
        "„Airport transfer“ ist am 02.03.2031; ein Transfer sollte am Tag Ihrer Ankunft "
        "(01.03.2031) oder Ihrer Abreise (16.03.2031) stattfinden.")


def test_transfers_on_arrival_and_departure_or_none_at_all_are_fine():
    assert run_rule("arrival_transfer", CTX, GOOD) == []
    assert run_rule("arrival_transfer", CTX, without("transfer-out")) == []
    assert run_rule("arrival_transfer", CTX, without("transfer", "transfer-out")) == []
    only_departure = run_rule("arrival_transfer", CTX, without("transfer"))
    assert found(only_departure) == [("transfer_missing_on_arrival", None, True)]


# --- accommodation_cover ------------------------------------------------------------------


def test_every_night_needs_accommodation(render):
    one_night = run_rule("accommodation_cover", CTX, changed("hotel#2", days=10))
    assert found(one_night) == [("accommodation_gap", None, True)]
    assert render(one_night[0].message) == (
        "No accommodation is booked for the night of Mar 15, 2031.")
    assert render(one_night[0].message, "de") == (
        "Für die Nacht vom 15.03.2031 ist keine Unterkunft gebucht.")
    two_gaps = run_rule("accommodation_cover", CTX, without("hotel", "hotel#2"))
    assert found(two_gaps) == [("accommodation_gap", None, True)] * 2
    assert render(two_gaps[1].message) == (
        "No accommodation is booked for the nights from Mar 5, 2031 to Mar 15, 2031.")
    assert render(two_gaps[1].message, "de") == (
        "Für die Nächte vom 05.03.2031 bis zum 15.03.2031 ist keine Unterkunft gebucht.")
    first, last = (format_date(day, "medium", locale="ru") for day in (d(3, 1), d(3, 2)))
    assert render(two_gaps[0].message, "ru") == (  # "1 мар. 2031 г.", spaces as CLDR has them
        f"На ночи с {first} по {last} проживание не забронировано.")


def test_no_night_is_booked_twice(render):
    violations = run_rule("accommodation_cover", CTX, changed("hotel", days=3))
    assert found(violations) == [("accommodation_overlap", "surgery", True)]
    assert render(violations[0].message) == (
        "Hotel Neris and Knee replacement are both booked for the night of Mar 3, 2031.")
    assert render(violations[0].message, "de") == (
        "„Hotel Neris“ und „Knee replacement“ sind beide für die Nacht vom 03.03.2031 "
        "gebucht.")
    longer = run_rule("accommodation_cover", CTX, changed("hotel", days=4))
    assert render(longer[0].message, "de") == (
        "„Hotel Neris“ und „Knee replacement“ sind beide für die Nächte vom 03.03.2031 "
        "bis zum 04.03.2031 gebucht.")


def test_stays_lie_within_the_trip(render):
    late = run_rule("accommodation_cover", CTX, changed("hotel#2", days=12))
    assert found(late) == [("stay_outside_trip", "hotel#2", True)]
    assert render(late[0].message) == (
        "Hotel Neris checks out on Mar 17, 2031, after your departure on Mar 16, 2031.")
    assert render(late[0].message, "de") == (
        "Der Check-out bei „Hotel Neris“ ist am 17.03.2031, nach Ihrer Abreise am "
        "16.03.2031.")
    early = run_rule("accommodation_cover", CTX, changed("hotel", start_on=d(2, 28), days=3))
    assert found(early) == [("stay_outside_trip", "hotel", True)]
    assert render(early[0].message, "de") == (
        "„Hotel Neris“ beginnt am 28.02.2031, also vor Ihrer Ankunft am 01.03.2031.")


def test_a_residential_rehabilitation_counts_as_accommodation():
    residential = [
        i for i in changed("rehab", duration_unit=NIGHTS) if i.key != "hotel#2"
    ] + [item("hotel#2", ChainLink.ACCOMMODATION, d(3, 5), 1, duration_unit=NIGHTS)]
    assert run_rule("accommodation_cover", CTX, residential) == []


def test_a_day_trip_needs_no_accommodation():
    ctx = replace(CTX, departure_on=ARRIVAL)
    consult = item("consult", ChainLink.CONSULTATION, ARRIVAL)
    assert run_rule("accommodation_cover", ctx, [consult]) == []


# --- consultation_before_treatment --------------------------------------------------------


def test_treatment_needs_a_consultation_first(render):
    missing = run_rule("consultation_before_treatment", CTX, without("consult"))
    assert found(missing) == [("consultation_missing", "surgery", True)]
    assert render(missing[0].message) == (
        "Knee replacement needs a consultation or diagnostics first; please add one.")
    assert render(missing[0].message, "de") == (
        "Vor „Knee replacement“ ist eine Konsultation oder Diagnostik nötig; bitte fügen "
        "Sie eine hinzu.")
    late = run_rule("consultation_before_treatment", CTX, changed("consult", start_on=d(3, 3)))
    assert found(late) == [("consultation_after_treatment", "surgery", True)]
    assert render(late[0].message) == (
        "Knee replacement on Mar 3, 2031 needs a consultation or diagnostics on an "
        "earlier day.")
    assert render(late[0].message, "de") == (
        "„Knee replacement“ am 03.03.2031 erfordert eine Konsultation oder Diagnostik an "
        "einem früheren Tag.")


def test_diagnostics_count_and_some_treatments_need_none():
    scan = item("scan", ChainLink.DIAGNOSTICS, d(3, 2), title="MRI scan")
    assert run_rule("consultation_before_treatment", CTX, [*without("consult"), scan]) == []
    no_need = [replace(i, requires_consultation=False) for i in without("consult")]
    assert run_rule("consultation_before_treatment", CTX, no_need) == []


# --- rehabilitation_after_treatment -------------------------------------------------------


def test_rehabilitation_waits_for_its_gap_after_treatment(render):
    early = run_rule("rehabilitation_after_treatment", CTX, changed("rehab", start_on=d(3, 5)))
    assert found(early) == [("rehabilitation_too_early", "rehab", True)]
    assert render(early[0].message) == (
        "Sanatorium rehabilitation starts on Mar 5, 2031, too soon after Knee replacement; "
        "it can start on Mar 6, 2031 at the earliest.")
    assert render(early[0].message, "de") == (
        "„Sanatorium rehabilitation“ beginnt am 05.03.2031, zu früh nach „Knee "
        "replacement“; frühestmöglicher Beginn ist der 06.03.2031.")
    before = run_rule("rehabilitation_after_treatment", CTX,
                      changed("rehab", start_on=d(3, 1)))
    assert found(before) == [("rehabilitation_before_treatment", "rehab", True)]
    assert render(before[0].message, "de") == (
        "„Sanatorium rehabilitation“ beginnt am 01.03.2031, also vor „Knee replacement“; "
        "die Rehabilitation folgt auf die Behandlung.")


def test_rehabilitation_without_treatment_is_fine():
    alone = [replace(i, start_on=d(3, 2)) if i.key == "rehab" else i
             for i in without("surgery")]
    assert run_rule("rehabilitation_after_treatment", CTX, alone) == []


def test_rehabilitation_follows_the_latest_earlier_treatment():
    second = item("dental", ChainLink.TREATMENT, d(3, 5), title="Dental implant")
    # The dental treatment on Mar 5 is the latest before the rehabilitation (Mar 6).
    violations = run_rule("rehabilitation_after_treatment", CTX, [*GOOD, second])
    assert found(violations) == [("rehabilitation_too_early", "rehab", True)]


# --- no_leisure_in_recovery ---------------------------------------------------------------


def test_no_excursion_while_recovering(render):
    last = run_rule("no_leisure_in_recovery", CTX, changed("excursion", start_on=d(3, 9)))
    assert found(last) == [("leisure_in_recovery", "excursion", True)]
    assert render(last[0].message) == (
        "Trakai castle excursion on Mar 9, 2031 falls in your recovery time after Knee "
        "replacement; please choose a day on or after Mar 10, 2031.")
    assert render(last[0].message, "de") == (
        "„Trakai castle excursion“ am 09.03.2031 fällt in Ihre Erholungszeit nach „Knee "
        "replacement“; bitte wählen Sie einen Tag ab dem 10.03.2031.")
    on_surgery = run_rule("no_leisure_in_recovery", CTX,
                          changed("excursion", start_on=d(3, 3)))
    assert found(on_surgery) == [("leisure_in_recovery", "excursion", True)]


def test_excursions_before_the_treatment_or_after_recovery_are_fine():
    for day in (d(3, 2), d(3, 10), d(3, 15)):
        assert run_rule("no_leisure_in_recovery", CTX,
                        changed("excursion", start_on=day)) == [], day


# --- fit_to_fly ---------------------------------------------------------------------------


def test_no_flight_before_fit_to_fly(render):
    ctx = replace(CTX, departure_on=d(3, 6))
    violations = run_rule("fit_to_fly", ctx, GOOD)
    assert found(violations) == [("fit_to_fly", "surgery", True)]
    assert render(violations[0].message) == (
        "After Knee replacement you should not fly before Mar 7, 2031; please plan your "
        "departure on or after that day.")
    assert render(violations[0].message, "de") == (
        "Nach „Knee replacement“ sollten Sie nicht vor dem 07.03.2031 fliegen; bitte "
        "planen Sie Ihre Abreise für diesen Tag oder später.")
    assert run_rule("fit_to_fly", replace(CTX, departure_on=d(3, 7)), GOOD) == []
    assert run_rule("fit_to_fly", replace(CTX, departure_on=None), GOOD) == []


# --- lead_time ----------------------------------------------------------------------------


def test_nothing_starts_in_the_past_or_before_its_lead_time(render):
    ctx = replace(CTX, today=d(3, 3))
    past = run_rule("lead_time", ctx, GOOD)
    assert found(past) == [("starts_in_past", "transfer", True),
                           ("starts_in_past", "hotel", True),
                           ("starts_in_past", "consult", True)]
    assert render(past[0].message) == (
        "Airport transfer starts on Mar 1, 2031, which has already passed.")
    assert render(past[0].message, "de") == (
        "„Airport transfer“ beginnt am 01.03.2031, und dieser Tag ist bereits vergangen.")
    slow = run_rule("lead_time", CTX, changed("surgery", lead_time_days=70))
    assert found(slow) == [("lead_time", "surgery", True)]
    assert render(slow[0].message) == (
        "Knee replacement cannot start before Mar 12, 2031: the provider needs time to "
        "prepare it.")
    assert render(slow[0].message, "fr") == (
        "La prestation «\u00a0Knee replacement\u00a0» ne peut pas commencer avant le "
        "12 mars 2031\u00a0: le prestataire a besoin de temps pour la préparer.")
    assert run_rule("lead_time", CTX, changed("surgery", lead_time_days=61)) == []


# --- quantity_limits ----------------------------------------------------------------------


def test_quantity_within_the_offer_limits(render):
    small = run_rule("quantity_limits", CTX, changed("hotel", quantity=1, min_quantity=2))
    assert found(small) == [("quantity_too_small", "hotel", True)]
    assert render(small[0].message) == "Hotel Neris needs a quantity of at least 2."
    assert render(small[0].message, "de") == (
        "„Hotel Neris“ muss mindestens in einer Menge von 2 gebucht werden.")
    large = run_rule("quantity_limits", CTX, changed("transfer", quantity=5, max_quantity=4))
    assert found(large) == [("quantity_too_large", "transfer", True)]
    assert render(large[0].message) == "Airport transfer allows a quantity of at most 4."
    assert render(large[0].message, "de") == (
        "„Airport transfer“ kann höchstens in einer Menge von 4 gebucht werden.")
    assert run_rule("quantity_limits", CTX,
                    changed("transfer", quantity=4, max_quantity=4)) == []


# --- childcare_needs_children -------------------------------------------------------------


def test_childcare_only_with_children(render):
    nanny = item("nanny", ChainLink.CHILDCARE, d(3, 3), title="Babysitting")
    violations = run_rule("childcare_needs_children", CTX, [*GOOD, nanny])
    assert found(violations) == [("childcare_without_children", "nanny", True)]
    assert render(violations[0].message) == (
        "Babysitting is childcare, but no children are travelling with you.")
    assert render(violations[0].message, "de") == (
        "„Babysitting“ ist eine Kinderbetreuung, aber mit Ihnen reisen keine Kinder.")
    assert run_rule("childcare_needs_children", replace(CTX, children=2), [*GOOD, nanny]) == []


# --- visa_needed --------------------------------------------------------------------------


def test_a_visa_is_suggested_not_required(render):
    violations = check_plan(CTX, without("visa"))
    assert found(violations) == [("visa_suggested", None, False)]
    assert blocking(violations) == []
    assert render(violations[0].message) == (
        "You may need a visa for this trip; consider adding visa support to your package.")
    assert render(violations[0].message, "de") == (
        "Für diese Reise benötigen Sie möglicherweise ein Visum; erwägen Sie, "
        "Visumunterstützung zu Ihrem Paket hinzuzufügen.")
    assert render(violations[0].message, "ar") == (
        "قد تحتاجون إلى تأشيرة لهذه الرحلة؛ ننصحكم بإضافة المساعدة في الحصول على "
        "التأشيرة إلى باقتكم.")


def test_no_visa_suggestion_for_visa_free_or_unknown_nationality():
    for nationality in ("LT", None):
        ctx = replace(CTX, nationality=nationality)
        assert run_rule("visa_needed", ctx, without("visa")) == [], nationality


# --- within_trip --------------------------------------------------------------------------


def test_items_lie_within_the_trip(render):
    early = run_rule("within_trip", CTX, changed("consult", start_on=d(2, 27)))
    assert found(early) == [("outside_trip", "consult", True)]
    assert render(early[0].message) == (
        "Orthopaedic consultation starts on Feb 27, 2031, before your arrival on "
        "Mar 1, 2031.")
    assert render(early[0].message, "de") == (
        "„Orthopaedic consultation“ beginnt am 27.02.2031, also vor Ihrer Ankunft am "
        "01.03.2031.")
    late = run_rule("within_trip", CTX, changed("excursion", start_on=d(3, 16), days=2))
    assert found(late) == [("outside_trip", "excursion", True)]
    assert render(late[0].message) == (
        "Trakai castle excursion lasts until Mar 17, 2031, after your departure on "
        "Mar 16, 2031.")
    assert render(late[0].message, "de") == (
        "„Trakai castle excursion“ dauert bis zum 17.03.2031, also über Ihre Abreise am "
        "16.03.2031 hinaus.")


def test_travel_visa_insurance_and_later_aftercare_may_lie_outside():
    extra = [
        item("flight", ChainLink.TRAVEL, d(2, 28), 2),
        item("insurance", ChainLink.INSURANCE, d(2, 1), 90),
        item("aftercare", ChainLink.AFTERCARE, d(4, 15), title="Video follow-up"),
    ]
    assert run_rule("within_trip", CTX, [*GOOD, *extra]) == []
    before = item("aftercare", ChainLink.AFTERCARE, d(2, 15))
    assert found(run_rule("within_trip", CTX, [*GOOD, before])) == [
        ("outside_trip", "aftercare", True)]


# --- how messages render ------------------------------------------------------------------


def test_an_untitled_item_is_named_by_its_link_in_the_readers_language(render):
    untitled = changed("surgery", title="")
    violations = run_rule("fit_to_fly", replace(CTX, departure_on=d(3, 5)), untitled)
    assert render(violations[0].message, "de").startswith("Nach „Behandlung / Operation“")
    assert render(violations[0].message, "en").startswith("After Treatment / surgery ")


def test_messages_render_outside_a_request_with_iso_dates():
    violations = run_rule("fit_to_fly", replace(CTX, departure_on=d(3, 5)), GOOD)
    assert str(violations[0].message) == (
        "After Knee replacement you should not fly before 2031-03-07; please plan your "
        "departure on or after that day.")


def test_rules_are_pure_and_take_any_iterable():
    before = list(GOOD)
    assert check_plan(CTX, tuple(GOOD)) == []
    assert before == GOOD
