"""Refusals of buying that clients act on, with the data they need to act (what is left, what is owed).

Each keeps its stable `ErrorCode`; the schema layer turns the data into `UserError.detail`.
"""

from __future__ import annotations

from commerce.money import format_amount
from core.errors import DomainError, ErrorCode, FieldLike
from models import OrderStatus


class OutOfStock(DomainError):
    """Fewer of `variant_id` are left than asked for; `available` is how many can still be bought."""

    def __init__(self, variant_id: int, available: int, *, name: str | None = None, field: FieldLike = None):
        self.variant_id = variant_id
        self.available = max(available, 0)
        self.name = name or "This item"
        message = (
            f"{self.name} is sold out."
            if self.available == 0
            else f"Only {self.available} of {self.name} left."
        )
        super().__init__(ErrorCode.OUT_OF_STOCK, message, field)


class ProductUnavailable(DomainError):
    """`variant_id` belongs to a product that cannot be bought: withheld from sale (delisted or hidden by
    a moderator, or its merchant suspended or leaving). `line_id` is the cart line holding it, if any."""

    def __init__(
        self,
        variant_id: int,
        *,
        name: str | None = None,
        line_id: int | None = None,
        field: FieldLike = None,
        then: str = "",
    ):
        self.variant_id = variant_id
        self.line_id = line_id
        self.name = name or "This item"
        # `then` says what the shopper can do about it, where there is something.
        message = f"{self.name} is no longer available." + (f" {then}" if then else "")
        super().__init__(ErrorCode.PRODUCT_UNAVAILABLE, message, field)


class InvalidTransition(DomainError):
    """An order in status `current` cannot take the step asked for (`target`; None for a refund, which
    may lead to REFUNDED or PARTIALLY_REFUNDED)."""

    def __init__(
        self,
        current: OrderStatus,
        target: OrderStatus | None = None,
        *,
        message: str | None = None,
        field: FieldLike = None,
    ):
        self.current = current
        self.target = target
        if message is None:
            assert target is not None, "a transition refused without a target needs its own message"
            message = f"An order that is {current.value} cannot become {target.value}."
        super().__init__(ErrorCode.INVALID_TRANSITION, message, field)


class RefundExceedsPaid(DomainError):
    """A refund of `requested` minor units is more than the `refundable` still left (both in `currency`)."""

    def __init__(self, requested: int, refundable: int, currency: str, field: FieldLike = None):
        self.requested = requested
        self.refundable = max(refundable, 0)
        self.currency = currency
        super().__init__(
            ErrorCode.REFUND_EXCEEDS_PAID,
            f"At most {format_amount(self.refundable, currency)} {currency} can still be refunded.",
            field,
        )


class CurrencyMismatch(DomainError):
    """Items and cart disagree on currency; `cart_currency` is the cart's when it has one."""

    def __init__(self, message: str, field: FieldLike = None, *, cart_currency: str | None = None):
        self.cart_currency = cart_currency
        super().__init__(ErrorCode.CURRENCY_MISMATCH, message, field)


class CartClosed(DomainError):
    """The cart was checked out (or merged) and can no longer change or be checked out again."""

    def __init__(self, field: FieldLike = None, *, message: str = "This cart can no longer be checked out."):
        super().__init__(ErrorCode.CART_CLOSED, message, field)


class CartEmpty(DomainError):
    def __init__(self, field: FieldLike = None):
        super().__init__(ErrorCode.CART_EMPTY, "The cart is empty.", field)


class CheckoutInProgress(DomainError):
    """Another request is setting up or settling this payment; the same call may be retried shortly."""

    def __init__(self, message: str, field: FieldLike = None):
        super().__init__(ErrorCode.CHECKOUT_IN_PROGRESS, message, field)


class PaymentsNotConfigured(DomainError):
    """This server has no Stripe key: nothing can be paid or refunded."""

    def __init__(self) -> None:
        super().__init__(
            ErrorCode.PAYMENTS_NOT_CONFIGURED,
            "Payments are not configured on this server (set STRIPE_API_KEY); checkout is unavailable.",
        )


class PayoutBelowMinimum(DomainError):
    """The creator's AVAILABLE balance in `currency` is below the smallest payout (`minimum`)."""

    def __init__(self, *, available: int, minimum: int, currency: str):
        self.available = available
        self.minimum = minimum
        self.currency = currency
        super().__init__(
            ErrorCode.PAYOUT_BELOW_MINIMUM,
            f"You have {format_amount(max(available, 0), currency)} {currency} available; a payout is at "
            f"least {format_amount(minimum, currency)} {currency}.",
            "currency",
        )


class PayoutOpen(DomainError):
    """The creator already has a payout in `currency` waiting to be paid (one open payout per currency)."""

    def __init__(self, currency: str):
        super().__init__(
            ErrorCode.PAYOUT_OPEN,
            f"A payout in {currency} is already on its way: ask again once it is paid.",
            "currency",
        )


class EarningsFrozen(DomainError):
    """The creator is suspended or leaving: their earnings stay where they are until they are back."""

    def __init__(self) -> None:
        super().__init__(
            ErrorCode.EARNINGS_FROZEN,
            "Your earnings are frozen while your account is suspended or being deleted.",
        )
