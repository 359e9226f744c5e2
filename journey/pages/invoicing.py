"""Pages: invoices, receipts and credit notes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("invoicing_pages", __name__)
