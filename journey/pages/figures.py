"""The figures pages (issue 14): the cluster's (``/figures``, admins and coordinators)
and a member's own (``/portal/<id>/figures``, its staff; the cluster may look too).

A filter form (period, member, chain link, country), then one section per figure with a
chart and its table beside it; every table also as CSV (``?format=csv&table=<name>``:
a header row, numbers unformatted, money as a decimal in the cluster's currency). The
figures themselves come from :mod:`journey.figures.dashboard`."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _

from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import require_authenticated, require_cluster
from journey.core.errors import NotFound
from journey.core.types import ID_CONVERTER, utcnow
from journey.core.validation import DateWindow
from journey.figures import dashboard
from journey.figures.charts import (
    SERIES,
    Point,
    Row,
    Stack,
    hbar_chart,
    legend,
    line_chart,
    stacked_bar_chart,
)
from journey.figures.services import Period
from journey.pages.common import login_required, page_locale, show_minor
from journey.pages.forms import country_choices
from journey.pages.member.access import managed_member
from journey.pages.portal import formatting_context, from_minor
from journey.pages.titles import CHAIN_LINK_TITLES
from journey.pages.trip_rows import country_name
from providers.models import ChainLink
from providers.services import members

bp = Blueprint("figures", __name__)
bp.context_processor(formatting_context)

#: The period shown when none is asked: the last year.
DEFAULT_DAYS = 365
#: The longest period one may ask (the figures stay an aggregate, but keep it sane).
MAX_DAYS = 3 * 366
#: The charts show at most this many members, the tables this many rows (the CSV all).
CHART_ROWS, TABLE_ROWS = 10, 30


@bp.before_request
@login_required
def signed_in():
    require_authenticated(current_actor())


@bp.get("/figures")
def cluster():
    actor = require_cluster(current_actor())
    options, _total = members.list_members(actor, per_page=1000)
    return _page(actor, member=None, member_options=options)


@bp.get(f"/portal/<{ID_CONVERTER}:provider_id>/figures")
def member(provider_id):
    provider = managed_member(provider_id)
    return _page(current_actor(), member=provider, member_options=[])


# --- the filters ----------------------------------------------------------------------------

def _day(name: str, errors: list[str]) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors.append(_("Give the dates as YYYY-MM-DD."))
        return None
    refused = DateWindow().refusal(day)  # year 1 or 9999 overflows the bounds
    if refused is not None:
        errors.append(refused)
        return None
    return day


def _filters(member) -> tuple[dashboard.Filters, list[str]]:
    """The filters asked in the query string, and what was wrong with them (the rest
    of the page then shows the default in place of a wrong value)."""
    errors: list[str] = []
    today = utcnow().date()
    start, end = _day("start", errors), _day("end", errors)
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        errors.append(_("The period must start before it ends."))
        start, end = end - timedelta(days=DEFAULT_DAYS - 1), end
    if (end - start).days + 1 > MAX_DAYS:
        errors.append(_("Choose a period of at most three years."))
        start = end - timedelta(days=MAX_DAYS - 1)
    provider_id = None
    if member is not None:
        provider_id = member.id
    elif request.args.get("member"):
        try:
            provider_id = int(request.args["member"])
        except ValueError:
            errors.append(_("Choose a member from the list."))
    link = request.args.get("link") or None
    if link is not None and link not in {c.value for c in ChainLink}:
        errors.append(_("Choose a link of the chain from the list."))
        link = None
    country = (request.args.get("country") or "").strip().upper() or None
    if country is not None and (len(country) != 2 or not country.isalpha()):
        errors.append(_("Give the country as its two-letter code, for example DE."))
        country = None
    return dashboard.Filters(Period(start, end), provider_id, link, country), errors


# --- the page --------------------------------------------------------------------------------

def _page(actor, *, member, member_options):
    filters, errors = _filters(member)
    currency = current_app.config["DEFAULT_CURRENCY"]
    table = request.args.get("table", "") if request.args.get("format") == "csv" else None
    if table is not None and table not in dashboard.PARTS:
        raise NotFound(_("No such table."))
    found = dashboard.dashboard(actor, filters, currency=currency, now=utcnow(),
                            response_hours=current_app.config["MEMBER_RESPONSE_HOURS"],
                            member_id=member.id if member is not None else None, only=table)
    if table is not None:
        return _csv(found, table)
    status = 400 if errors else 200
    return render_template(
        "figures/index.html", found=found, member=member, member_options=member_options,
        errors=errors, charts=_charts(found), rows=TABLE_ROWS, link_titles=CHAIN_LINK_TITLES,
        country_options=country_choices(page_locale(), empty=_("All countries")),
        country_name=_country_name, share=_share, hours=_hours, link_title=_link_title,
        step_titles=step_titles(), reason_titles=reason_titles(),
        query={k: v for k, v in request.args.items() if k not in ("format", "table")},
    ), status


def _country_name(code: str) -> str:
    return country_name(code) if code else _("Not given")


def _share(value: float | None) -> str:
    return "–" if value is None else format_percent(value, "#,##0.#%")


def _hours(value: float | None) -> str:
    return "–" if value is None else _("%(hours)s h", hours=format_decimal(value))


def _link_title(link: str) -> str:
    try:
        return str(CHAIN_LINK_TITLES[ChainLink(link)])
    except (ValueError, KeyError):
        return _("Other")


def _charts(found: dashboard.Dashboard) -> dict:
    currency = found.currency
    charts = {}
    # patients per month, stacked by country of residence (the largest few, then the rest)
    totals: dict[str, int] = {}
    for row in found.countries:
        totals[row.residence] = totals.get(row.residence, 0) + row.journeys
    leading = sorted(totals, key=lambda c: (-totals[c], c))[:SERIES - 1]
    series = [*leading, "*"] if len(totals) > len(leading) else leading
    months: dict[str, list[int]] = {}
    for row in found.countries:
        values = months.setdefault(row.month, [0] * len(series))
        values[series.index(row.residence if row.residence in leading else "*")] += row.journeys
    names = [_("Other countries") if c == "*" else _country_name(c) for c in series]
    charts["countries"] = stacked_bar_chart(
        [Stack(tuple(v), m[2:] if len(months) > 6 else m,
               _("%(month)s: %(count)s journeys", month=m, count=format_decimal(sum(v))))
         for m, v in sorted(months.items())],
        label=_("Journeys opened per month, by the patient's country of residence"))
    charts["countries_legend"] = legend(names)
    by_member = found.money.by_member()
    charts["members"] = hbar_chart(
        [Row(m.sales_minor, m.name, show_minor(m.sales_minor, currency)) for m in
         by_member[:CHART_ROWS]],
        label=_("Sales per member, in %(currency)s", currency=currency))
    links = sorted(found.money.by_link().items(), key=lambda item: -item[1][0])
    charts["links"] = hbar_chart(
        [Row(sales, _link_title(link), show_minor(sales, currency)) for link, (sales, _c)
         in links],
        label=_("Sales per link of the chain, in %(currency)s", currency=currency))
    charts["attribution"] = hbar_chart(
        [Row(a.sales_minor, _("%(entry)s → %(receiver)s", entry=a.entry_name,
                              receiver=a.receiver_name), show_minor(a.sales_minor, currency))
         for a in found.attribution[:CHART_ROWS]],
        label=_("Sales brought to other members by the member that opened the journey"))
    charts["funnel"] = hbar_chart(
        [Row(step.journeys, _step_title(step.step), format_decimal(step.journeys))
         for step in found.funnel.steps],
        label=_("Journeys at each step, from opened to completed"))
    answered = [r for r in found.responses if r.median_hours is not None]
    charts["responses"] = hbar_chart(
        [Row(r.median_hours, r.name, _hours(r.median_hours)) for r in answered[:CHART_ROWS]],
        label=_("Median time to accept or decline, per member"))
    charts["ratings"] = line_chart(
        [Point(r.average, r.month[2:], _("%(month)s: %(average)s from %(count)s reviews",
                                         month=r.month, average=format_decimal(r.average),
                                         count=format_decimal(r.reviews)))
         for r in found.ratings], label=_("Average rating per month, from 1 to 5"), top=5)
    cancelled = [c for c in found.cancellations if c.lines]
    charts["cancellations"] = hbar_chart(
        [Row(c.cancelled_share or 0, c.name, _share(c.cancelled_share))
         for c in cancelled[:CHART_ROWS]],
        label=_("Share of booked lines cancelled, per member"))
    empty = {"countries": found.countries, "members": by_member, "links": links,
             "attribution": found.attribution, "funnel": found.funnel.steps[0].journeys,
             "responses": answered, "ratings": found.ratings, "cancellations": cancelled}
    return {name: chart if empty.get(name, True) else None for name, chart in charts.items()}


def step_titles() -> dict[str, str]:
    return {"journeys": _("Opened"), "quoted": _("Quoted"), "accepted": _("Quote accepted"),
            "paid": _("Paid"), "completed": _("Completed")}


def reason_titles() -> dict[str, str]:
    return {"declined": _("A member declined a line"),
            "expired": _("The quote expired unaccepted"),
            "cancelled": _("The journey was cancelled")}


def _step_title(step: str) -> str:
    return step_titles()[step]


# --- CSV ---------------------------------------------------------------------------------------

def _money(amount: int, currency: str) -> str:
    return str(from_minor(amount, currency))


def _text(value: str) -> str:
    """A name as a CSV cell that no spreadsheet takes for a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _number(value) -> str:
    return "" if value is None else str(value)


