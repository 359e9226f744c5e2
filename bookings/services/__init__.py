"""The booking engine's domain logic: availability and holds, the checkout and the saga
after it, member answers, cancellations and refunds, the balance, settlement, escalations,
amounts, who may see what, the audit trail and the state machines. Services flush; the
request edge commits (see :func:`journey.core.persistence.commit_unit` for the rest)."""
