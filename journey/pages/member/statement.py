"""A member's settlement statement in the portal: per booking, what it earned, what the
cluster's commission took, what was paid out and what is still due."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request

from bookings.services import settlement
from journey.core.accounts.auth import current_actor
from journey.invoicing import services as invoicing
from journey.pages.member.access import ID, PREFIX, managed_member, member_or_cluster
from journey.pages.portal import formatting_context
from journey.pages.titles import LEDGER_KIND_TITLES

#: The statement's columns shown even when every booking has nothing in them.
ALWAYS_SHOWN = ("gross", "commission")

bp = Blueprint("statement", __name__, url_prefix=PREFIX)
bp.before_request(member_or_cluster)
bp.context_processor(formatting_context)


def _day_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get(f"/<{ID}:provider_id>/statement")
def show(provider_id):
    provider = managed_member(provider_id)
    start, end = _day_arg("start"), _day_arg("end")
    if start and end and end < start:  # ignored, as a day that is not one is
        end = None
    found = settlement.member_statement(current_actor(), provider.id, start=start, end=end)
    documents = invoicing.list_documents(current_actor(), provider_id=provider.id, limit=200)
    return render_template("member/statement.html", provider=provider, statement=found,
                           start=start, end=end, documents=documents,
                           columns=_columns(found))


def _columns(found) -> dict:
    """The ledger's kinds that have an amount on some booking (gross and commission
    always): a column of zeros only makes the table wider."""
    used = {kind for row in found.rows for kind, amount in row.by_kind.items() if amount}
    return {kind: title for kind, title in LEDGER_KIND_TITLES.items()
            if kind in ALWAYS_SHOWN or kind in used}
