"""The case REST API: parse, call a service, serialise. Every read or change of medical
content goes through a service of :mod:`journey.case.services`, which logs it."""

from __future__ import annotations

import io

from flask import jsonify, send_file
from flask.views import MethodView

from journey.case.models import ConsentScope
from journey.case.schemas import (
    AccessLogArgs,
    AccessLogSchema,
    AnswersInSchema,
    CaseSchema,
    ConsentInSchema,
    DecisionInSchema,
    DocumentSchema,
    ReasonArgs,
    ReviewSchema,
    ShareInSchema,
    UploadFileSchema,
    UploadFormSchema,
    WaitingReviewSchema,
)
from journey.case.services import access as case_access
from journey.case.services import case, consent, privacy, reviews
from journey.core.accounts.auth import current_actor
from journey.core.api import ADMIN, CLUSTER, MEMBERS, PATIENT, Blueprint, errors, roles
from journey.core.files import accepts_upload
from journey.core.types import ID_CONVERTER

ID = ID_CONVERTER
blp = Blueprint("case", __name__, description="The patient's case: questionnaires, "
                "documents (encrypted), consent, the treating members' review before "
                "payment, and the log of who read what")


@blp.route(f"/journeys/<{ID}:journey_id>/case")
class Case(MethodView):
    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @blp.arguments(ReasonArgs, location="query")
    @blp.response(200, CaseSchema)
    def get(self, args, journey_id):
        """The case as you may see it: the treating members' questions with the answers,
        the documents asked for and given, the reviews and the consents. Logged."""
        return case.read_case(current_actor(), journey_id, reason=args["reason"])


@blp.route(f"/journeys/<{ID}:journey_id>/case/answers")
class CaseAnswers(MethodView):
    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @errors(409)
    @blp.arguments(AnswersInSchema)
    @blp.response(200, CaseSchema)
    def put(self, data, journey_id):
        """Answer questions (the patient, or a treating member or coordinator for them;
        after the patient's consent, else 409 `consent_required`)."""
        return case.answer_questions(current_actor(), journey_id, data["answers"],
                                     reason=data["reason"])


@blp.route(f"/journeys/<{ID}:journey_id>/case/consent")
class CaseConsent(MethodView):
    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @errors(409)
    @blp.arguments(ConsentInSchema)
    @blp.response(200, CaseSchema)
    def post(self, data, journey_id):
        """Record the patient's consent (`health_data` first, then `share_with_treating`),
        in the version and language of the texts in `consent_texts`."""
        actor = current_actor()
        consent.give_consent(actor, journey_id, data["scopes"])
        return case.read_case(actor, journey_id)


@blp.route(f"/journeys/<{ID}:journey_id>/case/consent/<any(health_data, share_with_treating)"
           ":scope>")
class CaseConsentWithdrawal(MethodView):
    @roles(PATIENT)
    @blp.response(204)
    def delete(self, journey_id, scope):
        """Withdraw a consent (the patient). Withdrawing `health_data` withdraws the
        sharing too; what was shared stays with the members that have it."""
        consent.withdraw_consent(current_actor(), journey_id, ConsentScope(scope))


@blp.route(f"/journeys/<{ID}:journey_id>/case/documents")
class CaseDocuments(MethodView):
    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @errors(409, 413)
    @accepts_upload
    @blp.arguments(UploadFormSchema, location="form")
    @blp.arguments(UploadFileSchema, location="files")
    @blp.response(201, DocumentSchema)
    def post(self, form, files, journey_id):
        """Upload a document (multipart/form-data). Its type is read from its content,
        not its name (PDF, JPEG, PNG, HEIC, WebP, DICOM or a ZIP of DICOM files unless
        configured otherwise), up to the configured size; stored encrypted."""
        upload = files["file"]
        return case.add_document(current_actor(), journey_id, data=upload.read(),
                                 filename=upload.filename, kind=form["kind"],
                                 request_id=form["request_id"],
                                 share_with=form["share_with"], reason=form["reason"])


