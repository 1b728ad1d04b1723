"""The static cost of an operation, Shopify's model: what it may ask the server for, at most.

- a scalar or enum costs 0, an object 1 (the `…Edge` wrappers of a connection 0: their node counts);
- a connection costs itself and its `pageInfo`, plus its page size × one item (`edges` and `nodes`): `first`
  (its argument or the variable's value), or `last` when paging backwards, the larger when both are
  given, the default (20) when neither; always clamped to what the field serves (0–100), so a size the
  resolver refuses is refused by the resolver, not priced;
- a plain list costs its bound × one item: the most the rules let it hold (`LIST_BOUNDS`), or an argument
  (`ARGUMENT_BOUNDS`: `Topic.history(days)`, `trendingTopics(first)`), or its elements (`ELEMENT_BOUNDS`);
- an interface or union costs its most expensive member; fragments are expanded where they are spread,
  and fields under one response key count once, as execution merges them (aliases count apart);
- introspection (`__schema`, `__type`, `__typename`) costs 0; an operation costs at least 1.

A document is planned once (`plan_document`: a small tree whose list multipliers may name variables),
and each request evaluates the plan of its operation with its variables (`OperationPlan.cost`). Both
walk iteratively and share the plans of selections that meet again, so neither depth, fragment chains
nor fragments spread many times can exhaust the stack or take more than linear time.
"""

from __future__ import annotations

import functools
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    is_abstract_type,
    is_leaf_type,
)

from commerce.cart import MAX_CART_LINES, MAX_CART_MERCHANTS
from commerce.catalog import MAX_VARIANTS
from commerce.discounts import MAX_CODE_PRODUCTS
from commerce.fulfilment import MAX_PARCEL_LINES, MAX_PARCELS_PER_ORDER
from commerce.money import CURRENCY_EXPONENTS
from commerce.pricing import MAX_OPTIONS
from commerce.returns import MAX_RETURN_LINES, MAX_RETURNS_PER_ORDER
from commerce.shipping import MAX_LISTED_RATES
from core.cursors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from media.attach import MAX_PRODUCT_IMAGES
from safety.export import MAX_LISTED as MAX_LISTED_EXPORTS
from social.filters import MAX_FILTERS
from social.notes import MAX_MEDIA, MAX_PRODUCTS, MAX_TOPICS
from social.topics import MAX_HISTORY_DAYS

