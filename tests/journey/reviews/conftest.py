import pytest

from tests.journey.reviews.reviews_world import ensure_registered


@pytest.fixture(autouse=True)
def _reviews_registered(app):
    ensure_registered(app)
