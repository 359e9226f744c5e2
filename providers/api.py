"""Catalogue REST API: parse, call a service, serialise."""

from __future__ import annotations

import io

from flask import current_app, jsonify, send_file
from flask.views import MethodView
from marshmallow import Schema, fields

from journey.core.accounts.auth import current_actor
from journey.core.api import (
    ADMIN,
    CLUSTER,
    LANGUAGE_PATH,
    MANAGERS,
    STAFF,
    Blueprint,
    language_in_path,
    link,
    links,
    roles,
)
from journey.core.files import accepts_upload
from journey.core.i18n import content_language
from journey.core.money import require_currency
from journey.core.types import ID_CONVERTER
from providers.models import CHAIN_LINK_TITLES, MEMBER_KIND_TITLES
from providers.schemas import (
    AccreditationChangeSchema,
    AccreditationDetailSchema,
    AccreditationQuerySchema,
    AccreditationReasonSchema,
    AccreditationSchema,
    CalendarArgs,
    CalendarDaySchema,
    CancellationTiersSchema,
    CapacityResultSchema,
    CapacitySchema,
    CaseRequirementsSchema,
    CreateMemberSchema,
    CreateOfferSchema,
    EvidenceFileSchema,
    ExchangeRateOutSchema,
    ExchangeRateSchema,
    MemberPageSchema,
    MemberProfileSchema,
    MemberQuerySchema,
    MemberSchema,
    MemberStatusSchema,
    MemberTextSchema,
    OfferSchema,
    OfferSearchArgs,
    OfferTermsSchema,
    OfferTextOutSchema,
    OfferTextSchema,
    OfferTextsSchema,
    PriceRuleOutSchema,
    PriceRuleSchema,
    RateQuerySchema,
    SearchResultSchema,
    UpdatePriceRuleSchema,
    search_answer,
)
from providers.services import accreditations, case_requirements, members, offers, rates
from providers.services.search import SearchQuery, search_offers

ID = ID_CONVERTER
LANG = "string(minlength=2, maxlength=20)"
MEMBER = "$response.body#/id"

members_blp = Blueprint("members_api", __name__, url_prefix="/members",
                        description="Members of the cluster (clinics, hotels, agencies, ...)")
offers_blp = Blueprint("offers_api", __name__, url_prefix="/offers",
                       description="Offers: search, texts, prices, capacity calendars")
reference_blp = Blueprint("reference_api", __name__, url_prefix="",
                          description="Exchange rates and reference lists")
accreditations_blp = Blueprint("accreditations_api", __name__, url_prefix="/accreditations",
                               description="The admins' verification of the members' "
                               "accreditations")
blueprints = (members_blp, offers_blp, reference_blp, accreditations_blp)


# --- members ----------------------------------------------------------------------------

@members_blp.route("")
class Members(MethodView):
    @members_blp.arguments(MemberQuerySchema, location="query")
    @members_blp.response(200, MemberPageSchema)
    def get(self, args):
        """Members; patients see verified ones, staff also their own, the cluster all."""
        page, per_page = args.pop("page"), args.pop("per_page")
        items, total = members.list_members(current_actor(), page=page, per_page=per_page,
                                            **args)
        return {"items": items, "total": total, "page": page, "per_page": per_page}

    @roles(*CLUSTER)
    @members_blp.arguments(CreateMemberSchema)
    @members_blp.response(201, MemberSchema)
    @links(get=link("getMember", provider_id=MEMBER),
           change=link("patchMember", provider_id=MEMBER),
           verify=link("postMemberStatus", provider_id=MEMBER),
           accredit=link("postAccreditations", provider_id=MEMBER),
           offers=link("getMemberOffers", provider_id=MEMBER),
           add_offer=link("postMemberOffers", provider_id=MEMBER))
    def post(self, data):
        """Admit a new member (pending until an admin verifies it). Cluster staff only."""
        return members.create_member(current_actor(), **data)


@members_blp.route(f"/<{ID}:provider_id>")
class Member(MethodView):
    @members_blp.response(200, MemberSchema)
    def get(self, provider_id):
        """A member's profile, description in the asked language."""
        return members.get_member(current_actor(), provider_id)

    @roles(*MANAGERS)
    @members_blp.arguments(MemberProfileSchema)
    @members_blp.response(200, MemberSchema)
    def patch(self, data, provider_id):
        """Change the profile (the member's manager or cluster staff)."""
        return members.update_member(current_actor(), provider_id, **data)


