"""Small helpers every kind of page shares (journey.pages.common)."""

from __future__ import annotations

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
