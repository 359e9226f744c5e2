"""Small helpers every kind of page shares (journey.pages.common), and where the pages'
shared pieces live (titles, forms)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from journey.pages.common import language_name, page_arg, show_minor


@pytest.mark.parametrize(("query", "page"), [
    ("", 1), ("?page=3", 3), ("?page=0", 1), ("?page=-2", 1), ("?page=x", 1),
    ("?page=99999", 99999), ("?page=100000", 1)])
def test_the_page_number_of_a_list(app, query, page):
    with app.test_request_context("/" + query):
        assert page_arg() == page


def test_language_names_and_amounts_in_the_readers_language(app):
    with app.test_request_context("/?lang=de"):
        assert language_name("fr") == "Französisch"
        assert language_name("not a language") == "not a language"
        assert show_minor(123456, "EUR") == "1.234,56\xa0€"
        assert show_minor(None, "EUR") == ""


PAGER = '{% from "_pager.html" import pager %}{{ pager(page, total, per_page) }}'


def test_the_pager_links_the_neighbouring_pages_and_keeps_the_filters(app):
    """The catalogue and the journey lists share one pager (_pager.html)."""
    from flask import render_template_string

    with app.test_request_context("/portal/7/journeys?status=draft&page=2&_external=1"):
        html = render_template_string(PAGER, page=2, total=51, per_page=25)
        assert 'href="/portal/7/journeys?status=draft&amp;page=1" rel="prev"' in html
        assert 'href="/portal/7/journeys?status=draft&amp;page=3" rel="next"' in html
        assert "Page 2 of 3" in html
        assert render_template_string(PAGER, page=3, total=51, per_page=25).count("href") == 1
        assert "nav" not in render_template_string(PAGER, page=1, total=25, per_page=25)
        assert "nav" not in render_template_string(PAGER, page=1, total=0, per_page=25)


PAGES = Path(__file__).resolve().parents[3] / "journey" / "pages"


def _assigned_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)}


def test_every_title_of_a_state_or_kind_is_in_journey_pages_titles():
    """No page module keeps a title mapping of its own (journey.pages.titles holds them,
    re-exporting the models' own)."""
    elsewhere = {str(path.relative_to(PAGES)): sorted(name for name in _assigned_names(path)
                                                      if name.endswith("_TITLES"))
                 for path in sorted(PAGES.rglob("*.py")) if path.name != "titles.py"}
    assert {path: names for path, names in elsewhere.items() if names} == {}


def test_every_title_mapping_reaches_the_templates():
    from journey.pages import titles

    mappings = {name for name in vars(titles)
                if name.endswith("_TITLES") and name != "TEMPLATE_TITLES"}
    assert {name.lower() for name in mappings} <= set(titles.TEMPLATE_TITLES)


def test_one_reason_form():
    """A member's decline and a patient's cancellation share one form (one length)."""
    defined = [str(path.relative_to(PAGES)) for path in sorted(PAGES.rglob("*.py"))
               if "\nclass ReasonForm(" in path.read_text(encoding="utf-8")]
    assert defined == ["forms.py"]


@pytest.mark.parametrize(("lang", "value", "unit", "expected"), [
    ("en", 1, "nights", "1 night"), ("en", 3, "nights", "3 nights"),
    ("nb", 1, "days", "1 dag"), ("nb", 2, "days", "2 dager"),
    ("lt", 21, "nights", "21 naktis"), ("lt", 3, "nights", "3 naktys"),
    ("lt", 11, "nights", "11 naktų"), ("ru", 2, "sessions", "2 сеанса"),
    ("ar", 2, "nights", "ليلتان"), ("ar", 3, "nights", "3 ليالٍ"),
    ("de", 1000, "days", "1.000 Tage"),
])
def test_durations_take_the_plural_form_of_the_readers_language(app, lang, value, unit,
                                                                 expected):
    from journey.pages.titles import duration_text
    from providers.models import DurationUnit

    with app.test_request_context(f"/?lang={lang}"):
        assert duration_text(value, DurationUnit(unit)) == expected
