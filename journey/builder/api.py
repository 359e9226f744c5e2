"""Journey builder REST API: parse, call a service, serialise."""

from __future__ import annotations

from flask import jsonify, make_response, request
from flask.views import MethodView

from bookings.idempotency import answer_once
from bookings.schemas import BookingOutSchema
from journey.builder.schemas import (
    AlternativeSchema,
    ApplyTemplateSchema,
    BearingDecisionSchema,
    BearingRequestInSchema,
    BearingRequestSchema,
    CheckoutInSchema,
    CheckResultSchema,
    ClusterSettingsSchema,
    CoordinatorSchema,
    DiffArgs,
    ItemInSchema,
    ItemSchema,
    ItemUpdateSchema,
    JourneyBookingSchema,
    JourneyPageSchema,
    JourneyProfileSchema,
    JourneyQuerySchema,
    JourneySchema,
    LineChangeSchema,
    OpenJourneySchema,
    PlanInSchema,
    PlanResultSchema,
    QuoteSchema,
    StatusReasonSchema,
    TemplateInSchema,
    TemplateSchema,
    TemplateUpdateSchema,
    quote_answer,
)
from journey.builder.services import (
    booking_link,
    checkout,
    composition,
    journeys,
    payers,
    quotes,
    settings,
    templates,
)
from journey.core.accounts.auth import current_actor
from journey.core.api import (
    ADMIN,
    BEARER,
    CLUSTER,
    PATIENT,
    STAFF,
    Blueprint,
    errors,
    idempotent,
    link,
    links,
    roles,
)
from journey.core.i18n import content_language
from journey.core.types import ID_CONVERTER

ID = ID_CONVERTER
NEW = "$response.body#/id"

blp = Blueprint("journeys_api", __name__, url_prefix="",
                description="Package templates, journeys, rules, planner and quotes")


@blp.route("/cluster-settings")
class Settings(MethodView):
    @blp.response(200, ClusterSettingsSchema)
    def get(self):
        """Deposit, balance due days, quote validity and visa-free nationalities."""
        return settings.get_settings()

    @roles(ADMIN)
    @blp.arguments(ClusterSettingsSchema)
    @blp.response(200, ClusterSettingsSchema)
    def patch(self, data):
        """Change the cluster's settings (admin)."""
        return settings.update_settings(current_actor(), **data)


# --- templates -------------------------------------------------------------------------

@blp.route("/templates")
class Templates(MethodView):
    @blp.response(200, TemplateSchema(many=True))
    def get(self):
        """Published packages (and drafts to those who curate them)."""
        return templates.list_templates(current_actor())

    @roles(*STAFF)
    @blp.arguments(TemplateInSchema)
    @blp.response(201, TemplateSchema)
    @links(get=link("getTemplateItem", template_id=NEW),
           change=link("patchTemplateItem", template_id=NEW))
    def post(self, data):
        """Curate a package: ordered links relative to arrival, with a discount."""
        return templates.create_template(current_actor(), **data)


@blp.route(f"/templates/<{ID}:template_id>")
class TemplateItem(MethodView):
    @blp.response(200, TemplateSchema)
    def get(self, template_id):
        """A package template in the asked language."""
        return templates.get_template(current_actor(), template_id)

    @roles(*STAFF)
    @blp.arguments(TemplateUpdateSchema)
    @blp.response(200, TemplateSchema)
    def patch(self, data, template_id):
        """Change texts, links (replaced whole), discount or state."""
        return templates.update_template(current_actor(), template_id, **data)


# --- journeys ---------------------------------------------------------------------------

