"""Domain errors as clients see them, without HTTP or a database: each named error's code, message and
data; a domain path turned into the client's input path; and `returns_errors`, which turns a refusal
into the mutation's payload."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import pytest
import strawberry
from strawberry.types.base import get_object_definition

from commerce.errors import (
    CartClosed,
    CartEmpty,
    CheckoutInProgress,
    CurrencyMismatch,
    InvalidTransition,
    OutOfStock,
    PaymentsNotConfigured,
    RefundExceedsPaid,
)
from core.errors import (
    AlreadyExists,
    DomainError,
    ErrorCode,
    Forbidden,
    NotFound,
    PathSegment,
    Unauthenticated,
    ValidationErrors,
)
from core.ids import to_global_id
from core.validation import Checks
from models import OrderStatus
from schema import Mutation
from schema.errors import UserError, error_detail, graphql_path, returns_errors, user_errors
from schema.money import Money
from social.errors import AlreadyReviewed, CannotFollowSelf, InvalidCredentials

# --- the named errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "message", "field"),
    [
        (OutOfStock(7, 2, name="01 正红", field="cart_id"), ErrorCode.OUT_OF_STOCK, "Only 2 of 01 正红 left.",
         ["cart_id"]),
        (OutOfStock(7, 0, name="01 正红"), ErrorCode.OUT_OF_STOCK, "01 正红 is sold out.", None),
        (OutOfStock(7, -3), ErrorCode.OUT_OF_STOCK, "This item is sold out.", None),
        (InvalidTransition(OrderStatus.CANCELLED, OrderStatus.FULFILLED, field="order_id"),
         ErrorCode.INVALID_TRANSITION, "An order that is CANCELLED cannot become FULFILLED.", ["order_id"]),
        (InvalidTransition(OrderStatus.PENDING_PAYMENT, message="This order has no payment to refund."),
         ErrorCode.INVALID_TRANSITION, "This order has no payment to refund.", None),
        (RefundExceedsPaid(5000, 1250, "USD", "amount_minor_units"), ErrorCode.REFUND_EXCEEDS_PAID,
         "At most 12.50 USD can still be refunded.", ["amount_minor_units"]),
        (RefundExceedsPaid(10, -5, "JPY"), ErrorCode.REFUND_EXCEEDS_PAID, "At most 0 JPY can still be refunded.",
         None),
        (CurrencyMismatch("These items are sold in different currencies.", ("lines",)),
         ErrorCode.CURRENCY_MISMATCH, "These items are sold in different currencies.", ["lines"]),
        (CartClosed("cart_id"), ErrorCode.CART_CLOSED, "This cart can no longer be checked out.", ["cart_id"]),
        (CartEmpty("cart_id"), ErrorCode.CART_EMPTY, "The cart is empty.", ["cart_id"]),
        (CheckoutInProgress("The payment is being processed; try again in a moment.", "order_id"),
         ErrorCode.CHECKOUT_IN_PROGRESS, "The payment is being processed; try again in a moment.", ["order_id"]),
        (PaymentsNotConfigured(), ErrorCode.PAYMENTS_NOT_CONFIGURED,
         "Payments are not configured on this server (set STRIPE_API_KEY); checkout is unavailable.", None),
        (NotFound("Cart", "cart_id"), ErrorCode.NOT_FOUND, "Cart not found.", ["cart_id"]),
        (NotFound("Product", "product_ids", message="A tagged product does not exist."), ErrorCode.NOT_FOUND,
         "A tagged product does not exist.", ["product_ids"]),
        (Forbidden("Only the author can edit or delete this note.", "id"), ErrorCode.FORBIDDEN,
         "Only the author can edit or delete this note.", ["id"]),
        (Unauthenticated(), ErrorCode.UNAUTHENTICATED, "Sign in to do this.", None),
        (AlreadyExists("This email or handle was just taken.", "handle"), ErrorCode.ALREADY_EXISTS,
         "This email or handle was just taken.", ["handle"]),
        (InvalidCredentials(), ErrorCode.INVALID_CREDENTIALS, "The email or password is incorrect.", []),
        (CannotFollowSelf("user_id"), ErrorCode.CANNOT_FOLLOW_SELF, "You cannot follow yourself.", ["user_id"]),
        (AlreadyReviewed(3, ("review", "product_id")), ErrorCode.ALREADY_REVIEWED,
         "You have already reviewed this product; edit that review instead.", ["review", "product_id"]),
    ],
)  # fmt: skip
def test_each_named_error_keeps_its_code_and_message(
    error: DomainError, code: ErrorCode, message: str, field: list[PathSegment] | None
) -> None:
    assert isinstance(error, DomainError)
    assert (error.code, error.message, str(error), error.field) == (code, message, message, field)


def test_named_errors_carry_their_data() -> None:
    short = OutOfStock(7, 2, name="01 正红")
    assert (short.variant_id, short.available, short.name) == (7, 2, "01 正红")
    assert OutOfStock(7, -3).available == 0  # stock is never reported below zero

    moved = InvalidTransition(OrderStatus.PAID, OrderStatus.CANCELLED)
    assert (moved.current, moved.target) == (OrderStatus.PAID, OrderStatus.CANCELLED)
    assert (
        InvalidTransition(
            OrderStatus.CANCELLED, message="An order that is CANCELLED cannot be refunded."
        ).target
        is None
    )

    too_much = RefundExceedsPaid(5000, 1250, "USD")
    assert (too_much.requested, too_much.refundable, too_much.currency) == (5000, 1250, "USD")
    assert RefundExceedsPaid(10, -5, "JPY").refundable == 0

    assert CurrencyMismatch("…", cart_currency="CNY").cart_currency == "CNY"
    assert NotFound("Cart").what == "Cart"
    assert AlreadyReviewed(3).product_id == 3


def test_a_transition_without_a_target_needs_its_own_message() -> None:
    with pytest.raises(AssertionError):
        InvalidTransition(OrderStatus.PAID)


# --- domain paths → GraphQL input paths -------------------------------------------------------------------

CHECKOUT_START = {"input"}
NOTE_UPDATE = {"id", "input"}
CART_LINES_ADD = {"cart_id", "lines"}
ORDER_REFUND = {"order_id", "amount_minor_units", "idempotency_key"}


@pytest.mark.parametrize(
    ("path", "arguments", "expected"),
    [
        (None, CHECKOUT_START, None),
        (("shipping_address", "postal_code"), CHECKOUT_START, ["input", "shippingAddress", "postalCode"]),
        (("shipping_address", "line1"), CHECKOUT_START, ["input", "shippingAddress", "line1"]),
        (("cart_id",), CHECKOUT_START, ["input", "cartId"]),
        ((), CHECKOUT_START, ["input"]),  # the whole input (signIn's INVALID_CREDENTIALS)
        (("lines", 0, "variant_id"), {"input"}, ["input", "lines", "0", "variantId"]),
        (("lines", 12, "variant_id"), CART_LINES_ADD, ["lines", "12", "variantId"]),
        (("cart_id",), CART_LINES_ADD, ["cartId"]),
        (("id",), NOTE_UPDATE, ["id"]),  # an argument beside `input`
        (("title",), NOTE_UPDATE, ["input", "title"]),
        (("review", "product_id"), NOTE_UPDATE, ["input", "review", "productId"]),
        (("media", 3), NOTE_UPDATE, ["input", "media", "3"]),
        (("amount_minor_units",), ORDER_REFUND, ["amountMinorUnits"]),
        (("ids", 0), {"ids"}, ["ids", "0"]),
        (["after"], (), ["after"]),
    ],
)
def test_domain_paths_become_the_input_paths_clients_sent(
    path: Sequence[PathSegment] | None, arguments: set[str], expected: list[str] | None
) -> None:
    assert graphql_path(path, arguments) == expected


def test_checks_name_fields_by_domain_path_and_label_messages_from_them() -> None:
    checks = Checks(prefix=("shipping_address",))
    checks.text("postal_code", None, max_length=20)
    checks.text("line1", "x" * 201, max_length=200)
    checks.fail("country", ErrorCode.INVALID, "Use the two-letter country code, e.g. CN or US.")
    with pytest.raises(ValidationErrors) as refused:
        checks.done()
    assert [(e.field, e.message) for e in refused.value.errors] == [
        (["shipping_address", "postal_code"], "Postal code is required."),
        (["shipping_address", "line1"], "Line1 is limited to 200 characters."),
        (["shipping_address", "country"], "Use the two-letter country code, e.g. CN or US."),
    ]
    assert [e.field for e in user_errors(refused.value, CHECKOUT_START)] == [
        ["input", "shippingAddress", "postalCode"],
        ["input", "shippingAddress", "line1"],
        ["input", "shippingAddress", "country"],
    ]


def test_checks_messages_read_as_words() -> None:
    checks = Checks()
    checks.text("display_name", "n" * 51, max_length=50)
    checks.count("line_ids", [], maximum=100, minimum=1)
    checks.url(("media", 0), "ftp://example.com/a.jpg")
    with pytest.raises(ValidationErrors) as refused:
        checks.done()
    assert [(e.code, e.field, e.message) for e in refused.value.errors] == [
        (ErrorCode.TOO_LONG, ["display_name"], "Display name is limited to 50 characters."),
        (ErrorCode.REQUIRED, ["line_ids"], "Line ids: at least 1 required."),
        (ErrorCode.INVALID, ["media", 0], "Must be an http:// or https:// URL."),
    ]


# --- structured detail ------------------------------------------------------------------------------------


def test_detail_carries_what_clients_act_on() -> None:
    stock = error_detail(OutOfStock(7, 2, name="01 正红"))
    assert stock is not None
    assert (stock.variant_id, stock.available) == (to_global_id("ProductVariant", 7), 2)
    assert (stock.order_status, stock.refundable, stock.currency) == (None, None, None)

    transition = error_detail(InvalidTransition(OrderStatus.PAID, OrderStatus.CANCELLED))
    assert transition is not None and transition.order_status is OrderStatus.PAID

    refund = error_detail(RefundExceedsPaid(5000, 1250, "USD"))
    assert refund is not None and refund.refundable == Money(amount="12.50", minor_units=1250, currency="USD")

    mismatch = error_detail(CurrencyMismatch("…", "lines", cart_currency="CNY"))
    assert mismatch is not None and mismatch.currency == "CNY"


@pytest.mark.parametrize(
    "error",
    [NotFound("Cart", "cart_id"), CurrencyMismatch("These items are sold in different currencies."),
     DomainError(ErrorCode.INVALID, "Not a valid Note id.", "id"), CartEmpty()],
)  # fmt: skip
def test_errors_without_data_have_no_detail(error: DomainError) -> None:
    assert error_detail(error) is None
    assert user_errors(error, {"input"})[0].detail is None


# --- returns_errors ---------------------------------------------------------------------------------------


@strawberry.input
class ThingInput:
    title: str
    postal_code: str = ""


@strawberry.type
class ThingPayload:
    title: str | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


done: list[str] = []  # what the resolver did after its rule accepted
_NO_INFO: Any = None  # called directly, the resolver never reads it


async def _rule(id: str, title: str) -> str:
    """Stands in for a rule: refuses as the real ones do, with domain paths."""
    if id == "missing":
        raise NotFound("Thing", "id")
    if id == "boom":
        raise RuntimeError("a bug, not a refusal")
    if not title:
        raise ValidationErrors(
            [
                DomainError(ErrorCode.REQUIRED, "Title must not be empty.", "title"),
                DomainError(ErrorCode.INVALID, "Enter a postal code.", "postal_code"),
            ]
        )
    return title.upper()


@returns_errors
async def thing_update(
    self: Any, info: strawberry.Info, id: strawberry.ID, input: ThingInput
) -> ThingPayload:
    """Edit a thing."""
    title = await _rule(id, input.title)
    done.append(title)  # like publishing an event: only after the rule accepted
    return ThingPayload(title=title)


async def _undecorated(
    self: Any, info: strawberry.Info, id: strawberry.ID, input: ThingInput
) -> ThingPayload:
    return ThingPayload()


@pytest.fixture(autouse=True)
def _nothing_done() -> None:
    done.clear()


async def test_returns_errors_passes_success_through() -> None:
    payload = await thing_update(None, _NO_INFO, id=strawberry.ID("1"), input=ThingInput(title="ok"))
    assert (payload.title, payload.errors) == ("OK", [])
    assert done == ["OK"]


async def test_returns_errors_turns_a_refusal_into_the_payload() -> None:
    missing = await thing_update(None, _NO_INFO, id=strawberry.ID("missing"), input=ThingInput(title="ok"))
    assert isinstance(missing, ThingPayload) and missing.title is None
    assert [(e.field, e.code, e.message) for e in missing.errors] == [
        (["id"], ErrorCode.NOT_FOUND, "Thing not found.")
    ]
    invalid = await thing_update(None, _NO_INFO, id=strawberry.ID("1"), input=ThingInput(title=""))
    assert [(e.field, e.code) for e in invalid.errors] == [
        (["input", "title"], ErrorCode.REQUIRED),
        (["input", "postalCode"], ErrorCode.INVALID),
    ]
    assert done == []  # nothing after the rule ran


async def test_returns_errors_lets_bugs_through() -> None:
    with pytest.raises(RuntimeError):
        await thing_update(None, _NO_INFO, id=strawberry.ID("boom"), input=ThingInput(title="ok"))


def test_returns_errors_keeps_the_signature_strawberry_reads() -> None:
    assert inspect.signature(thing_update) == inspect.signature(_undecorated)
    assert (thing_update.__name__, thing_update.__doc__) == ("thing_update", "Edit a thing.")
    assert inspect.iscoroutinefunction(thing_update)


async def test_a_decorated_mutation_in_a_schema() -> None:
    @strawberry.type
    class Query:
        ok: bool = True

    @strawberry.type
    class Things:
        thing_update = strawberry.mutation(thing_update, description="Edit a thing.")

    schema = strawberry.Schema(query=Query, mutation=Things)
    assert "thingUpdate(id: ID!, input: ThingInput!): ThingPayload!" in str(schema)
    result = await schema.execute(
        'mutation { thingUpdate(id: "missing", input: {title: "x"}) { title errors { field code message } } }'
    )
    assert result.errors is None
    assert result.data == {
        "thingUpdate": {
            "title": None,
            "errors": [{"field": ["id"], "code": "NOT_FOUND", "message": "Thing not found."}],
        }
    }


def test_returns_errors_needs_a_payload_with_errors() -> None:
    async def no_payload(self: Any, info: Any) -> str:
        return ""

    with pytest.raises(TypeError, match="payload class"):
        returns_errors(no_payload)


def test_every_mutation_turns_refusals_into_its_payload() -> None:
    """A new mutation that forgets `@returns_errors` fails here rather than answering a refusal with a
    top-level GraphQL error."""
    wrapper_code = thing_update.__code__  # every wrapper runs the same code
    definition = get_object_definition(Mutation, strict=True)
    unwrapped = [
        field.python_name
        for field in definition.fields
        if field.base_resolver is None
        or getattr(field.base_resolver.wrapped_func, "__code__", None) is not wrapper_code
    ]
    assert definition.fields and unwrapped == []
