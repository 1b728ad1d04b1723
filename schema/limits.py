"""Query protection: size and shape limits, caches, error masking and error logging.

`protection_extensions(settings)` is called once per schema. Every validation rule here is a class built
once, so the tuple of rules is the same object set on every request and the validation cache can hit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.validation.rules import overlapping_fields_can_be_merged
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType

from core.errors import DomainError, RequestCode, RequestRefused
from core.settings import Settings
from schema.throttle import DocumentCache, PlanCache, RequestBudgets
from schema.timeouts import map_timeouts

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000
# Parsed documents are cached per worker; both caches hold the same document objects.
CACHE_SIZE = 64
# Only operation texts up to this size are cached. A document takes up to ≈ 270 bytes per character of
# text (densely packed tokens), so distinct texts sent to fill the cache pin ≈ 70 MB at worst, not the
# ≈ 3 MB × CACHE_SIZE that 5000-token documents would. Real operations are smaller (≈ 50–100 KB parsed);
# a longer text is simply parsed and validated on every request.
MAX_CACHED_QUERY_CHARS = 4096
# graphql-core meters its overlapping-fields check, quadratic in fields repeated under one name, and aborts
# validation ("Validation aborted.") once the budget is spent. Its default (500 000) costs about a second of
# CPU per request; real operations spend next to nothing, 100 copies of one field about 25 000.
OVERLAP_BUDGET = 50_000
MASKED_MESSAGE = "Unexpected error."

log = logging.getLogger("vermilion.graphql")

# Subtrees under these fields are bounded by graphql-core's MaxIntrospectionDepthRule (a specified rule):
# the introspection query of GraphiQL nests `ofType` nine levels deep, past any sensible data depth.
_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def is_unexpected(error: GraphQLError) -> bool:
    """True for a resolver failure the client must not see; False for anything caused by the request.

    Syntax, validation and variable errors have no path; deliberate refusals are `DomainError`s or
    GraphQL errors raised on purpose (permissions, argument checks).
    """
    original = error.original_error
    if original is None or error.path is None:
        return False
    return not isinstance(original, DomainError | GraphQLError | RequestRefused)


@dataclass
class _Shape:
    """Depth and alias count of one selection set, with the fragments it spreads."""

    depth: int = 0
    aliases: int = 0
    # (field level of the spread, fragment name, whether the fragment's depth counts there)
    spreads: list[tuple[int, str, bool]] = field(default_factory=list)


def _shape(selection_set: SelectionSetNode) -> _Shape:
    """Walk one definition without following fragment spreads (iteratively: no recursion limit)."""
    shape = _Shape()
    stack: list[tuple[SelectionSetNode, int, bool]] = [(selection_set, 0, True)]
    while stack:
        selections, level, counts = stack.pop()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.alias:
                    shape.aliases += 1
                if counts:
                    shape.depth = max(shape.depth, level + 1)
                if selection.selection_set:
                    inner_counts = counts and selection.name.value not in _INTROSPECTION_ROOTS
                    stack.append((selection.selection_set, level + 1, inner_counts))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, level, counts))
            elif isinstance(selection, FragmentSpreadNode):
                shape.spreads.append((level, selection.name.value, counts))
    return shape


def _fragment_totals(fragments: dict[str, _Shape]) -> dict[str, tuple[int, int]]:
    """(depth, aliases) of every fragment with its spreads expanded, each fragment computed once.

    Memoising keeps this linear: a document spreading fragments into fragments many times over would
    otherwise cost exponential time (and expands to exponentially many aliases, which is the point of
    counting them). Cycles and unknown fragments count as empty; other rules report them.
    """
    totals: dict[str, tuple[int, int]] = {}
    in_progress: set[str] = set()
    for root in fragments:
        stack = [root]
        while stack:
            name = stack[-1]
            shape = fragments.get(name)
            if name in totals or shape is None:
                totals.setdefault(name, (0, 0))
                stack.pop()
                continue
            if name not in in_progress:
                in_progress.add(name)
                stack.extend(g for _, g, _ in shape.spreads if g not in totals and g not in in_progress)
                continue
            totals[name] = _expand(shape, totals)
            in_progress.discard(name)
            stack.pop()
    return totals


def _expand(shape: _Shape, totals: dict[str, tuple[int, int]]) -> tuple[int, int]:
    depth, aliases = shape.depth, shape.aliases
    for level, name, counts in shape.spreads:
        inner_depth, inner_aliases = totals.get(name, (0, 0))
        aliases += inner_aliases
        if counts and inner_depth:
            depth = max(depth, level + inner_depth)
    return depth, aliases


class OperationLimitsRule(ValidationRule):
    """Refuses operations nested deeper than MAX_DEPTH fields or using more than MAX_ALIASES aliases.

    Depth counts levels of fields: `{ a { b } }` has depth 2. Introspection subtrees (`__schema`,
    `__type`) are left to MaxIntrospectionDepthRule. Runs in time linear in the document.
    """

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        definitions = context.document.definitions
        fragments = {
            d.name.value: _shape(d.selection_set)
            for d in definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        totals = _fragment_totals(fragments)
        for operation in definitions:
            if isinstance(operation, OperationDefinitionNode):
                depth, aliases = _expand(_shape(operation.selection_set), totals)
                self._check(operation, depth, aliases)

    def _check(self, operation: OperationDefinitionNode, depth: int, aliases: int) -> None:
        label = f"Operation '{operation.name.value}'" if operation.name else "The operation"
        if depth > MAX_DEPTH:
            self.report_error(
                GraphQLError(f"{label} is nested {depth} fields deep; the limit is {MAX_DEPTH}.", operation)
            )
        if aliases > MAX_ALIASES:
            self.report_error(
                GraphQLError(f"{label} uses {aliases} aliases; the limit is {MAX_ALIASES}.", operation)
            )


class _ParserCache(ParserCache):
    """Strawberry's parser cache, skipped for operation texts too large to be worth pinning."""

    def on_parse(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > MAX_CACHED_QUERY_CHARS:
            yield  # Strawberry parses the document itself
            return
        yield from super().on_parse()


class ValidationResults(SchemaExtension):
    """Validation results by document object (schema.throttle.DocumentCache), skipped like the parser
    cache. Strawberry's ValidationCache keyed an LRU cache by the document itself, which hashed its whole
    tree on every request: a tenth of a millisecond for a product page."""

    # Shared by every request (the extension is made per request).
    results: ClassVar[DocumentCache] = DocumentCache(CACHE_SIZE)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if len(context.query or "") > MAX_CACHED_QUERY_CHARS:
            yield  # Strawberry validates the document itself
            return
        schema, document = context.schema._schema, context.graphql_document
        assert document is not None
        rules = tuple(context.validation_rules)
        context.pre_execution_errors = self.results.get(
            schema, document, lambda: validate_document(schema, document, rules), extra=rules
        )
        yield


class _MaskUnexpectedErrors(MaskErrors):
    """Strawberry's masking, with `extensions.code = "INTERNAL_SERVER_ERROR"` on each masked error so
    clients can tell a fault of the server from a refusal of their request."""

    def _process_result(self, result: object) -> None:
        # Strawberry's own asks `isinstance(result, <a runtime-checkable Protocol>)`: a look through the
        # result's class for every request (some 30 µs); reading the attribute says the same.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": RequestCode.INTERNAL_SERVER_ERROR.value}
        return masked


def code_for(error: GraphQLError) -> str:
    """The `extensions.code` of an error that has none: what kind of mistake it is, for clients that
    branch on codes (the same names as Apollo Server's)."""
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        # Before execution: a variable that does not fit its type, or a document the schema refuses.
        return "BAD_USER_INPUT" if error.message.startswith("Variable '$") else "GRAPHQL_VALIDATION_FAILED"
    if error.original_error is None or isinstance(error.original_error, GraphQLError):
        return "BAD_USER_INPUT"  # raised on purpose while resolving (an argument the field refuses)
    return RequestCode.INTERNAL_SERVER_ERROR.value  # unmasked in development, but still coded


def code_missing(errors: Iterable[GraphQLError]) -> None:
    """Give each error without an `extensions.code` the one `code_for` finds."""
    for error in errors:
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": code_for(error)}


class ErrorCodes(SchemaExtension):
    """Every top-level error leaves with an `extensions.code` (`code_for` for those without one):
    syntax, validation and variable errors included. Registered first, so that its `on_operation`
    closes last — after masking."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors: list[GraphQLError] = [
            *(getattr(result, "errors", None) or ()),
            *(self.execution_context.pre_execution_errors or ()),  # a syntax error leaves no result
        ]
        code_missing(errors)


class ExecutionOutcome(SchemaExtension):
    """What follows execution, in one hook (each extension costs every request a little):

    1. errors caused by a database time limit become `RequestRefused` errors (schema/timeouts.py);
    2. the first `RequestRefused` with an HTTP status decides the response's status and headers (401,
       429 with Retry-After, 503) — in a mutation only one raised by a root field; its `extensions`
       already carry the code;
    3. each unexpected resolver error is logged once, with its traceback and the request id — before
       masking (registered ahead of it), so the log keeps what the client no longer sees.
    """

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors: list[GraphQLError] | None = getattr(result, "errors", None)
        if not errors:
            return
        errors = map_timeouts(errors)
        result.errors = errors  # type: ignore[union-attr]
        # In a mutation, an error below a root field came after that field's change was stored: it must
        # not turn the response into a failure (503) while the payload reports success.
        mutation = self.execution_context.operation_type is OperationType.MUTATION
        for error in errors:
            refusal = error.original_error
            if isinstance(refusal, RequestRefused) and refusal.http_status is not None:
                if mutation and len(error.path or ()) > 1:
                    continue
                refusal.decide(getattr(self.execution_context.context, "response", None))
                break
        for error in errors:
            if is_unexpected(error):
                original = error.original_error
                assert original is not None
                log.error(
                    "Unexpected error in operation %s at %s: %s",
                    self.execution_context.operation_name or "(anonymous)",
                    ".".join(str(key) for key in error.path or ()),
                    error.message,
                    exc_info=(type(original), original, original.__traceback__),
                )


class _OnlyErrorsOutsideResolvers(logging.Filter):
    """Keeps Strawberry's own error log for failures outside resolvers (an extension raising, say).

    Strawberry logs every GraphQL error at ERROR, bad input included; resolver errors are logged by
    ExecutionOutcome instead, so they appear once and expected ones not at all.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.msg
        if not isinstance(error, GraphQLError):
            return True
        original = error.original_error
        return (
            error.path is None
            and not error.nodes  # request errors (variables, syntax) point at the document
            and original is not None
            and not isinstance(original, DomainError | GraphQLError | RequestRefused)
        )


