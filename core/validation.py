"""Input checks shared by the rules: collect every problem, then refuse once with all of them.

Fields are named by domain paths (snake_case, relative to the operation's arguments); a field's name
also gives the label in messages: `postal_code` → "Postal code is required."
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterator, Sequence
from enum import Enum
from urllib.parse import urlsplit

from core.errors import DomainError, ErrorCode, Path, PathSegment, ValidationErrors

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
MAX_URL_LENGTH = 2048
# NUL (PostgreSQL text cannot hold it) and lone UTF-16 surrogates (no encoding can write them).
_UNSAFE = re.compile("[\x00\ud800-\udfff]")
UNSAFE_TEXT_MESSAGE = "Contains characters that are not allowed (NUL or an unpaired surrogate)."
# Host names that always mean "this machine" or "this cloud's private network", whatever DNS says.
_LOCAL_NAMES = frozenset({"localhost", "metadata", "instance-data"})
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOCAL_URL_MESSAGE = "URLs may not point at local, private or link-local addresses."


def is_unsafe_text(value: str) -> bool:
    """True when `value` holds a NUL or a lone surrogate: text no database column or encoder takes."""
    return _UNSAFE.search(value) is not None


def without_unsafe_text(value: str) -> str:
    """`value` with each NUL and lone surrogate replaced by a space (for free text such as a search,
    where any character that is not a letter or digit is a separator)."""
    return _UNSAFE.sub(" ", value)


def unsafe_text_paths(value: object, path: Path = ()) -> Iterator[Path]:
    """The paths of every string inside `value` (arguments: strings, lists, dicts and input objects,
    which are dataclasses) that `is_unsafe_text`; a path is the attribute names and list indexes."""
    if isinstance(value, str):
        if is_unsafe_text(value):
            yield path
    elif isinstance(value, Enum):
        return
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from unsafe_text_paths(item, (*path, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from unsafe_text_paths(item, (*path, str(key)))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from unsafe_text_paths(getattr(value, field.name, None), (*path, field.name))


def strip_invisible(value: str) -> str:
    """Without format characters (Unicode category Cf): bidi embeddings, overrides and isolates
    (U+202A–U+202E, U+2066–U+2069), marks (U+200E, U+200F), zero-width spaces and joiners
    (U+200B–U+200D, U+2060, U+FEFF), soft hyphens. Two identifiers that look the same are then the same."""
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cf")


def clean_text(value: str) -> str:
    """NFC-normalised, without surrounding whitespace or control characters (newlines and tabs kept)."""
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return value.strip()


def is_local_host(host: str) -> bool:
    """True when a URL's host names this machine, a private or link-local network, or a cloud metadata
    service: `localhost`, `*.localhost`, `*.internal` (`metadata.google.internal`), `*.local`, and IP
    literals that are not globally routable — IPv6 and IPv4-mapped or NAT64 IPv6 included, and the
    shorthand IPv4 forms (`127.1`, `2130706433`, `0x7f.1`) that clients also accept. No DNS lookup:
    a public name that resolves to a private address is for the fetcher to refuse."""
    name = host.casefold().rstrip(".")
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        return True
    address = _ip_literal(name)
    return address is not None and _not_global(address)


def _ip_literal(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.split("%")[0])  # an IPv6 zone (`fe80::1%eth0`) changes nothing
    except ValueError:
        pass
    last = name.rsplit(".", 1)[-1]
    if last.isdigit() or last.startswith("0x"):  # no top-level domain is numeric: an IPv4 shorthand
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except (OSError, ValueError):
            return ipaddress.IPv4Address(0)  # unparseable as an address: treated as the unspecified one
    return None


def _not_global(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _not_global(embedded)
    return not address.is_global or address.is_multicast


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
        if is_unsafe_text(value):
            self.fail(field, ErrorCode.INVALID, UNSAFE_TEXT_MESSAGE)
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
        """An http(s) URL a client gave for others to load (media, avatars), or None with an error
        recorded: too long, not http(s), or pointing at a local, private or metadata address."""
        value = value.strip()
        if len(value) > MAX_URL_LENGTH:
            self.fail(field, ErrorCode.TOO_LONG, f"URLs are limited to {MAX_URL_LENGTH} characters.")
            return None
        if not _URL.match(value) or is_unsafe_text(value):
            self.fail(field, ErrorCode.INVALID, "Must be an http:// or https:// URL.")
            return None
        try:
            host = urlsplit(value).hostname
        except ValueError:  # e.g. an unclosed IPv6 bracket
            host = None
        if not host:
            self.fail(field, ErrorCode.INVALID, "Must be an http:// or https:// URL.")
            return None
        if is_local_host(host):
            self.fail(field, ErrorCode.INVALID, LOCAL_URL_MESSAGE)
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
