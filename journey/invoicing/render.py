"""A document as HTML and as PDF (WeasyPrint), from one template
(``invoicing/_document.html``), always in the document's language (the payer's, frozen
when it was issued), amounts and dates formatted by Babel for that language: the page
embeds the same body the PDF prints."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import has_request_context, render_template, request
from flask_babel import force_locale
from weasyprint import HTML

from journey.invoicing.models import DOCUMENT_KIND_TITLES, Document, DocumentKind
from journey.pages.portal import formatting_context
from journey.pages.trip_rows import country_name

RTL_LANGUAGES = {"ar", "he", "fa", "ur"}  # as journey.views


def _groups(document: Document) -> list[dict]:
    """The lines per member, with each member's subtotal."""
    groups: dict[str, dict] = {}
    for item in document.content.get("lines", []):
        key = str(item["member_id"])
        group = groups.setdefault(key, {"member": document.content["members"].get(key, {}),
                                         "lines": [], "gross_minor": 0, "vat_minor": 0})
        if "gross_minor" in item:
            group["lines"].append(item)
            group["gross_minor"] += item["gross_minor"]
            group["vat_minor"] += item["vat_minor"]
    return list(groups.values())


def _vat_summary(document: Document) -> list[dict]:
    rates: dict[str, dict] = {}
    for item in document.content.get("lines", []):
        if "gross_minor" not in item:
            continue
        row = rates.setdefault(item["vat_percent"], {"percent": Decimal(item["vat_percent"]),
                                                     "gross_minor": 0, "vat_minor": 0})
        row["gross_minor"] += item["gross_minor"]
        row["vat_minor"] += item["vat_minor"]
    return sorted(rates.values(), key=lambda row: row["percent"])


def context(document: Document) -> dict:
    return {"document": document, "content": document.content, "kinds": DocumentKind,
            "kind_title": DOCUMENT_KIND_TITLES[document.kind], "groups": _groups(document),
            "vat_rates": _vat_summary(document), "on": date.fromisoformat,
            "country_name": country_name, "doc_dir": "rtl" if document.language
            in RTL_LANGUAGES else "ltr", **formatting_context()}


def body_html(document: Document) -> str:
    """The document's body (for its page), in its language."""
    with force_locale(document.language):
        return render_template("invoicing/_document.html", **context(document))


def pdf_html(document: Document) -> str:
    """The PDF's HTML, in the document's language."""
    with force_locale(document.language):
        return render_template("invoicing/document_pdf.html", **context(document),
                               page_lang=document.language,
                               page_dir="rtl" if document.language in RTL_LANGUAGES
                               else "ltr")


def pdf_bytes(document: Document) -> bytes:
    html = pdf_html(document)
    base_url = request.url_root if has_request_context() else None
    return HTML(string=html, base_url=base_url).write_pdf()


def filename(document: Document) -> str:
    return f"{document.number}.pdf"