def _filter_strawberry_error_log() -> None:
    logger = logging.getLogger("strawberry.execution")
    if not any(isinstance(f, _OnlyErrorsOutsideResolvers) for f in logger.filters):
        logger.addFilter(_OnlyErrorsOutsideResolvers())


def protection_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Strawberry schema extensions (as per-request factories) protecting the GraphQL endpoint."""
    _filter_strawberry_error_log()
    # Process-wide, as graphql-core intends: it reads the value whenever a validation starts.
    overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = OVERLAP_BUDGET
    extensions: list[Callable[[], SchemaExtension]] = [
        # First: the token limit is a parse option, set before the parser cache parses.
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(_ParserCache, maxsize=CACHE_SIZE),
        ValidationResults,
        partial(AddValidationRules, [OperationLimitsRule]),
        # After validation, before execution: the cost budget, the cost bucket and write budgets.
        partial(
            RequestBudgets,
            budget=settings.query_cost_budget,
            plans=PlanCache(CACHE_SIZE),
            max_cached_chars=MAX_CACHED_QUERY_CHARS,
        ),
        ExecutionOutcome,
    ]
    if settings.is_production:
        extensions += [
            DisableIntrospection,
            partial(_MaskUnexpectedErrors, should_mask_error=is_unexpected, error_message=MASKED_MESSAGE),
        ]
    return extensions
