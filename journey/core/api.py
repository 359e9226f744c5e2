"""The REST API's shared pieces, so that every blueprint enforces and documents alike.

- :class:`Blueprint` is flask-smorest's, with these changes:

  - JSON bodies are read through the app's limits (:mod:`journey.core.safe_json`): a body
    beyond them is 400, translated;
  - a body the document marks as required is required: a missing or empty one, or one
    sent without ``Content-Type: application/json``, is 422 (webargs would read ``{}``);
  - a PATCH's body names at least one field: ``{}`` is 422, not a silent no-op, and the
    document says so once for all of them (``minProperties: 1``);
  - every operation documents the error answers it can meet (:data:`ERRORS`, each with
    the one ``Error`` schema), an ``operationId`` (``getJourneyItem``: the method and
    the view's class), its roles and its links to the operations that go on from it;
  - a URL that names no operation (404) or a method the path lacks (405, with
    ``Allow``) is answered before the caller is authenticated.

- :func:`roles` names the coarse roles an operation is for. It is checked before the
  arguments are parsed, so a patient calling an admin's operation learns 403, not which
  field it got wrong; the service keeps its full rule (whose member, which state).
- :func:`idempotent` validates and documents the ``Idempotency-Key`` header.
- :func:`links` declares OpenAPI links from an answer to the operations that take it
  further (create -> read -> change).
- Fields whose rule is documented once, as a component of the document: ``Currency``,
  ``Country``, ``Language``, ``TimeZone`` (read in the spellings their component lists,
  loaded as stored), ``Money`` (an amount as the API shows it); and every date field
  under :class:`journey.core.validation.DateWindow` gets its window as a pattern, every
  other text field the refusal of NUL characters. Stricter JSON types: ``Flag``,
  ``Number``, ``DecimalString``, ``QueryFlag``; and ``NotBlank`` for names the services
  strip.
"""

from __future__ import annotations

import calendar
import re
import typing
from copy import deepcopy
from datetime import date
from functools import cache, lru_cache, wraps
from zoneinfo import available_timezones

import flask_smorest
from babel import Locale, localedata
from babel.numbers import list_currencies
from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, ValidationError, fields, validate
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from journey.core.accounts.auth import current_actor
from journey.core.accounts.models import Role
from journey.core.accounts.permissions import require_authenticated
from journey.core.errors import Forbidden, InvalidInput
from journey.core.money import Money as Amount
from journey.core.money import format_money
from journey.core.validation import DateWindow, T

BEARER = [{"bearerAuth": []}]


# --- reading bodies ------------------------------------------------------------------------

def body_sent() -> bool:
    """Whether the request carries a JSON body (a non-empty one, sent as JSON)."""
    return is_json_request(request) and bool(request.get_data(cache=True))


#: Text the API takes holds no NUL character (no database column can store one); a JSON
#: body with one is refused whole (400, :mod:`journey.core.safe_json`), a query value 422.
NO_NUL = "^[^\\x00]*$"
NUL_REFUSAL = _l("Text may not contain NUL characters.")


#: Query parameters every operation takes besides its own: the interface language.
COMMON_QUERY = ("lang",)


class SafeFlaskParser(FlaskParser):
    #: A query parameter the operation does not know is refused (422, "Unknown field."),
    #: as an unknown field of a body is: a misspelt filter must not answer unfiltered.
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": RAISE, "querystring": RAISE}

    def _raw_load_json(self, req) -> typing.Any:
        if not body_sent():
            return core.missing
        return req.get_json(force=True, cache=True)

    def load_querystring(self, req, schema):
        refused = {name: [NUL_REFUSAL] for name, value in req.args.items(multi=True)
                   if "\x00" in name or "\x00" in value}
        if refused:
            raise InvalidInput(fields=refused)
        common = [name for name in COMMON_QUERY if name in req.args
                  and not any((field.data_key or own) == name
                              for own, field in schema.fields.items())]
        if not common:
            return super().load_querystring(req, schema)
        args = req.args.copy()
        for name in common:
            args.poplist(name)
        return self._makeproxy(args, schema)


#: What a caller is told when a required body is missing (the 415 text, reused).
MISSING_BODY = _l("Send JSON with Content-Type: application/json.")
#: What a PATCH whose body names no field is told (422): a change changes something.
NOTHING_TO_CHANGE = _l("Nothing to change: give at least one field.")


