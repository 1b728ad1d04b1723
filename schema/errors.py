"""Errors as data: every mutation payload carries `errors: [UserError!]!`.

Rules raise `DomainError`s that name the input at fault by a domain path (`("lines", 0, "variant_id")`).
`returns_errors` wraps a mutation resolver: a refusal becomes `Payload(errors=[…])`, each error's path
turned into the input path the client sent (`["input", "lines", "0", "variantId"]`) and its data into
`UserError.detail`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, ParamSpec, TypeVar, cast

import strawberry
from strawberry.utils.str_converters import to_camel_case

from commerce.errors import (
    CurrencyMismatch,
    InvalidTransition,
    OutOfStock,
    PayoutBelowMinimum,
    ProductUnavailable,
    RefundExceedsPaid,
)
from core.errors import DomainError, ErrorCode, PathSegment, ValidationErrors
from core.ids import to_global_id
from core.validation import UNSAFE_TEXT_MESSAGE, unsafe_text_paths
from schema.commerce.enums import OrderStatusEnum
from schema.enums import described_enum
from schema.money import Money

P = ParamSpec("P")
R = TypeVar("R")

ErrorCodeEnum = described_enum(
    ErrorCode,
    name="ErrorCode",
    description="Why an operation was refused: the stable code of a `UserError`, and of `extensions.code` on "
    "a top-level error for a refused query argument. Switch on the code; show the message.",
    values={
        "INVALID": "The value is malformed or not allowed (not an email address, an unknown language, a "
        "bad cursor or id …); the message says what is expected.",
        "REQUIRED": "A value that must be given is missing or empty.",
        "TOO_LONG": "The text is longer than allowed; the message gives the limit.",
        "TOO_SHORT": "The text is shorter than allowed (e.g. a password under 8 characters).",
        "TOO_MANY": "The list has more entries than allowed (e.g. more than 10 topics on a note).",
        "OUT_OF_RANGE": "The number is outside its range (a rating outside 1–5, `first` over 100, a "
        "price of 0 …).",
        "NOT_FOUND": "No such object, or it was deleted, or you may not see it (deliberately not told "
        "apart).",
        "FORBIDDEN": "You may see the object but not do this to it (e.g. edit someone else's note).",
        "UNAUTHENTICATED": "Sign in first: this needs a signed-in person. (A token that is invalid, "
        "expired or signed out fails the whole request with HTTP 401 and this code.)",
        "ALREADY_EXISTS": "Already taken: an email, a handle, or a SKU within one product.",
        "INVALID_CREDENTIALS": "The email or password is wrong (never told apart), or the current "
        "password confirming a change is wrong.",
        "CANNOT_FOLLOW_SELF": "People cannot follow themselves.",
        "ALREADY_REVIEWED": "You have already reviewed this product: one review per person per product.",
        "INVALID_CURRENCY": "Not a currency Vermilion sells in (ISO 4217 codes such as CNY, USD, JPY).",
        "CURRENCY_MISMATCH": "Items and cart disagree on currency: one cart holds one currency. "
        "`detail.currency` is the cart's, when it has one.",
        "OUT_OF_STOCK": "Too few of a variant are left; `detail.variantId` and `detail.available` say "
        "which, and how many can still be bought.",
        "CART_EMPTY": "The cart has nothing to check out.",
        "CART_CLOSED": "The cart was checked out or merged into another and can no longer change.",
        "INVALID_TRANSITION": "The order's status does not allow this step (e.g. cancelling a paid order); "
        "`detail.orderStatus` is its status now. For a return's step (receiving a return not yet approved), "
        "`detail` is null: read `ReturnRequest.status`.",
        "REFUND_EXCEEDS_PAID": "The refund is more than can still be refunded; `detail.refundable` is the "
        "most that can.",
        "PAYMENTS_NOT_CONFIGURED": "This server has no payment provider configured: nothing can be paid "
        "or refunded.",
        "PAYMENT_PROVIDER_ERROR": "Stripe refused the request or could not be reached; trying again "
        "later may succeed.",
        "CHECKOUT_IN_PROGRESS": "Another request is setting up or settling this payment; repeat the same "
        "call in a moment.",
        "TOO_LARGE": "A file bigger than its kind allows (20 MB a picture, 200 MB a video by default), or "
        "than the upload declared.",
        "UNSUPPORTED_MEDIA_TYPE": "Not an accepted picture or video, judged by the file's bytes (not its "
        "name or declared type), or not the kind the upload was for.",
        "UPLOAD_MISSING": "The upload was completed before its file reached the upload URL: send it there "
        "first (or ask for a new upload once it has expired).",
        "MEDIA_NOT_READY": "Media still being processed, or failed: wait for READY (or upload again).",
        "BLOCKED": "One of you blocked the other: you cannot follow, like, collect, comment on or reply to "
        "their content, and they cannot reach yours.",
        "SUSPENDED": "The account is suspended (the message says until when and why); appeal with "
        "appealCreate.",
        "ALREADY_REPORTED": "You already have an open report on this subject; it stays in the queue until a "
        "moderator resolves it.",
        "APPEAL_CLOSED": "The action can no longer be appealed: already appealed, or the 20-day window has "
        "passed.",
        "PRODUCT_UNAVAILABLE": "The product cannot be bought: delisted by a moderator, or its merchant is "
        "suspended.",
        "NOT_SHIPPABLE": "A merchant in the cart has no shipping rate to the address's country (or none was "
        "set): remove their items or ship elsewhere.",
        "DISCOUNT_EXPIRED": "The discount code is not valid at this time: before its start or after its end.",
        "DISCOUNT_EXHAUSTED": "The discount code has been used as often as it may be, overall or by this "
        "customer.",
        "DISCOUNT_NOT_APPLICABLE": "The discount code discounts nothing in this cart: another merchant's, "
        "for other products, another currency, or below its minimum subtotal.",
        "DISCOUNT_NOT_COMBINABLE": "The cart already carries a code of this merchant: one code per merchant; "
        "remove the other first.",
        "ALREADY_SHIPPED": "The order line has already shipped (or, with no lines named, all of your lines "
        "of the order have): it is in one of `Order.shipments`.",
        "NOT_DELIVERED": "Only goods in a DELIVERED shipment can be returned: this line has not been "
        "delivered yet.",
        "RETURN_WINDOW_CLOSED": "The line was delivered more than 30 days ago: it can no longer be returned.",
        "PAYOUT_BELOW_MINIMUM": "Less is AVAILABLE in that currency than the smallest payout; "
        "`detail.minimum` is the minimum.",
        "PAYOUT_OPEN": "A payout of yours in that currency is still REQUESTED: one at a time per currency; "
        "ask again once it is paid or cancelled.",
        "EARNINGS_FROZEN": "Your earnings are frozen while your account is suspended or being deleted: they "
        "stay where they are, and move again once you are back.",
    },
)

# Resolver parameters that are not GraphQL arguments.
_NOT_ARGUMENTS = frozenset({"self", "root", "info"})


@strawberry.type(
    description="What a client needs to act on a refusal, beyond its message. Each field is set only for "
    "the codes its description names, and null otherwise."
)
class UserErrorDetail:
    variant_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="OUT_OF_STOCK: the product variant there is too little of. PRODUCT_UNAVAILABLE: the "
        "variant that can no longer be bought.",
    )
    line_id: strawberry.ID | None = strawberry.field(
        default=None, description="PRODUCT_UNAVAILABLE at checkout: the CartLine to remove."
    )
    available: int | None = strawberry.field(
        default=None, description="OUT_OF_STOCK: how many of that variant can still be bought (0: sold out)."
    )
    order_status: OrderStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="INVALID_TRANSITION: the order's status now."
    )
    refundable: Money | None = strawberry.field(
        default=None, description="REFUND_EXCEEDS_PAID: the most that can still be refunded."
    )
    currency: str | None = strawberry.field(
        default=None, description="CURRENCY_MISMATCH: the cart's currency, when it has one."
    )
    minimum: Money | None = strawberry.field(
        default=None, description="PAYOUT_BELOW_MINIMUM: the smallest payout in that currency."
    )


@strawberry.type(description="An expected refusal: which input field, what went wrong, and a stable code.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, as the client sent it, e.g. ["input", "title"] or '
        '["input", "lines", "0", "variantId"] (list indexes as strings); null when no one field is at fault.'
    )
    message: str = strawberry.field(
        description="What went wrong, in English, fit to show to the person; switch on `code`, never on "
        "the text."
    )
    code: ErrorCodeEnum = strawberry.field(  # type: ignore[valid-type]
        description="The stable reason, for a client to act on."
    )
    detail: UserErrorDetail | None = strawberry.field(
        default=None,
        description="Data to act on (e.g. how many are left for OUT_OF_STOCK); null for most codes.",
    )


PAYLOAD_ERRORS = (
    "Why the mutation was refused: every problem found, each naming its input field where there is one. "
    "Empty when it succeeded."
)


def payload_errors() -> Any:
    """The `errors` field of a mutation payload (`errors: [UserError!]!`, empty by default)."""
    return strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


def graphql_path(path: Sequence[PathSegment] | None, arguments: Collection[str] = ()) -> list[str] | None:
    """The client's input path for a domain path, in a mutation taking `arguments` (resolver names).

    Names are camelCased and indexes written as strings, as GraphQL clients spell them. When the mutation
    takes an `input` object, paths lead into it, unless they start at another argument (`id` beside
    `input` in noteUpdate); the empty path is then the whole `input`.
    """
    if path is None:
        return None
    segments = [step if isinstance(step, int) else to_camel_case(step) for step in path]
    into_input = "input" in arguments and not (path and path[0] in arguments)
    return [str(step) for step in (["input", *segments] if into_input else segments)]


def error_detail(exc: DomainError) -> UserErrorDetail | None:
    """The structured data of a refusal, for the refusals that carry some."""
    if isinstance(exc, OutOfStock):
        return UserErrorDetail(
            variant_id=strawberry.ID(to_global_id("ProductVariant", exc.variant_id)), available=exc.available
        )
    if isinstance(exc, ProductUnavailable):
        line = strawberry.ID(to_global_id("CartLine", exc.line_id)) if exc.line_id is not None else None
        return UserErrorDetail(
            variant_id=strawberry.ID(to_global_id("ProductVariant", exc.variant_id)), line_id=line
        )
    if isinstance(exc, InvalidTransition):
        return UserErrorDetail(order_status=exc.current)
    if isinstance(exc, RefundExceedsPaid):
        return UserErrorDetail(refundable=Money.of(exc.refundable, exc.currency))
    if isinstance(exc, CurrencyMismatch) and exc.cart_currency is not None:
        return UserErrorDetail(currency=exc.cart_currency)
    if isinstance(exc, PayoutBelowMinimum):
        return UserErrorDetail(minimum=Money.of(exc.minimum, exc.currency))
    return None


def user_errors(exc: DomainError, arguments: Collection[str] = ()) -> list[UserError]:
    """The `errors` list for a refused mutation taking `arguments`."""
    errors = exc.errors if isinstance(exc, ValidationErrors) else [exc]
    return [
        UserError(
            field=graphql_path(e.field, arguments), message=e.message, code=e.code, detail=error_detail(e)
        )
        for e in errors
    ]


def returns_errors(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn the resolver's `DomainError` into its payload (the return annotation) with `errors` filled.

    Put it under `@strawberry.mutation`: the wrapper keeps the resolver's name, signature and annotations,
    so the schema is the same. Whatever the resolver does after its rule returns (publishing an event,
    clearing loaders) happens only on success, as before. Text holding a NUL or a lone surrogate anywhere
    in the arguments is refused first, as INVALID on its path, before the rule runs.
    """
    arguments = frozenset(inspect.signature(resolver).parameters) - _NOT_ARGUMENTS
    payload = _payload_class(resolver)

    @functools.wraps(resolver)
    async def resolve(*args: P.args, **kwargs: P.kwargs) -> R:
        unsafe = [
            DomainError(ErrorCode.INVALID, UNSAFE_TEXT_MESSAGE, path)
            for name in arguments
            for path in unsafe_text_paths(kwargs.get(name), (name,))
        ]
        if unsafe:  # refused before the rule runs: no database takes such text
            return cast(R, payload(errors=user_errors(ValidationErrors(unsafe), arguments)))
        try:
            return await resolver(*args, **kwargs)
        except DomainError as exc:
            return cast(R, payload(errors=user_errors(exc, arguments)))

    return resolve


def _payload_class(resolver: Callable[..., Any]) -> type[Any]:
    """The payload class a resolver returns; under postponed annotations it is looked up by name in the
    resolver's module, so payloads are module-level classes defined before their mutations."""
    annotation = inspect.signature(resolver).return_annotation
    if isinstance(annotation, str):
        annotation = getattr(resolver, "__globals__", {}).get(annotation)
    fields = getattr(annotation, "__dataclass_fields__", {})
    if not isinstance(annotation, type) or "errors" not in fields:
        raise TypeError(
            f"{resolver.__qualname__}: returns_errors needs a payload class with `errors` as the return "
            "annotation, defined at module level before the mutation"
        )
    return annotation
