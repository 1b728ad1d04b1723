"""Domain errors: raised by the rules (social/, commerce/), turned into `UserError`s by the API."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


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


class DomainError(Exception):
    """An expected refusal: bad input, missing permission, a rule of the product."""

    def __init__(self, code: ErrorCode, message: str, field: Sequence[str] | str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        if field is None:
            self.field: list[str] | None = None
        elif isinstance(field, str):
            self.field = [field]
        else:
            self.field = list(field)


class ValidationErrors(DomainError):
    """Several input problems reported together, so a form can show them all at once."""

    def __init__(self, errors: Sequence[DomainError]):
        super().__init__(errors[0].code, errors[0].message, errors[0].field)
        self.errors = list(errors)


def not_found(what: str, field: str | Sequence[str] | None = None) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"{what} not found.", field)


def forbidden(message: str, field: str | Sequence[str] | None = None) -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, message, field)


def unauthenticated() -> DomainError:
    return DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to do this.")
