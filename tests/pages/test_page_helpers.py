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