# The most each plain list of objects can hold, from the rules that bound it on input.
LIST_BOUNDS: dict[str, int] = {
    "Note.media": MAX_MEDIA,
    "Note.topics": MAX_TOPICS,
    "Note.products": MAX_PRODUCTS,
    "Product.variants": MAX_VARIANTS,
    "Product.images": MAX_PRODUCT_IMAGES,
    "Cart.lines": MAX_CART_LINES,
    "Cart.warnings": 2 * MAX_CART_LINES,  # a price and a stock warning per line at most
    # One delivery group per merchant in the cart, each with at most one code and its merchant's live rates.
    "Cart.deliveryGroups": MAX_CART_MERCHANTS,
    "Cart.discounts": MAX_CART_MERCHANTS,
    "DeliveryGroup.options": MAX_OPTIONS,
    "CartLine.discountAllocations": 1,  # a line is its merchant's, and a merchant has one code on a cart
    "Order.deliveryGroups": MAX_CART_MERCHANTS,  # one per merchant of a frozen cart
    "Order.lines": MAX_CART_LINES,  # an order is a frozen cart
    "DiscountCode.products": MAX_CODE_PRODUCTS,
    # No rule caps these; an order with more refunds or ledger entries than this is an anomaly.
    "Order.refunds": 25,
    "Order.paymentEvents": 50,
    "NoteSales.revenue": len(CURRENCY_EXPONENTS),  # one amount per currency
    "NoteSales.commission": len(CURRENCY_EXPONENTS),
    # A creator's balances and a merchant's commissions: one per currency at most.
    "Earnings.byCurrency": len(CURRENCY_EXPONENTS),
    "Earnings.pending": len(CURRENCY_EXPONENTS),
    "Earnings.available": len(CURRENCY_EXPONENTS),
    "Earnings.inPayout": len(CURRENCY_EXPONENTS),
    "Earnings.paidOut": len(CURRENCY_EXPONENTS),
    "CommissionsOwed.byCurrency": len(CURRENCY_EXPONENTS),
    "User.filters": MAX_FILTERS,
    "User.exports": MAX_LISTED_EXPORTS,
    "User.shippingRates": MAX_LISTED_RATES,
    # orderFulfill keeps both: a parcel of at most 5 lines, at most 28 parcels an order (always enough).
    "Order.shipments": MAX_PARCELS_PER_ORDER,
    "Shipment.lines": MAX_PARCEL_LINES,
    # returnRequestCreate keeps both: at most 10 returns an order, of at most 5 lines each.
    "Order.returns": MAX_RETURNS_PER_ORDER,
    "ReturnRequest.lines": MAX_RETURN_LINES,
}
# Lists bounded by what they hold, wherever they appear.
ELEMENT_BOUNDS: dict[str, int] = {
    # A mutation's refusals: one per input at fault, built in memory; priced as a few, not as the most.
    "UserError": 10,
}
# Lists sized by an argument: (argument, its default when absent, its maximum).
ARGUMENT_BOUNDS: dict[str, tuple[str, int, int]] = {
    "Topic.history": ("days", 30, MAX_HISTORY_DAYS),
    "Query.trendingTopics": ("first", 10, 100),
}
# A list of objects no table names yet costs as much as a full page (tests/test_query_cost.py asks
# that every list of the schema be named).
DEFAULT_LIST_BOUND = MAX_PAGE_SIZE
PAGE_LISTS = frozenset({"edges", "nodes"})


@dataclass(frozen=True)
class Multiplier:
    """How many items a list returns at most: a literal, a variable, or a default; within 0…maximum."""

    default: int
    maximum: int
    literal: int | None = None
    variable: str | None = None
    variable_default: int | None = None  # the operation's default for the variable
    # A connection's `last`: when given, the page holds that many instead (the larger, with `first` too).
    backward: Multiplier | None = None

    def given(self, variables: Mapping[str, Any]) -> int | None:
        """The argument's value in this request; None when absent or null."""
        n: object = self.literal
        if self.variable is not None:
            n = variables.get(self.variable, self.variable_default)
        if not isinstance(n, int) or isinstance(n, bool):  # absent, null, or wrong (coercion refuses it)
            return None
        return n

    def value(self, variables: Mapping[str, Any]) -> int:
        n = self.given(variables)
        back = self.backward.given(variables) if self.backward is not None else None
        if back is not None:
            n = back if n is None else max(n, back)
        return min(max(self.default if n is None else n, 0), self.maximum)

    def variables(self) -> list[str]:
        names = [self.variable] if self.variable is not None else []
        return names + (self.backward.variables() if self.backward is not None else [])


@dataclass(eq=False)
class Plan:
    """`(own + Σ parts + max(choices)) × times`: the cost of one selection, for any variables."""

    own: int = 0
    parts: list[Plan] = field(default_factory=list)
    choices: list[Plan] = field(default_factory=list)  # the members of an interface or union
    times: Multiplier | None = None


ZERO = Plan()
# Distinct page sizes remembered per operation plan (a client varying `first` cannot grow it without end).
MAX_REMEMBERED_COSTS = 32
_Step: TypeAlias = Generator["_Step | Plan", Any, Any]


def _run(step: _Step) -> Any:
    """Runs a generator that yields the sub-steps it needs (instead of recursing) to completion."""
    stack: list[_Step] = [step]
    sent: Any = None
    while True:
        try:
            child = stack[-1].send(sent)
        except StopIteration as done:
            stack.pop()
            if not stack:
                return done.value
            sent = done.value
            continue
        stack.append(child)  # type: ignore[arg-type]
        sent = None


