"""Domain errors: raised by the rules (social/, commerce/, …), turned into `UserError`s by the schema.

A refusal names the input at fault with a *domain path*: snake_case names and list indexes relative to
the operation's arguments, e.g. `("shipping_address", "postal_code")` or `("lines", 0, "variant_id")`.
The rules never spell GraphQL: the schema layer turns that path into the client's input path
(`["input", "shippingAddress", "postalCode"]`). Errors that carry data clients act on are named
subclasses with that data as attributes (`OutOfStock.available`); the rest use `DomainError` with a code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Protocol, TypeAlias

# One step of a domain path: a snake_case name or a list index.
PathSegment: TypeAlias = str | int
Path: TypeAlias = tuple[PathSegment, ...]
# What raisers may pass: one name, a sequence of steps, or None for "no particular input".
FieldLike: TypeAlias = str | Sequence[PathSegment] | None


class ErrorCode(StrEnum):
    """Machine-readable reasons an operation was refused; stable names clients switch on."""

    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    TOO_SHORT = "TOO_SHORT"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    CANNOT_FOLLOW_SELF = "CANNOT_FOLLOW_SELF"
    ALREADY_REVIEWED = "ALREADY_REVIEWED"
    INVALID_CURRENCY = "INVALID_CURRENCY"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    CART_EMPTY = "CART_EMPTY"
    CART_CLOSED = "CART_CLOSED"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    REFUND_EXCEEDS_PAID = "REFUND_EXCEEDS_PAID"
    PAYMENTS_NOT_CONFIGURED = "PAYMENTS_NOT_CONFIGURED"
    PAYMENT_PROVIDER_ERROR = "PAYMENT_PROVIDER_ERROR"
    CHECKOUT_IN_PROGRESS = "CHECKOUT_IN_PROGRESS"
    # Media: a file bigger than its kind allows (or than declared), a type that is not an accepted image or
    # video (judged by its bytes), an upload completed before the file arrived, media not yet processed.
    TOO_LARGE = "TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    UPLOAD_MISSING = "UPLOAD_MISSING"
    MEDIA_NOT_READY = "MEDIA_NOT_READY"
    # Safety: an action on someone who blocked you (or whom you blocked); a suspended account; a second open
    # report of one subject by one person; an appeal after its window or of an action already appealed; a
    # product that cannot be bought (delisted, withheld, or its merchant suspended).
    BLOCKED = "BLOCKED"
    SUSPENDED = "SUSPENDED"
    ALREADY_REPORTED = "ALREADY_REPORTED"
    APPEAL_CLOSED = "APPEAL_CLOSED"
    PRODUCT_UNAVAILABLE = "PRODUCT_UNAVAILABLE"
    # Selling: a merchant's goods with no shipping to the address; a discount code past its dates, used up
    # (overall or by this customer), not for anything in the cart, or a second code for one merchant.
    NOT_SHIPPABLE = "NOT_SHIPPABLE"
    DISCOUNT_EXPIRED = "DISCOUNT_EXPIRED"
    DISCOUNT_EXHAUSTED = "DISCOUNT_EXHAUSTED"
    DISCOUNT_NOT_APPLICABLE = "DISCOUNT_NOT_APPLICABLE"
    DISCOUNT_NOT_COMBINABLE = "DISCOUNT_NOT_COMBINABLE"
    # Fulfilment and returns: a line that has already shipped; a return of goods not delivered yet, or
    # delivered longer ago than the return window.
    ALREADY_SHIPPED = "ALREADY_SHIPPED"
    NOT_DELIVERED = "NOT_DELIVERED"
    RETURN_WINDOW_CLOSED = "RETURN_WINDOW_CLOSED"
    # Payouts: less available than the minimum payout; a payout in that currency is already open; the
    # creator's earnings are frozen (suspended or leaving).
    PAYOUT_BELOW_MINIMUM = "PAYOUT_BELOW_MINIMUM"
    PAYOUT_OPEN = "PAYOUT_OPEN"
    EARNINGS_FROZEN = "EARNINGS_FROZEN"


def domain_path(field: FieldLike) -> list[PathSegment] | None:
    """A field argument as a path: `"days"` → `["days"]`; sequences become lists; None stays None."""
    if field is None:
        return None
    if isinstance(field, str):
        return [field]
    return list(field)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class DomainError(Exception):
    """An expected refusal: bad input, missing permission, a rule of the product."""

    def __init__(self, code: ErrorCode, message: str, field: FieldLike = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field: list[PathSegment] | None = domain_path(field)

    @property
    def extensions(self) -> dict[str, object]:
        """`extensions` of the top-level GraphQL error this becomes when raised outside a mutation (a
        query argument out of range, a forged cursor): graphql-core copies them from the exception. The
        argument at fault, when there is one, as a path of camelCased names (`["first"]`)."""
        if not self.field:
            return {"code": self.code.value}
        path = [step if isinstance(step, int) else _camel(step) for step in self.field]
        return {"code": self.code.value, "argumentPath": path}


class ValidationErrors(DomainError):
    """Several input problems reported together, so a form can show them all at once."""

    def __init__(self, errors: Sequence[DomainError]):
        super().__init__(errors[0].code, errors[0].message, errors[0].field)
        self.errors = list(errors)


class NotFound(DomainError):
    """`what` does not exist, or is not this viewer's to see (the two are not told apart)."""

    def __init__(self, what: str, field: FieldLike = None, *, message: str | None = None):
        super().__init__(ErrorCode.NOT_FOUND, message or f"{what} not found.", field)
        self.what = what


