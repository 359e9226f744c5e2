"""The follow-up schedule of a treating offer: the member's own, or the default.

Offsets (one rule, here):

- ``after_treatment``: ``offset`` days after the treatment's *last day* (a booking
  line's ``end_on`` is exclusive, so its last day is ``end_on - 1``), at
  :data:`CHECK_HOUR` on the clock of the treating member;
- ``before_departure``: ``offset`` hours before the journey's departure leg (the flight
  or train home); without a departure leg, the day after the treatment's last day at
  :data:`CHECK_HOUR` (as ``after_treatment`` with offset 1).

The default (code, not rows) applies to treatment and consultation offers that have no
schedule of their own; a consultation whose member also treats the patient on the same
journey gets no default follow-ups of its own (the treatment's cover the patient).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from journey.aftercare.models import AftercareSchedule, AftercareStep, StepKind
from journey.core.accounts.permissions import require_member_access
from journey.core.errors import InvalidInput
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.core.validation import at_most
from providers.models import ChainLink, Offer
from providers.services.case_requirements import TREATMENT_SIDE
from providers.services.offers import get_offer_for_change

#: The local hour at which a check after the treatment is due.
CHECK_HOUR = 10
MAX_STEPS = 10
#: (lowest, highest) offset per kind: hours before the departure, days after.
OFFSET_RANGE = {StepKind.BEFORE_DEPARTURE: (1, 72), StepKind.AFTER_TREATMENT: (1, 730)}
#: The links whose offers get the default schedule when they have none.
DEFAULT_LINKS = frozenset({ChainLink.TREATMENT, ChainLink.CONSULTATION})


@dataclass(frozen=True)
class Step:
    kind: StepKind
    offset: int
    photo: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.offset}"


DEFAULT_STEPS = (
    Step(StepKind.BEFORE_DEPARTURE, 24),
    Step(StepKind.AFTER_TREATMENT, 7, photo=True),
    Step(StepKind.AFTER_TREATMENT, 28),
    Step(StepKind.AFTER_TREATMENT, 90),
    Step(StepKind.AFTER_TREATMENT, 365),
)


def step_label(kind: StepKind | str, offset: int) -> str:
    """What a step is called, in the reader's language: "Before the flight home",
    "1 week after the treatment", "3 months after the treatment"."""
    kind = StepKind(kind)
    if kind == StepKind.BEFORE_DEPARTURE:
        return str(_l("Before the flight home"))
    if offset % 365 == 0:
        years = offset // 365
        if years == 1:
            return str(_l("12 months after the treatment"))
        return ngettext("%(num)d year after the treatment", "%(num)d years after the treatment",
                        years)
    if offset % 30 == 0 and offset >= 60:
        return ngettext("%(num)d month after the treatment",
                        "%(num)d months after the treatment", offset // 30)
    if offset % 7 == 0:
        return ngettext("%(num)d week after the treatment", "%(num)d weeks after the treatment",
                        offset // 7)
    return ngettext("%(num)d day after the treatment", "%(num)d days after the treatment",
                    offset)


def schedule_row(offer_id: int) -> AftercareSchedule | None:
    return db.session.scalar(select(AftercareSchedule).where(
        AftercareSchedule.offer_id == offer_id))


def offer_steps(offer: Offer) -> tuple[list[Step], bool]:
    """(the steps of ``offer``, whether they are the default)."""
    row = schedule_row(offer.id)
    if row is not None:
        return [Step(s.kind, s.offset, s.photo) for s in row.steps], False
    if offer.chain_link in DEFAULT_LINKS:
        return list(DEFAULT_STEPS), True
    return [], True


def local_at(day: date, hour: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


def due_at(step: Step, *, start_on: date, end_on: date, zone: str,
           departure: datetime | None) -> datetime:
    """When ``step`` is due for a line from ``start_on`` to ``end_on`` (exclusive) of a
    member in ``zone``; ``departure`` is the moment of the departure leg, if any."""
    last_day = max(start_on, end_on - timedelta(days=1))
    if step.kind == StepKind.BEFORE_DEPARTURE:
        if departure is not None and departure > local_at(start_on, 0, zone):
            return departure - timedelta(hours=step.offset)
        return local_at(last_day + timedelta(days=1), CHECK_HOUR, zone)
    return local_at(last_day + timedelta(days=step.offset), CHECK_HOUR, zone)


# --- the member edits it ---------------------------------------------------------------------

def read_schedule(actor, offer_id: int) -> tuple[Offer, list[Step], bool]:
    """The schedule of an offer of the actor's member (or any, for the cluster)."""
    offer = get_offer_for_change(actor, offer_id)
    steps, default = offer_steps(offer)
    return offer, steps, default


