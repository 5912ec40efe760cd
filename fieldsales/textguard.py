"""Reject JSON strings PostgreSQL cannot store (NUL characters, unpaired surrogates) with a
clear 422, before any of them reach a query and fail there as a database error."""
from flask import request

from fieldsales.errors import Unprocessable


def _bad(value) -> bool:
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a \ud800-style escape
            return True
        return False
    if isinstance(value, dict):
        return any(_bad(k) or _bad(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad(v) for v in value)
    return False


def init_app(app):
    @app.before_request
    def _check_json_text():
        if not request.is_json or not request.content_length:
            return
        body = request.get_json(silent=True)  # cached: the view's parser reuses it
        if body is not None and _bad(body):
            raise Unprocessable("Text in the body contains a NUL character or an unpaired "
                                "surrogate, which cannot be stored.", error="invalid_text")