class Forbidden(DomainError):
    """The viewer may see the object but not do this to it."""

    def __init__(self, message: str, field: FieldLike = None):
        super().__init__(ErrorCode.FORBIDDEN, message, field)


class Unauthenticated(DomainError):
    """The operation needs a signed-in viewer."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.UNAUTHENTICATED, "Sign in to do this.")


class AlreadyExists(DomainError):
    """Something that must be unique is taken (an email, a handle, a SKU within a product)."""

    def __init__(self, message: str, field: FieldLike = None):
        super().__init__(ErrorCode.ALREADY_EXISTS, message, field)


class RequestCode(StrEnum):
    """`extensions.code` of a top-level GraphQL error: the whole request (not one input) was refused."""

    UNAUTHENTICATED = "UNAUTHENTICATED"  # the bearer token is malformed, expired, revoked or its user gone
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"  # a dependency is down or saturated: try again shortly
    TIMEOUT = "TIMEOUT"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # The request cannot be served as it was sent (a subscription over plain HTTP, say).
    BAD_REQUEST = "BAD_REQUEST"
    # Apollo's persisted queries: a hash the server does not know (send the text with it), and an
    # operation outside the trusted documents of a locked-down deployment.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"


class _Headers(Protocol):
    def update(self, other: Mapping[str, str]) -> None: ...


class _HTTPResponse(Protocol):
    """What a refusal sets on the response being built (starlette's Response has both)."""

    status_code: int

    @property
    def headers(self) -> _Headers: ...


class RequestRefused(Exception):
    """A refusal of the whole request, raised anywhere while it is served (a resolver, the context, an
    extension). It reaches the client as a top-level error whose `extensions` are `{"code": code, **data}`
    (graphql-core copies an exception's `extensions` onto the error), and, when `http_status` is set, that
    status decides the HTTP response (401, 429, 503) — see `schema.limits.ExecutionOutcome`."""

    def __init__(
        self, code: RequestCode, message: str, *, http_status: int | None = None, **data: object
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.headers: dict[str, str] = {}
        self.extensions: dict[str, object] = {"code": code.value, **data}

    def decide(self, response: _HTTPResponse | None) -> None:
        """Set the status and headers of the HTTP response, when there is one and this has a status."""
        if response is not None and self.http_status is not None:
            response.status_code = self.http_status
            response.headers.update(self.headers)
