"""The invoicing REST API."""

from __future__ import annotations

from journey.core.api import Blueprint

blp = Blueprint("invoicing", __name__, description="Invoices, receipts and credit notes")
