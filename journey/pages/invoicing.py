"""Pages: invoices, receipts and credit notes.

- ``/documents/<id>``: a document as a page (its body in its payer's language, the same
  template the PDF prints) and ``/documents/<id>.pdf``; for whoever may see it
  (:func:`journey.invoicing.services.get_document`: others get 404);
- ``/admin/documents``: every document, for coordinators and admins;
- ``/admin/invoicing``: the cluster's legal details and invoice prefix (admins).

The patient's list is on the journey page (``invoicing/_journey_documents.html``), a
member's on its statement page.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import Length

from journey.builder.services.settings import get_settings
from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import require_admin, require_cluster
from journey.core.types import MAX_ID
from journey.invoicing import (
    follow,  # noqa: F401  (connects the signals, registers the mail)
    render,
    services,
)
from journey.invoicing.models import DOCUMENT_KIND_TITLES
from journey.pages.common import login_required, submit
from journey.pages.forms import PageForm
from journey.pages.itinerary import pdf_response
from journey.pages.portal import formatting_context

bp = Blueprint("invoicing_pages", __name__)
bp.context_processor(formatting_context)
# The documents' list is included in other parts' pages (journey page, statement).
bp.app_context_processor(lambda: {"document_kind_titles": DOCUMENT_KIND_TITLES})


@bp.get(f"/documents/<int(max={MAX_ID}):document_id>")
@login_required
def show(document_id: int):
    document = services.get_document(current_actor(), document_id)
    return render_template("invoicing/document.html", document=document,
                           kind_title=DOCUMENT_KIND_TITLES[document.kind],
                           body=Markup(render.body_html(document)))  # noqa: S704 (a template)


@bp.get(f"/documents/<int(max={MAX_ID}):document_id>.pdf")
@login_required
def pdf(document_id: int):
    document = services.get_document(current_actor(), document_id)
    response = pdf_response(render.pdf_html(document), render.filename(document))
    response.headers["Content-Language"] = document.language.replace("_", "-")
    return response


@bp.get("/admin/documents")
@login_required
def index():
    actor = require_cluster(current_actor())
    return render_template("invoicing/index.html", documents=services.list_documents(actor))


class LegalDetailsForm(PageForm):
    legal_name = StringField(_l("Legal name"), validators=[Length(max=200)])
    legal_address = StringField(_l("Registered address"), validators=[Length(max=300)])
    registration_number = StringField(_l("Company code"), validators=[Length(max=40)])
    vat_number = StringField(_l("VAT number"), validators=[Length(max=40)])
    invoice_prefix = StringField(_l("Prefix of document numbers (optional)"),
                                 validators=[Length(max=10)])


@bp.route("/admin/invoicing", methods=["GET", "POST"])
@login_required
def settings_page():
    require_admin(current_actor())
    current = get_settings()
    form = LegalDetailsForm(obj=current)
    saved, status = submit(form, lambda: services.update_legal_details(
        current_actor(), **{name: getattr(form, name).data for name in services.LEGAL_FIELDS}),
        raise_access_errors=True)
    if saved is not None:
        flash(_("The cluster's legal details are saved."))
        return redirect(url_for("invoicing_pages.settings_page"))
    return render_template("invoicing/settings.html", form=form), status
