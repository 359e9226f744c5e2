"""Insurance pages: the patient's policy on the journey page (add, remove), and the
insurer's portal: its coverage products (its manager writes them), the guarantee
requests its staff approve or decline, its receivables and documents; the cluster
records the insurer's bank transfers there. The services decide who may do what
(:mod:`journey.insurance.services`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from journey.core.accounts.auth import current_actor
from journey.core.errors import InvalidInput, NotFound
from journey.core.money import minor_digits
from journey.core.types import ID_CONVERTER
from journey.insurance import follow  # noqa: F401  (connects the signals)
from journey.insurance.models import GUARANTEE_STATUS_TITLES, GuaranteeStatus, ProductStatus
from journey.insurance.services import guarantees, policies, products, receivables
from journey.insurance.services.coverage import active_policy
from journey.invoicing import services as invoicing
from journey.pages.common import login_required, submit
from journey.pages.forms import ActionForm, NumberRange, PageForm
from journey.pages.member.access import member_or_cluster
from journey.pages.portal import formatting_context
from journey.pages.titles import CHAIN_LINK_TITLES, RECEIVABLE_TITLES
from providers.models import ChainLink, MemberKind, Provider
from providers.services import members

ID = ID_CONVERTER
JOURNEY = f"/my/journeys/<{ID}:journey_id>/insurance-policy"
INSURER = f"/insurer/<{ID}:provider_id>"

bp = Blueprint("insurance", __name__)
bp.context_processor(formatting_context)


class PolicyForm(PageForm):
    product_id = SelectField(_l("Coverage"), coerce=int, validators=[InputRequired()])
    policy_number = StringField(_l("Policy number"), validators=[DataRequired(),
                                                                 Length(max=60)])
    holder_name = StringField(_l("Policy holder"), validators=[DataRequired(),
                                                               Length(max=200)])


class ProductForm(PageForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    chain_links = SelectMultipleField(_l("Chain links covered"),
                                      validators=[DataRequired()])
    share_percent = DecimalField(_l("Share covered (%)"), places=None,
                                 validators=[Optional(), NumberRange(1, 100)])
    fixed = DecimalField(_l("Or a fixed amount per line"), places=None,
                         validators=[Optional(), NumberRange(0)])
    deductible = DecimalField(_l("Deductible"), places=None, default=Decimal(0),
                              validators=[Optional(), NumberRange(0)])
    cap = DecimalField(_l("Cap per journey"), places=None,
                       validators=[Optional(), NumberRange(0)])
    currency = StringField(_l("Currency"), default="EUR",
                           validators=[DataRequired(), Length(3, 3)])
    valid_from = DateField(_l("Valid from"), validators=[InputRequired()])
    valid_until = DateField(_l("Valid until"), validators=[InputRequired()])


class ApproveForm(PageForm):
    amount = DecimalField(_l("Amount guaranteed"), places=None,
                          validators=[InputRequired(), NumberRange(0)])
    valid_until = DateField(_l("Valid until"), validators=[InputRequired()])


class TransferForm(PageForm):
    amount = DecimalField(_l("Amount received"), places=None,
                          validators=[InputRequired(), NumberRange(0)])
    paid_on = DateField(_l("Day it arrived"), validators=[InputRequired()])
    reference = StringField(_l("Transfer reference"), validators=[DataRequired(),
                                                                  Length(max=100)])


def to_minor(amount: Decimal | None, currency: str, field: str) -> int | None:
    """An amount typed in major units as minor units (422 beside ``field`` if it has
    more decimals than the currency)."""
    if amount is None:
        return None
    try:
        minor = amount.scaleb(minor_digits(currency))
        if minor != minor.to_integral_value():
            raise InvalidOperation
    except InvalidOperation:
        raise InvalidInput(fields={field: [_l("Too many decimals for this currency.")]}) \
            from None
    return int(minor)


def _published_products():
    return [p for p in products.list_products(current_actor())
            if p.status == ProductStatus.PUBLISHED]


def _policy_form(form=None):
    form = form or PolicyForm(prefix="policy")
    form.product_id.choices = [(p.id, f"{p.provider.name} — {p.name}")
                               for p in _published_products()]
    return form


@bp.app_context_processor
def insurance_panel():
    """For ``insurance/_journey_policy.html`` on the patient's journey page."""
    def panel(journey):
        return {"policy": active_policy(journey.id), "form": _policy_form(),
                "remove": ActionForm()}
    return {"insurance_panel": panel}


def _policy_page(journey_id, form, status):
    return render_template("insurance/policy_form.html", journey_id=journey_id,
                           form=form), status


@bp.post(JOURNEY)
@login_required
def add_policy(journey_id):
    form = _policy_form()
    done, status = submit(form, lambda: policies.add_policy(
        current_actor(), journey_id, product_id=form.product_id.data,
        policy_number=form.policy_number.data, holder_name=form.holder_name.data),
        raise_access_errors=True)
    if done is None:
        return _policy_page(journey_id, form, status)
    flash(_("Your policy is added. Ask for a new quote: your insurer is asked to "
            "guarantee its share."))
    return redirect(url_for("journey.show", journey_id=journey_id))


