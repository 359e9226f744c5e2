"""Invoices, receipts and credit notes: documents of the money, per payer."""
