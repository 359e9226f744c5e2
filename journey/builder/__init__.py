"""The journey and package builder: templates, journeys, composition rules, planner,
quotes. Calls ``bookings`` for availability and ``providers`` for the catalogue."""