@bp.post(f"{JOURNEY}/remove")
@login_required
def remove_policy(journey_id):
    form = ActionForm()
    done, status = submit(form, lambda: policies.remove_policy(current_actor(), journey_id)
                          or True, raise_access_errors=True, invalid_status=400)
    if done is None:
        return _policy_page(journey_id, _policy_form(), status)
    flash(_("The policy is removed: you pay the whole journey after a new quote."))
    return redirect(url_for("journey.show", journey_id=journey_id))


# --- the insurer's portal ------------------------------------------------------------

def _insurer(provider_id: int) -> Provider:
    member_or_cluster()
    actor = current_actor()
    provider = members.get_member(actor, provider_id)
    if provider.kind != MemberKind.INSURER or not (
            actor.role.is_cluster or actor.provider_id == provider.id):
        raise NotFound(_l("No such insurer."))
    return provider


def _portal(provider, *, forms=None, failed=None, status=200):
    actor = current_actor()
    forms = forms or {}
    product_form = forms.get("product") or ProductForm(prefix="product")
    product_form.chain_links.choices = [(c.value, CHAIN_LINK_TITLES[c]) for c in ChainLink]
    return render_template(
        "insurance/portal.html", provider=provider, receivable_titles=RECEIVABLE_TITLES,
        products=products.list_products(actor, provider_id=provider.id),
        guarantees=guarantees.list_guarantees(actor, provider.id),
        receivables=receivables.list_receivables(actor, provider.id),
        documents=[d for d in invoicing.list_documents(actor)
                   if d.payer_provider_id == provider.id],
        product_form=product_form, approve_form=forms.get("approve") or ApproveForm(),
        decline_form=ActionForm(), transfer_form=forms.get("transfer") or TransferForm(),
        failed=failed, pending=GuaranteeStatus.PENDING,
        status_titles=GUARANTEE_STATUS_TITLES,
        is_manager=actor.role.value == "member_manager" and actor.provider_id == provider.id,
        is_staff=actor.provider_id == provider.id, is_cluster=actor.role.is_cluster), status


@bp.get(INSURER)
def portal(provider_id):
    return _portal(_insurer(provider_id))


@bp.post(f"{INSURER}/products")
def add_product(provider_id):
    provider = _insurer(provider_id)
    form = ProductForm(prefix="product")
    form.chain_links.choices = [(c.value, CHAIN_LINK_TITLES[c]) for c in ChainLink]

    def create():
        currency = (form.currency.data or "").upper()
        return products.create_product(
            current_actor(), provider.id, name=form.name.data,
            chain_links=form.chain_links.data,
            share_percent=int(form.share_percent.data) if form.share_percent.data else None,
            fixed_minor=to_minor(form.fixed.data, currency, "fixed"),
            deductible_minor=to_minor(form.deductible.data, currency, "deductible") or 0,
            cap_minor=to_minor(form.cap.data, currency, "cap"), currency=currency,
            valid_from=form.valid_from.data, valid_until=form.valid_until.data,
            status=ProductStatus.PUBLISHED)

    done, status = submit(form, create, raise_access_errors=True)
    if done is None:
        return _portal(provider, forms={"product": form}, status=status)
    flash(_("The coverage product is published."))
    return redirect(url_for("insurance.portal", provider_id=provider.id))


@bp.post(f"{INSURER}/guarantees/<{ID}:guarantee_id>/<any(approve, decline):answer>")
def decide(provider_id, guarantee_id, answer):
    provider = _insurer(provider_id)
    form = ApproveForm() if answer == "approve" else ActionForm()

    def act():
        if answer == "decline":
            return guarantees.decide_guarantee(current_actor(), guarantee_id, approve=False)
        guarantee = guarantees.get_guarantee(current_actor(), guarantee_id)
        return guarantees.decide_guarantee(
            current_actor(), guarantee_id, approve=True,
            amount_minor=to_minor(form.amount.data, guarantee.currency, "amount"),
            valid_until=form.valid_until.data)

    done, status = submit(form, act, raise_access_errors=True)
    if done is None:
        return _portal(provider, forms={"approve": form} if answer == "approve" else None,
                       failed=guarantee_id, status=status)
    flash(_("The guarantee is approved.") if answer == "approve"
          else _("The guarantee request is declined."))
    return redirect(url_for("insurance.portal", provider_id=provider.id))


@bp.post(f"{INSURER}/receivables/<{ID}:receivable_id>/transfer")
def record_transfer(provider_id, receivable_id):
    provider = _insurer(provider_id)
    form = TransferForm()

    def act():
        found = [r for r in receivables.list_receivables(current_actor(), provider.id)
                 if r.id == receivable_id]
        if not found:
            raise NotFound(_l("No such receivable."))
        return receivables.record_payment(
            current_actor(), receivable_id,
            amount_minor=to_minor(form.amount.data, found[0].currency, "amount"),
            paid_on=form.paid_on.data, reference=form.reference.data)

    done, status = submit(form, act, raise_access_errors=True)
    if done is None:
        return _portal(provider, forms={"transfer": form}, failed=receivable_id,
                       status=status)
    flash(_("The insurer's transfer is recorded."))
    return redirect(url_for("insurance.portal", provider_id=provider.id))