@members_blp.route(f"/<{ID}:provider_id>/status")
class MemberStatus(MethodView):
    @roles(ADMIN)
    @members_blp.arguments(MemberStatusSchema)
    @members_blp.response(200, MemberSchema)
    def post(self, data, provider_id):
        """Verify or suspend a member (admin)."""
        return members.set_member_status(current_actor(), provider_id, data["status"],
                                         reason=data["reason"])


@members_blp.route(f"/<{ID}:provider_id>/texts/<{LANG}:language>",
                   parameters=[LANGUAGE_PATH])
class MemberText(MethodView):
    @roles(*STAFF)
    @members_blp.arguments(MemberTextSchema)
    @members_blp.response(200, MemberTextSchema)
    def put(self, data, provider_id, language):
        """Set the member's description in one language."""
        return members.set_member_text(current_actor(), provider_id,
                                       language_in_path(language), data["description"])

    @roles(*STAFF)
    @members_blp.response(204)
    def delete(self, provider_id, language):
        """Remove the description in one language."""
        members.delete_member_text(current_actor(), provider_id, language_in_path(language))


@members_blp.route(f"/<{ID}:provider_id>/accreditations")
class Accreditations(MethodView):
    @roles(*STAFF)
    @members_blp.response(200, AccreditationDetailSchema(many=True))
    def get(self, provider_id):
        """Every accreditation of the member with its state, the admin's reason and its
        evidence (the member's staff and the cluster). The public sees only verified,
        unexpired ones, in the member's `accreditations`."""
        return accreditations.list_accreditations(current_actor(), provider_id)

    @roles(*MANAGERS)
    @members_blp.arguments(AccreditationSchema)
    @members_blp.response(201, AccreditationDetailSchema)
    @links(upload_evidence=link("putAccreditationEvidence",
                                provider_id="$request.path.provider_id",
                                accreditation_id="$response.body#/id"),
           change=link("patchAccreditationItem", provider_id="$request.path.provider_id",
                       accreditation_id="$response.body#/id"),
           withdraw=link("postAccreditationWithdrawal",
                         provider_id="$request.path.provider_id",
                         accreditation_id="$response.body#/id"),
           remove=link("deleteAccreditationItem", provider_id="$request.path.provider_id",
                       accreditation_id="$response.body#/id"))
    def post(self, data, provider_id):
        """Submit an accreditation (the member's manager or cluster staff). It is
        `pending`, and not shown publicly, until an admin verifies it; upload its evidence
        next (`PUT .../evidence`): an admin verifies none without it."""
        return accreditations.submit_accreditation(current_actor(), provider_id, **data)


@members_blp.route(f"/<{ID}:provider_id>/accreditations/<{ID}:accreditation_id>")
class AccreditationItem(MethodView):
    @roles(*MANAGERS)
    @members_blp.arguments(AccreditationChangeSchema)
    @members_blp.response(200, AccreditationDetailSchema)
    def patch(self, data, provider_id, accreditation_id):
        """Change the name, issuer or expiry. A verified, rejected or revoked one goes
        back to `pending` (and off the public page until verified again); a withdrawn
        one cannot change (409)."""
        return accreditations.update_accreditation(current_actor(), provider_id,
                                                   accreditation_id, **data)

    @roles(*MANAGERS)
    @members_blp.response(204)
    def delete(self, provider_id, accreditation_id):
        """Remove an accreditation and its evidence."""
        members.delete_accreditation(current_actor(), provider_id, accreditation_id)


