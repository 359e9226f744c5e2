"""Every title the pages give a state or a kind, in one place.

The catalogue's and the journey's own enums keep their titles beside their models (the
API uses them too); they are re-exported here so that a page imports every title from
this module. The booking engine's states have no titles of their own: each reader gets
the words that suit them, the patient (``PATIENT_*``), a member's staff (``MEMBER_*``)
and the cluster's coordinators and admins (the plain names).

:data:`TEMPLATE_TITLES` is what every template may use (see ``journey.pages.layout``),
by the lower-case names of the mappings here.
"""

from __future__ import annotations

from babel.numbers import format_decimal
from flask_babel import get_locale, get_translations
from flask_babel import lazy_gettext as _l

from bookings.models import (
    BookingStatus,
    EscalationKind,
    LineStatus,
    PaymentStatus,
    PayoutStatus,
    ReceivableStatus,
    RefundStatus,
)
from journey.aftercare.models import FOLLOW_UP_STATE_TITLES, WELLBEING_TITLES
from journey.aftercare.services.schedules import takes_aftercare
from journey.builder.models import JOURNEY_STATUS_TITLES
from journey.case.models import REVIEW_STATUS_TITLES, AccessAction, ConsentScope
from journey.trip.models import (
    TASK_KIND_TITLES,
    TASK_STATUS_TITLES,
    TRAVEL_MODE_TITLES,
    TaskStatus,
)
from providers.models import (
    CHAIN_LINK_TITLES,
    DOCUMENT_KIND_TITLES,
    DURATION_UNIT_TITLES,
    MEMBER_KIND_TITLES,
    PRICE_UNIT_TITLES,
    CapacityUnit,
    ConfirmationMode,
    DurationUnit,
    MemberStatus,
    OfferStatus,
)
from providers.procedures import PROCEDURE_TITLES

# --- the catalogue: offers and members ------------------------------------------------

CAPACITY_UNIT_TITLES = {
    CapacityUnit.ROOM: _l("Rooms"),
    CapacityUnit.BED: _l("Beds"),
    CapacityUnit.SURGERY_SLOT: _l("Surgery slots"),
    CapacityUnit.CONSULTATION_SLOT: _l("Consultation slots"),
    CapacityUnit.SEAT: _l("Seats"),
    CapacityUnit.PLACE: _l("Places"),
}
CONFIRMATION_TITLES = {
    ConfirmationMode.INSTANT: _l("Confirmed at once"),
    ConfirmationMode.APPROVAL: _l("The member accepts each request"),
}
OFFER_STATUS_TITLES = {
    OfferStatus.DRAFT: _l("Draft"),
    OfferStatus.PUBLISHED: _l("Published"),
    OfferStatus.ARCHIVED: _l("Archived"),
}
MEMBER_STATUS_TITLES = {
    MemberStatus.PENDING: _l("Waiting for admission"),
    MemberStatus.VERIFIED: _l("Verified"),
    MemberStatus.SUSPENDED: _l("Suspended"),
}

# --- the patient's words ----------------------------------------------------------------

PATIENT_LINE_TITLES = {
    LineStatus.HELD: _l("Held for you"),
    LineStatus.REQUESTED: _l("Waiting for the member's answer"),
    LineStatus.CONFIRMED: _l("Confirmed by the member"),
    LineStatus.DECLINED: _l("Declined by the member"),
    LineStatus.CANCELLED: _l("Cancelled"),
}
PATIENT_BOOKING_TITLES = {
    BookingStatus.PENDING_PAYMENT: _l("Waiting for the card"),
    BookingStatus.AUTHORISED: _l("Card authorised, members asked"),
    BookingStatus.ACTION_REQUIRED: _l("Your action is needed"),
    BookingStatus.CONFIRMED: _l("Confirmed"),
    BookingStatus.CANCELLED: _l("Cancelled"),
    BookingStatus.EXPIRED: _l("Expired unpaid"),
    BookingStatus.FAILED: _l("Payment failed"),
}
PATIENT_PAYMENT_TITLES = {
    PaymentStatus.CREATED: _l("Started"),
    PaymentStatus.REQUIRES_PAYMENT_METHOD: _l("Needs a card"),
    PaymentStatus.REQUIRES_ACTION: _l("Needs your bank's confirmation"),
    PaymentStatus.AUTHORISED: _l("Authorised, not yet charged"),
    PaymentStatus.CAPTURED: _l("Charged"),
    PaymentStatus.FAILED: _l("Failed"),
    PaymentStatus.CANCELLED: _l("Released"),
}
#: How a line of a quote changed from one version to the next.
CHANGE_TITLES = {
    "added": _l("Added"),
    "removed": _l("Removed"),
    "changed": _l("Changed"),
    "same": _l("Unchanged"),
}

