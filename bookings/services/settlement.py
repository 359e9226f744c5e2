"""Settlement: what each member is owed for each booking, and its payouts.

The ledger is the truth. When a booking is confirmed each line posts, from its
member's side: the gross (the line's value), the cluster's commission on it (rate per
chain link, a cluster setting), and for a line another member bears, that bearer's
debt. A cancellation posts reversals and the fee the member keeps. Entries are never
changed, and each names its fact (``line:7:gross``) so it cannot be posted twice.
Payouts are Stripe Connect transfers of what a member's lines earned, once their
service is over (plus the cluster's delay) and only of the money received for them;
a refund later is taken back by a transfer reversal (:func:`settle_booking`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from bookings.models import (
    Booking,
    BookingLine,
    BookingStatus,
    CommissionRate,
    InsurerReceivable,
    LedgerEntry,
    LineStatus,
    Payout,
    PayoutKind,
    PayoutStatus,
    ReceivableStatus,
)
from bookings.payments import GatewayError
from bookings.services.access import actor_ref, lock_booking
from bookings.services.audit import ledger_posted, move, record
from journey.core.accounts.permissions import require_admin, require_member_access
from journey.core.errors import Conflict, DomainError, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.money import convert_minor, percent_of
from journey.core.persistence import commit_unit, insert_once
from journey.core.reasons import why
from journey.core.types import today_in, utcnow
from providers.models import ChainLink, Provider
from providers.services.rates import rates_in_force, require_rate

# --- commission rates -----------------------------------------------------------------

def commission_rates() -> dict[str, Decimal]:
    """Every chain link's commission percent (0 where none is set)."""
    rates = {link.value: Decimal(0) for link in ChainLink}
    rates.update({row.chain_link: row.percent for row in db.session.scalars(
        select(CommissionRate))})
    return rates


PERCENT_RULE = _l("Give a percentage from 0 to 100 with at most two decimals.")


def is_percent(value: Decimal) -> bool:
    """A commission rate: 0 to 100 with at most two decimals."""
    return Decimal(0) <= value <= Decimal(100) and value == value.quantize(Decimal("0.01"))


def set_commission_rate(actor, chain_link: str, percent: Decimal) -> CommissionRate:
    require_admin(actor)
    try:
        link = ChainLink(chain_link)
    except ValueError:
        raise NotFound(_l("No such chain link.")) from None
    percent = Decimal(percent)
    if not is_percent(percent):
        raise InvalidInput(fields={"percent": [PERCENT_RULE]})
    row = db.session.get(CommissionRate, link.value)
    if row is None:
        row = CommissionRate(chain_link=link.value, percent=percent)
        db.session.add(row)
    row.percent = percent
    db.session.flush()
    return row


# --- postings ---------------------------------------------------------------------------

def _post(booking: Booking, line: BookingLine | None, provider_id: int, kind: str,
          amount: int, posting: str, now: datetime) -> None:
    if amount == 0:
        return
    entry = LedgerEntry(posting=posting, booking_id=booking.id,
                        line_id=line.id if line is not None else None,
                        provider_id=provider_id, kind=kind, amount_minor=amount,
                        currency=booking.currency, at=now)
    if insert_once(entry, unique="posting") is None:
        return  # posted before, or by a concurrent step: the same fact
    ledger_posted.send(booking, entry=entry, line=line)


def _rate(line: BookingLine, rates: dict[str, Decimal]) -> Decimal:
    return rates.get(line.chain_link or "", Decimal(0))


def discount_funded(line: BookingLine) -> int:
    """The package discount the line's member gives on it: its value less what the
    patient and the insurer pay for it (a borne line's value is its bearer's to pay,
    not a discount)."""
    if line.borne_by_provider_id is not None:
        return 0
    return max(0, line.value_minor - line.amount_minor - line.covered_minor)


