"""Marshmallow schemas of the catalogue API (input validation and output shape)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import get_locale
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from journey.core.accounts.auth import current_actor
from journey.core.api import (
    Country,
    Currency,
    DecimalString,
    Flag,
    Language,
    Money,
    NotBlank,
    Number,
    TimeZone,
    minor_json,
    web_address,
)
from journey.core.i18n import content_language, translated
from journey.core.types import MAX_ID
from journey.core.validation import Day, T, in_range, length
from providers.models import (
    ACCREDITATION_STATUS_TITLES,
    CHAIN_LINK_TITLES,
    MEMBER_KIND_TITLES,
    AccreditationStatus,
    CapacityUnit,
    ChainLink,
    ConfirmationMode,
    DocumentKind,
    DurationUnit,
    MemberKind,
    MemberStatus,
    OfferStatus,
    PriceUnit,
    QuestionKind,
)
from providers.procedures import PROCEDURE_TITLES, Procedure
from providers.services.accreditations import visible_accreditations
from providers.services.availability import MAX_WINDOW_DAYS
from providers.services.members import member_description
from providers.services.offers import offer_text
from providers.services.search import RANKED_FROM_REVIEWS, SORTS

MAX_MINOR = 10**11  # a billion in major units of a two-decimal currency


def Minor(**kw):  # noqa: N802 - a field factory
    return fields.Integer(strict=True, validate=in_range(0, MAX_MINOR), **kw)


#: A decimal travels as a string, so no digit is lost to a binary float.
DECIMAL_STRING = {"type": "string", "format": "decimal", "example": "11.7000000000"}
#: An offer's VAT rate: 0 to 99.99, at most two decimals.
VAT_PATTERN = r"^[1-9]?[0-9](?:\.[0-9]{1,2})?$"


#: A rate above 0 and below a billion, with at most ten decimals.
RATE_PATTERN = ("^(?:[1-9][0-9]{0,8}(?:\\.[0-9]{1,10})?|0\\.(?:"
                + "|".join(f"{'0' * n}[1-9][0-9]{{0,{9 - n}}}" for n in range(10)) + "))$")


def _positive_rate(value: Decimal) -> None:
    if not (Decimal(0) < value < Decimal(10**9)):
        raise ValidationError(T("Must be a positive number.").format())


def Text(low: int, high: int, **kw):  # noqa: N802 - a field factory
    """A name that must hold more than white space (services strip it)."""
    return fields.String(validate=[length(low, high), NotBlank()], **kw)


#: Maps keyed by language: OpenAPI 3.0 cannot constrain the keys, so they say so.
BY_LANGUAGE = {"description": "Keyed by language (a `LanguageCode`).",
               "x-propertyNames": {"$ref": "#/components/schemas/LanguageCode"}}


class Pagination(Schema):
    page = fields.Integer(load_default=1, strict=False, validate=in_range(1, 100000))
    per_page = fields.Integer(load_default=20, strict=False, validate=in_range(1, 100))


# --- members -----------------------------------------------------------------------

class AccreditationSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = Text(1, 200, required=True)
    issuer = Text(1, 200, required=True)
    valid_until = Day(load_default=None, allow_none=True)


class AccreditationChangeSchema(Schema):
    name = Text(1, 200)
    issuer = Text(1, 200)
    valid_until = Day(allow_none=True)


class AccreditationOutSchema(Schema):
    """An accreditation as the public sees it (only verified, unexpired ones), with its
    state for the member's staff and the cluster, who see every one."""

    id = fields.Integer()
    name = fields.String()
    issuer = fields.String()
    valid_until = fields.Date(allow_none=True)
    status = fields.Enum(AccreditationStatus, by_value=True)


class EvidenceSchema(Schema):
    filename = fields.String(attribute="evidence_filename")
    content_type = fields.String(attribute="evidence_content_type")
    size = fields.Integer(attribute="evidence_size")


class AccreditationDetailSchema(AccreditationOutSchema):
    """An accreditation with its state, the admin's reason and its evidence (the
    member's staff and the cluster)."""

    provider_id = fields.Integer()
    status_title = fields.Function(lambda a: str(ACCREDITATION_STATUS_TITLES[a.status]))
    status_reason = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    evidence = fields.Nested(EvidenceSchema, allow_none=True)