@blp.route("/journeys")
class Journeys(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(JourneyQuerySchema, location="query")
    @blp.response(200, JourneyPageSchema)
    def get(self, args):
        """Journeys you may see: yours (patient), your member's (staff), all (cluster)."""
        items, total = journeys.list_journeys(current_actor(), **args)
        return {"items": items, "total": total, "page": args["page"],
                "per_page": args["per_page"]}

    @blp.doc(security=BEARER)
    @idempotent()
    @blp.arguments(OpenJourneySchema)
    @blp.response(201, JourneySchema)
    @links(get=link("getJourneyItem", journey_id=NEW),
           change=link("patchJourneyItem", journey_id=NEW),
           add_item=link("postJourneyItems", journey_id=NEW),
           apply_template=link("postApplyTemplate", journey_id=NEW),
           check=link("getJourneyCheck", journey_id=NEW),
           plan=link("postJourneyPlan", journey_id=NEW),
           quote=link("postJourneyQuotes", journey_id=NEW),
           quotes=link("getJourneyQuotes", journey_id=NEW),
           cancel=link("postJourneyCancel", journey_id=NEW))
    def post(self, data):
        """Open a journey: for yourself (patient) or for a patient (any member's staff:
        the member becomes the journey's entry point)."""
        return answer_once("open-journey", data, lambda actor: journeys.open_journey(
            actor, **data), JourneySchema(), status=201)


@blp.route(f"/journeys/<{ID}:journey_id>")
class JourneyItem(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, JourneySchema)
    def get(self, journey_id):
        """A journey with its items and its history."""
        return journeys.get_journey(current_actor(), journey_id)

    @blp.doc(security=BEARER)
    @blp.arguments(JourneyProfileSchema)
    @blp.response(200, JourneySchema)
    def patch(self, data, journey_id):
        """Change the travellers, dates, language or currency."""
        return journeys.update_journey(current_actor(), journey_id, **data)


@blp.route(f"/journeys/<{ID}:journey_id>/cancel")
class JourneyCancel(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(StatusReasonSchema, required=False)
    @blp.response(200, JourneySchema)
    def post(self, data, journey_id):
        """Cancel the journey."""
        return journeys.cancel_journey(current_actor(), journey_id, **data)


@blp.route(f"/journeys/<{ID}:journey_id>/coordinator")
class JourneyCoordinator(MethodView):
    @roles(*CLUSTER)
    @blp.arguments(CoordinatorSchema)
    @blp.response(200, JourneySchema)
    def put(self, data, journey_id):
        """Assign a coordinator (cluster staff)."""
        return journeys.assign_coordinator(current_actor(), journey_id, data["coordinator_id"])


@blp.route(f"/journeys/<{ID}:journey_id>/items")
class JourneyItems(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(ItemInSchema)
    @blp.response(201, ItemSchema)
    @links(change=link("patchJourneyItemDetail", journey_id="$request.path.journey_id",
                       item_id=NEW),
           remove=link("deleteJourneyItemDetail", journey_id="$request.path.journey_id",
                       item_id=NEW),
           alternatives=link("getItemAlternatives", journey_id="$request.path.journey_id",
                             item_id=NEW))
    def post(self, data, journey_id):
        """Add any member's offer to the journey."""
        return journeys.add_item(current_actor(), journey_id, **data)


@blp.route(f"/journeys/<{ID}:journey_id>/items/<{ID}:item_id>")
class JourneyItemDetail(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(ItemUpdateSchema)
    @blp.response(200, ItemSchema)
    def patch(self, data, journey_id, item_id):
        """Move, resize or swap an item."""
        return journeys.update_item(current_actor(), journey_id, item_id, **data)

    @blp.doc(security=BEARER)
    @blp.response(204)
    def delete(self, journey_id, item_id):
        """Remove an item."""
        journeys.remove_item(current_actor(), journey_id, item_id)


@blp.route(f"/journeys/<{ID}:journey_id>/items/<{ID}:item_id>/bearing-requests")
class ItemBearingRequests(MethodView):
    @blp.doc(security=BEARER)
    @errors(409)
    @blp.arguments(BearingRequestInSchema)
    @blp.response(201, BearingRequestSchema)
    def post(self, data, journey_id, item_id):
        """Ask a member to pay for this line instead of the patient (a coordinator or the
        member composing the journey; a patient cannot choose who pays). The member's
        manager decides."""
        return payers.request_bearing(current_actor(), journey_id, item_id,
                                      data["provider_id"], note=data["note"])


@blp.route(f"/journeys/<{ID}:journey_id>/bearing-requests")
class JourneyBearingRequests(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, BearingRequestSchema(many=True))
    def get(self, journey_id):
        """The requests about the journey's lines."""
        return payers.journey_requests(current_actor(), journey_id)


@blp.route(f"/members/<{ID}:provider_id>/bearing-requests")
class MemberBearingRequests(MethodView):
    @roles(*STAFF)
    @blp.response(200, BearingRequestSchema(many=True))
    def get(self, provider_id):
        """The requests sent to a member, waiting ones first."""
        return payers.member_requests(current_actor(), provider_id)


@blp.route(f"/bearing-requests/<{ID}:request_id>/decision")
class BearingDecision(MethodView):
    @roles(*STAFF)
    @errors(409)
    @blp.arguments(BearingDecisionSchema)
    @blp.response(200, BearingRequestSchema)
    def post(self, data, request_id):
        """The member's manager accepts (its member pays for the line; the journey is
        quoted again) or declines."""
        return payers.decide_bearing(current_actor(), request_id, accept=data["accept"])


@blp.route(f"/bearing-requests/<{ID}:request_id>/withdrawal")
class BearingWithdrawal(MethodView):
    @blp.doc(security=BEARER)
    @errors(409)
    @blp.response(200, BearingRequestSchema)
    def post(self, request_id):
        """Whoever asked (or a coordinator) takes a waiting request back."""
        return payers.withdraw_bearing(current_actor(), request_id)


@blp.route(f"/journeys/<{ID}:journey_id>/items/<{ID}:item_id>/alternatives")
class ItemAlternatives(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, AlternativeSchema(many=True))
    def get(self, journey_id, item_id):
        """Offers of the same link in the same city, free on those dates, nearest in
        price first."""
        return composition.suggest_alternatives(current_actor(), journey_id, item_id)


@blp.route(f"/journeys/<{ID}:journey_id>/booking")
class JourneyBooking(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, JourneyBookingSchema)
    def get(self, journey_id):
        """The journey's newest booking, with alternatives for each line a member
        declined or cancelled; 404 before any checkout."""
        return booking_link.journey_booking(current_actor(), journey_id)


@blp.route(f"/journeys/<{ID}:journey_id>/apply-template")
class ApplyTemplate(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(ApplyTemplateSchema)
    @blp.response(200, JourneySchema)
    def post(self, data, journey_id):
        """Replace the items with a package template's links."""
        return journeys.apply_template(current_actor(), journey_id, data["template_id"],
                                       arrival_on=data["arrival_on"])


@blp.route(f"/journeys/<{ID}:journey_id>/check")
class JourneyCheck(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CheckResultSchema)
    def get(self, journey_id):
        """The chain's rules and the availability, explained in your language."""
        _journey, violations = composition.check_journey(current_actor(), journey_id,
                                                         language=content_language())
        return {"ok": not any(v.blocking for v in violations), "violations": violations}


@blp.route(f"/journeys/<{ID}:journey_id>/plan")
class JourneyPlan(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(PlanInSchema, required=False)
    @blp.response(200, PlanResultSchema)
    def post(self, data, journey_id):
        """Propose dates for every item from the arrival or the wished treatment start;
        says why when no plan exists. Without a body, from the journey's arrival."""
        journey, reasons = composition.plan_journey(
            current_actor(), journey_id, arrival_on=data["arrival_on"],
            treatment_start=data["treatment_start_on"])
        return {"ok": not reasons, "violations": reasons, "journey": journey}


@blp.route(f"/journeys/<{ID}:journey_id>/quotes")
class JourneyQuotes(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, QuoteSchema(many=True))
    def get(self, journey_id):
        """Every quote version of the journey."""
        return journeys.get_journey(current_actor(), journey_id).quotes

    @blp.doc(security=BEARER)
    @blp.response(201, QuoteSchema)
    @links(get=link("getQuoteItem", quote_id=NEW),
           accept=link("postQuoteAccept", quote_id=NEW),
           diff=link("getQuoteDiff", quote_id=NEW),
           checkout=link("postQuoteCheckout", quote_id=NEW))
    def post(self, journey_id):
        """Price the journey as it stands into a new quote version."""
        # written directly, as QuoteSchema documents it (a hot path)
        return jsonify(quote_answer(quotes.create_quote(current_actor(), journey_id))), 201


@blp.route(f"/quotes/<{ID}:quote_id>")
class QuoteItem(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, QuoteSchema)
    def get(self, quote_id):
        """A stored quote."""
        return quotes.get_quote(current_actor(), quote_id)


@blp.route(f"/quotes/<{ID}:quote_id>/accept")
class QuoteAccept(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, QuoteSchema)
    def post(self, quote_id):
        """Accept the newest, unexpired version (the patient, or a coordinator)."""
        return quotes.accept_quote(current_actor(), quote_id)


@blp.route(f"/quotes/<{ID}:quote_id>/diff")
class QuoteDiff(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(DiffArgs, location="query")
    @blp.response(200, LineChangeSchema(many=True))
    def get(self, args, quote_id):
        """How this version differs from another, line by line."""
        return quotes.diff_quotes(current_actor(), quote_id, args["against"])


@blp.route(f"/quotes/<{ID}:quote_id>/checkout")
class QuoteCheckout(MethodView):
    @roles(PATIENT, *CLUSTER)
    @idempotent(required=True)
    @blp.arguments(CheckoutInSchema, required=False)
    @blp.response(201, BookingOutSchema)
    @links(get=link("getBookingOne", booking_id=NEW),
           timeline=link("getBookingTimeline", booking_id=NEW),
           cancel=link("postBookingCancel", booking_id=NEW),
           pay=link("postBookingPay", booking_id=NEW))
    def post(self, data, quote_id):
        """Hold every line of the accepted quote and start the payment of the amount due
        now (with manual capture: the card is only charged once members confirm).

        With `payment_method` the card is confirmed at once; without it, the payment's
        `client_secret` is for Stripe.js. The app learns of the authorisation from
        Stripe's signed webhook or, failing that, from its reconcile job.
        """
        status, body = checkout.checkout_once(
            current_actor(), quote_id, key=request.headers.get("Idempotency-Key", ""),
            payment_method=data.get("payment_method"), render=BookingOutSchema().dump)
        return make_response(jsonify(body), status)