def post_confirmed_lines(booking: Booking, *, now: datetime) -> None:
    rates = commission_rates()
    for line in booking.lines:
        if line.status != LineStatus.CONFIRMED:
            continue
        key = f"line:{line.id}"
        funded = discount_funded(line)
        _post(booking, line, line.provider_id, "gross", line.value_minor, f"{key}:gross", now)
        _post(booking, line, line.provider_id, "discount", -funded, f"{key}:discount", now)
        _post(booking, line, line.provider_id, "commission",
              -percent_of(line.value_minor - funded, _rate(line, rates)),
              f"{key}:commission", now)
        if line.borne_by_provider_id is not None:
            _post(booking, line, line.borne_by_provider_id, "borne", -line.value_minor,
                  f"{key}:borne", now)


def post_cancelled_line(booking: Booking, line: BookingLine, *, now: datetime) -> None:
    """Reverse what the line posted and post the fee its member keeps."""
    key = f"line:{line.id}"
    posted = db.session.execute(select(LedgerEntry.posting, LedgerEntry.provider_id,
                                       LedgerEntry.kind, LedgerEntry.amount_minor)
                                .where(LedgerEntry.line_id == line.id)).all()
    for posting, provider_id, kind, amount in posted:
        if posting.endswith(":reversal") or posting.startswith(f"{key}:fee"):
            continue
        _post(booking, line, provider_id, kind, -amount, f"{posting}:reversal", now)
    kept = line.kept_minor + line.covered_kept_minor  # the patient's and insurer's parts
    if posted and kept:
        _post(booking, line, line.provider_id, "fee", kept, f"{key}:fee", now)
        _post(booking, line, line.provider_id, "commission",
              -percent_of(kept, _rate(line, commission_rates())),
              f"{key}:fee:commission", now)


# --- the member's statement ----------------------------------------------------------------

@dataclass
class StatementRow:
    booking_id: int
    reference: str
    currency: str
    start_on: object
    by_kind: dict[str, int] = field(default_factory=dict)
    net_minor: int = 0
    paid_out_minor: int = 0

    @property
    def due_minor(self) -> int:
        return self.net_minor - self.paid_out_minor


@dataclass
class Statement:
    provider_id: int
    rows: list[StatementRow]
    totals: dict[str, dict[str, int]]  # currency -> gross/commission/borne/fee/net/paid/due
    #: The member's own currency, and net/paid_out/due of every currency converted into
    #: it at today's rates (an indication: each booking is settled in its own currency).
    currency: str = "EUR"
    in_own_currency: dict[str, int] = field(default_factory=dict)


def member_statement(actor, provider_id: int, *, start=None, end=None) -> Statement:
    """Per booking: gross, commission, borne lines, fees kept, net, paid out, due."""
    require_member_access(actor, provider_id)
    if db.session.get(Provider, provider_id) is None:
        raise NotFound(_l("No such member."))
    if start is not None and end is not None and end < start:  # else an empty statement
        raise InvalidInput(fields={"end": [_l("Must not be before the start.")]})
    query = (select(LedgerEntry.booking_id, Booking.reference, Booking.currency,
                    Booking.start_on, LedgerEntry.kind, func.sum(LedgerEntry.amount_minor))
             .join(Booking, Booking.id == LedgerEntry.booking_id)
             .where(LedgerEntry.provider_id == provider_id)
             .group_by(LedgerEntry.booking_id, Booking.reference, Booking.currency,
                       Booking.start_on, LedgerEntry.kind)
             .order_by(LedgerEntry.booking_id))
    if start is not None:
        query = query.where(Booking.start_on >= start)
    if end is not None:
        query = query.where(Booking.start_on <= end)
    rows: dict[int, StatementRow] = {}
    for booking_id, reference, currency, start_on, kind, amount in db.session.execute(query):
        row = rows.setdefault(booking_id, StatementRow(booking_id, reference, currency, start_on))
        row.by_kind[kind] = row.by_kind.get(kind, 0) + int(amount)
        row.net_minor += int(amount)
    paid = db.session.execute(select(Payout.booking_id, Payout.kind, Payout.amount_minor)
                              .where(Payout.provider_id == provider_id,
                                     Payout.status == PayoutStatus.PAID,
                                     Payout.booking_id.in_(list(rows)))).all()
    for booking_id, kind, amount in paid:  # a reversal takes back what was paid
        rows[booking_id].paid_out_minor += amount if kind == PayoutKind.TRANSFER else -amount
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows.values():
        bucket = totals[row.currency]
        for kind, amount in row.by_kind.items():
            bucket[kind] += amount
        bucket["net"] += row.net_minor
        bucket["paid_out"] += row.paid_out_minor
        bucket["due"] += row.due_minor
    provider = db.session.get(Provider, provider_id)
    return Statement(provider_id, list(rows.values()),
                     {cur: dict(values) for cur, values in totals.items()},
                     provider.currency, _in_currency(totals, provider.currency))