def _nothing_to_change() -> bool:
    """Whether this is a PATCH whose JSON body is ``{}`` (read after the parser has read
    it, so bad JSON is still refused as such)."""
    return (request.method == "PATCH" and body_sent()
            and request.get_json(force=True, cache=True) == {})


# --- roles -----------------------------------------------------------------------------------

PATIENT, MEMBER_STAFF, MEMBER_MANAGER, COORDINATOR, ADMIN = (
    Role.PATIENT, Role.MEMBER_STAFF, Role.MEMBER_MANAGER, Role.COORDINATOR, Role.ADMIN)
CLUSTER = (COORDINATOR, ADMIN)
MEMBERS = (MEMBER_STAFF, MEMBER_MANAGER)
STAFF = (*MEMBERS, *CLUSTER)
MANAGERS = (MEMBER_MANAGER, *CLUSTER)

_ROLE_REFUSALS = {
    frozenset({ADMIN}): _l("Only a cluster admin may do this."),
    frozenset(CLUSTER): _l("Only the cluster's coordinators and admins may do this."),
}


def roles(*allowed: Role):
    """The roles an operation is for, checked before anything of the request is parsed
    (403 for the others) and documented (``x-roles``, and in the description). Only the
    coarse role: the service still decides, with its full rule, what this caller may do
    here. Implies that the operation needs a bearer token."""
    allowed_set = frozenset(allowed)
    refusal = _ROLE_REFUSALS.get(allowed_set)

    def decorator(method):
        @wraps(method)
        def view(*args, **kwargs):
            actor = require_authenticated(current_actor())
            if actor.role not in allowed_set:
                raise Forbidden(refusal)
            return method(*args, **kwargs)

        view._apidoc = deepcopy(getattr(method, "_apidoc", {}))
        manual = view._apidoc.setdefault("manual_doc", {})
        manual.setdefault("security", BEARER)
        manual["x-roles"] = [role.value for role in Role if role in allowed_set]
        return view

    return decorator


# --- Idempotency-Key ------------------------------------------------------------------------

#: 8 to 200 printable ASCII characters, none a space at either end (HTTP strips those).
IDEMPOTENCY_KEY_PATTERN = r"^[!-~][ -~]{6,198}[!-~]$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
KEY_REFUSAL = _l("Send an Idempotency-Key header of 8 to 200 characters.")


def idempotent(*, required: bool = False):
    """The operation honours ``Idempotency-Key``: a retry with the same key gets the
    first answer. The header is checked here (422) and documented."""
    parameter = {
        "in": "header", "name": "Idempotency-Key", "required": required,
        "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN,
                   "minLength": 8, "maxLength": 200},
        "description": "8 to 200 printable ASCII characters, e.g. a UUID. A retry with "
                       "the same key returns the first answer (4xx included); the same "
                       "key with another request is 422; while the first is still "
                       "running, 409 `idempotency_in_progress` with Retry-After."}

    def decorator(method):
        @wraps(method)
        def view(*args, **kwargs):
            key = request.headers.get("Idempotency-Key")
            if (key or required) and not _IDEMPOTENCY_KEY.fullmatch(key or ""):
                raise InvalidInput(fields={"Idempotency-Key": [KEY_REFUSAL]},
                                   location="headers")
            return method(*args, **kwargs)

        view._apidoc = deepcopy(getattr(method, "_apidoc", {}))
        manual = view._apidoc.setdefault("manual_doc", {})
        manual["parameters"] = [*manual.get("parameters", []), parameter]
        return view

    return decorator


# --- links and errors, declared per operation -----------------------------------------------

def links(status: int = 201, **targets: dict):
    """OpenAPI links from the ``status`` answer: ``name={"operationId": ..., "parameters":
    {name: "$response.body#/id"}}`` (or ``requestBody``), so that a client, and
    schemathesis' stateful phase, can go on from it."""
    return flask_smorest.Blueprint.doc(responses={status: {"links": targets}})


def link(operation_id: str, **parameters: str) -> dict:
    """A link to ``operation_id`` filling its ``parameters`` (runtime expressions)."""
    return {"operationId": operation_id, "parameters": parameters}


