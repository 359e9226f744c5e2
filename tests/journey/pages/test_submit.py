"""The one way a page submits a form to a service (journey.pages.common.submit): the
patient's pages, the accounts pages, the portal, the board and the admin all use it."""

from __future__ import annotations

import pytest
from wtforms import StringField
from wtforms.validators import DataRequired

from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.pages.common import submit, submit_card
from journey.pages.forms import CheckoutForm, PageForm


class NameForm(PageForm):
    name = StringField(validators=[DataRequired()])


def _refuse(error):
    def action():
        raise error

    return action


def _post(app, **data):
    return app.test_request_context("/", method="POST", data=data)


def test_a_plain_get_shows_the_form_and_runs_nothing(app):
    with app.test_request_context("/"):
        assert submit(NameForm(), _refuse(AssertionError("ran"))) == (None, 200)


def test_invalid_fields_are_422_and_run_nothing(app):
    with _post(app, name=""):
        form = NameForm()
        assert submit(form, _refuse(AssertionError("ran"))) == (None, 422)
        assert form.name.errors


def test_a_button_with_a_bad_token_may_answer_400(app):
    with _post(app, name=""):
        assert submit(NameForm(), _refuse(AssertionError("ran")), invalid_status=400) == \
            (None, 400)


def test_done_is_the_actions_result(app):
    with _post(app, name="Ada"):
        assert submit(NameForm(), lambda: "saved") == ("saved", 200)
        # An action that answers None has put its own errors beside the fields.
        assert submit(NameForm(), lambda: None) == (None, 422)


def test_a_refusal_goes_beside_the_fields_with_its_status(app):
    with _post(app, name="Ada"):
        form = NameForm()
        refusal = InvalidInput(fields={"name": ["Taken."], "other": ["Elsewhere."]})
        assert submit(form, _refuse(refusal)) == (None, 422)
        assert form.name.errors == ["Taken."]
        assert form.form_errors == [str(refusal.message), "Elsewhere."]
        form = NameForm()
        assert submit(form, _refuse(Conflict("Busy with it."))) == (None, 409)
        assert form.form_errors == ["Busy with it."]


def test_a_refused_access_goes_beside_the_fields_or_to_the_error_page(app):
    """The patient's pages show it on the form; the portal, the board and the admin
    raise it to the error page."""
    for error in (NotFound("Gone."), Forbidden("Not yours.")):
        with _post(app, name="Ada"):
            form = NameForm()
            assert submit(form, _refuse(error)) == (None, error.status)
            assert form.form_errors == [str(error.message)]
            with pytest.raises(type(error)):
                submit(NameForm(), _refuse(error), raise_access_errors=True)


def test_there_is_one_submit_helper():
    """Every page module submits through journey.pages.common.submit."""
    from pathlib import Path

    pages = Path(__file__).resolve().parents[3] / "journey" / "pages"
    defined = [str(path.relative_to(pages)) for path in sorted(pages.rglob("*.py"))
               if "\ndef submit(" in path.read_text(encoding="utf-8")]
    assert defined == ["common.py"]


def test_a_refused_card_is_asked_for_again_invalid_fields_keep_it(app):
    with _post(app, idempotency_key="key-12345678", payment_method="pm_card"):
        form = CheckoutForm()
        assert submit_card(form, _refuse(Conflict())) == (None, 409)
        assert form.payment_method.data == ""
    with _post(app, idempotency_key="", payment_method="pm_card"):
        form = CheckoutForm()
        assert submit_card(form, _refuse(AssertionError("ran"))) == (None, 422)
        assert form.payment_method.data == "pm_card"
