"""The reviews REST API: what the patient may review on a journey, writing and
changing a review (its author), the member's answer, a member's published reviews with
their rating (anyone), and the cluster's moderation (hide with a reason, show again,
the log). Who may do what is :mod:`journey.reviews.services`'s."""

from __future__ import annotations

from types import SimpleNamespace

from flask.views import MethodView

from journey.core.accounts.auth import current_actor
from journey.core.api import CLUSTER, MEMBERS, PATIENT, Blueprint, errors, roles
from journey.core.types import ID_CONVERTER
from journey.reviews import mails  # noqa: F401  (registers the e-mail kind)
from journey.reviews.schemas import (
    MemberReviewInSchema,
    MemberReviewPageSchema,
    MemberReviewPatchSchema,
    MemberReviewSchema,
    ReviewableSchema,
    ReviewHideInSchema,
    ReviewModerationSchema,
    ReviewQueueArgs,
    ReviewReplyInSchema,
    ReviewUnhideArgs,
)
from journey.reviews.services import moderation, ratings, reading, reviews
from providers.schemas import Pagination

ID = ID_CONVERTER
blp = Blueprint("reviews", __name__, description="Verified reviews: the patient of a "
                "completed journey reviews each member that served them (once; changes "
                "within 30 days; optionally anonymous); the member answers once, "
                "publicly; the cluster hides a review that breaks its published rules, "
                "never edits it, and every moderation action is logged")


def _review_in(data: dict) -> dict:
    if "ratings" in data:
        data = {**data, "ratings": {k: v for k, v in (data["ratings"] or {}).items()
                                    if v is not None}}
    return data


@blp.route(f"/journeys/<{ID}:journey_id>/reviews")
class JourneyReviews(MethodView):
    @roles(PATIENT)
    @blp.response(200, ReviewableSchema(many=True))
    def get(self, journey_id):
        """The members you may review on your completed journey (those that delivered a
        line), the dimensions that fit each, and your review once written. Empty until
        the journey is completed."""
        actor = current_actor()
        _journey, rows = reviews.reviewables(actor, journey_id)
        return [SimpleNamespace(provider=row.provider, links=row.links,
                                dimensions=row.dimensions,
                                view=reading.view_of(actor, row.review) if row.review else None)
                for row in rows]

    @roles(PATIENT)
    @errors(409)
    @blp.arguments(MemberReviewInSchema)
    @blp.response(201, MemberReviewSchema)
    def post(self, data, journey_id):
        """Review a member that served you on this completed journey (the journey's
        patient only, once per member: a second review is 409 `already_reviewed`; a
        journey not completed 409 `journey_not_completed`; a member that delivered
        nothing 409 `not_served`)."""
        actor = current_actor()
        data = _review_in(data)
        review = reviews.submit_review(actor, journey_id, data.pop("provider_id"), data)
        return reading.view_of(actor, review)


@blp.route("/reviews")
class ModerationQueue(MethodView):
    @roles(*CLUSTER)
    @blp.arguments(ReviewQueueArgs, location="query")
    @blp.response(200, MemberReviewPageSchema)
    def get(self, args):
        """Every review, the latest first, with its author (coordinators and admins, who
        moderate)."""
        items, total = moderation.moderation_queue(current_actor(), state=args["state"],
                                                   page=args["page"],
                                                   per_page=args["per_page"])
        return {"items": items, "total": total, "page": args["page"],
                "per_page": args["per_page"], "rating": None}


@blp.route(f"/reviews/<{ID}:review_id>")
class ReviewItem(MethodView):
    @blp.response(200, MemberReviewSchema)
    def get(self, review_id):
        """A review: published ones for anyone; a hidden one for its author (with the
        reason) and the cluster. The member never learns who wrote an anonymous one."""
        actor = current_actor()
        return reading.view_of(actor, reviews.read_review(actor, review_id))

    @roles(PATIENT)
    @errors(409)
    @blp.arguments(MemberReviewPatchSchema)
    @blp.response(200, MemberReviewSchema)
    def patch(self, data, review_id):
        """Change your review (its author only, within 30 days of writing it: later 409
        `edit_window_closed`). Nobody else can change a review's text."""
        actor = current_actor()
        return reading.view_of(actor, reviews.edit_review(actor, review_id,
                                                          _review_in(data)))


@blp.route(f"/reviews/<{ID}:review_id>/reply")
class ReviewReply(MethodView):
    @roles(*MEMBERS)
    @errors(409)
    @blp.arguments(ReviewReplyInSchema)
    @blp.response(200, MemberReviewSchema)
    def post(self, data, review_id):
        """Answer a review of your member, publicly (its staff, once: a second answer is
        409 `already_replied`)."""
        actor = current_actor()
        review = reviews.reply(actor, review_id, data["text"], data["language"])
        return reading.view_of(actor, review)


@blp.route(f"/reviews/<{ID}:review_id>/hidden")
class ReviewHidden(MethodView):
    @roles(*CLUSTER)
    @errors(409)
    @blp.arguments(ReviewHideInSchema)
    @blp.response(200, MemberReviewSchema)
    def put(self, data, review_id):
        """Hide a review that breaks a published rule (coordinators and admins; the
        reason is required and shown to the author; the text is kept as written;
        logged). Already hidden: 409."""
        actor = current_actor()
        review = moderation.hide_review(actor, review_id, data["reason"], data["note"])
        return reading.view_of(actor, review)

    @roles(*CLUSTER)
    @errors(409)
    @blp.arguments(ReviewUnhideArgs, location="query")
    @blp.response(200, MemberReviewSchema)
    def delete(self, args, review_id):
        """Show a hidden review again (logged). Not hidden: 409."""
        actor = current_actor()
        review = moderation.unhide_review(actor, review_id, args["note"])
        return reading.view_of(actor, review)


@blp.route(f"/reviews/<{ID}:review_id>/moderation")
class ReviewModerationLog(MethodView):
    @roles(PATIENT, *CLUSTER)
    @blp.response(200, ReviewModerationSchema(many=True))
    def get(self, review_id):
        """The moderation actions on a review, oldest first (its author and the
        cluster)."""
        return moderation.moderation_log(current_actor(), review_id)


@blp.route(f"/members/<{ID}:provider_id>/reviews")
class MemberReviews(MethodView):
    @blp.arguments(Pagination, location="query")
    @blp.response(200, MemberReviewPageSchema)
    def get(self, args, provider_id):
        """A member's published reviews, the latest first, each with the language it was
        written in, the chain link it concerns and the member's answer; and the
        member's rating (count, average)."""
        actor = current_actor()
        items, total = reading.published_reviews(provider_id, actor=actor,
                                                 page=args["page"], per_page=args["per_page"])
        summary = ratings.provider_ratings([provider_id]).get(provider_id, ratings.EMPTY)
        return {"items": items, "total": total, "page": args["page"],
                "per_page": args["per_page"],
                "rating": {"count": summary.count, "average": summary.average}}
