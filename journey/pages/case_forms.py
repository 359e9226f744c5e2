"""Flask-WTF forms of the case pages (:mod:`journey.pages.case`): the patient's consent,
answers (a form built from the treating member's questions), uploads and sharing; the
treating member's decision; a download with the reason a coordinator stated (the
reason itself is typed into the one :class:`~journey.pages.forms.ReasonForm`).

The forms check what a browser may send wrongly (a missing file, an unticked box, a
text too long to store); the rules of the case (a number is a number, a date a date,
who may share with whom, how long a reason must be) are the services', whose messages
:func:`journey.pages.common.submit` puts beside these fields.
"""

from __future__ import annotations

import re

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, NumberInput

from journey.case.models import ConsentScope
from journey.case.services.case import MAX_TEXT_ANSWER
from journey.case.services.consent import CONSENT_TEXTS
from journey.pages.case import QuestionRow
from journey.pages.forms import PageForm, as_choices
from providers.models import DOCUMENT_KIND_TITLES, QuestionKind

#: The name of a question's field: ``q`` and the question's id.
QUESTION_FIELD = re.compile(r"q[1-9][0-9]{0,9}")
MAX_QUESTIONS_POSTED = 200
YES_NO = as_choices([("yes", _l("Yes")), ("no", _l("No"))])


class ConsentForm(PageForm):
    """The consents not given yet (the view removes the field of one already given)."""

    health_data = BooleanField(CONSENT_TEXTS[ConsentScope.HEALTH_DATA])
    share_with_treating = BooleanField(CONSENT_TEXTS[ConsentScope.SHARE_WITH_TREATING])

    def scopes(self) -> list[ConsentScope]:
        return [ConsentScope(name) for name in ("health_data", "share_with_treating")
                if name in self and self[name].data]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.scopes():
            first = next(iter(f for f in self if isinstance(f, BooleanField)))
            first.errors = [*first.errors, str(_l("Tick the box to give your consent."))]
            return False
        return ok


def _answer_field(row: QuestionRow):
    """The input of one question, by its kind, holding the stored answer."""
    question, value = row.question, row.value
    label = row.label
    attributes = {"aria-required": "true"} if question.required else {}
    if question.kind == QuestionKind.TEXT:
        return TextAreaField(label, default=value or "",
                             render_kw={**attributes, "maxlength": MAX_TEXT_ANSWER, "rows": 3})
    if question.kind == QuestionKind.YES_NO:
        default = None if value is None else ("yes" if value else "no")
        return RadioField(label, choices=YES_NO, default=default, validate_choice=False,
                          render_kw=attributes)
    if question.kind == QuestionKind.NUMBER:
        return StringField(label, default="" if value is None else str(value),
                           widget=NumberInput(step="any"),
                           render_kw={**attributes, "inputmode": "decimal"})
    if question.kind == QuestionKind.DATE:
        return StringField(label, default=value or "", widget=DateInput(),
                           render_kw=attributes)
    return SelectField(label, choices=as_choices([("", _l("Choose one")), *row.choices]),
                       default=value or "", validate_choice=False, render_kw=attributes)


def answers_form(questions: list[QuestionRow], *, formdata=None) -> PageForm:
    """A treating member's questions as a form: one field ``q<id>`` a question, typed by
    its kind (text: a text area; yes/no: two radio buttons; number, date: their inputs;
    choice: a list), labelled in the reader's language. ``formdata``: what was posted,
    to show again with its errors."""

    class AnswersForm(PageForm):
        pass

    for row in questions:
        setattr(AnswersForm, f"q{row.question.id}", _answer_field(row))
    return AnswersForm(formdata=formdata)


def posted_answers_form() -> PageForm:
    """The answers as posted, each ``q<id>`` field as text: the answers service reads
    and checks them by the questions' kinds. A radio button left unchosen is not sent,
    so that answer stays as it was; an emptied field clears its answer."""
    names = [name for name in request.form if QUESTION_FIELD.fullmatch(name)]

    class PostedAnswers(PageForm):
        pass

    for name in names[:MAX_QUESTIONS_POSTED]:
        setattr(PostedAnswers, name, StringField())
    return PostedAnswers()


def posted_answers(form) -> dict[str, str]:
    """``{question id: value}`` of a :func:`posted_answers_form`."""
    return {field.name[1:]: field.data for field in form
            if QUESTION_FIELD.fullmatch(field.name)}


class UploadForm(PageForm):
    """A document the treating member asked for."""

    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file."))])


class OtherDocumentForm(UploadForm):
    """A document the patient adds of their own accord."""

    kind = SelectField(_l("What is it?"),
                       choices=as_choices((kind.value, title)
                                          for kind, title in DOCUMENT_KIND_TITLES.items()),
                       default="other")


class ShareForm(PageForm):
    """The treating members a document is shared with, beside the one that asked."""

    share_with = SelectMultipleField(_l("Also share with"), coerce=int, choices=[],
                                     validate_choice=False,
                                     widget=ListWidget(prefix_label=False),
                                     option_widget=CheckboxInput())


class ApproveForm(PageForm):
    notes = TextAreaField(_l("Notes to the patient (optional)"),
                          validators=[Length(max=4000)])


class MoreForm(PageForm):
    missing = TextAreaField(_l("What is missing, one item a line"),
                            validators=[Length(max=20 * 302)])
    notes = TextAreaField(_l("Notes to the patient (optional)"),
                          validators=[Length(max=4000)])

    def items(self) -> list[str]:
        return [line.strip() for line in (self.missing.data or "").splitlines()
                if line.strip()]


class DeclineForm(PageForm):
    notes = TextAreaField(_l("Reason (shown to the patient)"),
                          validators=[Length(max=4000)])
    confirm = BooleanField(_l("Yes, decline this patient's case."),
                           validators=[DataRequired(message=_l(
                               "Tick the box to confirm the decline."))])


class DownloadForm(PageForm):
    """A document downloaded with the reason stated for this reading."""

    reason = HiddenField(validators=[Length(max=500)])
