"""Hostile input before it reaches a view (API.md Conventions "Hostile input").

JSON is parsed by one provider that refuses what would blow up later (nesting past
MAX_DEPTH, integers past 64 bits, numbers that overflow to infinity) as a 400, and text
PostgreSQL cannot store (NUL characters, unpaired surrogates) is a clear 422, in bodies
whatever their framing (Content-Length or chunked) and in query strings alike.
"""
import json

from flask import request
from flask.json.provider import DefaultJSONProvider

from fieldsales.errors import PayloadTooLarge, Unprocessable

MAX_DEPTH = 64
# More digits than any 64-bit integer has: refused before int() spends time on them.
_MAX_INT_CHARS = 20


class JSONError(ValueError):
    """A body that is JSON but not one this API accepts (Flask answers 400 for ValueError)."""


def _int(text):
    if len(text.lstrip("-")) > _MAX_INT_CHARS or not -(2**63) <= (value := int(text)) < 2**63:
        raise JSONError("Integers must fit in 64 bits.")
    return value


def _float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JSONError("Number too large.")
    return value


def _constant(text):
    raise JSONError(f"{text} is not JSON.")


def _too_deep(value) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in children)
    return False


def loads(text, **kwargs):
    """json.loads with this API's limits; JSONError (a ValueError) for what it refuses."""
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant,
                           **kwargs)
    except RecursionError:
        raise JSONError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
    if _too_deep(value):
        raise JSONError(f"JSON nested deeper than {MAX_DEPTH} levels.")
    return value


class JSONProvider(DefaultJSONProvider):
    """The app's JSON: Flask's, with the limits above on everything it reads."""

    def loads(self, s, **kwargs):
        return loads(s, **kwargs)


def bad_text(value) -> bool:
    """Whether a parsed JSON value holds a string PostgreSQL cannot store."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a \ud800-style escape
            return True
        return False
    if isinstance(value, dict):
        return any(bad_text(k) or bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(bad_text(v) for v in value)
    return False


def cell_problem(text: str) -> str | None:
    """Why a text cell (e.g. of a CSV import) cannot be stored, or None when it can."""
    return "contains a NUL character, which cannot be stored." if bad_text(text) else None


def _invalid(where):
    return Unprocessable(f"Text in the {where} contains a NUL character or an unpaired "
                         "surrogate, which cannot be stored.", error="invalid_text")


def _check_size():
    # Werkzeug reads a chunked body up to the limit and silently stops there: one more byte
    # left in the server's stream means the body was longer (413, as with Content-Length).
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if (request.content_length is None and limit is not None and len(data) >= limit
            and request.environ["wsgi.input"].read(1)):
        raise PayloadTooLarge("The request body is too large.")


def init_app(app):
    @app.before_request
    def _check_text():
        if any(bad_text(k) or bad_text(v) for k, v in request.args.items(multi=True)):
            raise _invalid("query string")
        # No Content-Length check: a chunked body has none and gets the same checks.
        if not request.is_json:
            return
        _check_size()
        body = request.get_json(silent=True)  # cached: the view's parser reuses it
        if body is not None and bad_text(body):
            raise _invalid("body")