@dataclass(frozen=True)
class OperationPlan:
    plan: Plan
    # Root mutation fields, once per occurrence (aliases and fragments included): what it writes.
    mutations: tuple[str, ...] = ()
    # Costs already worked out, by the values of the variables that size lists: most operations are sent
    # again and again with the same page sizes, so the plan is walked once per distinct sizes.
    _costs: dict[tuple[object, ...], int] = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def sizing_variables(self) -> tuple[str, ...]:
        """The variables some list's size is read from."""
        names: set[str] = set()
        stack, seen = [self.plan], set()
        while stack:
            plan = stack.pop()
            if id(plan) in seen:
                continue
            seen.add(id(plan))
            if plan.times is not None:
                names.update(plan.times.variables())
            stack.extend(plan.parts)
            stack.extend(plan.choices)
        return tuple(sorted(names))

    def cost(self, variables: Mapping[str, Any] | None) -> int:
        """The requested cost of the operation with these variables (at least 1)."""
        variables = variables or {}
        key = tuple(repr(variables.get(name)) for name in self.sizing_variables)
        known = self._costs.get(key)
        if known is None:
            known = max(1, _run(_evaluate(self.plan, variables, {})))
            if len(self._costs) < MAX_REMEMBERED_COSTS:
                self._costs[key] = known
        return known


def _evaluate(plan: Plan, variables: Mapping[str, Any], memo: dict[int, int]) -> _Step:
    known = memo.get(id(plan))
    if known is not None:
        return known
    total = plan.own
    for part in plan.parts:
        total += yield _evaluate(part, variables, memo)
    best = 0
    for choice in plan.choices:
        best = max(best, (yield _evaluate(choice, variables, memo)))
    total += best
    if plan.times is not None:
        total *= plan.times.value(variables)
    memo[id(plan)] = total
    return total