def _in_currency(totals, currency: str) -> dict[str, int]:
    """Net, paid out and due of every currency in ``currency`` at today's rates (what
    has no rate is left out rather than guessed)."""
    table = rates_in_force(today_in())
    converted = {"net": 0, "paid_out": 0, "due": 0}
    for source, values in totals.items():
        try:
            rate = require_rate(table, source, currency)
        except DomainError:
            continue
        for name in converted:
            converted[name] += convert_minor(values.get(name, 0), source, currency, rate.rate)
    return converted


def booking_net_by_member(booking_id: int) -> dict[int, int]:
    return {provider_id: int(amount) for provider_id, amount in db.session.execute(
        select(LedgerEntry.provider_id, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.booking_id == booking_id)
        .group_by(LedgerEntry.provider_id))}


# --- payouts ------------------------------------------------------------------------------

def set_payout_account(actor, provider_id: int, account_id: str | None) -> Provider:
    require_admin(actor)
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise NotFound(_l("No such member."))
    if account_id is not None and not (account_id.startswith("acct_") and
                                       6 <= len(account_id) <= 100):
        raise InvalidInput(fields={"stripe_account_id": [
            _l("A Stripe Connect account id starts with acct_.")]})
    provider.stripe_account_id = account_id
    db.session.flush()
    return provider


# --- payouts: only money received, only after the service --------------------------------

#: Postings the payers' money funds (the patient's and an insurer's, paid out in
#: proportion to what was paid, :func:`paid_fraction`); a
#: bearer's debt (``borne``) is the member's own money and counts in full.
PATIENT_FUNDED = ("gross", "discount", "commission", "fee")


def line_settled_on(line: BookingLine, delay_days: int) -> date | None:
    """The day a line's money may go to its member: ``delay_days`` after its last day
    (the service given); at once for a line cancelled with a fee; never for a line
    still to be delivered or that never went through."""
    if line.status == LineStatus.CONFIRMED:
        return line.end_on + timedelta(days=delay_days)
    if line.status == LineStatus.CANCELLED:
        return date.min
    return None


def insurer_owed(booking: Booking) -> int:
    """What the booking's insurer owes for it: the covered shares of its confirmed lines
    and its part of the fees kept on cancelled ones (0 without an insurer)."""
    return sum(line.covered_minor if line.status == LineStatus.CONFIRMED else
               line.covered_kept_minor if line.status == LineStatus.CANCELLED else 0
               for line in booking.lines)


def insurer_received(booking: Booking) -> int:
    """What the insurer's transfers fund of the booking (at most what it owes)."""
    receivable = receivable_of(booking.id)
    return min(receivable.paid_minor, insurer_owed(booking)) if receivable is not None else 0


def receivable_of(booking_id: int) -> InsurerReceivable | None:
    return db.session.scalar(select(InsurerReceivable).where(
        InsurerReceivable.booking_id == booking_id))


def sync_receivable(booking: Booking, *, now: datetime) -> InsurerReceivable | None:
    """After a cancellation: the receivable owes what :func:`insurer_owed` says now;
    paid beyond that, the difference is a credit owed back to the insurer
    (``credit_minor``); owing nothing and having paid nothing, it is cancelled."""
    receivable = receivable_of(booking.id)
    if receivable is None:
        return None
    receivable.amount_minor = insurer_owed(booking)
    if receivable.amount_minor == 0 and receivable.paid_minor == 0:
        receivable.status = ReceivableStatus.CANCELLED
    elif receivable.paid_minor >= receivable.amount_minor:
        receivable.status = ReceivableStatus.PAID
        receivable.paid_at = receivable.paid_at or now
    db.session.flush()
    return receivable


