"""The cluster admin's pages: the overview (the last 30 days' figures against the 30
before), the members (a compact list; admission, suspension and reinstatement on each
member's own page), accreditations, exchange rates, commission and the cluster's settings
(visa-free nationalities, deposit, quote validity)."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _

from bookings.services import settlement
from journey.builder.services import settings as cluster_settings
from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import require_admin
from journey.core.types import ID_CONVERTER, utcnow
from journey.figures import services as figures
from journey.figures.charts import Bar, axis_top, bar_chart
from journey.pages.common import login_required, show_minor, submit
from journey.pages.forms import ActionForm, ReasonForm
from journey.pages.member.accreditations import evidence_response
from journey.pages.portal import formatting_context
from journey.pages.portal_forms import (
    CommissionForm,
    MemberForm,
    MemberStatusForm,
    RateForm,
    SettingsForm,
    codes,
)
from journey.pages.titles import CHAIN_LINK_TITLES, MEMBER_STATUS_TITLES
from providers.models import (
    ACCREDITATION_STATUS_TITLES,
    AccreditationStatus,
    ChainLink,
    MemberStatus,
)
from providers.services import accreditations, members, rates
from providers.services.members import STATUS_TRANSITIONS

ID = ID_CONVERTER
LINK = "string(minlength=2, maxlength=40)"

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.context_processor(formatting_context)


@bp.before_request
@login_required
def admin_only():
    require_admin(current_actor())


#: The overview's period: the last this many days, against as many before.
OVERVIEW_DAYS = 30


def _sales_chart(days: list[figures.DayFigures], currency: str):
    """The period's sales per day as a bar chart (every seventh day labelled)."""
    bars = [_bar(day, currency, labelled=index % 7 == 0) for index, day in enumerate(days)]
    top = max((day.sales_minor for day in days), default=0)
    return bar_chart(bars, label=_("Sales per day, in %(currency)s", currency=currency),
                     top_label=show_minor(axis_top(top), currency))


def _bar(day: figures.DayFigures, currency: str, *, labelled: bool) -> Bar:
    return Bar(day.sales_minor, format_date(day.day, "d MMM") if labelled else "",
               _("%(day)s: %(amount)s", day=format_date(day.day, "medium"),
                 amount=show_minor(day.sales_minor, currency)))


@bp.get("/")
def index():
    actor = current_actor()
    currency = current_app.config["DEFAULT_CURRENCY"]
    found = figures.overview(actor, figures.Period.last_days(OVERVIEW_DAYS, today=utcnow().date()),
                             currency=currency)
    return render_template("admin/index.html", overview=found,
                           chart=_sales_chart(found.days, currency))


# --- members ---------------------------------------------------------------------------

def _status_filter() -> MemberStatus | None:
    try:
        return MemberStatus(request.args.get("status", ""))
    except ValueError:
        return None


@bp.get("/members")
def members_page():
    """The members, compact: one row each with its state; the actions are on its page."""
    status = _status_filter()
    items, total = members.list_members(current_actor(), status=status, per_page=100)
    return render_template("admin/members.html", members=items, total=total, status=status)


@bp.route("/members/new", methods=["GET", "POST"])
def new_member():
    form = MemberForm()
    created, status = submit(form, lambda: members.create_member(
        current_actor(), **form.profile()), raise_access_errors=True)
    if created is not None:
        flash(_("%(name)s is admitted as pending; verify it when its papers are checked.",
                name=created.name))
        return redirect(url_for("admin.member_page", provider_id=created.id))
    return render_template("admin/member_new.html", form=form), status


@bp.get(f"/members/<{ID}:provider_id>")
def member_page(provider_id, form: MemberStatusForm | None = None, status_code: int = 200):
    """One member: its profile and state, and the moves its state can make (verify,
    reinstate; suspend with a reason, confirmed first)."""
    provider = members.get_member(current_actor(), provider_id)
    return render_template(
        "admin/member.html", member=provider,
        form=form or MemberStatusForm(formdata=None, prefix=f"m{provider.id}"),
        moves=sorted(STATUS_TRANSITIONS[provider.status])), status_code


@bp.post(f"/members/<{ID}:provider_id>/status")
def member_status(provider_id):
    form = MemberStatusForm(prefix=f"m{provider_id}")

    def change():
        return members.set_member_status(current_actor(), provider_id, form.status.data,
                                         reason=form.reason.data or None)

    changed, status = submit(form, lambda: change() if _valid_status(form) else None,
                             raise_access_errors=True)
    if changed is not None:
        flash(_("%(name)s is now %(status)s.", name=changed.name,
                status=MEMBER_STATUS_TITLES[changed.status]))
        return redirect(url_for("admin.member_page", provider_id=provider_id))
    return member_page(provider_id, form, status)


def _valid_status(form) -> bool:
    try:
        MemberStatus(form.status.data)
    except ValueError:
        form.status.errors = [*form.status.errors, _("Not a valid choice.")]
        form.form_errors.append(_("Not a valid choice."))
        return False
    return True


# --- accreditations: verify against the evidence, reject, revoke --------------------------

ACCREDITATION_STATES = (AccreditationStatus.PENDING, AccreditationStatus.VERIFIED,
                        AccreditationStatus.REJECTED, AccreditationStatus.REVOKED)


def _accreditation_state() -> AccreditationStatus:
    try:
        return AccreditationStatus(request.args.get("status", "pending"))
    except ValueError:
        return AccreditationStatus.PENDING


