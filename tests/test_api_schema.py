"""The whole API against its own OpenAPI document, with schemathesis and every check
(`all`: no 5xx; statuses, content types, headers and bodies as documented; data the
document calls valid accepted, data it calls invalid refused; authentication enforced;
what a 201 created is there, what a DELETE removed is gone), as each role, on a cluster
with a booking in it and localstripe behind it.

Bounded by examples, not by time (a time budget would make fuzzing and the stateful
phase repeat until it is spent): the admin, whom no operation refuses before it reads
the request, gets every phase (examples; coverage: each rule of the document broken
once; fuzzing; stateful: chains along the links) with valid and invalid data; the
patient, a member's manager and a coordinator get examples, fuzzing and the stateful
phase on the operations their roles may call, where the services answer them
differently, with valid data only (see :data:`PLANS`).

Nothing here excuses the document: a refusal by its own validation of data it calls
valid, a 5xx, an undocumented status or an answer off its schema always fails. What is
adjusted, each with its reason below:

- :func:`before_call` gives each request what only a client that knows the server's
  state could give, or what OpenAPI 3.0 cannot say (a rule across two fields, the keys
  of a map, an HMAC signature);
- :func:`filter_failure` drops "valid data rejected" only when the *domain* refused it
  (its answer carries ``error``; the document's validation never does) for a field
  listed in :data:`STATE_DEPENDENT` (it refers to other rows or to what is stored).
"""

import hashlib
import hmac
import json
import re
import time
import uuid
from collections import Counter
from datetime import date, timedelta

import pytest
import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

from journey.builder.services import templates
from journey.core.accounts.models import Role
from journey.core.api import IDEMPOTENCY_KEY_PATTERN
from journey.core.extensions import db
from providers.services import offers
from providers.services.availability import MAX_WINDOW_DAYS
from tests.booking_fixtures import authorised_booking
from tests.journey.builder_world import soon
from tests.schemathesis_support import run

pytestmark = pytest.mark.slow  # about a minute: ~7,600 requests

#: role -> (phases, examples per operation, only the operations open to the role, data).
#: Invalid data is refused by the document's validation before a service reads it, and
#: alike for every role an operation is open to (the role is checked first, then the one
#: parser): the admin's pass breaks each rule once (coverage) and fuzzes invalid data; the
#: other roles' passes, which are there for what the services answer each role, send
#: valid data only, which also spares them the costliest generation (invalid data is
#: made by mutating the schemas). Their examples stay as they were, now all valid.
PLANS = {
    "admin": (("examples", "coverage", "fuzzing", "stateful"), 2, False, "all"),
    "patient": (("examples", "fuzzing", "stateful"), 5, True, "positive"),
    "member_manager": (("examples", "fuzzing", "stateful"), 3, True, "positive"),
    "coordinator": (("examples", "fuzzing", "stateful"), 3, True, "positive"),
}


@pytest.fixture
def cluster(world, gateway, make):
    """Rows with small ids, which generated ids often hit: members 1-5, offers 1-5, a
    journey, its accepted quote and an authorised booking (1), a price rule, a template,
    and one account per role."""
    authorised_booking(world, gateway)
    offers.add_price_rule(world["admin"], world["room"].id, name="Summer",
                          starts_on=soon(30), ends_on=soon(60), price_minor=9000)
    templates.create_template(world["coordinator"], status="published",
                              texts={"en": {"name": "Knee and rest"}},
                              links=[{"default_offer_id": world["surgery"].id, "day_offset": 1},
                                     {"default_offer_id": world["room"].id, "day_offset": 0,
                                      "days": 5}])
    db.session.commit()
    return {
        "admin": world["admin"],
        "patient": world["patient"],
        "member_manager": make.user(Role.MEMBER_MANAGER, world["clinic"]),
        "coordinator": world["coordinator"],
    }


@pytest.mark.parametrize("role", PLANS)
def test_the_api_keeps_to_its_document(stripe_app, cluster, make, role):
    phases, examples, only_open, mode = PLANS[role]
    report = run(stripe_app, role, make.token(cluster[role]), phases=phases,
                 max_examples=examples, only_open=only_open, mode=mode)
    print(report.describe())
    print("\n".join(f"  excused so far: {name} x{count}"
                    for name, count in sorted(EXCUSED.items())))
    assert report.requests > 200, report.describe()
    assert not report.errors, report.describe()
    assert not report.failures, report.describe()


# --- what each request is given --------------------------------------------------------------

_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
#: Languages that exist, for the keys of maps by language.
_LANGUAGES = ("en", "lt", "de", "ru", "nb", "pl", "uk", "sv", "fr", "ar")