#: What the patient agrees to (journey.case.services.consent), as the case page lists it.
CONSENT_SCOPE_TITLES = {
    ConsentScope.HEALTH_DATA: _l("Processing of my health data"),
    ConsentScope.SHARE_WITH_TREATING: _l("Sharing with the members that treat me"),
}
#: What a row of a case's access log says was done ("who has seen my records").
ACCESS_ACTION_TITLES = {
    AccessAction.READ: _l("Read the case"),
    AccessAction.DOWNLOAD: _l("Downloaded a document"),
    AccessAction.CHANGE: _l("Changed the case"),
    AccessAction.EXPORT: _l("Exported the case"),
    AccessAction.ERASE: _l("Erased the case"),
    AccessAction.CONSENT: _l("Consent given or withdrawn"),
}

#: A logistics task as the patient reads it: what is being arranged for them.
PATIENT_TASK_TITLES = {
    TaskStatus.OPEN: _l("Being arranged"),
    TaskStatus.ASSIGNED: _l("Arranged"),
    TaskStatus.DONE: _l("Done"),
    TaskStatus.NO_SHOW: _l("Missed"),
    TaskStatus.CANCELLED: _l("Cancelled"),
}

# --- a member's staff's words -----------------------------------------------------------

MEMBER_LINE_TITLES = {
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
    "discount": _l("Package discount given"),
    "fee": _l("Cancellation fees kept"),
}

RECEIVABLE_TITLES = {
    ReceivableStatus.OPEN: _l("Open"), ReceivableStatus.INVOICED: _l("Invoiced"),
    ReceivableStatus.PAID: _l("Paid"), ReceivableStatus.OVERDUE: _l("Overdue"),
    ReceivableStatus.CANCELLED: _l("Cancelled"),
}

# --- the cluster's words: the coordinator's board -------------------------------------

ESCALATION_TITLES = {
    EscalationKind.MEMBER_DEADLINE: _l("A member missed its deadline"),
    EscalationKind.PAYMENT_FAILED: _l("A payment failed"),
    EscalationKind.BALANCE_UNPAID: _l("The balance is unpaid"),
    EscalationKind.INSURER_UNPAID: _l("An insurer has not paid its share"),
    EscalationKind.LINE_DECLINED: _l("A member declined"),
}
BOOKING_TITLES = {
    BookingStatus.PENDING_PAYMENT: _l("Waiting for the payment"),
    BookingStatus.AUTHORISED: _l("Paid; waiting for the members"),
    BookingStatus.ACTION_REQUIRED: _l("The patient must decide"),
    BookingStatus.CONFIRMED: _l("Confirmed"),
    BookingStatus.CANCELLED: _l("Cancelled"),
    BookingStatus.EXPIRED: _l("Expired"),
    BookingStatus.FAILED: _l("Failed"),
}
LINE_TITLES = {
    LineStatus.HELD: _l("Held"),
    LineStatus.REQUESTED: _l("Waiting for the member"),
    LineStatus.CONFIRMED: _l("Accepted"),
    LineStatus.DECLINED: _l("Declined"),
    LineStatus.CANCELLED: _l("Cancelled"),
}
PAYMENT_TITLES = {
    PaymentStatus.CREATED: _l("Started"),
    PaymentStatus.REQUIRES_PAYMENT_METHOD: _l("Waiting for a card"),
    PaymentStatus.REQUIRES_ACTION: _l("Waiting for the bank's check"),
    PaymentStatus.AUTHORISED: _l("Authorised"),
    PaymentStatus.CAPTURED: _l("Captured"),
    PaymentStatus.FAILED: _l("Failed"),
    PaymentStatus.CANCELLED: _l("Cancelled"),
}
REFUND_TITLES = {RefundStatus.CREATED: _l("To be sent"), RefundStatus.SUCCEEDED: _l("Refunded"),
                 RefundStatus.FAILED: _l("Failed")}
PAYOUT_TITLES = {PayoutStatus.CREATED: _l("To be sent"), PayoutStatus.PAID: _l("Paid out"),
                 PayoutStatus.FAILED: _l("Failed")}