class VisibleAccreditations(fields.List):
    """A member's accreditations as the reader may see them
    (:func:`~providers.services.accreditations.visible_accreditations`): a list of
    :class:`AccreditationOutSchema`, so documented (its component registered) as such."""

    def __init__(self, **kwargs):
        super().__init__(fields.Nested(AccreditationOutSchema), dump_only=True, **kwargs)

    def serialize(self, attr, obj, accessor=None, **kwargs):
        return self._serialize(visible_accreditations(current_actor(), obj), attr, obj,
                               **kwargs)


class AccreditationQuerySchema(Schema):
    status = fields.Enum(AccreditationStatus, by_value=True,
                         load_default=AccreditationStatus.PENDING)


class AccreditationReasonSchema(Schema):
    reason = Text(1, 2000, required=True)


class EvidenceFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class MemberProfileSchema(Schema):
    name = Text(1, 200)
    kind = fields.Enum(MemberKind, by_value=True)
    city = Text(1, 100)
    country = Country()
    latitude = Number(allow_nan=False, allow_none=True, validate=in_range(-90, 90))
    longitude = Number(allow_nan=False, allow_none=True, validate=in_range(-180, 180))
    timezone = TimeZone()
    languages = fields.List(Language(), validate=length(1, 30))
    default_language = Language()
    currency = Currency()
    email = fields.Email(allow_none=True, validate=length(3, 254))
    phone = fields.String(allow_none=True, validate=length(3, 40))
    website = fields.String(allow_none=True, validate=[length(8, 300), web_address()])
    street_address = Text(3, 300, allow_none=True)
    legal_name = Text(2, 200, allow_none=True)
    registration_number = Text(2, 40, allow_none=True)
    vat_number = Text(2, 40, allow_none=True)


class CreateMemberSchema(MemberProfileSchema):
    name = Text(1, 200, required=True)
    kind = fields.Enum(MemberKind, by_value=True, required=True)
    city = Text(1, 100, required=True)
    country = Country(required=True)
    timezone = TimeZone(load_default="Europe/Vilnius")
    slug = fields.String(validate=validate.Regexp(r"^[a-z0-9-]{1,60}$",
                                                  error=T("Use lower-case letters, digits "
                                                          "and dashes.")))
    descriptions = fields.Dict(keys=Language(),
                               values=fields.String(validate=length(0, 20000)),
                               validate=length(0, 30), metadata=BY_LANGUAGE)
    accreditations = fields.List(fields.Nested(AccreditationSchema), validate=length(0, 50))


class MemberStatusSchema(Schema):
    status = fields.Enum(MemberStatus, by_value=True, required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=length(0, 2000))


class MemberTextSchema(Schema):
    description = fields.String(required=True, validate=length(0, 20000))


class MemberQuerySchema(Pagination):
    kind = fields.Enum(MemberKind, by_value=True)
    city = fields.String(validate=length(1, 100))
    status = fields.Enum(MemberStatus, by_value=True)


class MemberSchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    kind = fields.Enum(MemberKind, by_value=True)
    kind_title = fields.Function(lambda p: str(MEMBER_KIND_TITLES[p.kind]))
    name = fields.String()
    city = fields.String()
    country = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    timezone = fields.String()
    languages = fields.List(fields.String())
    default_language = fields.String()
    currency = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    street_address = fields.String(allow_none=True)
    legal_name = fields.String(allow_none=True)
    registration_number = fields.String(allow_none=True)
    vat_number = fields.String(allow_none=True)
    status = fields.Enum(MemberStatus, by_value=True)
    description = fields.Method("get_description", allow_none=True)
    description_language = fields.Method("get_description_language", allow_none=True)
    accreditations = VisibleAccreditations(metadata={
        "description": "Verified, unexpired accreditations; every one with its state "
                       "for the member's staff and the cluster."})

    def _text(self, provider):
        return member_description(provider, content_language())

    def get_description(self, provider):
        return self._text(provider)[1]

    def get_description_language(self, provider):
        return self._text(provider)[0]


