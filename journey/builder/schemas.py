"""Marshmallow schemas of the journey builder API."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import get_locale
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from bookings.schemas import BookingOutSchema
from journey.builder.models import (
    BEARING_STATUS_TITLES,
    JOURNEY_STATUS_TITLES,
    BearingStatus,
    JourneyStatus,
    QuoteLineKind,
    TemplateStatus,
)
from journey.builder.services.templates import template_text
from journey.core.api import Country, Currency, Language, Money, minor_json
from journey.core.config import LANGUAGES
from journey.core.i18n import content_language, translated
from journey.core.reasons import ReasonSchema
from journey.core.types import MAX_ID
from journey.core.validation import Day, T, in_range, length
from providers.models import CHAIN_LINK_TITLES, ChainLink
from providers.schemas import BY_LANGUAGE, DECIMAL_STRING, MAX_MINOR, Pagination, Text
from providers.services.offers import offer_text

Id = lambda **kw: fields.Integer(strict=True, validate=in_range(1, MAX_ID), **kw)  # noqa: E731


# --- settings ------------------------------------------------------------------------

class ClusterSettingsSchema(Schema):
    visa_free_nationalities = fields.List(Country(), validate=length(0, 300))
    deposit_percent = fields.Integer(strict=True, validate=in_range(0, 100))
    balance_due_days = fields.Integer(strict=True, validate=in_range(0, 365))
    quote_validity_hours = fields.Integer(strict=True, validate=in_range(1, 24 * 60))
    languages = fields.List(fields.String(validate=validate.OneOf(
        LANGUAGES, error=T("Must be one of: {choices}."))), validate=length(1, 20), metadata={
            "description": "The interface languages the cluster offers (English always)."})
    payout_delay_days = fields.Integer(strict=True, validate=in_range(0, 90), metadata={
        "description": "Days after a line's last day before its member is paid."})
    health_data_retention_days = fields.Integer(
        strict=True, allow_none=True, validate=in_range(30, 36500), metadata={
            "description": "Days after a patient's last journey ends before their health "
                           "data and personal fields are erased; null keeps them until "
                           "the patient asks."})


# --- templates -----------------------------------------------------------------------

class TemplateTextSchema(Schema):
    language = fields.String(dump_only=True)
    name = Text(1, 200, required=True)
    description = fields.String(load_default="", validate=length(0, 20000))


class TemplateLinkSchema(Schema):
    position = fields.Integer(dump_only=True)
    chain_link = fields.Enum(ChainLink, by_value=True)
    default_offer_id = Id(required=True)
    alternative_offer_ids = fields.List(Id(), load_default=list, validate=length(0, 20))
    day_offset = fields.Integer(strict=True, allow_none=True, load_default=None,
                                validate=in_range(-120, 365),
                                metadata={"description": "Days after arrival (negative: "
                                          "before it, e.g. visa support)."})
    days = fields.Integer(strict=True, validate=in_range(1, 365))
    quantity = fields.Integer(strict=True, validate=in_range(1, 100))
    borne_by_provider_id = Id(allow_none=True, load_default=None, metadata={
        "description": "The member that pays for this link (shown as included): only "
                       "the template's own member, set by its manager."})


class TemplateInSchema(Schema):
    provider_id = Id(allow_none=True, load_default=None,
                     metadata={"description": "The curating member; none for the cluster."})
    status = fields.Enum(TemplateStatus, by_value=True)
    discount_percent = fields.Integer(strict=True, allow_none=True,
                                      validate=in_range(0, 100), metadata={
                                          "description": "Either a percentage or an "
                                          "amount (`discount_minor`), not both."})
    discount_minor = fields.Integer(strict=True, allow_none=True,
                                    validate=in_range(0, MAX_MINOR), metadata={
                                        "description": "Minor units of "
                                        "`discount_currency`, which it needs."})
    discount_currency = Currency(allow_none=True)
    texts = fields.Dict(keys=Language(), values=fields.Nested(TemplateTextSchema),
                        required=True, validate=length(1, 30), metadata={
                            **BY_LANGUAGE, "description": "The package's name (and "
                            "description) by language (a `LanguageCode`); at least one."})
    links = fields.List(fields.Nested(TemplateLinkSchema), validate=length(0, 30))


class TemplateUpdateSchema(TemplateInSchema):
    texts = fields.Dict(keys=Language(), values=fields.Nested(TemplateTextSchema),
                        validate=length(0, 30), metadata=BY_LANGUAGE)

    class Meta:
        exclude = ("provider_id",)


class TemplateSchema(Schema):
    id = fields.Integer()
    provider_id = fields.Integer(allow_none=True)
    status = fields.Enum(TemplateStatus, by_value=True)
    discount_percent = fields.Integer(allow_none=True)
    discount_minor = fields.Integer(allow_none=True)
    discount_currency = fields.String(allow_none=True)
    language = fields.Method("get_language", allow_none=True)
    name = fields.Method("get_name", allow_none=True)
    description = fields.Method("get_description", allow_none=True)
    links = fields.List(fields.Nested(TemplateLinkSchema))

    def get_language(self, template):
        return template_text(template, content_language())[0]

    def get_name(self, template):
        text = template_text(template, content_language())[1]
        return text.name if text else None

    def get_description(self, template):
        text = template_text(template, content_language())[1]
        return text.description if text else None


# --- journeys -----------------------------------------------------------------------

class JourneyProfileSchema(Schema):
    adults = fields.Integer(strict=True, validate=in_range(1, 20))
    children = fields.Integer(strict=True, validate=in_range(0, 20))
    nationality = Country(allow_none=True)
    residence = Country(allow_none=True)
    language = Language()
    currency = Currency()
    arrival_on = Day(allow_none=True)
    departure_on = Day(allow_none=True, metadata={
        "description": "After `arrival_on` (the one sent, or the journey's)."})
    treatment_start_on = Day(allow_none=True)

    @validates_schema
    def ordered(self, data, **kwargs):
        arrival, departure = data.get("arrival_on"), data.get("departure_on")
        if arrival and departure and departure <= arrival:
            raise ValidationError(T("Must be after the arrival.").format(), "departure_on")


class OpenJourneySchema(JourneyProfileSchema):
    patient_id = Id(metadata={"description": "Cluster staff: an existing patient account "
                                             "(a member's staff give `patient_email`)."})
    patient_email = fields.Email(validate=length(3, 254), metadata={
        "description": "Staff: the patient's e-mail (an account is made if none exists)."})
    patient_name = Text(1, 200, metadata={
        "description": "Staff: the patient's name, for a new account."})
    entry_provider_id = Id(metadata={
        "description": "Coordinators: the member whose window the patient came through "
                       "(member staff always open at their own)."})


class ItemInSchema(Schema):
    offer_id = Id(required=True)
    start_on = Day(required=True)
    days = fields.Integer(strict=True, validate=in_range(1, 365), load_default=None)
    quantity = fields.Integer(strict=True, validate=in_range(1, 100), load_default=1)
    companions = fields.Integer(strict=True, validate=in_range(0, 20), load_default=0)
    borne_by_provider_id = Id(allow_none=True, load_default=None)


class ItemUpdateSchema(Schema):
    offer_id = Id(metadata={"description": "Swap the item for another offer."})
    start_on = Day()
    days = fields.Integer(strict=True, validate=in_range(1, 365))
    quantity = fields.Integer(strict=True, validate=in_range(1, 100))
    companions = fields.Integer(strict=True, validate=in_range(0, 20))


class ItemSchema(Schema):
    id = fields.Integer()
    offer_id = fields.Integer()
    provider_id = fields.Function(lambda i: i.offer.provider_id)
    provider_name = fields.Function(lambda i: i.offer.provider.name)
    chain_link = fields.Function(lambda i: i.offer.chain_link.value)
    chain_link_title = fields.Function(lambda i: translated(CHAIN_LINK_TITLES[i.offer.chain_link]))
    title = fields.Method("get_title", allow_none=True)
    start_on = fields.Date()
    days = fields.Integer()
    end_on = fields.Method("get_end_on", metadata={"type": "string", "format": "date"})
    quantity = fields.Integer()
    companions = fields.Integer()
    borne_by_provider_id = fields.Integer(allow_none=True)

    def get_title(self, item):
        text = offer_text(item.offer, content_language())[1]
        return text.title if text else None

    def get_end_on(self, item):
        return (item.start_on + timedelta(days=item.days)).isoformat()


class TransitionSchema(ReasonSchema):
    from_status = fields.Enum(JourneyStatus, by_value=True, allow_none=True)
    to_status = fields.Enum(JourneyStatus, by_value=True)
    actor_id = fields.Integer(allow_none=True)
    at = fields.DateTime()


class JourneySchema(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    patient_name = fields.Function(lambda j: j.patient.full_name)
    opened_by_id = fields.Integer()
    entry_provider_id = fields.Integer(allow_none=True)
    coordinator_id = fields.Integer(allow_none=True)
    template_id = fields.Integer(allow_none=True)
    status = fields.Enum(JourneyStatus, by_value=True)
    status_title = fields.Function(lambda j: str(JOURNEY_STATUS_TITLES[j.status]))
    adults = fields.Integer()
    children = fields.Integer()
    nationality = fields.String(allow_none=True)
    residence = fields.String(allow_none=True)
    language = fields.String()
    currency = fields.String()
    arrival_on = fields.Date(allow_none=True)
    departure_on = fields.Date(allow_none=True)
    treatment_start_on = fields.Date(allow_none=True)
    items = fields.List(fields.Nested(ItemSchema))
    transitions = fields.List(fields.Nested(TransitionSchema))
    quote_versions = fields.Function(lambda j: [q.version for q in j.quotes])


class JourneyQuerySchema(Pagination):
    status = fields.Enum(JourneyStatus, by_value=True)


class JourneyPageSchema(Schema):
    items = fields.List(fields.Nested(JourneySchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class CoordinatorSchema(Schema):
    coordinator_id = Id(required=True, allow_none=True)


class StatusReasonSchema(Schema):
    reason = fields.String(load_default="", validate=length(0, 2000))


class ApplyTemplateSchema(Schema):
    template_id = Id(required=True)
    arrival_on = Day(load_default=None, allow_none=True)


class PlanInSchema(Schema):
    arrival_on = Day(load_default=None, allow_none=True, metadata={
        "description": "Plan from this arrival (default: the journey's)."})
    treatment_start_on = Day(load_default=None, allow_none=True, metadata={
        "description": "Or plan around this wished start of the treatment."})
    treatment_start = Day(load_default=None, allow_none=True, metadata={
        "deprecated": True, "description": "Deprecated: the old name of "
        "`treatment_start_on`, read only when that is not sent."})

    @post_load
    def one_name(self, data, **kwargs):
        alias = data.pop("treatment_start")
        if data["treatment_start_on"] is None:
            data["treatment_start_on"] = alias
        return data


class ViolationSchema(Schema):
    code = fields.String()
    item_id = fields.Function(lambda v: int(v.item_key.partition("#")[0])
                              if v.item_key and v.item_key.partition("#")[0].isdigit()
                              else None, allow_none=True)
    message = fields.Function(lambda v: str(v.message))
    blocking = fields.Boolean()


class CheckResultSchema(Schema):
    ok = fields.Boolean()
    violations = fields.List(fields.Nested(ViolationSchema))


class PlanResultSchema(CheckResultSchema):
    journey = fields.Nested(JourneySchema)


class AlternativeSchema(Schema):
    offer_id = fields.Function(lambda a: a.offer.id)
    provider_name = fields.Function(lambda a: a.offer.provider.name)
    title = fields.Method("get_title", allow_none=True)
    procedure = fields.Function(lambda a: a.offer.procedure.value if a.offer.procedure
                                else None, allow_none=True, metadata={
                                    "description": "What it treats (the replaced line's "
                                    "procedure for a medical line)."})
    unit_price = Money(lambda a: (a.price.amount, a.price.currency) if a.price is not None
                       else None, allow_none=True,
                       metadata={"description": "On the line's first day, in the journey's "
                                 "currency at today's rate; null without an exchange "
                                 "rate."})
    original_price = Money(lambda a: (a.original.amount, a.original.currency), metadata={
        "description": "The same, in the offer's own currency."})

    def get_title(self, alternative):
        text = offer_text(alternative.offer, content_language())[1]
        return text.title if text else None


# --- quotes -------------------------------------------------------------------------

class QuoteLineSchema(Schema):
    position = fields.Integer()
    kind = fields.Enum(QuoteLineKind, by_value=True)
    journey_item_id = fields.Integer(allow_none=True)
    offer_id = fields.Integer(allow_none=True)
    provider_id = fields.Integer(allow_none=True)
    provider_name = fields.String()
    chain_link = fields.Enum(ChainLink, by_value=True, allow_none=True)
    title = fields.String()
    start_on = fields.Date(allow_none=True)
    days = fields.Integer()
    quantity = fields.Integer()
    companions = fields.Integer()
    unit_price = Money(lambda line: (line.unit_price_minor, line.offer_currency))
    total_in_offer_currency = Money(lambda line: (line.total_offer_minor, line.offer_currency))
    total = Money(lambda line: (line.total_minor, line.quote.currency))
    covered = Money(lambda line: (line.covered_minor or 0, line.quote.currency), metadata={
        "description": "The insurer's share of the line (0 when not covered)."})
    patient_pays = Money(lambda line: (line.total_minor - (line.covered_minor or 0),
                                       line.quote.currency))
    rate = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
    rate_on = fields.Date(allow_none=True)
    borne_by_provider_id = fields.Integer(allow_none=True)
    inclusions = fields.List(fields.String())
    exclusions = fields.List(fields.String())
    cancellation_terms = fields.List(fields.Dict())


class QuoteSchema(Schema):
    id = fields.Integer()
    journey_id = fields.Integer()
    version = fields.Integer()
    currency = fields.String()
    subtotal = Money(lambda q: (q.subtotal_minor, q.currency))
    discount = Money(lambda q: (q.discount_minor, q.currency))
    covered = Money(lambda q: (q.covered_minor or 0, q.currency), metadata={
        "description": "What the patient's insurer covers (not in the total)."})
    total = Money(lambda q: (q.total_minor, q.currency), metadata={
        "description": "What the patient pays: the lines less the discount and the "
                       "insurer's share."})
    deposit_percent = fields.Integer()
    deposit = Money(lambda q: (q.deposit_minor, q.currency))
    balance = Money(lambda q: (q.balance_minor, q.currency))
    due_now = Money(lambda q: (q.due_now_minor, q.currency),
                    metadata={"description": "What checkout charges now: the deposit, or "
                              "the total when there is none."})
    balance_due_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(QuoteLineSchema))


# --- the quote answer without marshmallow --------------------------------------------------
# A quote is priced on a hot path: its answer is written by these functions, field for
# field what :class:`QuoteSchema` (the documented contract) dumps;
# tests/journey/builder/test_quote_answer.py compares the two.

def _iso(value) -> str | None:
    """A date or a time as the schema's ``Date`` and ``DateTime`` fields write it."""
    return value.isoformat() if value is not None else None