#: The header of a 201 answer whose ``get`` link reads what it created.
LOCATION_HEADER = {"Location": {
    "description": "The URL of what was created (its `get` link's operation).",
    "schema": {"type": "string", "format": "uri-reference"}}}


def _get_link(view_function, method: str) -> dict | None:
    """The ``get`` link an operation declares from its 201 answer (:func:`links`)."""
    view_class = getattr(view_function, "view_class", None)
    handler = getattr(view_class, method, None) if view_class is not None else view_function
    doc = getattr(handler, "_apidoc", {}).get("manual_doc", {})
    target = doc.get("responses", {}).get(201, {}).get("links", {}).get("get")
    return target if target and target["operationId"].startswith("get") else None


@cache
def _endpoint_of(operation_id: str) -> str | None:
    """The endpoint of a GET operation named the default way (``get`` + view class)."""
    name = operation_id.removeprefix("get")
    return next((rule.endpoint for rule in current_app.url_map.iter_rules()
                 if rule.endpoint.rsplit(".", 1)[-1] == name and "GET" in rule.methods),
                None)


def location_of(response) -> str | None:
    """The ``Location`` of a 201 answer of the API: its ``get`` link filled from the
    answer's body and the request's path (None when it declares none)."""
    view_function = current_app.view_functions.get(request.endpoint or "")
    target = _get_link(view_function, request.method.lower()) if view_function else None
    endpoint = _endpoint_of(target["operationId"]) if target else None
    body = response.get_json(silent=True) if endpoint else None
    if not isinstance(body, dict):
        return None
    values = {}
    for name, expression in target["parameters"].items():
        if expression.startswith("$response.body#/"):
            value = body.get(expression.removeprefix("$response.body#/"))
        elif expression.startswith("$request.path."):
            value = (request.view_args or {}).get(expression.removeprefix("$request.path."))
        else:
            return None
        if value is None:
            return None
        values[name] = value
    return url_for(endpoint, **values)


def errors(*codes: int, only: bool = False):
    """More error answers than the ones :func:`error_codes` infers (``only``: exactly
    these)."""
    return flask_smorest.Blueprint.doc(**{"x-errors": {"codes": sorted(codes), "only": only}})


# --- the error answers -----------------------------------------------------------------------

_RETRY_AFTER = {"Retry-After": {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 0}}}

#: status -> (component name, description, headers)
ERRORS = {
    400: ("BadRequest", "The body is not JSON, or goes beyond the limits (nesting depth, "
          "number size, NUL characters, unpaired surrogates); for the webhook, a bad "
          "signature or a malformed event.", None),
    401: ("Unauthorized", "No bearer token where the operation needs one, or a token that "
          "is unknown, expired or revoked (refused on every operation).", {
              "WWW-Authenticate": {"description": "`Bearer realm=\"one-window\"`",
                                   "schema": {"type": "string"}}}),
    403: ("Forbidden", "Your role, or your relation to this resource, does not allow "
          "this.", None),
    404: ("NotFound", "No such resource, or none you may see.", None),
    409: ("Conflict", "Conflicts with the current state (reload and try again), or a "
          "request with the same Idempotency-Key is still being processed "
          "(`idempotency_in_progress`, with Retry-After).", _RETRY_AFTER),
    413: ("PayloadTooLarge", "The body is larger than the server accepts.", None),
    422: ("UnprocessableEntity", "The body, the query or a header is not valid, or a "
          "required body is missing; `errors` gives the messages per field, in the "
          "caller's language.", None),
    429: ("TooManyRequests", "Too many attempts: failed logins for this address, or "
          "e-mails with a link asked for this address or from this client; wait the "
          "Retry-After seconds and try again.",
          {"Retry-After": {**_RETRY_AFTER["Retry-After"], "required": True}}),
    503: ("ServiceUnavailable", "Busy with the same items (a lock could not be had in "
          "time); retry after Retry-After seconds.", _RETRY_AFTER),
}

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer of the API.",
    "required": ["code", "status", "message"],
    "properties": {
        "code": {"type": "integer", "description": "The HTTP status code."},
        "status": {"type": "string", "description": "The HTTP status name."},
        "error": {"type": "string", "description": "A machine-readable code for refusals "
                  "of the domain, e.g. `conflict`, `forbidden`, `idempotency_in_progress`."},
        "message": {"type": "string", "description": "What went wrong, in the caller's "
                    "language."},
        "errors": {"type": "object", "description": "Messages per location and field, e.g. "
                   "`{\"json\": {\"email\": [\"Not a valid email address.\"]}}`."},
    },
}


