"""The insurance REST API: coverage products (the insurer's manager writes them),
a journey's policy (whoever may change the journey), guarantee requests (the
insurer's staff answer them), receivables (the insurer's staff see theirs, the cluster
records the insurer's bank transfers)."""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import lazy_gettext as _l

from journey.core.accounts.auth import current_actor
from journey.core.api import (
    CLUSTER,
    MEMBER_MANAGER,
    MEMBERS,
    PATIENT,
    Blueprint,
    errors,
    roles,
)
from journey.core.errors import NotFound
from journey.core.types import ID_CONVERTER
from journey.insurance import follow  # noqa: F401  (connects the signals)
from journey.insurance.schemas import (
    CoverageProductInSchema,
    CoverageProductSchema,
    CoverageProductUpdateSchema,
    GuaranteeApproveSchema,
    GuaranteeDeclineSchema,
    GuaranteeQuerySchema,
    GuaranteeSchema,
    InsurancePolicyInSchema,
    InsurancePolicySchema,
    InsurerPaymentInSchema,
    InsurerReceivableQuerySchema,
    InsurerReceivableSchema,
)
from journey.insurance.services import guarantees, policies, products, receivables

ID = ID_CONVERTER
blp = Blueprint("insurance_api", __name__, description="Insurers as payers: coverage products, "
                "policies, guarantees of payment, receivables")
EVERYONE = (PATIENT, *MEMBERS, *CLUSTER)


@blp.route(f"/insurers/<{ID}:provider_id>/coverage-products")
class Products(MethodView):
    @blp.response(200, CoverageProductSchema(many=True))
    @errors(404)
    def get(self, provider_id):
        """The insurer's published coverage products (and drafts, to its staff and the
        cluster)."""
        return products.list_products(current_actor(), provider_id=provider_id)

    @roles(MEMBER_MANAGER)
    @blp.arguments(CoverageProductInSchema)
    @blp.response(201, CoverageProductSchema)
    @errors(404)
    def post(self, data, provider_id):
        """Publish (or draft) a coverage product (the insurer's manager)."""
        return products.create_product(current_actor(), provider_id, **data)


@blp.route(f"/coverage-products/<{ID}:product_id>")
class OneProduct(MethodView):
    @blp.response(200, CoverageProductSchema)
    @errors(404)
    def get(self, product_id):
        """One coverage product."""
        return products.get_product(current_actor(), product_id)

    @roles(MEMBER_MANAGER)
    @blp.arguments(CoverageProductUpdateSchema)
    @blp.response(200, CoverageProductSchema)
    @errors(404)
    def patch(self, data, product_id):
        """Change a coverage product (the insurer's manager)."""
        return products.update_product(current_actor(), product_id, **data)


@blp.route(f"/journeys/<{ID}:journey_id>/policy")
class Policy(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, InsurancePolicySchema)
    @errors(404)
    def get(self, journey_id):
        """The journey's insurance policy (404 when it has none)."""
        policy = policies.get_policy(current_actor(), journey_id)
        if policy is None:
            raise NotFound(_l("This journey has no insurance policy."))
        return policy

    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @blp.arguments(InsurancePolicyInSchema)
    @blp.response(201, InsurancePolicySchema)
    @errors(404, 409)
    def post(self, data, journey_id):
        """Add the patient's policy: the journey is quoted again with the insurer's
        share, and a guarantee of payment is asked of the insurer."""
        return policies.add_policy(current_actor(), journey_id, **data)

    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @blp.response(204)
    @errors(404, 409)
    def delete(self, journey_id):
        """Remove the policy: the patient pays everything (after a new quote)."""
        policies.remove_policy(current_actor(), journey_id)


@blp.route(f"/insurers/<{ID}:provider_id>/guarantees")
class Guarantees(MethodView):
    @roles(*MEMBERS, *CLUSTER)
    @blp.arguments(GuaranteeQuerySchema, location="query")
    @blp.response(200, GuaranteeSchema(many=True))
    @errors(404)
    def get(self, args, provider_id):
        """The insurer's guarantee requests, the newest first."""
        return guarantees.list_guarantees(current_actor(), provider_id, **args)


@blp.route(f"/guarantees/<{ID}:guarantee_id>")
class OneGuarantee(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, GuaranteeSchema)
    @errors(404)
    def get(self, guarantee_id):
        """One guarantee request (its insurer's staff, the patient, the cluster)."""
        return guarantees.get_guarantee(current_actor(), guarantee_id)


@blp.route(f"/guarantees/<{ID}:guarantee_id>/approve")
class Approve(MethodView):
    @roles(*MEMBERS)
    @blp.arguments(GuaranteeApproveSchema)
    @blp.response(200, GuaranteeSchema)
    @errors(404, 409)
    def post(self, data, guarantee_id):
        """Approve a guarantee of payment: the amount and until when (the insurer's
        staff, before the request's deadline)."""
        return guarantees.decide_guarantee(current_actor(), guarantee_id, approve=True,
                                           **data)


@blp.route(f"/guarantees/<{ID}:guarantee_id>/decline")
class Decline(MethodView):
    @roles(*MEMBERS)
    @blp.arguments(GuaranteeDeclineSchema)
    @blp.response(200, GuaranteeSchema)
    @errors(404, 409)
    def post(self, data, guarantee_id):
        """Decline a guarantee request (the insurer's staff)."""
        return guarantees.decide_guarantee(current_actor(), guarantee_id, approve=False,
                                           **data)


@blp.route("/insurer-receivables")
class Receivables(MethodView):
    @roles(*MEMBERS, *CLUSTER)
    @blp.arguments(InsurerReceivableQuerySchema, location="query")
    @blp.response(200, InsurerReceivableSchema(many=True))
    @errors(404)
    def get(self, args):
        """Receivables from insurers: an insurer's staff give their ``provider_id``; the
        cluster sees all (or one insurer's)."""
        return receivables.list_receivables(current_actor(), args.get("provider_id"))


@blp.route(f"/insurer-receivables/<{ID}:receivable_id>/payments")
class ReceivablePayments(MethodView):
    @roles(*CLUSTER)
    @blp.arguments(InsurerPaymentInSchema)
    @blp.response(200, InsurerReceivableSchema)
    @errors(404, 409)
    def post(self, data, receivable_id):
        """Record the insurer's bank transfer (coordinators and admins): a receipt to the
        insurer; paid in full, the receivable is paid."""
        return receivables.record_payment(current_actor(), receivable_id, **data)
