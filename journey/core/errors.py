"""Domain errors with translated messages, mapped to 4xx JSON in one handler.

Services raise these; the API and the pages turn them into responses. A message is
a lazy string, so it is rendered in the locale of whoever reads it.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import has_request_context, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from journey.core.validation import T


class DomainError(Exception):
    """A request that the domain refuses. ``fields`` maps a field to its messages;
    ``location`` says where they were sent (``headers``), when not where the request's
    method puts them (:func:`_location`)."""

    status: int = 400
    code: str = "bad_request"
    default_message = _l("The request could not be processed.")

    def __init__(self, message=None, *, fields: dict | None = None, headers: dict | None = None,
                 location: str | None = None):
        self.message = message if message is not None else self.default_message
        self.fields = fields or {}
        self.location = location
        self.headers = headers or {}
        super().__init__(str(self.message))

    def to_dict(self) -> dict:
        body = {
            "code": self.status,
            "status": HTTPStatus(self.status).phrase,
            "error": self.code,
            "message": str(self.message),
        }
        if self.fields:
            body["errors"] = {self.location or _location(): translate_messages(self.fields)}
        return body


def _location() -> str:
    """Where the fields a service refused came from, as the schemas' errors say it: the
    query of a read, the form of a multipart or form body, else the JSON body."""
    if not has_request_context():
        return "json"
    if request.method in ("GET", "HEAD", "DELETE"):
        return "query"
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return "form"
    return "json"


class InvalidInput(DomainError):
    status = 422
    code = "invalid"
    default_message = _l("Some fields are not valid.")


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"
    default_message = _l("Please log in or send a valid bearer token.")

    def __init__(self, message=None, **kwargs):
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="one-window"'})
        super().__init__(message, **kwargs)


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("You are not allowed to do this.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _l("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _l("This conflicts with the current state; reload and try again.")


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
    default_message = _l("Too many attempts; please wait and try again.")


class Busy(DomainError):
    status = 503
    code = "busy"
    default_message = _l("The system is busy with the same items; please try again.")


def refuse(refusal: DomainError | None) -> None:
    """Raise what a ``*_refusal`` rule answered, if anything: the rule that a page asks
    ("may I do this?") is the one its action obeys."""
    if refusal is not None:
        raise refusal


def translate_messages(messages):
    """Render (possibly lazy) messages of a nested error dict as plain strings, each
    message once per field (two checks of one rule, e.g. a length and a "not blank", may
    word their refusal alike)."""
    if isinstance(messages, dict):
        return {str(k): translate_messages(v) for k, v in messages.items()}
    if isinstance(messages, list | tuple):
        rendered = [translate_messages(m) for m in messages]
        if all(isinstance(m, str) for m in rendered):
            return list(dict.fromkeys(rendered))
        return rendered
    if isinstance(messages, T):  # a message marshmallow raised without formatting it
        return messages.format()  # ("Unknown field.", "Invalid input type.")
    return str(messages)


def http_message(error) -> str:
    """A Werkzeug HTTP error in the reader's language (its own text is English)."""
    messages = {
        400: gettext("The request could not be understood."),
        401: gettext("Please log in or send a valid bearer token."),
        403: gettext("You are not allowed to do this."),
        404: gettext("Not found."),
        405: gettext("This method is not allowed here."),
        409: gettext("This conflicts with the current state; reload and try again."),
        413: gettext("The request is too large."),
        415: gettext("Send JSON with Content-Type: application/json."),
        422: gettext("Some fields are not valid."),
        429: gettext("Too many attempts; please wait and try again."),
    }
    if error.code == 400 and getattr(error, "description", None):
        # Flask-WTF's CSRF errors: their texts are in the catalogs.
        translated = gettext(error.description)
        if translated != error.description:
            return translated
    return messages.get(error.code, error.name)
