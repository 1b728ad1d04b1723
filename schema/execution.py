"""How operations run: graphql-core's executor, with shortcuts that leave every answer as it was.

graphql-core resolves a list field by field and item by item: a feed page of 20 notes with authors,
topics, products and comments made some 150 async resolver calls, each its own chain of coroutines,
and 700 leaf fields each built a resolve-info record and passed Strawberry's resolver wrapper to read one
attribute. Measured on the following feed (bench/results/http.md), that bookkeeping — not SQL — was
most of a request's CPU. So:

1. **Lists are resolved a level at a time.** Before the items of a list of objects are completed, the
   async resolvers its selection asks for run for all items at once (the per-request dataloaders batch
   them exactly as before: the same statements), then the same for the objects they returned, down the
   selection. A field declared with `metadata=batched(resolve_many)` is answered for the whole level in
   one call. Completion then finds every value ready and runs without a single await. A resolver's
   error is kept as its value and raised where the field is completed, so it lands at the same path,
   with the same null propagation, as before (a failed batch: every item's error, as a failed dataloader
   batch is).
2. **Completion takes the short way**: a plain attribute leaf (a scalar or enum field without resolver
   or arguments) is `getattr` plus the scalar's serialisation; an object goes straight to its fields and
   a list of objects item by item to theirs. Anything unusual (null, an error, a value that does not
   serialise, another type) takes graphql-core's own path, which reports it as before.
3. **An object whose values are all in hand is answered in one call** (schema/completion.py): no path,
   resolve info or selection lookup per field; anything unusual gives the object back to 2.

tests/test_execution.py holds the answers to graphql-core's own executor's (data, errors, paths, null
propagation), tests/test_golden_responses.py every hot read to a stored response, and
tests/test_sql_budget.py the statements per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info
from strawberry.types.arguments import convert_arguments

from schema.completion import GIVE_UP, INT_RANGE, DirectCompletion, Leaf, serialised
from schema.limits import CACHE_SIZE, MAX_CACHED_QUERY_CHARS
from schema.throttle import DocumentCache

_MISSING = object()
# graphql-core's Path is a named tuple; made with tuple.__new__ directly, a path segment skips the named
# tuple's own constructor — a page makes a thousand of them.
_tuple_new = tuple.__new__
# Strawberry's resolvers, told apart by the name of the wrapper it builds for each kind of field.
_BASIC = "_get_basic_result"
_ASYNC = "_async_resolver"


@dataclass(frozen=True, slots=True)
class _Leaf:
    """A basic scalar or enum field: read `python_name`, serialise as `leaf` says."""

    python_name: str
    leaf: Leaf


BATCH = "vermilion.batch"
Batch = Callable[..., Awaitable[list[Any]]]


def batched(resolve_many: Batch) -> dict[str, Batch]:
    """A field's `metadata`: `resolve_many(sources, info, **arguments)` answers the field for many
    objects at once (one value per source, in order). The field's own resolver answers one object the
    same way — by calling it with `[self]` — so a page and a single object cannot differ."""
    return {BATCH: resolve_many}


@dataclass(frozen=True, slots=True)
class _Child:
    """How a level-at-a-time prefetch treats one field of a selection."""

    field_def: GraphQLField
    resolve: bool  # an async resolver: call it for every item
    python_name: str | None  # a basic field: read the attribute (for the objects under it)
    object_type: GraphQLObjectType | None  # the object type under it, if any (through lists, non-null)
    batch: Batch | None = None  # answers the field for all items in one call
    definition: Any = None  # Strawberry's field
    lists: int = 0  # how many list wrappers its type has (0: one object)


def _strawberry_field(field_def: GraphQLField) -> Any:
    return (field_def.extensions or {}).get("strawberry-definition")


def _named(type_: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    """The type under non-null and list wrappers, and whether a list was among them."""
    listed = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        listed = listed or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, listed


def _leaf_plan(field_def: GraphQLField) -> _Leaf | None:
    resolve = field_def.resolve
    if resolve is None or getattr(resolve, "__name__", "") != _BASIC or field_def.args:
        return None
    definition = _strawberry_field(field_def)
    if definition is None or definition.default_resolver is not getattr:
        return None
    type_ = field_def.type.of_type if is_non_null_type(field_def.type) else field_def.type
    if not is_leaf_type(type_):
        return None
    return _Leaf(python_name=definition.python_name, leaf=Leaf.of(type_))


def _child_plan(field_def: GraphQLField) -> _Child:
    resolve = field_def.resolve
    name = getattr(resolve, "__name__", "") if resolve is not None else ""
    named, _ = _named(field_def.type)
    definition = _strawberry_field(field_def)
    basic = name == _BASIC and definition is not None and definition.default_resolver is getattr
    batch = (definition.metadata or {}).get(BATCH) if definition is not None else None
    return _Child(
        field_def=field_def,
        resolve=name == _ASYNC or batch is not None,
        python_name=definition.python_name if basic else None,
        object_type=named if is_object_type(named) else None,  # type: ignore[arg-type]
        batch=batch,
        definition=definition,
        lists=_list_depth(field_def.type),
    )


def _list_depth(type_: GraphQLOutputType) -> int:
    depth = 0
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        depth += isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return depth


# Plans per schema field, shared by every request, by id(field) with the field itself (fields are not
# hashable; the identity check keeps a plan from outliving its schema, as tests build many).
_LEAVES: dict[int, tuple[GraphQLField, _Leaf | None]] = {}
_CHILDREN: dict[int, tuple[GraphQLField, _Child]] = {}


def _leaf_of(field_def: GraphQLField) -> _Leaf | None:
    entry = _LEAVES.get(id(field_def))
    if entry is None or entry[0] is not field_def:
        entry = _LEAVES[id(field_def)] = (field_def, _leaf_plan(field_def))
    return entry[1]


def _child_of(field_def: GraphQLField) -> _Child:
    entry = _CHILDREN.get(id(field_def))
    if entry is None or entry[0] is not field_def:
        entry = _CHILDREN[id(field_def)] = (field_def, _child_plan(field_def))
    return entry[1]


@dataclass(slots=True)
class _OperationMemo:
    """What the executor works out from an operation's selections, kept from one request to the next.

    The parser cache hands out the same document for the same text, so an operation's field nodes are
    the same objects in every request that sends it: what graphql-core collects from them (each
    object's selection) and the plans made from that (above, and schema/completion.py) are the same
    too — unless a directive (`@skip`, `@include`, `@defer`) or a fragment argument makes a selection
    depend on the request's variables; such operations are not kept. Only values worked out from the
    document and the schema live here, never a request's values."""

    operation: Any  # kept alive with its plans, so the ids they are keyed by stay its own
    root: Any = None  # the root fields as collected by the first request
    sub_fields: dict[Any, Any] = field(default_factory=dict)  # graphql-core's `_relevant_sub_fields`
    plans: dict[Any, Any] = field(default_factory=dict)
    kept: list[Any] = field(default_factory=list)
    selections: dict[int, tuple[Any, bool]] = field(default_factory=dict)
    needed: dict[int, bool] = field(default_factory=dict)
    direct_plans: dict[Any, Any] = field(default_factory=dict)
    direct_kept: list[Any] = field(default_factory=list)


# Operations by schema and operation node (`DocumentCache`: by identity, least recently used dropped);
# None: not kept (its selections depend on variables). As many, and as large, as the parser cache keeps:
# a longer text is parsed anew for each request, so it could only churn this.
_MEMOS = DocumentCache(CACHE_SIZE)


def _memo_for(schema: Any, operation: Any, fragments: dict[str, Any]) -> _OperationMemo | None:
    location = operation.loc
    if location is None or len(location.source.body) > MAX_CACHED_QUERY_CHARS:
        return None

    def make() -> _OperationMemo | None:
        fixed = _fixed_selections(operation.selection_set) and all(
            not fragment.directives and _fixed_selections(fragment.selection_set)
            for fragment in fragments.values()
        )
        return _OperationMemo(operation=operation) if fixed else None

    return _MEMOS.get(schema, operation, make)  # type: ignore[no-any-return]


def _fixed_selections(selection_set: Any) -> bool:
    """Whether what is collected from these selections is the same whatever the variables: no directive
    and no fragment argument anywhere in them."""
    if selection_set is None:
        return True
    for selection in selection_set.selections:
        if selection.directives or (isinstance(selection, FragmentSpreadNode) and selection.arguments):
            return False
        if not _fixed_selections(getattr(selection, "selection_set", None)):
            return False
    return True


class VermilionExecutor(DirectCompletion, StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor (as Strawberry configures it) with the shortcuts described above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # Field middleware would have to see every resolver call: then no shortcut is taken.
        self._plain = manager is None or getattr(manager, "_middleware_resolvers", None) is None
        # (id(source), id(field node)) → (source, value): values resolved ahead of completion. The source
        # is kept so its id stays its own for the life of the operation.
        self._ready: dict[tuple[int, int], tuple[Any, Any]] = {}
        # (id(item), id(selection)) for items whose selection was resolved ahead already.
        self._done: set[tuple[int, int]] = set()
        # id(selection) → whether an async resolver lies under it (selections live as long as the operation).
        self._needed: dict[int, bool] = {}
        self._plans: dict[
            tuple[int, int], list[tuple[str, Any, GraphQLField | None, _Leaf | None, str | None, int]]
        ] = {}
        self._kept: list[Any] = []
        # id(field details) → the selection under them, and whether an async resolver lies under it.
        self._selections: dict[int, tuple[Any, bool]] = {}
        self._init_direct()
        # An operation sent before finds what was worked out from its selections then.
        memo = _memo_for(self.schema, self.operation, self.fragment_definitions) if self._plain else None
        self._memo = memo
        if memo is not None:
            self._relevant_sub_fields = memo.sub_fields
            self._plans, self._kept = memo.plans, memo.kept
            self._selections, self._needed = memo.selections, memo.needed
            self._direct_plans, self._direct_kept = memo.direct_plans, memo.direct_kept
        root = self.schema
        self._roots = {id(t) for t in (root.query_type, root.mutation_type, root.subscription_type) if t}

    def build_response(self, data: dict[str, Any] | None) -> Any:
        """The operation's answer; then what it kept is let go of. graphql-core's executor refers to
        itself (through its async helpers), as a request's loaders do: the values, rows and plans would
        otherwise be freed by the cycle collector, long after, and at a cost (Loaders.release)."""
        response = super().build_response(data)
        self._ready.clear()
        self._done.clear()
        if self._memo is None:
            self._selections.clear()
            self._plans.clear()
            self._kept.clear()
            self._direct_plans.clear()
            self._direct_kept.clear()
        loaders = getattr(self.context_value, "loaders", None)
        if loaders is not None:
            loaders.release()
        # The executor's own cycle (it refers to its helpers, they to its methods), broken: nothing runs
        # any more, and the executor with the request's context is freed when Strawberry lets go of it.
        self.async_helpers = None  # type: ignore[assignment]
        return response

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: Any,
        serially: bool,
        new_defer_usages: Any,
    ) -> Any:
        """The root fields as the operation's first request collected them (the same fields, equal to
        this request's): what was collected and planned below them is then found again."""
        memo = self._memo
        if memo is not None and not new_defer_usages:
            if memo.root is None:
                memo.root = grouped_field_set
            else:
                grouped_field_set = memo.root
        return super().execute_collected_root_fields(
            root_type, root_value, grouped_field_set, serially, new_defer_usages
        )

    # --- completion ------------------------------------------------------------------------------------

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's loop over an object's fields, with plain leaves read inline (no path, no info,
        no resolver call) and values resolved ahead completed without calling their resolver."""
        if not self._plain:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        if position_context is None and id(parent_type) not in self._roots:
            answer = self.complete_directly(parent_type, grouped_field_set, source_value)
            if answer is not GIVE_UP:
                return answer
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        ready = self._ready
        source_id = id(source_value)
        plan = self._plans.get((id(parent_type), id(grouped_field_set)))
        if plan is None:
            plan = self._plan(parent_type, grouped_field_set)
        try:
            for response_name, details, field_def, leaf, attribute, node_id in plan:
                if leaf is not None:
                    # `_leaf_value`, inline for its commonest cases: this line runs for every leaf.
                    value = getattr(source_value, leaf.python_name, None)
                    kind, serialises = type(value), leaf.leaf
                    if kind is serialises.same_type or (
                        kind is int and serialises.is_int and value in INT_RANGE
                    ):
                        results[response_name] = value
                        continue
                    value = self._leaf_value(leaf, source_value)
                    if value is not _MISSING:
                        results[response_name] = value
                        continue
                field_path = _tuple_new(Path, (path, response_name, parent_type.name))
                if attribute is not None:
                    # A plain attribute holding an object or a list: no resolver to call.
                    value = getattr(source_value, attribute, _MISSING)
                    found = None if value is _MISSING else (source_value, value)
                else:
                    found = ready.get((source_id, node_id)) if ready and field_def is not None else None
                if found is not None and field_def is not None:
                    result = self._complete_ready(
                        field_def, parent_type, details, field_path, found[1], position_context
                    )
                else:
                    result = self.execute_field(
                        parent_type, source_value, details, field_path, position_context
                    )
                if result is not Undefined:
                    results[response_name] = result
                    if self.is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        return _filled(results, awaitable_fields) if awaitable_fields else results

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: Any
    ) -> list[tuple[str, Any, GraphQLField | None, _Leaf | None, str | None, int]]:
        """Per selection (collected once per operation): each field's definition, its leaf plan when a
        leaf can be read inline (a plain attribute, no arguments), else the attribute to read when the
        field is a plain attribute holding an object or a list."""
        key = (id(parent_type), id(grouped_field_set))
        plan = self._plans.get(key)
        if plan is None:
            plan = []
            for response_name, details in grouped_field_set.items():
                node = details[0].node
                field_def = self.schema.get_field(parent_type, node.name.value)
                plain = field_def is not None and not node.arguments
                leaf = _leaf_of(field_def) if plain else None  # type: ignore[arg-type]
                attribute = None
                if plain and leaf is None:
                    child = _child_of(field_def)  # type: ignore[arg-type]
                    if child.python_name is not None and not is_leaf_type(_named(field_def.type)[0]):  # type: ignore[union-attr]
                        attribute = child.python_name
                plan.append((response_name, details, field_def, leaf, attribute, id(node)))
            # The selection is kept alive with its plan, so its id stays its own.
            self._plans[key] = plan
            self._kept.append(grouped_field_set)
        return plan

    @staticmethod
    def _leaf_value(leaf: _Leaf, source: Any) -> Any:
        value = getattr(source, leaf.python_name, None)
        if value is None:
            return _MISSING  # graphql-core's path: null, or the error it makes of it
        value = serialised(leaf.leaf, value)
        # What graphql-core would report, it serialises again and reports where it belongs.
        return _MISSING if value is GIVE_UP else value

    def _complete_ready(
        self,
        field_def: GraphQLField,
        parent_type: GraphQLObjectType,
        field_details_list: Any,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> Any:
        """What graphql-core's `execute_field` does after calling the resolver, for a value found ready."""
        return_type = field_def.type
        try:
            inner = return_type.of_type if type(return_type) is GraphQLNonNull else return_type
            if (
                type(inner) is GraphQLObjectType
                and value is not None
                and position_context is None
                and not isinstance(value, Exception)
                # Strawberry's is_type_of reads the value alone: no resolve info is built for it.
                and (inner.is_type_of is None or inner.is_type_of(value, None) is True)  # type: ignore[arg-type]
            ):
                grouped, new_defer_usages, _ = self.collect_subfields(inner, field_details_list)
                if not new_defer_usages:
                    completed = self.execute_fields(inner, value, path, grouped, None)
                    return self._guarded(completed, return_type, field_details_list, path)
            info = self.build_resolve_info(field_def, [d.node for d in field_details_list], parent_type, path)
            completed = self.complete_value(
                return_type, field_details_list, info, path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return self._guarded(completed, return_type, field_details_list, path)

    def _guarded(self, completed: Any, return_type: Any, field_details_list: Any, path: Path) -> Any:
        """A completed value; when it is still to come, its error handled as graphql-core does."""
        if self.is_awaitable(completed):

            async def await_completed() -> Any:
                try:
                    return await completed
                except Exception as raw_error:
                    self.handle_field_error(raw_error, return_type, field_details_list, path)
                    return None

            return await_completed()
        return completed

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """An object (not null, not an error, of the field's own object type) goes straight to its fields:
        what graphql-core reaches through five calls; every other value takes graphql-core's path. The
        async resolvers under it are run first, level by level, as for the items of a list: one object
        (a product page, a note page) is then answered in one call like each item of a list."""
        if (
            self._plain
            and position_context is None
            and result is not None
            and not isinstance(result, Exception)
        ):
            type_ = return_type.of_type if type(return_type) is GraphQLNonNull else return_type
            if type(type_) is GraphQLObjectType and (
                type_.is_type_of is None or type_.is_type_of(result, info) is True
            ):
                grouped, new_defer_usages, _ = self.collect_subfields(type_, field_details_list)
                if not new_defer_usages:
                    if (id(result), id(grouped)) in self._done or not self._needs_resolving(
                        type_, grouped, depth=0
                    ):
                        return self.execute_fields(type_, result, path, grouped, None)
                    level = [(type_, grouped, [(result, path)])]
                    return self._after(
                        self._resolve_level(level),
                        lambda: self.execute_fields(type_, result, path, grouped, None),
                    )
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    async def _after(self, pending: Awaitable[None], complete: Callable[[], Any]) -> Any:
        """`complete()` once what was resolved ahead is in (its own awaitable awaited)."""
        await pending
        completed = complete()
        return await completed if self.is_awaitable(completed) else completed

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: Any,
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        named, _ = _named(return_type.of_type)
        if self._plain and is_object_type(named) and isinstance(result, list | tuple) and result:
            object_type: GraphQLObjectType = named  # type: ignore[assignment]
            items = list(result)
            pending = self._prefetch(object_type, field_details_list, items, path)

            def complete() -> Any:
                return self._complete_objects(return_type.of_type, field_details_list, info, path, items)

            return complete() if pending is None else self._after(pending, complete)
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _complete_objects(
        self,
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo,
        path: Path,
        items: list[Any],
    ) -> Any:
        """graphql-core's `complete_iterable_value` for a list of objects: each item straight to its
        fields (through `complete_value` when it is null, an error or of another type), each item's error
        handled at its own path as graphql-core handles it."""
        named: GraphQLObjectType = item_type.of_type if type(item_type) is GraphQLNonNull else item_type  # type: ignore[assignment]
        grouped, new_defer_usages, _ = self.collect_subfields(named, field_details_list)
        direct = not new_defer_usages
        is_type_of = named.is_type_of
        is_awaitable = self.is_awaitable
        results: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = _tuple_new(Path, (path, index, None))
                try:
                    if (
                        direct
                        and item is not None
                        and not isinstance(item, Exception)
                        and (is_type_of is None or is_type_of(item, info) is True)
                    ):
                        completed = self.execute_fields(named, item, item_path, grouped, None)
                    else:
                        completed = self.complete_value(
                            item_type, field_details_list, info, item_path, item, None
                        )
                    if is_awaitable(completed):
                        completed = self._item_awaited(completed, item_type, field_details_list, item_path)
                        awaitable_indices.append(index)
                    results.append(completed)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    results.append(None)
        except Exception:
            # A non-null item's error ends the list: what was started is settled, as graphql-core does.
            if awaitable_indices:
                self.settle_in_background([results[i] for i in awaitable_indices])
            raise
        return _filled(results, awaitable_indices) if awaitable_indices else results

    async def _item_awaited(
        self, completed: Awaitable[Any], item_type: GraphQLOutputType, field_details_list: Any, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, field_details_list, path)
            return None

    # --- resolving ahead ---------------------------------------------------------------------------------

    def _batched_or_async(self, field_def: GraphQLField) -> bool:
        """Whether the field is one resolved ahead (an async or a batch resolver)."""
        return _child_of(field_def).resolve

    def _prefetch(
        self, object_type: GraphQLObjectType, field_details_list: Any, items: list[Any], path: Path
    ) -> Awaitable[None] | None:
        """The async resolvers under a list of `object_type` items, run for all of them at once and level
        by level; None when there is nothing to run (or it ran already, from a list further up)."""
        grouped = self.collect_subfields(object_type, field_details_list)[0]
        if not self._needs_resolving(object_type, grouped, depth=0):
            return None
        key, done = id(grouped), self._done
        todo = [
            (item, _tuple_new(Path, (path, i, None)))
            for i, item in enumerate(items)
            if (id(item), key) not in done
        ]
        if not todo:
            return None
        return self._resolve_level([(object_type, grouped, todo)])

    def _children(self, object_type: GraphQLObjectType, grouped: Any) -> list[tuple[str, Any, _Child]]:
        children = []
        for response_name, details in grouped.items():
            field_def = self.schema.get_field(object_type, details[0].node.name.value)
            if field_def is None:
                continue
            plan = _child_of(field_def)
            if plan.resolve or (plan.python_name is not None and plan.object_type is not None):
                children.append((response_name, details, plan))
        return children

    def _needs_resolving(self, object_type: GraphQLObjectType, grouped: Any, depth: int) -> bool:
        """Whether any async resolver lies under this selection (through plain attributes)."""
        known = self._needed.get(id(grouped))
        if known is not None:
            return known
        needed = depth > 8  # deeper than any schema path of plain attributes: assume so
        if not needed:
            for _name, details, plan in self._children(object_type, grouped):
                if plan.resolve:
                    needed = True
                    break
                assert plan.object_type is not None
                sub = self.collect_subfields(plan.object_type, details)[0]
                if self._needs_resolving(plan.object_type, sub, depth + 1):
                    needed = True
                    break
        self._needed[id(grouped)] = needed
        return needed

    async def _resolve_level(
        self, level: list[tuple[GraphQLObjectType, Any, list[tuple[Any, Path]]]]
    ) -> None:
        while level:
            calls: list[Awaitable[Any]] = []
            targets: list[tuple[Any, Any, _Child, Any, Path]] = []
            # The next level, one group per (type, selection): the objects under every item together.
            below: dict[tuple[int, int], tuple[GraphQLObjectType, Any, list[tuple[Any, Path]]]] = {}
            for object_type, grouped, items in level:
                key = id(grouped)
                type_name = object_type.name
                for item, _ in items:
                    self._done.add((id(item), key))
                for response_name, details, plan in self._children(object_type, grouped):
                    node = details[0].node
                    args = (
                        get_argument_values(
                            plan.field_def,
                            node,
                            self.variable_values,
                            details[0].fragment_variable_values,
                            self.hide_suggestions,
                        )
                        if plan.field_def.args or node.arguments
                        else {}
                    )
                    if plan.batch is not None:
                        self._call_batch(
                            plan, details, object_type, response_name, args, items, calls, targets
                        )
                        continue
                    for item, item_path in items:
                        field_path = _tuple_new(Path, (item_path, response_name, type_name))
                        if plan.resolve:
                            info = self.build_resolve_info(
                                plan.field_def, [d.node for d in details], object_type, field_path
                            )
                            try:
                                result = plan.field_def.resolve(item, info, **args)  # type: ignore[misc]
                            except Exception as error:  # kept: raised where the field is completed
                                result = error
                            if self.is_awaitable(result):
                                calls.append(result)
                                targets.append((item, node, plan, details, field_path))
                                continue
                            self._keep(item, node, result)
                            self._below(below, plan, details, result, field_path)
                        else:
                            value = getattr(item, plan.python_name, None)  # type: ignore[arg-type]
                            self._below(below, plan, details, value, field_path)
            if calls:
                results = await _settle(calls)
                for (item, node, plan, details, field_path), result in zip(targets, results, strict=True):
                    if isinstance(result, BaseException) and not isinstance(result, Exception):
                        raise result  # cancellation and the like are not field errors
                    if isinstance(item, _Many):
                        values = _spread(result, len(item.items))
                        for (one, one_path), value in zip(item.items, values, strict=True):
                            self._keep(one, node, value)
                            one_field = _tuple_new(Path, (one_path, item.key, item.type_name))
                            self._below(below, plan, details, value, one_field)
                        continue
                    self._keep(item, node, result)
                    self._below(below, plan, details, result, field_path)
            level = [entry for entry in below.values() if entry[2]]

    def _call_batch(
        self,
        plan: _Child,
        details: Any,
        object_type: GraphQLObjectType,
        response_name: str,
        args: dict[str, Any],
        items: list[tuple[Any, Path]],
        calls: list[Awaitable[Any]],
        targets: list[tuple[Any, Any, _Child, Any, Path]],
    ) -> None:
        """One call of the field's batch resolver for every item of the level."""
        first_path = Path(items[0][1], response_name, object_type.name)
        raw_info = self.build_resolve_info(plan.field_def, [d.node for d in details], object_type, first_path)
        info = Info(_raw_info=raw_info, _field=plan.definition)
        many = _Many(items, response_name, object_type.name)
        try:
            kwargs = self._python_arguments(plan, args)
            call = plan.batch([item for item, _ in items], info, **kwargs)  # type: ignore[misc]
        except Exception as error:
            call = _failed(error)
        calls.append(call)
        targets.append((many, details[0].node, plan, details, first_path))

    def _python_arguments(self, plan: _Child, args: dict[str, Any]) -> dict[str, Any]:
        """The field's arguments as its resolver receives them (Python names and types)."""
        if not args:
            return {}
        strawberry_schema = self.schema._strawberry_schema  # type: ignore[attr-defined]
        return convert_arguments(
            args,
            plan.definition.arguments,
            scalar_registry=strawberry_schema.schema_converter.scalar_registry,
            config=strawberry_schema.config,
        )

    def _keep(self, item: Any, node: Any, value: Any) -> None:
        self._ready[(id(item), id(node))] = (item, value)

    def _below(
        self,
        below: dict[tuple[int, int], tuple[GraphQLObjectType, Any, list[tuple[Any, Path]]]],
        plan: _Child,
        details: Any,
        value: Any,
        field_path: Path,
    ) -> None:
        """Queue the objects a field returned for the next level, when their selection needs resolving."""
        object_type = plan.object_type
        if object_type is None or value is None or isinstance(value, Exception):
            return
        selection = self._selections.get(id(details))
        if selection is None:
            # The field's details live as long as the operation (graphql-core keeps them with what it
            # collected from them), so their id stays theirs.
            grouped = self.collect_subfields(object_type, details)[0]
            selection = self._selections[id(details)] = (
                grouped,
                self._needs_resolving(object_type, grouped, depth=0),
            )
        grouped, needed = selection
        if not needed:
            return
        key, done = id(grouped), self._done
        if plan.lists == 0 and not isinstance(value, list | tuple | str | bytes | dict):
            # One object, as the type says (a wrong value is left for completion to report).
            if (id(value), key) in done:
                return
            items = [(value, field_path)]
        elif plan.lists == 1 and type(value) is list:
            # A flat list of objects, without the general walk below.
            items = [
                (obj, _tuple_new(Path, (field_path, i, None)))
                for i, obj in enumerate(value)
                if obj is not None and not isinstance(obj, Exception) and (id(obj), key) not in done
            ]
        else:
            items = [
                (obj, position)
                for position, obj in _flatten(value, field_path)
                if obj is not None and not isinstance(obj, Exception) and (id(obj), key) not in done
            ]
        if items:
            below.setdefault((id(object_type), key), (object_type, grouped, []))[2].extend(items)


async def _filled(container: Any, keys: list[Any]) -> Any:
    """`container` (an object's fields, a list's items) with the awaitables at `keys` replaced by their
    values; a lone one is awaited without a task (graphql-core does the same)."""
    if len(keys) == 1:
        container[keys[0]] = await container[keys[0]]
        return container
    for key, value in zip(keys, await asyncio.gather(*(container[k] for k in keys)), strict=True):
        container[key] = value
    return container


async def _settle(calls: list[Awaitable[Any]]) -> list[Any]:
    """Each call's result or error, the calls run together; a lone call is awaited without a task."""
    if len(calls) == 1:
        try:
            return [await calls[0]]
        except Exception as error:
            return [error]
    return list(await asyncio.gather(*calls, return_exceptions=True))


@dataclass(frozen=True, slots=True)
class _Many:
    """The items one batch call answers, with the response key and type their paths need."""

    items: list[tuple[Any, Path]]
    key: str
    type_name: str


async def _failed(error: Exception) -> Any:
    raise error


def _spread(result: Any, count: int) -> list[Any]:
    """A batch call's answer, one value per item; its error (or a wrong answer), the error of every item."""
    if isinstance(result, Exception):
        return [result] * count
    if not isinstance(result, list) or len(result) != count:
        error = TypeError(f"a batch resolver answered {type(result).__name__} for {count} objects")
        return [error] * count
    return result


def _flatten(value: Any, path: Path) -> Iterable[tuple[Path, Any]]:
    """The objects in a field's value (itself, or the items of nested lists), with their paths."""
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _flatten(item, Path(path, i, None))
    elif not isinstance(value, str | bytes | dict):
        yield path, value
