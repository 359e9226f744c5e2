"""The journey builder's reasons: why a journey moved. Registered by ``create_app``
(:func:`journey.core.reasons.register_reasons`); a code is never renamed once stored."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

JOURNEY_REASONS = {
    "opened": _l("Opened"),
    "opened_by_member": _l("Opened by a member for the patient"),
    "trip_changed": _l("The trip details changed"),
    "item_added": _l("An item was added"),
    "item_changed": _l("An item was changed"),
    "item_removed": _l("An item was removed"),
    "template_applied": _l("A package was applied"),
    "dates_planned": _l("The dates were planned"),
    "quoted": _l("Quote version %(version)s"),
    "quote_accepted": _l("Quote version %(version)s accepted"),
    "booking_followed": _l("Follows booking %(booking)s"),
    "trip_progressed": _l("The trip's dates have come"),
}
