"""The whole API against its own OpenAPI document, with schemathesis (every check: no
5xx, every status and answer as documented, data the document calls valid accepted,
data it calls invalid refused, links that lead where they say, authentication that is
enforced), as each role, on a cluster with a booking in it and localstripe behind it.

Bounded: the admin, whom no operation refuses before validating, gets every phase
(examples, coverage: each rule of the document broken once, fuzzing, stateful: chains
along the links); the patient, a member's manager and a coordinator get examples,
fuzzing and the stateful phase, where their roles change what the services answer.
What schemathesis is helped with, or excused from, is in tests/schemathesis_support.py,
each with its reason.
"""

import pytest

from journey.builder.services import templates
from journey.core.accounts.models import Role
from journey.core.extensions import db
from providers.services import offers
from tests.booking_fixtures import authorised_booking
from tests.journey.builder_world import soon
from tests.schemathesis_support import run

#: role -> (phases, examples per operation, only the operations open to the role)
PLANS = {
    "admin": (("examples", "coverage", "fuzzing", "stateful"), 3, False),
    "patient": (("examples", "fuzzing", "stateful"), 6, True),
    "member_manager": (("examples", "fuzzing", "stateful"), 4, True),
    "coordinator": (("examples", "fuzzing", "stateful"), 4, True),
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
    phases, examples, only_open = PLANS[role]
    report = run(stripe_app, role, make.token(cluster[role]), phases=phases,
                 max_examples=examples, only_open=only_open)
    print(report.describe())
    assert report.requests > 200, report.describe()
    assert not report.errors, report.describe()
    assert not report.failures, report.describe()