def _quote_line_out(line, currency: str, locale: str) -> dict:
    covered = line.covered_minor or 0
    return {
        "position": line.position, "kind": line.kind.value,
        "journey_item_id": line.journey_item_id, "offer_id": line.offer_id,
        "provider_id": line.provider_id, "provider_name": line.provider_name,
        "chain_link": line.chain_link.value if line.chain_link is not None else None,
        "title": line.title, "start_on": _iso(line.start_on), "days": line.days,
        "quantity": line.quantity, "companions": line.companions,
        "unit_price": minor_json(line.unit_price_minor, line.offer_currency, locale),
        "total_in_offer_currency": minor_json(line.total_offer_minor, line.offer_currency,
                                              locale),
        "total": minor_json(line.total_minor, currency, locale),
        "covered": minor_json(covered, currency, locale),
        "patient_pays": minor_json(line.total_minor - covered, currency, locale),
        "rate": None if line.rate is None else format(line.rate, "f"),
        "rate_on": _iso(line.rate_on), "borne_by_provider_id": line.borne_by_provider_id,
        "inclusions": list(line.inclusions), "exclusions": list(line.exclusions),
        "cancellation_terms": [dict(term) for term in line.cancellation_terms],
    }


def quote_answer(quote) -> dict:
    """What :class:`QuoteSchema` dumps of ``quote``, written directly (the reader's
    locale asked for once)."""
    locale = str(get_locale() or "en")
    currency = quote.currency
    return {
        "id": quote.id, "journey_id": quote.journey_id, "version": quote.version,
        "currency": currency,
        "subtotal": minor_json(quote.subtotal_minor, currency, locale),
        "discount": minor_json(quote.discount_minor, currency, locale),
        "covered": minor_json(quote.covered_minor or 0, currency, locale),
        "total": minor_json(quote.total_minor, currency, locale),
        "deposit_percent": quote.deposit_percent,
        "deposit": minor_json(quote.deposit_minor, currency, locale),
        "balance": minor_json(quote.balance_minor, currency, locale),
        "due_now": minor_json(quote.due_now_minor, currency, locale),
        "balance_due_on": _iso(quote.balance_due_on),
        "created_at": _iso(quote.created_at), "expires_at": _iso(quote.expires_at),
        "accepted_at": _iso(quote.accepted_at),
        "lines": [_quote_line_out(line, currency, locale) for line in quote.lines],
    }