class MemberPageSchema(Schema):
    items = fields.List(fields.Nested(MemberSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class MemberBriefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.Enum(MemberKind, by_value=True)
    city = fields.String()
    country = fields.String()


# --- offers ------------------------------------------------------------------------

class OfferTextSchema(Schema):
    language = fields.String(dump_only=True)
    title = Text(1, 200, required=True)
    description = fields.String(load_default="", validate=length(0, 20000))
    inclusions = fields.List(fields.String(validate=length(1, 300)), load_default=list,
                             validate=length(0, 50))
    exclusions = fields.List(fields.String(validate=length(1, 300)), load_default=list,
                             validate=length(0, 50))


TIERS_RULE = {"description": "Each `days_before` at most once; cancelling later never "
                             "refunds more than cancelling earlier."}


class CancellationTierSchema(Schema):
    days_before = fields.Integer(required=True, strict=True, validate=in_range(0, 3650))
    refund_percent = fields.Integer(required=True, strict=True, validate=in_range(0, 100))


class PriceRuleSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(load_default="", validate=length(0, 100))
    starts_on = Day(required=True)
    ends_on = Day(required=True, metadata={"description": "Not before `starts_on`."})
    price_minor = Minor(required=True)
    companion_price_minor = Minor(load_default=None, allow_none=True)

    @validates_schema
    def ordered(self, data, **kwargs):
        if "starts_on" in data and "ends_on" in data and data["ends_on"] < data["starts_on"]:
            raise ValidationError(T("Must not be before the start.").format(), "ends_on")


class UpdatePriceRuleSchema(PriceRuleSchema):
    name = fields.String(validate=length(0, 100))
    starts_on = Day()
    ends_on = Day()
    price_minor = Minor()
    companion_price_minor = Minor(allow_none=True)


class PriceRuleOutSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    price_minor = fields.Integer()
    companion_price_minor = fields.Integer(allow_none=True)


class OfferTermsSchema(Schema):
    chain_link = fields.Enum(ChainLink, by_value=True)
    procedure = fields.Enum(Procedure, by_value=True, allow_none=True, metadata={
        "description": "What it treats; must fit its `chain_link` (a knee replacement is "
                       "a consultation, treatment or aftercare, never a transfer)."})
    currency = Currency()
    price_unit = fields.Enum(PriceUnit, by_value=True)
    base_price_minor = Minor()
    companion_price_minor = Minor(allow_none=True)
    min_quantity = fields.Integer(strict=True, validate=in_range(1, 10000))
    max_quantity = fields.Integer(strict=True, allow_none=True, validate=in_range(1, 10000),
                                  metadata={"description": "Not below `min_quantity` (the "
                                            "one sent, or the offer's)."})
    capacity_unit = fields.Enum(CapacityUnit, by_value=True)
    lead_time_days = fields.Integer(strict=True, validate=in_range(0, 365))
    duration_value = fields.Integer(strict=True, validate=in_range(0, 365))
    duration_unit = fields.Enum(DurationUnit, by_value=True)
    confirmation_mode = fields.Enum(ConfirmationMode, by_value=True)
    status = fields.Enum(OfferStatus, by_value=True)
    requires_consultation = Flag(metadata={
        "description": "Treatment: a consultation or diagnostics must come first."})
    recovery_days = fields.Integer(strict=True, validate=in_range(0, 365), metadata={
        "description": "Treatment: days after it without leisure."})
    fit_to_fly_days = fields.Integer(strict=True, validate=in_range(0, 365), metadata={
        "description": "Days after it before the patient may fly home."})
    min_days_after_treatment = fields.Integer(strict=True, validate=in_range(0, 365), metadata={
        "description": "Rehabilitation: days it must start after the treatment."})
    vat_percent = DecimalString(VAT_PATTERN, example="12", metadata={
        "description": "The VAT rate its prices include, 0 to 99.99 (0 for medical "
                       "services); invoices show it per line."})

    @validates_schema
    def quantities(self, data, **kwargs):
        low, high = data.get("min_quantity"), data.get("max_quantity")
        if low is not None and high is not None and high < low:
            raise ValidationError(T("Must not be less than the minimum quantity.").format(),
                                  "max_quantity")


class CreateOfferSchema(OfferTermsSchema):
    chain_link = fields.Enum(ChainLink, by_value=True, required=True)
    price_unit = fields.Enum(PriceUnit, by_value=True, required=True)
    base_price_minor = Minor(required=True)
    capacity_unit = fields.Enum(CapacityUnit, by_value=True, required=True)
    duration_unit = fields.Enum(DurationUnit, by_value=True, required=True)
    texts = fields.Dict(keys=Language(), values=fields.Nested(OfferTextSchema),
                        validate=length(0, 30), metadata=BY_LANGUAGE)
    cancellation_tiers = fields.List(fields.Nested(CancellationTierSchema),
                                     validate=length(0, 20), metadata=TIERS_RULE)


class CancellationTiersSchema(Schema):
    tiers = fields.List(fields.Nested(CancellationTierSchema), required=True,
                        validate=length(0, 20), metadata=TIERS_RULE)


class OfferBaseOut(Schema):
    """Fields shared by an offer in a list and an offer on its own."""

    id = fields.Integer()
    chain_link = fields.Enum(ChainLink, by_value=True)
    chain_link_title = fields.Function(lambda o: translated(CHAIN_LINK_TITLES[o.chain_link]))
    procedure = fields.Enum(Procedure, by_value=True, allow_none=True)
    procedure_title = fields.Function(lambda o: translated(PROCEDURE_TITLES[o.procedure])
                                      if o.procedure else None, allow_none=True)
    status = fields.Enum(OfferStatus, by_value=True)
    currency = fields.String()
    price_unit = fields.Enum(PriceUnit, by_value=True)
    min_quantity = fields.Integer()
    max_quantity = fields.Integer(allow_none=True)
    capacity_unit = fields.Enum(CapacityUnit, by_value=True)
    lead_time_days = fields.Integer()
    duration_value = fields.Integer()
    duration_unit = fields.Enum(DurationUnit, by_value=True)
    confirmation_mode = fields.Enum(ConfirmationMode, by_value=True)
    requires_consultation = fields.Boolean()
    recovery_days = fields.Integer()
    fit_to_fly_days = fields.Integer()
    min_days_after_treatment = fields.Integer()
    vat_percent = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
    provider = fields.Nested(MemberBriefSchema)


class OfferSchema(OfferBaseOut):
    base_price = Money(lambda o: (o.base_price_minor, o.currency))
    companion_price = Money(lambda o: (o.companion_price_minor, o.currency)
                            if o.companion_price_minor is not None else None, allow_none=True)
    base_price_minor = fields.Integer()
    companion_price_minor = fields.Integer(allow_none=True)
    language = fields.Method("get_language", allow_none=True)
    title = fields.Method("get_title", allow_none=True)
    description = fields.Method("get_description", allow_none=True)
    inclusions = fields.Method("get_inclusions")
    exclusions = fields.Method("get_exclusions")
    languages = fields.Function(lambda o: sorted(t.language for t in o.texts))
    price_rules = fields.List(fields.Nested(PriceRuleOutSchema))
    cancellation_tiers = fields.List(fields.Nested(CancellationTierSchema))

    def _text(self, offer):
        return offer_text(offer, content_language())

    def get_language(self, offer):
        return self._text(offer)[0]

    def get_title(self, offer):
        text = self._text(offer)[1]
        return text.title if text else None

    def get_description(self, offer):
        text = self._text(offer)[1]
        return text.description if text else None

    def get_inclusions(self, offer):
        text = self._text(offer)[1]
        return list(text.inclusions) if text else []

    def get_exclusions(self, offer):
        text = self._text(offer)[1]
        return list(text.exclusions) if text else []


class OfferTextOutSchema(Schema):
    language = fields.String()
    title = fields.String()
    description = fields.String()
    inclusions = fields.List(fields.String())
    exclusions = fields.List(fields.String())


class OfferTextsSchema(Schema):
    texts = fields.List(fields.Nested(OfferTextOutSchema))


class OfferSearchArgs(Pagination):
    lang = fields.String(validate=length(2, 20), metadata={
        "description": "The language of the texts (unknown ones fall back to English)."})
    currency = Currency()
    chain_link = fields.Enum(ChainLink, by_value=True)
    procedure = fields.Enum(Procedure, by_value=True)
    city = fields.String(validate=length(1, 100))
    member_kind = fields.Enum(MemberKind, by_value=True)
    provider_id = fields.Integer(validate=in_range(1, MAX_ID))
    q = fields.String(validate=length(1, 100))
    price_min = fields.Integer(validate=in_range(0, MAX_MINOR),
                               metadata={"description": "Minor units of `currency`."})
    price_max = fields.Integer(validate=in_range(0, MAX_MINOR),
                               metadata={"description": "Minor units of `currency`."})
    start = Day(metadata={"description": "First day that must be available."})
    end = Day(metadata={"description": "Last day that must be available (inclusive); "
                        "with `start`, not before it."})
    quantity = fields.Integer(load_default=1, validate=in_range(1, 10000))
    sort = fields.String(load_default="relevance",
                         validate=validate.OneOf(list(SORTS),
                                                 error=T("Must be one of: {choices}.")),
                         metadata={"description": "`relevance` (the default): how well "
                                   "`q` matches (title before description), then the step of "
                                   "the trip (treatments first), then the member's published "
                                   f"average rating (members with fewer than "
                                   f"{RANKED_FROM_REVIEWS} published "
                                   "reviews after the rated ones), then the price. `rating`: "
                                   "the best rated members' offers first (more reviews first "
                                   "on a tie), then as `relevance`. No order depends on "
                                   "anything a member pays."})


class RateOutSchema(Schema):
    source = fields.String()
    target = fields.String()
    rate = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
    effective_on = fields.Date(allow_none=True)


class SearchHitSchema(Schema):
    offer = fields.Nested(OfferBaseOut)
    language = fields.String(allow_none=True)
    title = fields.Function(lambda h: h.text.title if h.text else None, allow_none=True)
    summary = fields.Function(lambda h: h.text.summary if h.text else None, allow_none=True)
    unit_price = Money(lambda h: (h.price.amount, h.price.currency))
    price = Money(lambda h: (h.converted.amount, h.converted.currency)
                  if h.converted is not None else None, allow_none=True,
                  metadata={"description": "The unit price in the asked currency; "
                            "null when no exchange rate is known."})
    rate = fields.Nested(RateOutSchema, allow_none=True)


class SearchResultSchema(Schema):
    items = fields.List(fields.Nested(SearchHitSchema), attribute="hits")
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    currency = fields.String()
    price_date = fields.Date()


# --- the search answer without marshmallow ------------------------------------------------
# The catalogue search is the hottest path: its answer is written by these functions,
# field for field what :class:`SearchResultSchema` (the documented contract) dumps;
# tests/providers/test_search_answer.py compares the two on a set of searches.

def _value(member) -> str | None:
    return member.value if member is not None else None


def _offer_out(offer, title=translated) -> dict:
    provider = offer.provider
    return {
        "id": offer.id, "chain_link": _value(offer.chain_link),
        "chain_link_title": title(CHAIN_LINK_TITLES[offer.chain_link]),
        "procedure": _value(offer.procedure),
        "procedure_title": title(PROCEDURE_TITLES[offer.procedure])
        if offer.procedure else None,
        "status": _value(offer.status), "currency": offer.currency,
        "price_unit": _value(offer.price_unit), "min_quantity": offer.min_quantity,
        "max_quantity": offer.max_quantity, "capacity_unit": _value(offer.capacity_unit),
        "lead_time_days": offer.lead_time_days, "duration_value": offer.duration_value,
        "duration_unit": _value(offer.duration_unit),
        "confirmation_mode": _value(offer.confirmation_mode),
        "requires_consultation": offer.requires_consultation,
        "recovery_days": offer.recovery_days, "fit_to_fly_days": offer.fit_to_fly_days,
        "min_days_after_treatment": offer.min_days_after_treatment,
        "vat_percent": None if offer.vat_percent is None else format(offer.vat_percent, "f"),
        "provider": {"id": provider.id, "name": provider.name, "kind": _value(provider.kind),
                     "city": provider.city, "country": provider.country},
    }


def _hit_out(hit, title=translated, locale: str | None = None) -> dict:
    rate = hit.rate
    return {
        "offer": _offer_out(hit.offer, title), "language": hit.language,
        "title": hit.text.title if hit.text else None,
        "summary": hit.text.summary if hit.text else None,
        "unit_price": minor_json(hit.price.amount, hit.price.currency, locale),
        "price": minor_json(hit.converted.amount, hit.converted.currency, locale)
        if hit.converted is not None else None,
        "rate": None if rate is None else {
            "source": rate.source, "target": rate.target, "rate": format(rate.rate, "f"),
            "effective_on": rate.effective_on.isoformat() if rate.effective_on else None},
    }


def search_answer(result) -> dict:
    """What :class:`SearchResultSchema` dumps of ``result``, written directly (each
    chain link's and procedure's title translated once per answer, the locale asked for
    once)."""
    titles: dict[int, str] = {}
    locale = str(get_locale() or "en")

    def title(label) -> str:
        key = id(label)
        if key not in titles:
            titles[key] = translated(label)
        return titles[key]

    return {"items": [_hit_out(hit, title, locale) for hit in result.hits],
            "total": result.total,
            "page": result.page, "per_page": result.per_page, "currency": result.currency,
            "price_date": result.price_date.isoformat()}


class CapacitySchema(Schema):
    start = Day(required=True)
    end = Day(required=True, metadata={"description": "Not before `start`, and at most "
                                       f"{MAX_WINDOW_DAYS} days after it."})
    capacity = fields.Integer(required=True, strict=True, validate=in_range(0, 100000))
    weekdays = fields.List(fields.Integer(strict=True, validate=in_range(0, 6)), load_default=None,
                           allow_none=True, validate=length(1, 7))


class CalendarArgs(Schema):
    start = Day(required=True)
    end = Day(required=True, metadata={"description": "Not before `start`, and at most "
                                       f"{MAX_WINDOW_DAYS} days after it."})


class CalendarDaySchema(Schema):
    day = fields.Date()
    capacity = fields.Integer()
    used = fields.Integer()
    available = fields.Integer()


class CapacityResultSchema(Schema):
    days_written = fields.Integer()


# --- exchange rates ----------------------------------------------------------------

class ExchangeRateSchema(Schema):
    id = fields.Integer(dump_only=True)
    base = Currency(required=True)
    quote = Currency(required=True, metadata={"description": "Not the base currency."})
    rate = DecimalString(RATE_PATTERN, example="11.7000000000", required=True, places=10,
                         validate=_positive_rate, metadata={
                             "description": "`1 base = rate quote`, above 0, at most ten "
                                            "decimals."})
    effective_on = Day(required=True)


class ExchangeRateOutSchema(Schema):
    id = fields.Integer()
    base = fields.String()
    quote = fields.String()
    rate = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
    effective_on = fields.Date()


class RateQuerySchema(Schema):
    base = Currency()
    quote = Currency()


# --- what a treating member asks of the patient's case ------------------------------------

class QuestionTextSchema(Schema):
    label = Text(1, 500, required=True)
    help = fields.String(load_default="", validate=length(0, 2000))
    choices = fields.List(fields.String(validate=length(1, 200)), load_default=list,
                          validate=length(0, 30),
                          metadata={"description": "Labels of `choices`, in their order."})


class QuestionSchema(Schema):
    id = fields.Integer(dump_only=True)
    key = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9_]{0,39}$", error=T("A key is 1 to 40 lower-case letters, digits or "
                                          "underscores, starting with a letter.")),
                        metadata={"description": "Stable within the offer: a question "
                                                 "sent again with its key keeps its answers."})
    kind = fields.Enum(QuestionKind, by_value=True, required=True)
    required = Flag(load_default=True)
    choices = fields.List(fields.String(validate=[length(1, 60), NotBlank()]),
                          load_default=list, validate=length(0, 30),
                          metadata={"description": "The values of a `choice` question "
                                                   "(at least two, all different)."})
    texts = fields.Dict(keys=fields.String(validate=length(2, 20)),
                        values=fields.Nested(QuestionTextSchema), required=True,
                        validate=length(1, 20), metadata=BY_LANGUAGE)


class DocumentRequestSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.Enum(DocumentKind, by_value=True, required=True)
    required = Flag(load_default=True)
    notes = fields.Dict(keys=fields.String(validate=length(2, 20)),
                        values=fields.String(validate=length(0, 1000)), load_default=dict,
                        validate=length(0, 20), metadata=BY_LANGUAGE)


class CaseRequirementsSchema(Schema):
    requires_review = Flag(required=True, metadata={
        "description": "The member reviews the patient's case before the package can be "
                       "paid."})
    questions = fields.List(fields.Nested(QuestionSchema), load_default=list,
                            validate=length(0, 60))
    documents = fields.List(fields.Nested(DocumentRequestSchema), load_default=list,
                            validate=length(0, 20))