def error_codes(method: str, operation: dict, path_arguments) -> set[int]:
    """The error answers an operation can give, from what it is: any may meet a bad
    bearer token (401); one that needs a token may be refused (403); one with an id in
    its path may find nothing (404); one that writes may conflict (409), be refused by
    the domain (422) or find the rows busy (503); a body may be bad JSON (400), too
    large (413) or invalid (422); a query or a header may be invalid (422)."""
    codes = {401}
    if operation.get("security"):
        codes.add(403)
    if path_arguments:
        codes.add(404)
    if method != "get":
        codes |= {409, 422, 503}
    if "requestBody" in operation:
        codes |= {400, 413, 422}
    if any(isinstance(p, dict) and p.get("in") in ("query", "header")
           for p in operation.get("parameters", [])):
        codes.add(422)
    declared = operation.pop("x-errors", None)
    if declared:
        codes = set(declared["codes"]) if declared["only"] else codes | set(declared["codes"])
    return codes


def at_least_one_field(operation: dict) -> None:
    """A PATCH's body names at least one field (``{}`` changes nothing: 422). The body's
    schema is a component the answers may share, so the rule goes beside it."""
    for media in operation["requestBody"].get("content", {}).values():
        if "schema" in media:
            media["schema"] = {"allOf": [media["schema"]], "minProperties": 1}


def complete_operation(method: str, operation: dict, rule) -> None:
    """Add the error answers, the ``operationId`` and the roles to an operation's doc;
    a PATCH's body must name a field (:func:`at_least_one_field`)."""
    if method == "patch" and "requestBody" in operation:
        at_least_one_field(operation)
    responses = {str(code): answer for code, answer in operation.get("responses", {}).items()
                 if code != "default"}
    for code in error_codes(method, operation, rule.arguments):
        responses[str(code)] = ERRORS[code][0]
    created = responses.get("201")
    if isinstance(created, dict) and "get" in created.get("links", {}):
        created["headers"] = {**created.get("headers", {}), **LOCATION_HEADER}
    operation["responses"] = dict(sorted(responses.items()))
    operation.setdefault("operationId", method + rule.endpoint.rsplit(".", 1)[-1])
    allowed = operation.get("x-roles")
    if allowed:
        note = "Roles: " + ", ".join(f"`{role}`" for role in allowed) + "."
        operation["description"] = "\n\n".join(
            part for part in (operation.get("description"), note) if part)


class _DocumentingSpec:
    """The spec as a blueprint registers its views into it: each operation is
    completed (:func:`complete_operation`) on its way in."""

    def __init__(self, spec):
        self._spec = spec

    def __getattr__(self, name):
        return getattr(self._spec, name)

    def path(self, *, rule, operations, parameters=None, **kwargs):
        for method, operation in operations.items():
            complete_operation(method, operation, rule)
        return self._spec.path(rule=rule, operations=operations, parameters=parameters,
                               **kwargs)


def _register_components(api, spec) -> None:
    """The components every blueprint refers to, and the field conversion that refers to
    them; once per document."""
    components = spec.components
    if "Money" not in components.schemas:
        # flask-smorest registered the error schema as "Error"; say what it promises.
        components.schemas["Error"] = ERROR_SCHEMA
        for name, schema in CODE_COMPONENTS.items():
            components.schema(name, schema())
        components.schema("Money", MONEY_SCHEMA)
        for name, description, headers in ERRORS.values():
            response = {"description": description, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}
            if headers:
                response["headers"] = headers
            components.response(name, response)
    converter = api.ma_plugin.converter
    if not getattr(converter, "one_window_fields", False):
        converter.add_attribute_function(document_field)
        converter.one_window_fields = True


def _answer_routing_errors_first(state) -> None:
    before = state.app.before_request_funcs.setdefault(None, [])
    if _routing_first not in before:
        before.insert(0, _routing_first)