@blp.route(f"/journeys/<{ID}:journey_id>/case/documents/<{ID}:document_id>")
class CaseDocument(MethodView):
    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @blp.arguments(ReasonArgs, location="query")
    @blp.response(200, {"type": "string", "format": "binary"},
                  content_type="application/octet-stream")
    def get(self, args, journey_id, document_id):
        """The document's content, as an attachment (logged)."""
        document, content = case.open_document(current_actor(), journey_id, document_id,
                                               reason=args["reason"])
        response = send_file(io.BytesIO(content), mimetype=document.content_type,
                             as_attachment=True, download_name=document.filename,
                             max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @blp.response(204)
    def delete(self, journey_id, document_id):
        """Remove a document (the patient, or whoever added it); its content is deleted."""
        case.remove_document(current_actor(), journey_id, document_id)


@blp.route(f"/journeys/<{ID}:journey_id>/case/documents/<{ID}:document_id>/sharing")
class CaseDocumentSharing(MethodView):
    @roles(PATIENT)
    @blp.arguments(ShareInSchema)
    @blp.response(200, DocumentSchema)
    def put(self, data, journey_id, document_id):
        """The treating members a document is shared with, beside the one that asked."""
        return case.share_document(current_actor(), journey_id, document_id,
                                   data["provider_ids"])


@blp.route(f"/journeys/<{ID}:journey_id>/case/submission")
class CaseSubmission(MethodView):
    @roles(PATIENT, *CLUSTER)
    @errors(409)
    @blp.arguments(ReasonArgs, location="query")
    @blp.response(200, ReviewSchema(many=True))
    def post(self, args, journey_id):
        """Send the case to the members that review it (422 lists what is missing)."""
        return reviews.submit_case(current_actor(), journey_id, reason=args["reason"])


@blp.route(f"/journeys/<{ID}:journey_id>/case/review")
class CaseDecision(MethodView):
    @roles(*MEMBERS)
    @errors(409)
    @blp.arguments(DecisionInSchema)
    @blp.response(200, ReviewSchema)
    def post(self, data, journey_id):
        """The treating member's decision on the case it reviews."""
        return reviews.decide(current_actor(), journey_id, **data)


@blp.route(f"/journeys/<{ID}:journey_id>/case/access-log")
class CaseAccessLog(MethodView):
    @roles(PATIENT, *CLUSTER)
    @blp.arguments(AccessLogArgs, location="query")
    @blp.response(200, AccessLogSchema(many=True))
    def get(self, args, journey_id):
        """Who has read or changed the case, newest first (`format=fhir`: a FHIR R4
        Bundle of AuditEvents)."""
        rows = case_access.access_log(current_actor(), journey_id)
        if args["format"] == "fhir":
            return jsonify({"resourceType": "Bundle", "type": "collection",
                            "entry": [{"resource": case_access.as_audit_event(r)}
                                      for r in rows]})
        return rows


@blp.route("/case-reviews")
class WaitingReviews(MethodView):
    @roles(*CLUSTER)
    @blp.response(200, WaitingReviewSchema(many=True))
    def get(self):
        """Cases waiting for a member's review, oldest deadline first (coordinators)."""
        return reviews.waiting_reviews()


# --- the patient's rights over their data ------------------------------------------------------

def _zip(content: bytes, patient_id: int):
    response = send_file(io.BytesIO(content), mimetype="application/zip", as_attachment=True,
                         download_name=f"one-window-patient-{patient_id}.zip", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/me/export")
class MyExport(MethodView):
    @roles(PATIENT)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/zip")
    def get(self):
        """Everything One Window holds about you (GDPR art. 15 and 20): a ZIP with
        `patient.json`, your documents and `fhir-bundle.json` (a FHIR R4 Bundle)."""
        actor = current_actor()
        return _zip(privacy.export_patient(actor), actor.id)


@blp.route("/me/erasure")
class MyErasure(MethodView):
    @roles(PATIENT)
    @errors(409)
    @blp.response(204)
    def post(self):
        """Erase your health data and personal fields (GDPR art. 17): documents deleted,
        answers gone, the account closed under a pseudonym; bookings and payments stay,
        as the law requires. Refused (409) while a trip is booked or under way."""
        privacy.erase_patient(current_actor())


@blp.route(f"/patients/<{ID}:patient_id>/export")
class PatientExport(MethodView):
    @roles(ADMIN)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/zip")
    def get(self, patient_id):
        """A patient's data export, for a request they made to the cluster (logged)."""
        return _zip(privacy.export_patient(current_actor(), patient_id), patient_id)


@blp.route(f"/patients/<{ID}:patient_id>/erasure")
class PatientErasure(MethodView):
    @roles(ADMIN)
    @errors(409)
    @blp.response(204)
    def post(self, patient_id):
        """Erase a patient's data at their request (logged)."""
        privacy.erase_patient(current_actor(), patient_id)
