"""The invoicing REST API: a journey's or a booking's documents, one document and its
PDF (scoped: the payer their own, a member an extract of its own lines of those listing
them, the cluster all, 404 for anyone else), and the preview of a cancellation (the fee
kept and the refund, per line and in total, as the cancellation would make them)."""

from __future__ import annotations

from flask import make_response
from flask.views import MethodView

from bookings.services import cancellation
from bookings.services.access import get_visible_booking
from journey.core.accounts.auth import current_actor
from journey.core.api import CLUSTER, MEMBERS, PATIENT, Blueprint, roles
from journey.core.types import ID_CONVERTER
from journey.invoicing import (
    follow,  # noqa: F401  (connects the signals, registers the mail)
    render,
    services,
)
from journey.invoicing.schemas import CancellationPreviewSchema, InvoiceDocumentSchema, PreviewArgs

ID = ID_CONVERTER
blp = Blueprint("invoicing", __name__, description="Invoices, receipts and credit notes")
EVERYONE = (PATIENT, *MEMBERS, *CLUSTER)


@blp.route(f"/journeys/<{ID}:journey_id>/documents")
class JourneyDocuments(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, InvoiceDocumentSchema(many=True))
    def get(self, journey_id):
        """The journey's invoices, receipts and credit notes that you may see, the
        newest first."""
        return services.journey_documents(current_actor(), journey_id)


@blp.route(f"/bookings/<{ID}:booking_id>/documents")
class BookingDocuments(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, InvoiceDocumentSchema(many=True))
    def get(self, booking_id):
        """The booking's invoices, receipts and credit notes that you may see."""
        actor = current_actor()
        get_visible_booking(actor, booking_id)
        return services.list_documents(actor, booking_id=booking_id)


@blp.route(f"/documents/<{ID}:document_id>")
class OneDocument(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, InvoiceDocumentSchema)
    def get(self, document_id):
        """One document."""
        return services.get_document(current_actor(), document_id)


@blp.route(f"/documents/<{ID}:document_id>/pdf")
class DocumentPdf(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf")
    def get(self, document_id):
        """The document as a PDF, in its payer's language."""
        document = services.get_document(current_actor(), document_id)
        response = make_response(render.pdf_bytes(document))
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = \
            f'attachment; filename="{render.filename(document)}"'
        response.headers["Cache-Control"] = "private, no-store"
        # in its payer's language whatever the reader's (frozen when it was issued)
        response.headers["Content-Language"] = document.language.replace("_", "-")
        return response


@blp.route(f"/bookings/<{ID}:booking_id>/cancellation-preview")
class CancellationPreview(MethodView):
    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @blp.arguments(PreviewArgs, location="query")
    @blp.response(200, CancellationPreviewSchema)
    def get(self, args, booking_id):
        """What cancelling the booking (or its line ``line_id``) would keep and refund,
        per line and in total, computed as the cancellation computes it; 409 when it
        may not be cancelled now. Cancel with ``expect_refund_minor`` set to the
        previewed ``refund_minor`` to be sure of the amount."""
        return cancellation.preview_cancellation(current_actor(), booking_id,
                                                 args.get("line_id"))