@members_blp.route(f"/<{ID}:provider_id>/accreditations/<{ID}:accreditation_id>/evidence")
class AccreditationEvidence(MethodView):
    @roles(*MANAGERS)
    @accepts_upload
    @members_blp.arguments(EvidenceFileSchema, location="files")
    @members_blp.response(200, AccreditationDetailSchema)
    def put(self, files, provider_id, accreditation_id):
        """Upload or replace the evidence (multipart/form-data, field `file`): a PDF or an
        image (JPEG, PNG, WebP, HEIC), its type read from its content, up to the
        configured size (10 MB by default), else 422 with the reason for `file` and
        nothing stored. A verified, rejected or revoked one goes back to `pending`."""
        upload = files["file"]
        return accreditations.attach_evidence(current_actor(), provider_id, accreditation_id,
                                              data=upload.read(), filename=upload.filename)

    @roles(*STAFF)
    @members_blp.response(200, {"type": "string", "format": "binary"},
                          content_type="application/octet-stream")
    def get(self, provider_id, accreditation_id):
        """The evidence's content, as an attachment (the member's staff and the cluster;
        404 when none is uploaded)."""
        accreditation, content = accreditations.open_evidence(
            current_actor(), accreditation_id, provider_id=provider_id)
        return evidence_response(accreditation, content)


@members_blp.route(f"/<{ID}:provider_id>/accreditations/<{ID}:accreditation_id>/withdrawal")
class AccreditationWithdrawal(MethodView):
    @roles(*MANAGERS)
    @members_blp.response(200, AccreditationDetailSchema)
    def post(self, provider_id, accreditation_id):
        """Withdraw the accreditation (the member's manager): it stops showing at once and
        stays on record as `withdrawn`."""
        return accreditations.withdraw_accreditation(current_actor(), provider_id,
                                                     accreditation_id)