def _dates(body, first: str, last: str, *, strictly_after: bool = False,
           max_days: int | None = None) -> None:
    """``last`` not before ``first`` (after it when ``strictly_after``), at most
    ``max_days`` days from it. OpenAPI cannot compare two fields."""
    try:
        start, end = date.fromisoformat(body.get(first)), date.fromisoformat(body.get(last))
    except (TypeError, ValueError):  # not two dates: nothing to order
        return
    if end < start or (strictly_after and end == start):
        start, end = end, start
    if strictly_after and end == start:
        end = start + timedelta(days=1)
    if max_days is not None and (end - start).days + 1 > max_days:
        end = start + timedelta(days=max_days - 1)
    body[first], body[last] = start.isoformat(), end.isoformat()


def _both_or_neither(query, first: str, last: str) -> None:
    """The catalogue search filters on a range of days: both ends or none."""
    if (query.get(first) is None) != (query.get(last) is None):
        query.pop(first, None)
        query.pop(last, None)


def _number(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _at_least(body, low: str, high: str) -> None:
    """A maximum not below its minimum."""
    one, two = _number(body.get(low)), _number(body.get(high))
    if one is not None and two is not None and two < one:
        body[low], body[high] = body[high], body[low]


def _language_keys(body, name: str) -> None:
    """OpenAPI 3.0 cannot constrain the keys of a map (no ``propertyNames``): the document
    says in words that these are languages."""
    texts = body.get(name)
    if isinstance(texts, dict):
        body[name] = dict(zip(_LANGUAGES, texts.values(), strict=False))


def _tiers(body, name: str) -> None:
    """Cancellation terms: each day count once, later never refunds more."""
    tiers = body.get(name)
    if not isinstance(tiers, list) or not all(
            isinstance(t, dict) and isinstance(t.get("days_before"), int)
            and isinstance(t.get("refund_percent"), int) for t in tiers):
        return
    unique = {t["days_before"]: t for t in tiers}
    ordered = sorted(unique.values(), key=lambda t: -t["days_before"])
    percents = sorted((t["refund_percent"] for t in ordered), reverse=True)
    body[name] = [{**t, "refund_percent": p} for t, p in zip(ordered, percents, strict=True)]


def _discount(body) -> None:
    """A package's discount: a percentage or an amount in a currency, not both."""
    if body.get("discount_percent") is not None and body.get("discount_minor") is not None:
        body["discount_minor"] = None
    if body.get("discount_minor") is not None and not body.get("discount_currency"):
        body["discount_currency"] = "EUR"


def _member_account(body) -> None:
    """A member's account names its member."""
    if body.get("role") in ("member_staff", "member_manager") and \
            not isinstance(body.get("provider_id"), int):
        body["provider_id"] = 1


def _other_currency(body) -> None:
    """An exchange rate is between two currencies."""
    if isinstance(body.get("base"), str) and body.get("base", "").upper() == \
            str(body.get("quote", "")).upper():
        body["quote"] = "NOK" if body["base"].upper() != "NOK" else "EUR"


def _payment_intent_object(body) -> None:
    """``payment_intent.*`` events name their PaymentIntent (OpenAPI 3.0 has no
    if/then)."""
    data = body.get("data")
    if isinstance(body.get("type"), str) and body["type"].startswith("payment_intent.") \
            and isinstance(data, dict) and isinstance(data.get("object"), dict):
        data["object"].setdefault("id", "pi_schemathesis")


BODY_RULES = {
    "POST /api/v1/offers/{offer_id}/prices": lambda b: _dates(b, "starts_on", "ends_on"),
    "PATCH /api/v1/offers/{offer_id}/prices/{rule_id}":
        lambda b: _dates(b, "starts_on", "ends_on"),
    "PUT /api/v1/offers/{offer_id}/calendar":
        lambda b: _dates(b, "start", "end", max_days=MAX_WINDOW_DAYS),
    "POST /api/v1/members/{provider_id}/offers": lambda b: (
        _at_least(b, "min_quantity", "max_quantity"), _tiers(b, "cancellation_tiers"),
        _language_keys(b, "texts")),
    "PATCH /api/v1/offers/{offer_id}": lambda b: _at_least(b, "min_quantity", "max_quantity"),
    "PUT /api/v1/offers/{offer_id}/cancellation-tiers": lambda b: _tiers(b, "tiers"),
    "POST /api/v1/members": lambda b: _language_keys(b, "descriptions"),
    "POST /api/v1/exchange-rates": _other_currency,
    "POST /api/v1/journeys": lambda b: _dates(b, "arrival_on", "departure_on",
                                              strictly_after=True),
    "PATCH /api/v1/journeys/{journey_id}": lambda b: _dates(b, "arrival_on", "departure_on",
                                                            strictly_after=True),
    "POST /api/v1/templates": lambda b: (_discount(b), _language_keys(b, "texts")),
    "PATCH /api/v1/templates/{template_id}": lambda b: (_discount(b),
                                                        _language_keys(b, "texts")),
    "POST /api/v1/auth/users": _member_account,
    "POST /api/v1/stripe/webhook": _payment_intent_object,
}

QUERY_RULES = {
    "GET /api/v1/offers": lambda q: (
        _both_or_neither(q, "start", "end"),
        _dates(q, "start", "end", max_days=MAX_WINDOW_DAYS),
        _at_least(q, "price_min", "price_max")),
    "GET /api/v1/offers/{offer_id}/calendar":
        lambda q: _dates(q, "start", "end", max_days=MAX_WINDOW_DAYS),
}


def _sign(case) -> None:
    """Stripe signs its webhook with an HMAC of the exact body; a generator cannot, so a
    request whose Stripe-Signature header the document calls valid gets a real one (one
    the document calls invalid keeps its own, and is refused)."""
    signature = (case.headers or {}).get("Stripe-Signature")
    if not (isinstance(signature, str) and signature) or not isinstance(case.body, dict):
        return
    secret = case.operation.app.config["STRIPE_WEBHOOK_SECRET"]
    body = json.dumps(case.body).encode()
    stamp = str(int(time.time()))
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    case.headers["Stripe-Signature"] = f"t={stamp},v1={mac}"  # werkzeug sends json.dumps


@schemathesis.hook
def before_call(context, case, kwargs):
    label = case.operation.label
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and _KEY.fullmatch(key):
        # A key is a promise about one request: the same key with another request is
        # refused by design (422). A generator repeats its values, a client does not.
        headers["Idempotency-Key"] = uuid.uuid4().hex
    if isinstance(case.body, dict) and label in BODY_RULES:
        BODY_RULES[label](case.body)
    if isinstance(case.query, dict) and label in QUERY_RULES:
        QUERY_RULES[label](case.query)
    if label == "POST /api/v1/stripe/webhook":
        _sign(case)


# --- refusals that depend on the server's state -----------------------------------------------

#: operation -> {field the domain may refuse: why the document cannot promise it}
REFERS = "refers to another row, which may not exist (or may not be visible to the caller)"
STORED = "is weighed against what is stored (the journey's or offer's other field)"
ON_SALE = "the offer must be on sale now"
SECRET = "a single-use secret from an e-mail: no generator can guess one"
#: A procedure is one of the chain links' own (providers/procedures.py): which codes an
#: offer may carry depends on its chain link, sent or stored.
PROCEDURE = "a procedure fits only some chain links, the offer's sent or stored"

STATE_DEPENDENT = {
    "POST /api/v1/journeys": {
        "patient_id": REFERS, "entry_provider_id": REFERS,
        "patient_email": "staff name the patient by account or e-mail, and an address may "
                         "belong to a staff account",
        "patient_name": "a patient new to the cluster needs a name"},
    "PATCH /api/v1/journeys/{journey_id}": {"departure_on": STORED},
    "PUT /api/v1/journeys/{journey_id}/coordinator": {"coordinator_id": REFERS},
    "POST /api/v1/journeys/{journey_id}/items": {"offer_id": ON_SALE,
                                                 "borne_by_provider_id": REFERS},
    "PATCH /api/v1/journeys/{journey_id}/items/{item_id}": {"offer_id": ON_SALE},
    "POST /api/v1/journeys/{journey_id}/apply-template": {
        "arrival_on": "a package is laid out from an arrival: this one or the journey's"},
    "POST /api/v1/journeys/{journey_id}/plan": {
        "items": "a journey without items has nothing to plan",
        "arrival_on": "planning needs an arrival or a treatment start, sent or stored"},
    "GET /api/v1/quotes/{quote_id}/diff": {"against": "another version of the same journey"},
    "POST /api/v1/templates": {"links": REFERS + "; and a link's offer is of its link"},
    "PATCH /api/v1/templates/{template_id}": {"links": REFERS},
    "PATCH /api/v1/offers/{offer_id}": {"max_quantity": STORED, "procedure": PROCEDURE},
    "POST /api/v1/members/{provider_id}/offers": {"procedure": PROCEDURE},
    "PATCH /api/v1/offers/{offer_id}/prices/{rule_id}": {"ends_on": STORED},
    "POST /api/v1/quotes/{quote_id}/checkout": {"amount": "a quote with nothing due now",
                                                "lines": "a quote with nothing to hold"},
    "POST /api/v1/auth/passwords": {"token": SECRET},
    "POST /api/v1/auth/email-verifications": {"token": SECRET},
}


def _refused_for(response) -> set[str] | None:
    """The fields a domain refusal (422 with ``error``) names; None for anything else."""
    if response.status_code != 422:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or "error" not in body:
        return None  # the document's own validation: never excused
    return set((body.get("errors") or {}).get("json") or {}) or {"<none>"}


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """True keeps the failure."""
    if not isinstance(failure, RejectedPositiveData):
        return True
    fields_ = _refused_for(response)
    label = case.operation.label
    if fields_ and fields_ <= STATE_DEPENDENT.get(label, {}).keys():
        EXCUSED.update(f"{label}: {name}" for name in fields_)
        return False
    return True


#: What :func:`filter_failure` excused in this process, for the report.
EXCUSED: Counter = Counter()
