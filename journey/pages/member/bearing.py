"""The member's requests to bear a line: a coordinator (or the member composing a
journey) asks the member to pay for a line instead of the patient, with the amount;
the member's manager accepts or declines. Only the member decides (the services say
who may: its manager)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from journey.builder.models import BEARING_STATUS_TITLES, BearingStatus
from journey.builder.services import payers
from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import payer_refusal
from journey.pages.common import submit
from journey.pages.forms import ActionForm
from journey.pages.member.access import ID, managed_member
from journey.pages.rows import offer_title

BEARING = f"/<{ID}:provider_id>/bearing"

#: Nested in the portal's blueprint: endpoints read ``member.bearing.*``.
bp = Blueprint("bearing", __name__)


def _page(provider, *, form=None, failed: int | None = None, status: int = 200):
    actor = current_actor()
    found = payers.member_requests(actor, provider.id)
    titles = {asked.id: offer_title(asked.item.offer) for asked in found
              if asked.item is not None}
    return render_template(
        "member/bearing.html", provider=provider, requests=found, titles=titles,
        status_titles=BEARING_STATUS_TITLES, pending=BearingStatus.PENDING,
        may_decide=payer_refusal(actor, provider.id) is None, form=form or ActionForm(),
        failed=failed), status


@bp.get(BEARING)
def index(provider_id):
    return _page(managed_member(provider_id))


@bp.post(f"{BEARING}/<{ID}:request_id>/<any(accept, decline):answer>")
def decide(provider_id, request_id, answer):
    provider = managed_member(provider_id)
    form = ActionForm()
    done, status = submit(form, lambda: payers.decide_bearing(
        current_actor(), request_id, accept=answer == "accept"), raise_access_errors=True,
        invalid_status=400)
    if done is None:
        return _page(provider, form=form, failed=request_id, status=status)
    flash(_("Your member pays for this line now; the patient's quote is made again.")
          if answer == "accept" else _("The request is declined."))
    return redirect(url_for("member.bearing.index", provider_id=provider.id))