def plan_document(schema: GraphQLSchema, document: DocumentNode) -> dict[str | None, OperationPlan]:
    """The plan of every operation of a valid document, by operation name (None for an anonymous one)."""
    return _Planner(schema, document).operations()


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The requested cost of one operation of a document (plans it each time: for tests and tools)."""
    plans = plan_document(schema, document)
    plan = plans.get(operation_name) if operation_name or len(plans) != 1 else next(iter(plans.values()))
    return plan.cost(variables) if plan else 0


class _Planner:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.operations_ = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        # Plans of a merged selection on a type, shared wherever the same selections meet again.
        self.shared: dict[tuple[tuple[int, ...], str, Multiplier | None], Plan] = {}
        self.variable_defaults: dict[str, int] = {}

    def operations(self) -> dict[str | None, OperationPlan]:
        plans: dict[str | None, OperationPlan] = {}
        for operation in self.operations_:
            root = self.schema.get_root_type(operation.operation)
            if root is None:
                continue
            self.variable_defaults = {
                d.variable.name.value: int(d.default_value.value)
                for d in operation.variable_definitions or ()
                if isinstance(d.default_value, IntValueNode)
            }
            self.shared.clear()  # variable defaults differ between operations
            plan = _run(self._selection((operation.selection_set,), root, None))
            mutations: tuple[str, ...] = ()
            if operation.operation is OperationType.MUTATION:
                fields = self._collect((operation.selection_set,), root)
                mutations = tuple(nodes[0].name.value for nodes in fields.values())
            plans[operation.name.value if operation.name else None] = OperationPlan(plan, mutations)
        return plans

    def _applies(self, condition: str | None, member: GraphQLObjectType) -> bool:
        if condition is None or condition == member.name:
            return True
        target = self.schema.get_type(condition)
        return (
            target is not None and is_abstract_type(target) and self.schema.is_sub_type(target, member)  # type: ignore[arg-type]
        )

    def _collect(
        self, selection_sets: Sequence[SelectionSetNode], parent: GraphQLObjectType
    ) -> dict[str, list[FieldNode]]:
        """The fields these selections ask of a `parent` object, by response key, as execution merges
        them: fragments (each once) and inline fragments that apply to the type are flattened."""
        fields: dict[str, list[FieldNode]] = {}
        spread: set[str] = set()
        stack = [iter(s.selections) for s in reversed(selection_sets)]
        while stack:
            selection = next(stack[-1], None)
            if selection is None:
                stack.pop()
            elif isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else None
                if self._applies(condition, parent):
                    stack.append(iter(selection.selection_set.selections))
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in spread:
                spread.add(selection.name.value)
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None and self._applies(fragment.type_condition.name.value, parent):
                    stack.append(iter(fragment.selection_set.selections))
        return fields

    def _selection(
        self, selection_sets: Sequence[SelectionSetNode], parent: GraphQLNamedType, page: Multiplier | None
    ) -> _Step:
        if is_abstract_type(parent):
            choices = []
            for member in self.schema.get_possible_types(parent):  # type: ignore[arg-type]
                choices.append((yield self._on_object(selection_sets, member, page)))
            return Plan(choices=choices)
        if isinstance(parent, GraphQLObjectType):
            return (yield self._on_object(selection_sets, parent, page))
        return ZERO

    def _on_object(
        self, selection_sets: Sequence[SelectionSetNode], parent: GraphQLObjectType, page: Multiplier | None
    ) -> _Step:
        key = (tuple(id(s) for s in selection_sets), parent.name, page)
        known = self.shared.get(key)
        if known is not None:
            return known
        parts = []
        for nodes in self._collect(selection_sets, parent).values():
            parts.append((yield self._field(nodes, parent, page)))
        plan = self.shared[key] = Plan(parts=parts)
        return plan

    def _field(self, nodes: list[FieldNode], parent: GraphQLObjectType, page: Multiplier | None) -> _Step:
        # Fields merged under one response key have one name and the same arguments (validation).
        node = nodes[0]
        name = node.name.value
        definition = parent.fields.get(name)
        if name.startswith("__") or definition is None:
            return ZERO
        kind = definition.type
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        is_list = isinstance(kind, GraphQLList)
        named: GraphQLNamedType = kind
        while not hasattr(named, "name"):  # unwrap List and NonNull down to the named type
            named = named.of_type  # type: ignore[attr-defined]
        if is_leaf_type(named):
            return ZERO
        inner_page = self._page(node, definition.args) if named.name.endswith("Connection") else None
        selections = [n.selection_set for n in nodes if n.selection_set is not None]
        inner = (yield self._selection(selections, named, inner_page)) if selections else ZERO
        item = Plan(own=0 if named.name.endswith("Edge") else 1, parts=[inner])
        if not is_list:
            return item
        if name in PAGE_LISTS and page is not None:
            return Plan(parts=[item], times=page)
        return Plan(parts=[item], times=self._bound(f"{parent.name}.{name}", named.name, node))

    def _page(self, node: FieldNode, args: Mapping[str, Any]) -> Multiplier | None:
        if "first" not in args:
            return None
        default = args["first"].default_value
        default = default if isinstance(default, int) and not isinstance(default, bool) else DEFAULT_PAGE_SIZE
        forward = self._argument(node, "first", default, MAX_PAGE_SIZE)
        if "last" not in args:
            return forward
        return replace(forward, backward=self._argument(node, "last", default, MAX_PAGE_SIZE))

    def _bound(self, coordinate: str, element: str, node: FieldNode) -> Multiplier:
        if coordinate in ARGUMENT_BOUNDS:
            argument, default, maximum = ARGUMENT_BOUNDS[coordinate]
            return self._argument(node, argument, default, maximum)
        bound = LIST_BOUNDS.get(coordinate, ELEMENT_BOUNDS.get(element, DEFAULT_LIST_BOUND))
        return Multiplier(default=bound, maximum=bound)

    def _argument(self, node: FieldNode, argument: str, default: int, maximum: int) -> Multiplier:
        for given in node.arguments or ():
            if given.name.value != argument:
                continue
            if isinstance(given.value, IntValueNode):
                return Multiplier(default, maximum, literal=int(given.value.value))
            if isinstance(given.value, VariableNode):
                variable = given.value.name.value
                return Multiplier(
                    default, maximum, variable=variable, variable_default=self.variable_defaults.get(variable)
                )
        return Multiplier(default, maximum)