def evidence_response(accreditation, content: bytes):
    response = send_file(io.BytesIO(content), mimetype=accreditation.evidence_content_type,
                         as_attachment=True, download_name=accreditation.evidence_filename,
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- accreditations: the admins' verification -----------------------------------------

@accreditations_blp.route("")
class AccreditationQueue(MethodView):
    @roles(ADMIN)
    @accreditations_blp.arguments(AccreditationQuerySchema, location="query")
    @accreditations_blp.response(200, AccreditationDetailSchema(many=True))
    def get(self, args):
        """The accreditations in one state (by default `pending`: the queue to verify),
        oldest submission first (admin)."""
        return accreditations.list_for_admin(current_actor(), status=args["status"])


@accreditations_blp.route(f"/<{ID}:accreditation_id>/verification")
class AccreditationVerification(MethodView):
    @roles(ADMIN)
    @accreditations_blp.response(200, AccreditationDetailSchema)
    def post(self, accreditation_id):
        """Verify a pending accreditation against its evidence (admin): from now until
        its expiry it shows on the member's public page. 409 when it is not pending, has
        no evidence or has expired."""
        return accreditations.verify_accreditation(current_actor(), accreditation_id)


@accreditations_blp.route(f"/<{ID}:accreditation_id>/rejection")
class AccreditationRejection(MethodView):
    @roles(ADMIN)
    @accreditations_blp.arguments(AccreditationReasonSchema)
    @accreditations_blp.response(200, AccreditationDetailSchema)
    def post(self, data, accreditation_id):
        """Reject a pending accreditation, saying why (admin; the member sees the
        reason and may correct it, which makes it pending again)."""
        return accreditations.reject_accreditation(current_actor(), accreditation_id,
                                                   data["reason"])


@accreditations_blp.route(f"/<{ID}:accreditation_id>/revocation")
class AccreditationRevocation(MethodView):
    @roles(ADMIN)
    @accreditations_blp.arguments(AccreditationReasonSchema)
    @accreditations_blp.response(200, AccreditationDetailSchema)
    def post(self, data, accreditation_id):
        """Revoke a verified accreditation, saying why (admin): it leaves the public page
        at once."""
        return accreditations.revoke_accreditation(current_actor(), accreditation_id,
                                                   data["reason"])


@members_blp.route(f"/<{ID}:provider_id>/offers")
class MemberOffers(MethodView):
    @members_blp.response(200, OfferSchema(many=True))
    def get(self, provider_id):
        """A member's offers (drafts and archived ones for its staff and the cluster)."""
        return offers.list_member_offers(current_actor(), provider_id)

    @roles(*STAFF)
    @members_blp.arguments(CreateOfferSchema)
    @members_blp.response(201, OfferSchema)
    @links(get=link("getOfferItem", offer_id=MEMBER),
           change=link("patchOfferItem", offer_id=MEMBER),
           delete=link("deleteOfferItem", offer_id=MEMBER),
           texts=link("getOfferTexts", offer_id=MEMBER),
           add_price=link("postPriceRules", offer_id=MEMBER),
           prices=link("getPriceRules", offer_id=MEMBER),
           terms=link("putCancellationTiers", offer_id=MEMBER),
           capacity=link("putCalendar", offer_id=MEMBER))
    def post(self, data, provider_id):
        """Create an offer for this member (a draft unless `status` says otherwise)."""
        return offers.create_offer(current_actor(), provider_id, **data)


# --- offers ---------------------------------------------------------------------------

@offers_blp.route("")
class OfferSearch(MethodView):
    # one instance of the schema, not one built per search
    @offers_blp.arguments(OfferSearchArgs(), location="query")
    @offers_blp.response(200, SearchResultSchema)
    def get(self, args):
        """Search published offers of verified members.

        Filters by chain link, city, member kind, free text in the asked language,
        price range in the asked currency and availability of `quantity` units on
        every day from `start` to `end`, and by what the offer treats (`procedure`).
        Sorted by relevance (the default), price (converted) or name.
        """
        actor = current_actor()
        currency = require_currency(args.pop("currency", None)
                                  or getattr(actor, "currency", None)
                                  or current_app.config["DEFAULT_CURRENCY"])
        args.pop("lang", None)
        text = args.pop("q", None)
        # written directly, as SearchResultSchema documents it (the hottest path)
        return jsonify(search_answer(search_offers(SearchQuery(
            language=content_language(), currency=currency, text=text, **args),
            orm_offers=False)))


@offers_blp.route(f"/<{ID}:offer_id>")
class OfferItem(MethodView):
    @offers_blp.response(200, OfferSchema)
    def get(self, offer_id):
        """An offer, its texts in the asked language (with fallback)."""
        return offers.get_offer(current_actor(), offer_id)

    @roles(*STAFF)
    @offers_blp.arguments(OfferTermsSchema)
    @offers_blp.response(200, OfferSchema)
    def patch(self, data, offer_id):
        """Change an offer's terms or its state (draft, published, archived)."""
        return offers.update_offer(current_actor(), offer_id, **data)

    @roles(*STAFF)
    @offers_blp.response(204)
    def delete(self, offer_id):
        """Delete a draft offer (archive a published one instead)."""
        offers.delete_offer(current_actor(), offer_id)


@offers_blp.route(f"/<{ID}:offer_id>/texts")
class OfferTexts(MethodView):
    @offers_blp.response(200, OfferTextsSchema)
    def get(self, offer_id):
        """Every language's texts of an offer."""
        return {"texts": offers.get_offer(current_actor(), offer_id).texts}


@offers_blp.route(f"/<{ID}:offer_id>/texts/<{LANG}:language>", parameters=[LANGUAGE_PATH])
class OfferTextItem(MethodView):
    @roles(*STAFF)
    @offers_blp.arguments(OfferTextSchema)
    @offers_blp.response(200, OfferTextOutSchema)
    def put(self, data, offer_id, language):
        """Set the offer's texts in one language."""
        return offers.set_offer_text(current_actor(), offer_id, language_in_path(language),
                                     **data)

    @roles(*STAFF)
    @offers_blp.response(204)
    def delete(self, offer_id, language):
        """Remove the texts in one language."""
        offers.delete_offer_text(current_actor(), offer_id, language_in_path(language))


@offers_blp.route(f"/<{ID}:offer_id>/case-requirements")
class OfferCaseRequirements(MethodView):
    @offers_blp.response(200, CaseRequirementsSchema)
    def get(self, offer_id):
        """What the member asks of the patient's case: its questionnaire, the documents
        it needs, and whether it reviews the case before payment."""
        return _requirements(case_requirements.get_requirements(current_actor(), offer_id))

    @roles(*STAFF)
    @offers_blp.arguments(CaseRequirementsSchema)
    @offers_blp.response(200, CaseRequirementsSchema)
    def put(self, data, offer_id):
        """Replace the questionnaire and document requests (a consultation, diagnostics,
        treatment or rehabilitation only). A question sent again with its `key` keeps
        the answers given to it; one left out is retired."""
        return _requirements(case_requirements.set_requirements(current_actor(), offer_id,
                                                                **data))


def _requirements(offer) -> dict:
    return {"requires_review": offer.requires_review,
            "questions": case_requirements.live_questions(offer),
            "documents": case_requirements.live_document_requests(offer)}


@offers_blp.route(f"/<{ID}:offer_id>/prices")
class PriceRules(MethodView):
    @offers_blp.response(200, PriceRuleOutSchema(many=True))
    def get(self, offer_id):
        """Seasonal prices."""
        return offers.get_offer(current_actor(), offer_id).price_rules

    @roles(*STAFF)
    @offers_blp.arguments(PriceRuleSchema)
    @offers_blp.response(201, PriceRuleOutSchema)
    @links(change=link("patchPriceRuleItem", offer_id="$request.path.offer_id",
                       rule_id="$response.body#/id"),
           remove=link("deletePriceRuleItem", offer_id="$request.path.offer_id",
                       rule_id="$response.body#/id"))
    def post(self, data, offer_id):
        """Add a seasonal price for a date range; ranges may not overlap."""
        return offers.add_price_rule(current_actor(), offer_id, **data)


@offers_blp.route(f"/<{ID}:offer_id>/prices/<{ID}:rule_id>")
class PriceRuleItem(MethodView):
    @roles(*STAFF)
    @offers_blp.arguments(UpdatePriceRuleSchema)
    @offers_blp.response(200, PriceRuleOutSchema)
    def patch(self, data, offer_id, rule_id):
        """Change a seasonal price."""
        return offers.update_price_rule(current_actor(), offer_id, rule_id, **data)

    @roles(*STAFF)
    @offers_blp.response(204)
    def delete(self, offer_id, rule_id):
        """Remove a seasonal price."""
        offers.delete_price_rule(current_actor(), offer_id, rule_id)


@offers_blp.route(f"/<{ID}:offer_id>/cancellation-tiers")
class CancellationTiers(MethodView):
    @roles(*STAFF)
    @offers_blp.arguments(CancellationTiersSchema)
    @offers_blp.response(200, OfferSchema)
    def put(self, data, offer_id):
        """Replace the cancellation policy: at least N days before the start -> X % back."""
        return offers.set_cancellation_tiers(current_actor(), offer_id, data["tiers"])


@offers_blp.route(f"/<{ID}:offer_id>/calendar")
class Calendar(MethodView):
    @offers_blp.arguments(CalendarArgs, location="query")
    @offers_blp.response(200, CalendarDaySchema(many=True))
    def get(self, args, offer_id):
        """Capacity, units in use and units available per day."""
        return offers.get_calendar(current_actor(), offer_id, **args)

    @roles(*STAFF)
    @offers_blp.arguments(CapacitySchema)
    @offers_blp.response(200, CapacityResultSchema)
    def put(self, data, offer_id):
        """Set the capacity of a range of days (optionally on some weekdays only)."""
        return {"days_written": offers.set_capacity(current_actor(), offer_id, **data)}


# --- reference data ----------------------------------------------------------------------

@reference_blp.route("/exchange-rates")
class ExchangeRates(MethodView):
    @reference_blp.arguments(RateQuerySchema, location="query")
    @reference_blp.response(200, ExchangeRateOutSchema(many=True))
    def get(self, args):
        """Stored exchange rates, newest first."""
        return rates.list_rates(**args)

    @roles(ADMIN)
    @reference_blp.arguments(ExchangeRateSchema)
    @reference_blp.response(201, ExchangeRateOutSchema)
    def post(self, data):
        """Record a rate (`1 base = rate quote`) for a date (admin)."""
        return rates.add_rate(current_actor(), **data)


class TitledSchema(Schema):
    value = fields.String()
    title = fields.String()


@reference_blp.route("/chain-links")
class ChainLinks(MethodView):
    @reference_blp.response(200, TitledSchema(many=True))
    def get(self):
        """The links of the chain, in the order of a medical tourist's path."""
        return [{"value": k.value, "title": str(v)} for k, v in CHAIN_LINK_TITLES.items()]


@reference_blp.route("/member-kinds")
class MemberKinds(MethodView):
    @reference_blp.response(200, TitledSchema(many=True))
    def get(self):
        """The kinds of member."""
        return [{"value": k.value, "title": str(v)} for k, v in MEMBER_KIND_TITLES.items()]