def _routing_first() -> None:
    """An API URL that names no operation is 404, a method its path lacks 405 (with
    ``Allow``), whoever asks and whatever token they send."""
    if request.routing_exception is not None and request.path.startswith("/api/"):
        current_app.raise_routing_exception(request)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = SafeFlaskParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.record_once(_answer_routing_errors_first)

    def arguments(self, schema, *, location="json", required=True, **kwargs):
        """flask-smorest's, except that a required JSON body must be sent (422), and a
        PATCH's body must name a field (422; documented as ``minProperties: 1``, by
        :func:`complete_operation`)."""
        parse = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json":
            return parse

        def decorator(func):
            @wraps(func)
            def changes_something(*args, **kw):
                if _nothing_to_change():
                    raise InvalidInput(NOTHING_TO_CHANGE)
                return func(*args, **kw)

            parsed = parse(changes_something)
            if not required:
                return parsed

            @wraps(parsed)
            def view(*args, **kw):
                if not body_sent():
                    raise InvalidInput(MISSING_BODY)
                return parsed(*args, **kw)

            return view

        return decorator

    def register_views_in_doc(self, api, app, spec, *, name, parameters):
        _register_components(api, spec)
        super().register_views_in_doc(api, app, _DocumentingSpec(spec), name=name,
                                      parameters=parameters)


# --- fields documented once ------------------------------------------------------------------