class DiffArgs(Schema):
    # A query string carries text: a strict integer would refuse every value.
    against = fields.Integer(required=True, validate=in_range(1, MAX_ID), metadata={
        "description": "The id of another quote of the same journey."})


class LineChangeSchema(Schema):
    change = fields.String()
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields")
    before = fields.Nested(QuoteLineSchema, allow_none=True)
    after = fields.Nested(QuoteLineSchema, allow_none=True)



# --- checkout -----------------------------------------------------------------------

class CheckoutInSchema(Schema):
    payment_method = fields.String(load_default=None, allow_none=True,
                                   validate=length(3, 100), metadata={
                                       "description": "A Stripe PaymentMethod id to confirm "
                                       "with at once (e.g. from Stripe.js)."})


class JourneyBookingSchema(Schema):
    booking = fields.Nested(BookingOutSchema)
    alternatives = fields.Method("get_alternatives", metadata={
        "type": "object", "additionalProperties": {
            "type": "array", "items": {"$ref": "#/components/schemas/Alternative"}},
        "description": "For each line its member declined or cancelled (by line id): "
                       "offers of the same link free on those dates."})

    def get_alternatives(self, found):
        return {str(line_id): AlternativeSchema(many=True).dump(options)
                for line_id, options in found.alternatives.items()}


class BearingRequestInSchema(Schema):
    provider_id = Id(required=True, metadata={"description": "The member asked to pay."})
    note = fields.String(load_default="", validate=length(0, 500))


class BearingDecisionSchema(Schema):
    accept = fields.Boolean(required=True)


class BearingRequestSchema(Schema):
    """A request that a member pay for a line instead of the patient."""

    id = fields.Integer()
    journey_id = fields.Integer()
    item_id = fields.Integer(allow_none=True)
    provider_id = fields.Integer()
    amount = Money(lambda r: (r.amount_minor, r.currency))
    note = fields.String()
    status = fields.Enum(BearingStatus, by_value=True)
    status_title = fields.Function(lambda r: str(BEARING_STATUS_TITLES[r.status]))
    requested_by_id = fields.Integer()
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