#: What a row of a booking's audit trail is about.
SUBJECT_TITLES = {"booking": _l("Booking"), "line": _l("Line"), "payment": _l("Payment"),
                  "refund": _l("Refund"), "payout": _l("Payout")}
#: The states of each subject of the audit trail.
STATE_TITLES = {"booking": BOOKING_TITLES, "line": LINE_TITLES, "payment": PAYMENT_TITLES,
                "refund": REFUND_TITLES, "payout": PAYOUT_TITLES}
#: Who acted, when it was not a person: Stripe's webhook or one of the scheduled jobs.
SYSTEM_ACTORS = {"stripe": _l("Stripe"), "system": _l("the system"),
                 "job": _l("the scheduled jobs")}


def actor_title(label: str) -> str:
    """``stripe``, ``system`` or ``job:<name>`` as the reader's language names them."""
    title = SYSTEM_ACTORS.get(label.partition(":")[0])
    return str(title) if title is not None else label


def state_title(subject: str, value: str | None) -> str:
    """A booking's, line's, payment's, refund's or payout's state as the audit trail
    names it, translated where the board knows it."""
    if not value:
        return "—"
    for state, title in STATE_TITLES.get(subject, {}).items():
        if state.value == value:
            return str(title)
    return value


def duration_text(value: int, unit) -> str:
    """An offer's duration with the plural form the reader's language needs for
    ``value`` ("1 night", "3 nights"; Lithuanian and Arabic have more forms)."""
    translations = get_translations()
    if unit == DurationUnit.NIGHTS:
        text = translations.ngettext("%(num)s night", "%(num)s nights", value)
    elif unit == DurationUnit.SESSIONS:
        text = translations.ngettext("%(num)s session", "%(num)s sessions", value)
    else:
        text = translations.ngettext("%(num)s day", "%(num)s days", value)
    # The number as the reader's locale writes it ("1.000" in German).
    return text % {"num": format_decimal(value, locale=str(get_locale() or "en"))}


#: What every template may use: each mapping by its name in lower case, and the
#: functions of the audit trail and of durations.
TEMPLATE_TITLES = {
    "chain_link_titles": CHAIN_LINK_TITLES,
    "procedure_titles": PROCEDURE_TITLES,
    "member_kind_titles": MEMBER_KIND_TITLES,
    "price_unit_titles": PRICE_UNIT_TITLES,
    "duration_unit_titles": DURATION_UNIT_TITLES,
    "journey_status_titles": JOURNEY_STATUS_TITLES,
    "review_status_titles": REVIEW_STATUS_TITLES,
    "consent_scope_titles": CONSENT_SCOPE_TITLES,
    "access_action_titles": ACCESS_ACTION_TITLES,
    "document_kind_titles": DOCUMENT_KIND_TITLES,
    "capacity_unit_titles": CAPACITY_UNIT_TITLES,
    "confirmation_titles": CONFIRMATION_TITLES,
    "offer_status_titles": OFFER_STATUS_TITLES,
    "member_status_titles": MEMBER_STATUS_TITLES,
    "patient_line_titles": PATIENT_LINE_TITLES,
    "patient_task_titles": PATIENT_TASK_TITLES,
    "task_kind_titles": TASK_KIND_TITLES,
    "task_status_titles": TASK_STATUS_TITLES,
    "travel_mode_titles": TRAVEL_MODE_TITLES,
    "wellbeing_titles": WELLBEING_TITLES,
    "follow_up_state_titles": FOLLOW_UP_STATE_TITLES,
    "patient_booking_titles": PATIENT_BOOKING_TITLES,
    "patient_payment_titles": PATIENT_PAYMENT_TITLES,
    "change_titles": CHANGE_TITLES,
    "member_line_titles": MEMBER_LINE_TITLES,
    "ledger_kind_titles": LEDGER_KIND_TITLES,
    "escalation_titles": ESCALATION_TITLES,
    "booking_titles": BOOKING_TITLES,
    "line_titles": LINE_TITLES,
    "payment_titles": PAYMENT_TITLES,
    "refund_titles": REFUND_TITLES,
    "payout_titles": PAYOUT_TITLES,
    "receivable_titles": RECEIVABLE_TITLES,
    "subject_titles": SUBJECT_TITLES,
    "state_titles": STATE_TITLES,
    "state_title": state_title,
    "actor_title": actor_title,
    "duration_text": duration_text,
    "takes_aftercare": takes_aftercare,
}
