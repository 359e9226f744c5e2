"""The coverage rule on its own: deductible first, then the share or the fixed amount
per line, then the cap; only published products, covered chain links (and offers),
lines whose first day lies in the product's dates, lines the patient is charged for."""

from datetime import date
from types import SimpleNamespace

import pytest

from journey.builder.models import QuoteLineKind
from journey.insurance.models import CoverageProduct, ProductStatus
from journey.insurance.services.coverage import covered_amounts, discount_shares
from providers.models import ChainLink

DAY = date(2027, 3, 10)


def product(**kw):
    data = {"chain_links": ["treatment", "consultation"], "offer_ids": [],
            "share_percent": 80, "fixed_minor": None, "cap_minor": None,
            "deductible_minor": 0, "currency": "EUR", "valid_from": date(2027, 1, 1),
            "valid_until": date(2027, 12, 31), "status": ProductStatus.PUBLISHED}
    data.update(kw)
    return CoverageProduct(**data)


def line(total, link="treatment", *, kind=QuoteLineKind.ITEM, offer_id=1, start=DAY,
         provider_id=1):
    return SimpleNamespace(total_minor=total, chain_link=ChainLink(link), kind=kind,
                           offer_id=offer_id, start_on=start, provider_id=provider_id)


def cover(prod, lines):
    return covered_amounts(prod, lines, [ln.total_minor for ln in lines], currency="EUR",
                           table={})


def test_share_of_each_covered_line():
    assert cover(product(), [line(10000), line(5001, "consultation")]) == [8000, 4001]


def test_fixed_amount_per_line_never_more_than_the_line():
    assert cover(product(share_percent=None, fixed_minor=3000),
                 [line(10000), line(2000)]) == [3000, 2000]


def test_deductible_first_across_lines_then_share():
    # 150.00 of deductible: all of the first line (100.00), 50.00 of the second.
    assert cover(product(deductible_minor=15000), [line(10000), line(20000)]) == [0, 12000]


def test_cap_per_journey_the_later_lines_get_what_is_left():
    assert cover(product(cap_minor=10000), [line(10000), line(10000), line(10000)]) == \
        [8000, 2000, 0]


def test_deductible_then_share_then_cap():
    # The demo's product on a 6,500.00 surgery: (6500 - 200) * 80 % = 5040, capped 5000.
    assert cover(product(deductible_minor=20000, cap_minor=500000), [line(650000)]) == \
        [500000]


@pytest.mark.parametrize("start, covered", [
    (date(2026, 12, 31), 0), (date(2027, 1, 1), 8000), (date(2027, 12, 31), 8000),
    (date(2028, 1, 1), 0)])
def test_only_lines_starting_within_the_validity(start, covered):
    assert cover(product(), [line(10000, start=start)]) == [covered]


def test_uncovered_links_borne_lines_drafts_and_other_offers_get_nothing():
    lines = [line(10000, "accommodation"), line(10000, kind=QuoteLineKind.BORNE),
             line(10000, offer_id=2)]
    assert cover(product(offer_ids=[1]), lines) == [0, 0, 0]
    assert cover(product(status=ProductStatus.DRAFT), [line(10000)]) == [0]


def test_the_discount_is_taken_off_before_the_cover():
    lines = [line(10000), line(10000, provider_id=2)]
    assert discount_shares(lines, 1000, funder=1) == [1000, 0]
    bases = [9000, 10000]
    assert covered_amounts(product(), lines, bases, currency="EUR", table={}) == \
        [7200, 8000]
