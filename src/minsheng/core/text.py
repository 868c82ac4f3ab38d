"""Text that the database can store: PostgreSQL refuses NUL characters in text columns and
UTF-8 cannot encode a lone surrogate (which JSON's \\uD800 escapes can produce). Input is
checked for both at the boundary, so bad input is a clear 422, never a server error."""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text(value: str) -> bool:
    """True when `value` holds a NUL character or a lone surrogate."""
    return bool(_UNSTORABLE.search(value))


def first_unstorable(data, path: tuple = ()) -> tuple | None:
    """The path of the first string (key or value) in a parsed JSON document or form that the
    database could not store; None when all are fine."""
    if isinstance(data, str):
        return path if unstorable_text(data) else None
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and unstorable_text(key):
                return path + (key,)
            found = first_unstorable(value, path + (key,))
            if found is not None:
                return found
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            found = first_unstorable(value, path + (index,))
            if found is not None:
                return found
    return None


def unstorable_message(path: tuple) -> str:
    where = ".".join(str(part) for part in path) or "body"
    return f"{where} 含有无法保存的字符（NUL 或不成对的代理字符），请删除后重试。"
