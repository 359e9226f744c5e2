"""Settlement: what each member is owed for each booking, and its payouts.

The ledger is the truth. When a booking is confirmed each line posts, from its
member's side: the gross (the line's value), the cluster's commission on it (rate per
chain link, a cluster setting), and for a line another member bears, that bearer's
debt. A cancellation posts reversals and the fee the member keeps. Entries are never
changed, and each names its fact (``line:7:gross``) so it cannot be posted twice.
Payouts are Stripe Connect transfers of a booking's net per member.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bookings.models import (
    Booking,
    BookingLine,
    BookingStatus,
    CommissionRate,
    LedgerEntry,
    LineStatus,
    Payout,
    PayoutStatus,
)
from bookings.payments import GatewayError
from bookings.services.access import actor_ref, lock_booking
from bookings.services.audit import move, record
from journey.core.accounts.permissions import require_admin, require_member_access
from journey.core.errors import Conflict, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.money import percent_of
from journey.core.persistence import commit_unit
from journey.core.reasons import why
from journey.core.types import utcnow
from providers.models import ChainLink, Provider

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
    if db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.posting == posting)):
        return
    try:
        with db.session.begin_nested():
            db.session.add(LedgerEntry(
                posting=posting, booking_id=booking.id,
                line_id=line.id if line is not None else None, provider_id=provider_id,
                kind=kind, amount_minor=amount, currency=booking.currency, at=now))
    except IntegrityError:
        pass  # posted by a concurrent step: the same fact


def _rate(line: BookingLine, rates: dict[str, Decimal]) -> Decimal:
    return rates.get(line.chain_link or "", Decimal(0))


def post_confirmed_lines(booking: Booking, *, now: datetime) -> None:
    rates = commission_rates()
    for line in booking.lines:
        if line.status != LineStatus.CONFIRMED:
            continue
        key = f"line:{line.id}"
        _post(booking, line, line.provider_id, "gross", line.value_minor, f"{key}:gross", now)
        _post(booking, line, line.provider_id, "commission",
              -percent_of(line.value_minor, _rate(line, rates)), f"{key}:commission", now)
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
    if posted and line.kept_minor:
        _post(booking, line, line.provider_id, "fee", line.kept_minor, f"{key}:fee", now)
        _post(booking, line, line.provider_id, "commission",
              -percent_of(line.kept_minor, _rate(line, commission_rates())),
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


def member_statement(actor, provider_id: int, *, start=None, end=None) -> Statement:
    """Per booking: gross, commission, borne lines, fees kept, net, paid out, due."""
    require_member_access(actor, provider_id)
    if db.session.get(Provider, provider_id) is None:
        raise NotFound(_l("No such member."))
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
    paid = db.session.execute(select(Payout.booking_id, Payout.amount_minor).where(
        Payout.provider_id == provider_id, Payout.status == PayoutStatus.PAID,
        Payout.booking_id.in_(list(rows)))).all()
    for booking_id, amount in paid:
        rows[booking_id].paid_out_minor += amount
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows.values():
        bucket = totals[row.currency]
        for kind, amount in row.by_kind.items():
            bucket[kind] += amount
        bucket["net"] += row.net_minor
        bucket["paid_out"] += row.paid_out_minor
        bucket["due"] += row.due_minor
    return Statement(provider_id, list(rows.values()),
                     {cur: dict(values) for cur, values in totals.items()})


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


def pay_out(actor, booking_id: int, gateway, *, now: datetime | None = None) -> list[Payout]:
    """Transfer each member's net for a confirmed booking to its Connect account, one
    transfer per member (``transfer_group`` = the booking). The payout row is committed
    before Stripe is called and its id is the idempotency key; a failed transfer is
    retried by calling this again. A member without an account, or with nothing due,
    is skipped."""
    require_admin(actor)
    now = now or utcnow()
    booking = lock_booking(booking_id)  # one payout run of a booking at a time
    if booking is None:
        raise NotFound(_l("No such booking."))
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.CANCELLED):
        raise Conflict(_l("Only a confirmed booking is paid out."))
    payouts = []
    for provider_id, net in sorted(booking_net_by_member(booking_id).items()):
        provider = db.session.get(Provider, provider_id)
        payout = db.session.scalar(select(Payout).where(
            Payout.booking_id == booking_id, Payout.provider_id == provider_id))
        if payout is not None and payout.status == PayoutStatus.FAILED:
            if net <= 0:
                continue  # nothing is owed any more (a cancellation since)
            payout.amount_minor = net  # retried at what is owed now
        if payout is None:
            if net <= 0 or not provider.stripe_account_id:
                continue
            payout = Payout(booking_id=booking_id, provider_id=provider_id, amount_minor=net,
                            currency=booking.currency, status=PayoutStatus.CREATED,
                            created_at=now)
            db.session.add(payout)
            db.session.flush()
            record(booking, "payout", payout.id, None, PayoutStatus.CREATED,
                   actor=actor_ref(actor), now=now)
        payouts.append(payout)
    commit_unit()  # the rows exist before Stripe is called
    lock_booking(booking_id)  # ... and no other run sends or records them meanwhile
    for payout in payouts:
        if payout.status == PayoutStatus.PAID:  # read again under the lock
            continue
        provider = db.session.get(Provider, payout.provider_id)
        try:
            payout.transfer_id = gateway.transfer(payout, provider.stripe_account_id)
        except GatewayError as error:
            payout.error = str(error)[:500]
            move(booking, payout, PayoutStatus.FAILED, actor=actor_ref(actor), now=now,
                 reason=why("payout_failed", note=payout.error))
            continue
        payout.error = ""
        move(booking, payout, PayoutStatus.PAID, actor=actor_ref(actor), now=now,
             reason=why("payout_paid", note=payout.transfer_id))
    db.session.flush()
    return payouts