def csv_table(found: dashboard.Dashboard, name: str) -> tuple[list[str], list[list]]:
    """One of the page's tables as a header and rows (plain numbers; money a decimal)."""
    cur = found.currency
    if name == "countries":
        return (["month", "residence", "nationality", "journeys"],
                [[r.month, r.residence, r.nationality, r.journeys] for r in found.countries])
    if name == "members":
        return (["member_id", "member", "chain_link", "lines_booked", "sales", "commission",
                 "currency"],
                [[r.provider_id, _text(r.name), r.chain_link, r.lines,
                  _money(r.sales_minor, cur), _money(r.commission_minor, cur), cur]
                 for r in found.money.rows])
    if name == "links":
        return (["chain_link", "sales", "commission", "currency"],
                [[link, _money(s, cur), _money(c, cur), cur]
                 for link, (s, c) in sorted(found.money.by_link().items())])
    if name == "attribution":
        return (["entry_member_id", "entry_member", "receiving_member_id", "receiving_member",
                 "lines", "sales", "currency"],
                [[a.entry_id, _text(a.entry_name), a.receiver_id, _text(a.receiver_name),
                  a.lines, _money(a.sales_minor, cur), cur] for a in found.attribution])
    if name == "funnel":
        rows = [[s.step, s.journeys, s.lost, _number(s.lost_share)] for s in found.funnel.steps]
        rows += [[f"lost:{reason}", count, "", ""]
                 for reason, count in found.funnel.reasons.items()]
        return ["step", "journeys", "lost", "lost_share"], rows
    if name == "responses":
        return (["member_id", "member", "answered", "median_hours", "p90_hours",
                 "within_deadline", "within_share"],
                [[r.provider_id, _text(r.name), r.answered, _number(r.median_hours),
                  _number(r.p90_hours), r.within_deadline, _number(r.within_share)]
                 for r in found.responses])
    if name == "ratings":
        return (["month", "reviews", "average"],
                [[r.month, r.reviews, r.average] for r in found.ratings])
    if name == "cancellations":
        return (["member_id", "member", "lines", "cancelled", "declined", "cancelled_share"],
                [[c.provider_id, _text(c.name), c.lines, c.cancelled, c.declined,
                  _number(c.cancelled_share)] for c in found.cancellations])
    if name == "refunds":
        r = found.refunds
        return (["captured", "refunded", "refunded_share", "currency"],
                [[_money(r.captured_minor, cur), _money(r.refunded_minor, cur),
                  _number(r.share), cur]])
    raise NotFound(_("No such table."))


TABLES = ("countries", "members", "links", "attribution", "funnel", "responses", "ratings",
          "cancellations", "refunds")


def _csv(found: dashboard.Dashboard, name: str) -> Response:
    header, rows = csv_table(found, name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    period = found.filters.period
    filename = f"figures-{name}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
