"""The API's body parser: ninja's JSON and form parsing, refusing text the database cannot
store (NUL characters, lone surrogates) before any view sees it."""

from __future__ import annotations

import json

from ninja.errors import HttpError
from ninja.parser import Parser

from minsheng.core.text import first_unstorable, unstorable_message


class UnstorableText(HttpError):
    """A 400 the API answers as 422 `invalid` with this message (see api.http_error)."""

    def __init__(self, message: str):
        super().__init__(400, message)


def _refuse_unstorable(data):
    path = first_unstorable(data)
    if path is not None:
        raise UnstorableText(unstorable_message(path))
    return data


class StorableTextParser(Parser):
    def parse_body(self, request):
        return _refuse_unstorable(json.loads(request.body))

    def parse_querydict(self, data, list_fields, request):
        return _refuse_unstorable(super().parse_querydict(data, list_fields, request))