def clean_steps(steps: list[dict]) -> list[Step]:
    """The steps as stored, or :class:`InvalidInput` with a message per step."""
    if len(steps) > MAX_STEPS:
        raise InvalidInput(fields={"steps": [at_most(MAX_STEPS, "steps")]})
    cleaned, errors, seen = [], {}, set()
    for index, raw in enumerate(steps):
        try:
            kind = StepKind(raw.get("kind"))
        except ValueError:
            errors[str(index)] = [_l("Before the flight home, or after the treatment.")]
            continue
        offset = raw.get("offset")
        low, high = OFFSET_RANGE[kind]
        if isinstance(offset, bool) or not isinstance(offset, int) or not low <= offset <= high:
            errors[str(index)] = [
                _l("Between %(low)s and %(high)s hours before the departure.", low=low,
                   high=high) if kind == StepKind.BEFORE_DEPARTURE else
                _l("Between %(low)s and %(high)s days after the treatment.", low=low,
                   high=high)]
            continue
        step = Step(kind, offset, bool(raw.get("photo", False)))
        if step.key in seen:
            errors[str(index)] = [_l("The same check twice.")]
            continue
        seen.add(step.key)
        cleaned.append(step)
    if errors:
        raise InvalidInput(fields={"steps": errors})
    return sorted(cleaned, key=_order)


def _order(step: Step) -> tuple[int, int]:
    return (0, -step.offset) if step.kind == StepKind.BEFORE_DEPARTURE else (1, step.offset)


def takes_aftercare(offer) -> bool:
    """Whether ``offer`` can have follow-ups: consultations, diagnostics, treatments and
    rehabilitation (a hotel room or a transfer has none)."""
    return offer.chain_link in TREATMENT_SIDE


def set_schedule(actor, offer_id: int, steps: list[dict], *,
                 now: datetime | None = None) -> tuple[Offer, list[Step], bool]:
    """The member's manager sets the schedule of a treating offer (an empty list: no
    follow-ups). Follow-ups not sent yet follow at the next planning."""
    offer = get_offer_for_change(actor, offer_id)
    require_member_access(actor, offer.provider_id, manager=True)
    if not takes_aftercare(offer):
        raise InvalidInput(fields={"steps": [_l(
            "Aftercare follow-ups are for consultations, diagnostics, treatments and "
            "rehabilitation.")]})
    cleaned = clean_steps(steps)
    row = schedule_row(offer.id)
    if row is None:
        row = AftercareSchedule(offer_id=offer.id)
        db.session.add(row)
    row.steps.clear()
    db.session.flush()  # the old positions go before the new ones take them
    row.steps.extend(AftercareStep(position=i, kind=s.kind, offset=s.offset, photo=s.photo)
                     for i, s in enumerate(cleaned))
    row.updated_at, row.updated_by_id = now or utcnow(), actor.id
    db.session.flush()
    return offer, cleaned, False


def reset_schedule(actor, offer_id: int) -> tuple[Offer, list[Step], bool]:
    """Back to the default schedule (the manager)."""
    offer = get_offer_for_change(actor, offer_id)
    require_member_access(actor, offer.provider_id, manager=True)
    row = schedule_row(offer.id)
    if row is not None:
        db.session.delete(row)
        db.session.flush()
    steps, default = offer_steps(offer)
    return offer, steps, default
