"""Reasons are stored as codes with parameters and read in the reader's language."""

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale

from journey.core.reasons import MESSAGES, as_why, describe, why


def test_an_unknown_code_is_a_programming_error():
    with pytest.raises(ValueError):
        why("made_up_reason")


def test_parameters_are_stored_as_plain_json(app):  # create_app registers the codes
    stated = why("no_answer", deadline_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    assert stated.params == {"deadline_at": "2026-12-01T09:30:00+00:00"}
    assert why("balance_due", due_on=date(2026, 12, 1)).params == {"due_on": "2026-12-01"}


def test_money_and_dates_are_formatted_for_the_reader(app):
    kept = why("cancelled_fee_kept", kept_minor=123450, currency="EUR", note="Changed plans")
    due = why("balance_due", due_on=date(2026, 12, 1))
    with app.test_request_context(), force_locale("de"):
        assert describe(kept.code, kept.params, kept.note) == \
            "Storniert, 1.234,50\xa0€ gemäß den Bedingungen einbehalten: Changed plans"
        assert describe(due.code, due.params) == "Der Restbetrag war am 01.12.2026 fällig"
    with app.test_request_context(), force_locale("en"):
        assert describe(kept.code, kept.params) == "Cancelled, €1,234.50 kept under the terms"
        assert describe(due.code, due.params) == "The balance was due on Dec 1, 2026"
    with app.test_request_context(), force_locale("lt"):
        assert describe("member_accepted", None) == "Narys patvirtino"


def test_a_note_without_a_code_is_shown_as_it_came(app):
    stated = as_why("card_declined (Stripe)")
    assert (stated.code, stated.note) == ("", "card_declined (Stripe)")
    with app.test_request_context(), force_locale("de"):
        assert describe(stated.code, stated.params, stated.note) == "card_declined (Stripe)"
        assert describe("", {}, "") == ""


def test_every_reason_is_translated_in_every_language(app):
    with app.test_request_context():
        english = {code: str(message) for code, message in MESSAGES.items()}
        for language in ("de", "lt", "ar", "uk"):
            with force_locale(language):
                same = [code for code, message in MESSAGES.items()
                        if str(message) == english[code] and "%(" not in english[code]]
            assert same == [], language
