"""Text checks shared by every free-text input, so SQLite and PostgreSQL answer alike."""

from __future__ import annotations

MAX_TITLE = 200
MAX_BODY = 65_536
#: Labels of fields and statuses, and choices.
MAX_LABEL = 200


def check_text(value: str, *, max_length: int, allow_empty: bool = False) -> str | None:
    """Return what is wrong with ``value``, or None.

    NUL characters and lone surrogates (``"\\ud800"``, not text UTF-8 can encode) are
    refused everywhere: PostgreSQL cannot store either, SQLite stores one and fails on the
    other, and the same input must get the same answer on every backend.
    """
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode text (it holds a lone surrogate)"
    if not allow_empty and not value.strip():
        return "must not be empty"
    if len(value) > max_length:
        return f"must be at most {max_length} characters (got {len(value)})"
    return None
