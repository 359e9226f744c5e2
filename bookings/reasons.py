"""The booking engine's reasons: why a booking, line, payment, refund or payout moved.
Registered by ``create_app`` (:func:`journey.core.reasons.register_reasons`); a code is
never renamed once stored."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

BOOKING_REASONS = {
    # checkout and payments
    "checkout_started": _l("Checkout started, the units are held"),
    "holds_renewed": _l("The held units were renewed"),
    "payment_replaced": _l("Replaced by a new payment attempt"),
    "payment_refused": _l("The payment was refused"),
    "stripe_unanswered": _l("Stripe did not answer; the same payment will be tried again"),
    "card_authorised": _l("The card was authorised"),
    "not_authorised": _l("The card was not authorised"),
    "not_paid_in_time": _l("Not paid before the held units expired"),
    "not_authorised_in_time": _l("The card was not authorised in time"),
    "sold_out_before_authorisation": _l("Sold out before the card was authorised"),
    "nothing_to_capture": _l("Nothing to capture"),
    "capture_failed": _l("The capture failed; it will be tried again"),
    "authorisation_released": _l("The card authorisation was released"),
    "late_authorisation_released": _l(
        "Stripe answered after the payment had ended; its authorisation was released"),
    "late_authorisation_kept": _l(
        "Stripe answered after the payment had ended and could not release its "
        "authorisation now; it lapses at Stripe on its own"),
    "authorisation_released_ended": _l(
        "The card authorisation was released: the booking has ended"),
    "balance_requested": _l("The balance was requested"),
    "balance_sent": _l("The balance payment was sent to Stripe"),
    "balance_replaced": _l("Replaced by a request for the current balance"),
    "balance_due": _l("The balance was due on %(due_on)s"),
    "amount_owed_changed": _l("The amount owed changed"),
    # members' answers
    "instant_confirmation": _l("Confirmed at once (instant booking)"),
    "waiting_for_member": _l("Waiting for the member's answer"),
    "member_accepted": _l("Accepted by the member"),
    "member_declined": _l("Declined by the member"),
    "no_answer": _l("No answer by %(deadline_at)s"),
    "declined_line_dropped": _l("Declined by the member; the patient went on without it"),
    "all_declined": _l("Every item was declined"),
    "patient_decides": _l("A member declined; the patient decides"),
    "all_confirmed": _l("Every item confirmed, the deposit captured"),
    "patient_went_on": _l("The patient goes on with the confirmed items"),
    "declined_line_gone": _l("The declined item is gone"),
    # cancellations, refunds, payouts
    "cancelled_by_member": _l("Cancelled by the member"),
    "cancelled_fee_kept": _l("Cancelled, %(kept_minor)s kept under the terms"),
    "refund_planned": _l("%(amount_minor)s to refund from payment %(payment)s"),
    "refund_refused": _l("Stripe refused the refund"),
    "refund_to_retry": _l("Stripe did not answer; the refund will be tried again"),
    "refund_done": _l("Refunded"),
    "payout_failed": _l("The payout failed"),
    "payout_paid": _l("Paid out"),
}
