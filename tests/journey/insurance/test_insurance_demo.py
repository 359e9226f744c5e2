"""The demo's insurer: a published coverage product of Sargas Insurance, and Heike's
journey quoted with its share, the guarantee waiting in the insurer's inbox; loading
again creates nothing. Its own app on its own SQLite file, as tests/journey/test_demo.py."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from journey.app import create_app
from journey.core.accounts.services import get_user_by_email
from journey.core.extensions import db
from journey.demo import find_insured_journey, manager_email, seed_demo
from journey.demo_data import COVERAGE_PRODUCT, INSURED_JOURNEY
from journey.insurance.models import (
    CoverageProduct,
    Guarantee,
    GuaranteeStatus,
    InsurancePolicy,
    ProductStatus,
)
from journey.insurance.services import guarantees

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path_factory.mktemp("insdemo")
                                                       / "demo.db"),
        "TESTING": True,
    })
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_demo_insurer_covers_a_journey(demo_app):
    with demo_app.app_context():
        (product,) = db.session.scalars(select(CoverageProduct)).all()
        assert product.provider.slug == COVERAGE_PRODUCT["insurer"]
        assert (product.status, product.share_percent, product.deductible_minor,
                product.cap_minor) == (ProductStatus.PUBLISHED, 80, 20000, 500000)
        journey = find_insured_journey()
        assert journey.patient.email == INSURED_JOURNEY["patient"]
        (quote,) = journey.quotes
        assert quote.covered_minor > 0
        assert quote.covered_minor <= 500000
        covered = [line for line in quote.lines if line.covered_minor]
        assert covered and all(line.chain_link.value in ("treatment", "consultation")
                               for line in covered)
        assert quote.total_minor == sum(line.total_minor for line in quote.lines) - \
            quote.covered_minor
        staff = get_user_by_email(manager_email(COVERAGE_PRODUCT["insurer"]))
        (waiting,) = guarantees.list_guarantees(staff, product.provider_id)
        assert (waiting.quote_id, waiting.status) == (quote.id, GuaranteeStatus.PENDING)


def test_loading_the_demo_again_adds_no_insurance(demo_app):
    with demo_app.app_context():
        counts = [db.session.scalar(select(func.count()).select_from(model))
                  for model in (CoverageProduct, InsurancePolicy, Guarantee)]
        seed_demo()
        db.session.commit()
        assert [db.session.scalar(select(func.count()).select_from(model))
                for model in (CoverageProduct, InsurancePolicy, Guarantee)] == counts == \
            [1, 1, 1]
