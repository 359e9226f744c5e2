"""Insurers as payers (issue 13, item 2): coverage products, policies on journeys,
guarantees of payment, and the insurer's share of a booking as a receivable.

See :mod:`journey.insurance.services.coverage` for the money rules and
:mod:`journey.insurance.services.guarantees` for who decides what."""
