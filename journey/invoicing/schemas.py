"""Schemas of the invoicing API: documents and the cancellation preview."""

from __future__ import annotations

from marshmallow import Schema, fields

from journey.core.api import Money
from journey.core.types import MAX_ID
from journey.core.validation import in_range
from journey.invoicing.models import DOCUMENT_KIND_TITLES, DocumentKind


class InvoiceDocumentSchema(Schema):
    id = fields.Integer()
    kind = fields.Enum(DocumentKind, by_value=True)
    kind_title = fields.Function(lambda d: str(DOCUMENT_KIND_TITLES[d.kind]))
    number = fields.String()
    issued_at = fields.DateTime()
    booking_id = fields.Integer()
    journey_id = fields.Integer(allow_none=True)
    language = fields.String()
    total = Money(lambda d: (d.total_minor, d.currency))
    vat = Money(lambda d: (d.vat_minor, d.currency))
    related_number = fields.Function(lambda d: d.content.get("related_number"),
                                     allow_none=True)
    pdf_url = fields.Function(lambda d: f"/api/v1/documents/{d.id}/pdf", metadata={
        "description": "The document as a PDF, in its payer's language."})


class PreviewArgs(Schema):
    line_id = fields.Integer(validate=in_range(1, MAX_ID),
                             metadata={"description": "Preview cancelling this line only "
                                       "(else every line still active)."})


class LinePreviewSchema(Schema):
    line_id = fields.Integer()
    amount = Money(lambda row: (row.amount_minor, row.currency))
    paid = Money(lambda row: (row.paid_minor, row.currency))
    fee_kept = Money(lambda row: (row.fee_minor, row.currency))
    refund = Money(lambda row: (row.refund_minor, row.currency))


class CancellationPreviewSchema(Schema):
    booking_id = fields.Integer()
    currency = fields.String()
    charged = fields.Boolean(attribute="captured", metadata={
        "description": "False: nothing was charged yet; the card's hold is released."})
    whole_booking = fields.Boolean(metadata={
        "description": "Nothing is left to deliver afterwards: the booking ends."})
    lines = fields.List(fields.Nested(LinePreviewSchema))
    paid = Money(lambda p: (p.paid_minor, p.currency))
    fee_kept = Money(lambda p: (p.fee_minor, p.currency))
    refund = Money(lambda p: (p.refund_minor, p.currency))
    owed_after = Money(lambda p: (p.owed_after_minor, p.currency))
    still_due = Money(lambda p: (p.still_due_minor, p.currency), metadata={
        "description": "What is left to pay afterwards: what the booking then costs less "
                       "what was paid and stays with it (not refunded)."})
    refund_minor = fields.Integer(metadata={
        "description": "Send it back as `expect_refund_minor` to cancel only at this "
                       "refund."})
    insurer_fee_kept = Money(lambda p: (p.insurer_fee_minor, p.currency), metadata={
        "description": "The insurer's part of the fees kept (0 without an insurer)."})
    insurer_reduction = Money(lambda p: (p.insurer_reduction_minor, p.currency), metadata={
        "description": "How much less the insurer owes for the booking afterwards."})
    insurer_credit = Money(lambda p: (p.insurer_credit_minor, p.currency), metadata={
        "description": "Of that, what goes back to the insurer, which has paid already "
                       "(a bank transfer the cluster makes)."})
