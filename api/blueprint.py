"""The API's Blueprint: like flask-smorest's, but unknown query parameters are errors."""

from __future__ import annotations

from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser


class StrictParser(FlaskParser):
    # A mistyped filter (?stauts=sold) must not silently return everything.
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
    }


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = StrictParser()
