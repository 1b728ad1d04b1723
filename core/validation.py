"""Input checks shared by the rules: collect every problem, then refuse once with all of them.

Fields are named by domain paths (snake_case, relative to the operation's arguments); a field's name
also gives the label in messages: `postal_code` → "Postal code is required."
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from core.errors import DomainError, ErrorCode, PathSegment, ValidationErrors

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
MAX_URL_LENGTH = 2048


def clean_text(value: str) -> str:
    """NFC-normalised, without surrounding whitespace or control characters (newlines and tabs kept)."""
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return value.strip()


class Checks:
    """Accumulates input errors; `done()` raises them together."""

    def __init__(self, prefix: Sequence[PathSegment] = ()) -> None:
        # Where the checked fields sit, e.g. ("shipping_address",) for the parts of an address.
        self.prefix = tuple(prefix)
        self.errors: list[DomainError] = []

    def fail(self, field: str | Sequence[PathSegment], code: ErrorCode, message: str) -> None:
        path = (field,) if isinstance(field, str) else tuple(field)
        self.errors.append(DomainError(code, message, (*self.prefix, *path)))

    def text(
        self, field: str, value: str | None, *, max_length: int, min_length: int = 1, required: bool = True
    ) -> str | None:
        """Cleaned text, or None (with an error recorded) when missing, too short or too long."""
        if value is None:
            if required:
                self.fail(field, ErrorCode.REQUIRED, f"{_label(field)} is required.")
            return None
        cleaned = clean_text(value)
        if len(cleaned) < min_length:
            if min_length == 1:
                self.fail(field, ErrorCode.REQUIRED, f"{_label(field)} must not be empty.")
            else:
                self.fail(
                    field, ErrorCode.TOO_SHORT, f"{_label(field)} needs at least {min_length} characters."
                )
            return None
        if len(cleaned) > max_length:
            self.fail(field, ErrorCode.TOO_LONG, f"{_label(field)} is limited to {max_length} characters.")
            return None
        return cleaned

    def url(self, field: str | Sequence[PathSegment], value: str) -> str | None:
        value = value.strip()
        if len(value) > MAX_URL_LENGTH:
            self.fail(field, ErrorCode.TOO_LONG, f"URLs are limited to {MAX_URL_LENGTH} characters.")
            return None
        if not _URL.match(value):
            self.fail(field, ErrorCode.INVALID, "Must be an http:// or https:// URL.")
            return None
        return value

    def count(self, field: str, values: Sequence[object], *, maximum: int, minimum: int = 0) -> bool:
        if len(values) > maximum:
            self.fail(field, ErrorCode.TOO_MANY, f"{_label(field)}: at most {maximum} allowed.")
            return False
        if len(values) < minimum:
            self.fail(field, ErrorCode.REQUIRED, f"{_label(field)}: at least {minimum} required.")
            return False
        return True

    def done(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise ValidationErrors(self.errors)


def _label(field: str) -> str:
    """The words of a snake_case name, capitalised: `postal_code` → "Postal code"."""
    words = field.replace("_", " ")
    return words[:1].upper() + words[1:]