def _accreditations_page(forms: dict | None = None, status_code: int = 200):
    state = _accreditation_state()
    items = accreditations.list_for_admin(current_actor(), status=state)
    return render_template(
        "admin/accreditations.html", items=items, state=state, states=ACCREDITATION_STATES,
        status_titles=ACCREDITATION_STATUS_TITLES, forms=forms or {},
        blank_action=ActionForm, blank_reason=ReasonForm,
        days_left=accreditations.days_left, warn_days=accreditations.WARN_DAYS,
        verify_refusal=accreditations.verify_refusal), status_code


@bp.get("/accreditations")
def accreditations_page():
    return _accreditations_page()


@bp.get(f"/accreditations/<{ID}:accreditation_id>/evidence")
def accreditation_evidence(accreditation_id):
    return evidence_response(*accreditations.open_evidence(current_actor(), accreditation_id))


def _decide(accreditation_id: int, kind: str, form, action, done):
    decided, status = submit(form, action, raise_access_errors=True,
                             invalid_status=400 if kind == "verify" else 422)
    if decided is None:
        return _accreditations_page({(kind, accreditation_id): form}, status)
    flash(done(decided))
    return redirect(url_for("admin.accreditations_page", status=request.args.get("status")))


@bp.post(f"/accreditations/<{ID}:accreditation_id>/verify")
def verify_accreditation(accreditation_id):
    return _decide(accreditation_id, "verify", ActionForm(prefix=f"v{accreditation_id}"),
                   lambda: accreditations.verify_accreditation(current_actor(),
                                                               accreditation_id),
                   lambda a: _("%(name)s of %(member)s is verified; it shows on the member's "
                               "page.", name=a.name, member=a.provider.name))


@bp.post(f"/accreditations/<{ID}:accreditation_id>/reject")
def reject_accreditation(accreditation_id):
    form = ReasonForm(prefix=f"r{accreditation_id}")
    return _decide(accreditation_id, "reject", form,
                   lambda: accreditations.reject_accreditation(
                       current_actor(), accreditation_id, form.reason.data),
                   lambda a: _("%(name)s of %(member)s is rejected; the member sees your "
                               "reason.", name=a.name, member=a.provider.name))


@bp.post(f"/accreditations/<{ID}:accreditation_id>/revoke")
def revoke_accreditation(accreditation_id):
    form = ReasonForm(prefix=f"x{accreditation_id}")
    return _decide(accreditation_id, "revoke", form,
                   lambda: accreditations.revoke_accreditation(
                       current_actor(), accreditation_id, form.reason.data),
                   lambda a: _("%(name)s of %(member)s is revoked; it no longer shows on "
                               "the member's page.", name=a.name, member=a.provider.name))


# --- exchange rates ---------------------------------------------------------------------

@bp.route("/rates", methods=["GET", "POST"])
def rates_page():
    form = RateForm()
    added, status = submit(form, lambda: rates.add_rate(
        current_actor(), base=form.base.data, quote=form.quote.data, rate=form.rate.data,
        effective_on=form.effective_on.data), raise_access_errors=True)
    if added is not None:
        flash(_("The rate is recorded."))
        return redirect(url_for("admin.rates_page"))
    return render_template("admin/rates.html", form=form, rates=rates.list_rates()), status


# --- cluster settings -------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
def settings_page():
    current = cluster_settings.get_settings()
    form = SettingsForm(obj=current, visa_free_nationalities=" ".join(
        current.visa_free_nationalities), languages=list(current.languages or []))

    def save():
        return cluster_settings.update_settings(
            current_actor(), languages=form.languages.data or [],
            visa_free_nationalities=codes(form.visa_free_nationalities.data),
            deposit_percent=form.deposit_percent.data,
            balance_due_days=form.balance_due_days.data,
            quote_validity_hours=form.quote_validity_hours.data,
            payout_delay_days=form.payout_delay_days.data)

    saved, status = submit(form, save, raise_access_errors=True)
    if saved is not None:
        flash(_("The cluster's settings are saved."))
        return redirect(url_for("admin.settings_page"))
    return render_template("admin/settings.html", form=form, settings=current), status


# --- commission per link of the chain ---------------------------------------------------

def _commission_page(forms: dict | None = None, status: int = 200):
    rates_now = settlement.commission_rates()
    rows = []
    for link, title in CHAIN_LINK_TITLES.items():
        form = (forms or {}).get(link.value) or CommissionForm(
            formdata=None, prefix=link.value, percent=rates_now.get(link.value, Decimal(0)))
        rows.append({"link": link, "title": title, "percent": rates_now.get(link.value),
                     "form": form})
    return render_template("admin/commission.html", rows=rows), status


@bp.get("/commission")
def commission_page():
    return _commission_page()


@bp.post(f"/commission/<{LINK}:chain_link>")
def set_commission(chain_link):
    form = CommissionForm(prefix=chain_link)
    saved, status = submit(form, lambda: settlement.set_commission_rate(
        current_actor(), chain_link, form.percent.data), raise_access_errors=True)
    if saved is not None:
        flash(_("The commission on %(link)s is %(percent)s %%.",
                link=CHAIN_LINK_TITLES[ChainLink(chain_link)],
                percent=format_decimal(saved.percent)))
        return redirect(url_for("admin.commission_page"))
    return _commission_page({chain_link: form}, status)