def paid_fraction(booking: Booking) -> Fraction:
    """How much of what the payers owe for the booking is in, at most all of it: the
    patient's captures less refunds and the insurer's transfers recorded (at most what
    it owes) against what both owe. A member is paid that share of what its lines
    earned."""
    owed = sum(line.amount_minor if line.status == LineStatus.CONFIRMED else
               line.kept_minor if line.status == LineStatus.CANCELLED else 0
               for line in booking.lines) + insurer_owed(booking)
    received = sum(p.captured_minor - p.refunded_minor for p in booking.payments) + \
        insurer_received(booking)
    if owed <= 0:
        return Fraction(1)
    return max(Fraction(0), min(Fraction(1), Fraction(received, owed)))


def due_by_member(booking: Booking, *, today: date, delay_days: int) -> dict[int, int]:
    """What each member may be paid for the booking by ``today``: the ledger of its
    lines whose service is over (see :func:`line_settled_on`), the patient-funded part
    in proportion to the money received (rounded down), its debts as bearer in full."""
    ended = {line.id for line in booking.lines
             if (day := line_settled_on(line, delay_days)) is not None and day <= today}
    funded: dict[int, int] = defaultdict(int)
    owed: dict[int, int] = defaultdict(int)
    for entry in db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.booking_id == booking.id)):
        if entry.line_id not in ended:
            continue
        bucket = funded if entry.kind in PATIENT_FUNDED else owed
        bucket[entry.provider_id] += entry.amount_minor
    fraction = paid_fraction(booking)
    members = set(funded) | set(owed)
    return {member: math.floor(funded[member] * fraction) + owed[member]
            for member in members}


def paid_out_by_member(booking_id: int) -> dict[int, int]:
    """What each member has received for the booking: transfers less reversals."""
    paid: dict[int, int] = defaultdict(int)
    for provider_id, kind, amount in db.session.execute(
            select(Payout.provider_id, Payout.kind, Payout.amount_minor).where(
                Payout.booking_id == booking_id, Payout.status == PayoutStatus.PAID)):
        paid[provider_id] += amount if kind == PayoutKind.TRANSFER else -amount
    return dict(paid)


#: Where the delay is read: the cluster's settings, set by its admin (registered by the
#: journey layer when the app starts, see :func:`read_payout_delay_from`); else the
#: ``PAYOUT_DELAY_DAYS`` configuration.
_delay_source: list = []


def read_payout_delay_from(source) -> None:
    """Take the payout delay from ``source()`` (a number of days)."""
    _delay_source[:] = [source]


def payout_delay_days() -> int:
    """Days after a line's last day before its money goes out: time for a complaint or
    a no-show to come to light."""
    if _delay_source:
        return int(_delay_source[0]())
    return int(current_app.config.get("PAYOUT_DELAY_DAYS", 7))


def pay_out(actor, booking_id: int, gateway, *, delay_days: int | None = None,
            now: datetime | None = None) -> list[Payout]:
    """An admin settles one booking now (what the job does for every booking); the
    booking's payouts as they stand after it, those made before included."""
    require_admin(actor)
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(_l("No such booking."))
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.CANCELLED):
        raise Conflict(_l("Only a confirmed booking is paid out."))
    settle_booking(booking_id, gateway, actor=actor_ref(actor),
                   delay_days=payout_delay_days() if delay_days is None else delay_days,
                   now=now)
    return list(db.session.scalars(select(Payout).where(Payout.booking_id == booking_id)
                                   .order_by(Payout.id)))


