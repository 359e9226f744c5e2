"""What the booking engine uses of the members' capacity, as the catalogue counts it.

``create_app`` registers these with :func:`providers.services.availability.register_usage_sources`,
so the catalogue subtracts holds and booked lines without importing the booking engine;
availability refuses to run before they are registered.
"""

from __future__ import annotations

from bookings.services.checkout import BookedLineUsage
from bookings.services.holds import HOLD_USAGE

#: Unexpired holds, and lines of live bookings (requested or confirmed).
USAGE_SOURCES = (HOLD_USAGE, BookedLineUsage())