@lru_cache(maxsize=1)
def currencies() -> dict[str, str]:
    """ISO 4217 codes as the API reads them (upper or lower case) -> as stored."""
    return {spelling: code for code in list_currencies()
            for spelling in (code, code.lower())}


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166 codes as the API reads them (upper or lower case) -> as stored."""
    return {spelling: code for code in Locale("en").territories
            if code.isalpha() and len(code) == 2 for spelling in (code, code.lower())}


@lru_cache(maxsize=1)
def languages() -> dict[str, str]:
    """CLDR locales as the API reads them (with ``_`` or ``-``) -> as stored."""
    return {spelling: code for code in localedata.locale_identifiers()
            for spelling in (code, code.replace("_", "-"))}


@lru_cache(maxsize=1)
def time_zones() -> dict[str, str]:
    return {zone: zone for zone in available_timezones()}


_META = frozenset(".^$*+?()[]{}|\\")


def one_of_literally(spellings) -> str:
    """A pattern that matches exactly ``spellings`` (a list this long as an ``enum``
    would make a client's tools, and schemathesis' coverage phase, try every value)."""
    escaped = ("".join("\\" + c if c in _META else c for c in text)
               for text in sorted(spellings))
    return "^(?:" + "|".join(escaped) + ")$"


def _code_schema(spellings, example: str, description: str) -> dict:
    return {"type": "string", "pattern": one_of_literally(spellings), "example": example,
            "description": description}


CODE_COMPONENTS = {
    "CurrencyCode": lambda: _code_schema(
        currencies(), "EUR", "An ISO 4217 currency code, in upper or lower case; answers "
        "spell it in upper case."),
    "CountryCode": lambda: _code_schema(
        countries(), "LT", "An ISO 3166 country code, in upper or lower case; answers "
        "spell it in upper case."),
    "LanguageCode": lambda: _code_schema(
        languages(), "lt", "A language: a CLDR locale (`lt`, `pt_BR`, `sr_Latn_RS`), "
        "with `_` or `-`; answers spell it as CLDR does (`pt_BR`)."),
    "TimeZone": lambda: _code_schema(time_zones(), "Europe/Vilnius", "An IANA time zone."),
}


MONEY_SCHEMA = {
    "type": "object",
    "description": "An amount: an integer of minor units of an ISO 4217 currency (never "
                   "a float), and its rendering in the reader's language.",
    "required": ["amount_minor", "currency"],
    "properties": {
        "amount_minor": {"type": "integer", "example": 123450,
                         "description": "Minor units: 123450 EUR is 1,234.50 EUR."},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "example": "EUR",
                     "description": "ISO 4217."},
        "formatted": {"type": "string", "example": "€1,234.50",
                      "description": "For display, in the reader's locale."},
    },
    "additionalProperties": False,
}


class Code(fields.String):
    """A code from a fixed list (``spellings``: each way the API reads one -> the code as
    stored), loaded as stored, documented by reference to the ``component`` schema that
    lists the spellings."""

    component = ""
    error = T("Invalid value.")
    spellings = staticmethod(dict)

    @property
    def openapi_schema(self) -> dict:
        return {"$ref": f"#/components/schemas/{self.component}"}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        found = self.spellings().get(text)
        if found is None:
            raise ValidationError(self.error.format())
        return found


class Currency(Code):
    component = "CurrencyCode"
    error = T("Not an ISO 4217 currency code.")
    spellings = staticmethod(currencies)


class Country(Code):
    component = "CountryCode"
    error = T("Not an ISO 3166 country code.")
    spellings = staticmethod(countries)


class Language(Code):
    component = "LanguageCode"
    error = T("Not a known language code.")
    spellings = staticmethod(languages)


class TimeZone(Code):
    component = "TimeZone"
    error = T("Not a known time zone.")
    spellings = staticmethod(time_zones)


def language_in_path(value: str, field: str = "language") -> str:
    """A language named in a URL, as :class:`Language` reads it (422 otherwise)."""
    found = languages().get(value)
    if found is None:
        raise InvalidInput(fields={field: [Language.error.format()]})
    return found


LANGUAGE_PATH = {"in": "path", "name": "language", "required": True,
                 "schema": {"$ref": "#/components/schemas/LanguageCode"}}


def money_json(money: Amount | None, locale: str | None = None) -> dict | None:
    """Money as the API shows it (the ``Money`` component): minor units, currency, and
    Babel's rendering in the reader's locale (``locale``, when the caller has it)."""
    if money is None:
        return None
    return {"amount_minor": money.amount, "currency": money.currency,
            "formatted": format_money(money, locale or str(get_locale() or "en"))}


def minor_json(amount: int | None, currency: str, locale: str | None = None) -> dict | None:
    """:func:`money_json` of ``amount`` minor units of ``currency`` (None stays None)."""
    return money_json(Amount(amount, currency), locale) if amount is not None else None


class Money(fields.Function):
    """An amount in an answer, documented as the ``Money`` component. ``amount`` takes the
    object and returns ``(minor units, currency)``, or ``None`` (then ``allow_none``)."""

    openapi_schema = {"$ref": "#/components/schemas/Money"}

    def __init__(self, amount, **kwargs):
        def dump(obj):
            pair = amount(obj)
            return minor_json(*pair) if pair is not None else None

        super().__init__(dump, **kwargs)


class MoneyMap(fields.Function):
    """A mapping of names to amounts, each a ``Money``."""

    def __init__(self, serialize, *, depth: int = 1, **kwargs):
        super().__init__(serialize, **kwargs)
        schema: dict = {"$ref": "#/components/schemas/Money"}
        for _ in range(depth):
            schema = {"type": "object", "additionalProperties": schema}
        self.openapi_schema = schema


#: What a field documents beside its reference.
_KEPT = ("description", "readOnly", "writeOnly", "default", "example", "title")


def document_field(self, field, ret, **kwargs) -> dict:
    """apispec attribute function: a field with ``openapi_schema`` is documented by it
    (a reference to its component, with the field's own description and nullability);
    a date under :class:`DateWindow` gets the window as a pattern."""
    schema = getattr(field, "openapi_schema", None)
    if schema is None:
        window = next((v for v in field.validators if isinstance(v, DateWindow)), None)
        if window is not None:
            return {"pattern": date_pattern(*window.window())}
        if isinstance(field, fields.Dict):  # apispec gives a map's size as a length
            return {f"{bound}Properties": ret.pop(f"{bound}Length")
                    for bound in ("min", "max") if f"{bound}Length" in ret}
        if isinstance(field, fields.String) and not field.dump_only and not (
                {"pattern", "enum", "format"} & ret.keys()):
            return {"pattern": NO_NUL}
        return {}
    kept = {k: v for k, v in ret.items() if k in _KEPT or k.startswith("x-")}
    ret.clear()
    if "$ref" in schema and not kept and not field.allow_none:
        return dict(schema)
    out = {**kept, **({"allOf": [schema]} if "$ref" in schema else schema)}
    if field.allow_none:
        out["nullable"] = True
    return out


class NotBlank(validate.Regexp):
    """At least ``visible`` characters once white space is stripped from both ends (what
    a service strips off before it stores a name), documented as a pattern."""

    def __init__(self, visible: int = 1, error=None):
        shown, text = r"[^\s\x00]", r"[^\x00]"
        middle = "" if visible <= 1 else text + "{" + str(visible - 2) + ",}" + shown
        super().__init__(f"^{text}*{shown}{middle}{text}*$")
        self.error = T("May not be empty.") if error is None else error  # lazy: translated

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Flag(fields.Boolean):
    """A JSON boolean: ``true`` or ``false``, not ``1``, ``"yes"`` or ``"on"``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Number(fields.Float):
    """A JSON number (not a string that reads as one)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class QueryFlag(fields.Boolean):
    """A boolean in a query string, spelt as OpenAPI spells it: ``true`` or ``false``."""

    truthy = frozenset({"true"})
    falsy = frozenset({"false"})

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class DecimalString(fields.Decimal):
    """A decimal number sent as a JSON string, so no digit is lost to a binary float on
    the way, spelled as ``pattern`` says (checked before it is read)."""

    def __init__(self, pattern: str, *, example: str, **kwargs):
        metadata = {"type": "string", "format": "decimal", "pattern": pattern,
                    "example": example, **kwargs.pop("metadata", {})}
        super().__init__(as_string=True, allow_nan=False, metadata=metadata, **kwargs)
        self._spelling = re.compile(pattern)
        self._example = example

    def _deserialize(self, value, attr, data, **kwargs):
        # Each refusal says what is wrong: every one was "Not a valid number.", also
        # for 150 as a percentage or 12.5 sent as a JSON number.
        if not isinstance(value, str):
            raise ValidationError(DECIMAL_AS_STRING.format(example=self._example))
        if not self._spelling.fullmatch(value):
            if _DECIMAL.fullmatch(value):
                raise ValidationError(DECIMAL_BEYOND_RULE.format())
            # not make_error: a field made before validation.install() has English ones
            raise ValidationError(NOT_A_NUMBER.format())
        return super()._deserialize(value, attr, data, **kwargs)


#: A number written in decimals, whatever the field's own rule (``DecimalString``).
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
DECIMAL_AS_STRING = T('Send this number as a JSON string, for example "{example}".')
DECIMAL_BEYOND_RULE = T("This number is out of the allowed range or has too many decimals.")
NOT_A_NUMBER = T("Not a valid number.")


#: A web address as the API takes it: http(s), a host name with a dot, a port, a path.
WEB_ADDRESS = (r"^[Hh][Tt][Tt][Pp][Ss]?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
               r"[A-Za-z]{2,63}(?::[0-9]{1,5})?(?:[/?#][!-~]*)?$")


def web_address():
    return validate.Regexp(WEB_ADDRESS, error=T("Invalid value."))


# --- dates as a pattern --------------------------------------------------------------------

_DAYS = {31: "(?:0[1-9]|[12][0-9]|3[01])", 30: "(?:0[1-9]|[12][0-9]|30)",
         29: "(?:0[1-9]|[12][0-9])", 28: "(?:0[1-9]|1[0-9]|2[0-8])"}
_ANY_MONTH_DAY = f"(?:(?:01|03|05|07|08|10|12)-{_DAYS[31]}|(?:04|06|09|11)-{_DAYS[30]}" \
                 f"|02-{_DAYS[28]})"


def _one_of(values) -> str:
    return "(?:" + "|".join(values) + ")"


def _days_up_to(last: int) -> str:
    return _one_of(f"{day:02d}" for day in range(1, last + 1))


def _months_until(year: int, last: date) -> str:
    """Month-days of ``year`` from January 1st to ``last`` (in the same year)."""
    parts = [f"{month:02d}-{_DAYS[calendar.monthrange(year, month)[1]]}"
             for month in range(1, last.month)]
    parts.append(f"{last.month:02d}-{_days_up_to(last.day)}")
    return _one_of(parts)


@lru_cache(maxsize=4)
def date_pattern(first: date, last: date) -> str:
    """A regular expression that matches exactly the ISO dates from ``first`` (a January
    1st) to ``last``: what :class:`DateWindow` accepts, for the document."""
    assert (first.month, first.day) == (1, 1) and first <= last
    full_years = range(first.year, last.year)
    parts = []
    if full_years:
        parts.append(_one_of(str(y) for y in full_years) + "-" + _ANY_MONTH_DAY)
        leap = [str(y) for y in full_years if calendar.isleap(y)]
        if leap:
            parts.append(_one_of(leap) + "-02-29")
    parts.append(f"{last.year}-{_months_until(last.year, last)}")
    return "^" + _one_of(parts) + "$"