def settle_booking(booking_id: int, gateway, *, actor: str, delay_days: int,
                   now: datetime | None = None) -> list[Payout]:
    """Bring each member's payouts for the booking to what is due now: a Connect
    transfer of what is due and not yet paid (``transfer_group`` = the booking), or a
    transfer reversal of what was paid and is no longer due (a refund since). The
    payout row is committed before Stripe is called and its id is the idempotency key;
    a failed one is tried again, at what is due then, by the next run. A member without
    an account waits; what it owes as a bearer is netted here, not collected."""
    now = now or utcnow()
    booking = lock_booking(booking_id)  # one payout run of a booking at a time
    if booking is None:
        raise NotFound(_l("No such booking."))
    due = due_by_member(booking, today=now.date(), delay_days=delay_days)
    paid = paid_out_by_member(booking_id)
    payouts = []
    for provider_id in sorted(set(due) | set(paid)):
        difference = max(due.get(provider_id, 0), 0) - paid.get(provider_id, 0)
        if difference == 0:
            continue
        provider = db.session.get(Provider, provider_id)
        kind = PayoutKind.TRANSFER if difference > 0 else PayoutKind.REVERSAL
        if kind == PayoutKind.TRANSFER and not provider.stripe_account_id:
            continue
        payout = db.session.scalar(select(Payout).where(
            Payout.booking_id == booking_id, Payout.provider_id == provider_id,
            Payout.kind == kind, Payout.status.in_((PayoutStatus.CREATED,
                                                   PayoutStatus.FAILED))))
        if payout is not None:  # tried before: again, at what is due now
            payout.amount_minor = abs(difference)
        else:
            payout = Payout(booking_id=booking_id, provider_id=provider_id, kind=kind,
                            amount_minor=abs(difference), currency=booking.currency,
                            status=PayoutStatus.CREATED, created_at=now)
            if kind == PayoutKind.REVERSAL:
                payout.reverses_id = db.session.scalar(select(Payout.id).where(
                    Payout.booking_id == booking_id, Payout.provider_id == provider_id,
                    Payout.kind == PayoutKind.TRANSFER, Payout.status == PayoutStatus.PAID)
                    .order_by(Payout.amount_minor.desc(), Payout.id.desc()).limit(1))
            db.session.add(payout)
            db.session.flush()
            record(booking, "payout", payout.id, None, PayoutStatus.CREATED, actor=actor,
                   now=now)
        payouts.append(payout)
    commit_unit()  # the rows exist before Stripe is called
    lock_booking(booking_id)  # ... and no other run sends or records them meanwhile
    for payout in payouts:
        if payout.status == PayoutStatus.PAID:  # read again under the lock
            continue
        provider = db.session.get(Provider, payout.provider_id)
        try:
            if payout.kind == PayoutKind.TRANSFER:
                payout.transfer_id = gateway.transfer(payout, provider.stripe_account_id)
            else:
                reversed_transfer = db.session.get(Payout, payout.reverses_id)
                payout.transfer_id = gateway.reverse(payout, reversed_transfer.transfer_id)
        except GatewayError as error:
            payout.error = str(error)[:500]
            move(booking, payout, PayoutStatus.FAILED, actor=actor, now=now,
                 reason=why("payout_failed", note=payout.error))
            continue
        payout.error = ""
        move(booking, payout, PayoutStatus.PAID, actor=actor, now=now,
             reason=why("payout_paid", note=payout.transfer_id))
    db.session.flush()
    return payouts


def run_payouts(gateway, *, delay_days: int | None = None, now: datetime | None = None) -> int:
    """The job: settle every booking with a posting, each in its own unit of work; the
    number of transfers and reversals made."""
    now = now or utcnow()
    delay_days = payout_delay_days() if delay_days is None else delay_days
    booking_ids = db.session.scalars(select(LedgerEntry.booking_id).distinct()
                                      .order_by(LedgerEntry.booking_id)).all()
    made = 0
    for booking_id in booking_ids:
        booking = db.session.get(Booking, booking_id)
        due = due_by_member(booking, today=now.date(), delay_days=delay_days)
        if {k: v for k, v in due.items() if v > 0} == {
                k: v for k, v in paid_out_by_member(booking_id).items() if v}:
            continue  # settled already: no lock, no write
        made += sum(p.status == PayoutStatus.PAID for p in settle_booking(
            booking_id, gateway, actor="system", delay_days=delay_days, now=now))
        commit_unit()
    return made
