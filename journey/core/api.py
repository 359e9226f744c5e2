"""The REST API's blueprint class: flask-smorest's, with a webargs parser that reads JSON
through the app's limits (:mod:`journey.core.safe_json`) instead of its own ``json.loads``,
so that every API body is refused the same way (400, translated) when it goes beyond them."""

from __future__ import annotations

import typing

import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request


class SafeFlaskParser(FlaskParser):
    def _raw_load_json(self, req) -> typing.Any:
        if not is_json_request(req):
            return core.missing
        return req.get_json(force=True, cache=True)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = SafeFlaskParser()
