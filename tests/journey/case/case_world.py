"""A journey whose clinic reviews the patient's case before payment, built through the
services: the knee surgery asks four questions and an imaging report."""

from __future__ import annotations

from journey.builder.services import journeys, quotes
from journey.core.extensions import db
from providers.services import case_requirements
from tests.journey.builder_world import build_world, soon

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
QUESTIONS = [
    {"key": "allergies", "kind": "text", "required": True,
     "texts": {"en": {"label": "Allergies to medicines?"},
               "de": {"label": "Allergien gegen Medikamente?"}}},
    {"key": "diabetic", "kind": "yes_no", "required": True,
     "texts": {"en": {"label": "Do you have diabetes?"}}},
    {"key": "weight", "kind": "number", "required": False,
     "texts": {"en": {"label": "Weight (kg)"}}},
    {"key": "side", "kind": "choice", "required": True, "choices": ["left", "right"],
     "texts": {"en": {"label": "Which knee?", "choices": ["Left", "Right"]},
               "lt": {"label": "Kuris kelis?", "choices": ["Kairysis", "Dešinysis"]}}},
]
DOCUMENTS = [{"kind": "imaging_report", "required": True,
              "notes": {"en": "MRI of the knee, not older than 6 months"}}]


def case_world(make):
    """The builder's world, the surgery reviewed before payment, and the patient's
    accepted quote for a room and the surgery; the coordinator coordinates it."""
    world = build_world(make)
    case_requirements.set_requirements(world["admin"], world["surgery"].id,
                                       requires_review=True, questions=QUESTIONS,
                                       documents=DOCUMENTS)
    patient = world["patient"]
    journey = journeys.open_journey(patient, arrival_on=soon(10), departure_on=soon(20),
                                    currency="EUR", nationality="NO")
    journeys.add_item(patient, journey.id, offer_id=world["room"].id, start_on=soon(10),
                      days=10)
    journeys.add_item(patient, journey.id, offer_id=world["surgery"].id, start_on=soon(12))
    journeys.assign_coordinator(world["coordinator"], journey.id, world["coordinator"].id)
    quote = quotes.create_quote(patient, journey.id)
    quotes.accept_quote(patient, quote.id)
    db.session.commit()
    world["journey_id"], world["quote_id"] = journey.id, quote.id
    questions = {q.key: q.id for q in world["surgery"].questions}
    world["questions"] = questions
    world["request_id"] = world["surgery"].document_requests[0].id
    return world


def full_answers(world) -> dict:
    q = world["questions"]
    return {str(q["allergies"]): "Penicillin", str(q["diabetic"]): False,
            str(q["weight"]): 82.5, str(q["side"]): "left"}
