"""Completing an object whose values are all in hand, without graphql-core's bookkeeping.

Once `schema.execution` has resolved a list's fields ahead, completing an item is reading: plain
attributes, values resolved ahead, and a few resolvers that only read `self`. graphql-core still builds a
path segment, a resolve-info record or an `is_type_of` call for each field and object, and collects
each object's selection again — most of a feed page's completion cost (bench/results/http.md).

`complete_directly` answers an object from a plan made once per selection (`DirectPlan`), with no paths
and no resolve info. It gives up — returns `GIVE_UP` having changed nothing — at the first thing it does
not handle as graphql-core would: a null where the type says non-null, an error kept as a value, a value
that does not serialise cheaply, an abstract type, a value not resolved ahead, a list still to be
resolved. graphql-core's own path (with `schema.execution`'s shortcuts) then completes that object, and
reports whatever it found at the right path. So an answer never depends on which path produced it:
tests/test_execution.py holds both to graphql-core's plain executor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    TypeNameMetaFieldDef,
    is_leaf_type,
)
from graphql.pyutils import Undefined

GIVE_UP: Any = object()

# Python types whose values these scalars serialise to themselves (graphql-core's serialize_* agree).
SELF_SERIALISED: dict[str, type] = {GraphQLString.name: str, GraphQLID.name: str, GraphQLBoolean.name: bool}
INT_RANGE = range(-(2**31), 2**31)


@dataclass(frozen=True, slots=True)
class Leaf:
    """How a scalar or enum type serialises a value, with the cases that need no call."""

    serialize: Callable[[Any], Any]
    same_type: type | None  # values of this exact type serialise to themselves
    is_int: bool

    @classmethod
    def of(cls, type_: Any) -> Leaf:
        name = type_.name
        return cls(type_.serialize, SELF_SERIALISED.get(name), name == GraphQLInt.name)


def serialised(leaf: Leaf, value: Any) -> Any:
    """A value that is not None as graphql-core would serialise it; GIVE_UP where graphql-core would
    report an error (an error kept as the value, an Int out of range, a value that does not serialise)."""
    kind = type(value)
    if kind is leaf.same_type:
        return value
    if kind is int and leaf.is_int:
        return value if value in INT_RANGE else GIVE_UP
    if isinstance(value, Exception):
        return GIVE_UP
    try:
        result = leaf.serialize(value)
    except Exception:
        return GIVE_UP
    return GIVE_UP if result is None or result is Undefined else result


# How a field's value is found.
_ATTRIBUTE = 0  # a basic field: the source's attribute
_READY = 1  # an async resolver's value, resolved ahead
_READS_SELF = 2  # a synchronous resolver of `self` alone: called
_TYPENAME = 3  # __typename


@dataclass(slots=True)
class _Shape:
    """How a value of one GraphQL output type is completed."""

    non_null: bool
    leaf: Leaf | None = None
    item: _Shape | None = None  # a list's items
    object_type: GraphQLObjectType | None = None
    is_type_of: Callable[[Any, Any], Any] | None = None
    origin: type | None = None  # the Python class of the object type: its instances need no is_type_of
    details: Any = None  # the field details an object's selection is collected from
    # (selection, its plan, whether async resolvers lie under it): found on first use
    selection: tuple[Any, DirectPlan, bool] | None = None


@dataclass(slots=True)
class _FieldPlan:
    response_name: str
    how: int
    read: Any  # attribute name, id(field node), or the resolver
    shape: _Shape


@dataclass(slots=True)
class DirectPlan:
    """An object's selection as `complete_directly` reads it; `usable` is False when some field can
    never be read directly (it then always takes graphql-core's path)."""

    fields: list[_FieldPlan] = field(default_factory=list)
    usable: bool = True


def _reads_self_only(definition: Any, field_def: GraphQLField) -> Callable[[Any], Any] | None:
    """A synchronous resolver taking only `self` (no info, arguments, extensions): it reads the object."""
    resolver = getattr(definition, "base_resolver", None)
    if (
        resolver is None
        or resolver.is_async
        or field_def.args
        or definition.extensions
        or getattr(field_def.resolve, "__name__", "") != "_resolver"
        or resolver.info_parameter is not None
        or resolver.self_parameter is None
        or len(resolver.arguments) != 0
    ):
        return None
    return resolver  # type: ignore[no-any-return]


class DirectCompletion:
    """Mixed into the executor: plans per selection, and completion from them."""

    # Provided by the executor.
    schema: Any
    _ready: dict[tuple[int, int], tuple[Any, Any]]
    _done: set[tuple[int, int]]

    def _init_direct(self) -> None:
        self._direct_plans: dict[tuple[int, int], DirectPlan] = {}
        self._direct_kept: list[Any] = []

    if TYPE_CHECKING:  # the executor's own (graphql-core's, schema.execution's)

        def collect_subfields(self, return_type: GraphQLObjectType, field_details_list: Any) -> Any: ...

        def _needs_resolving(self, object_type: GraphQLObjectType, grouped: Any, depth: int) -> bool: ...

        def _batched_or_async(self, field_def: GraphQLField) -> bool: ...

    # --- plans ---------------------------------------------------------------------------------------

    def direct_plan(self, object_type: GraphQLObjectType, grouped: Any) -> DirectPlan:
        key = (id(object_type), id(grouped))
        plan = self._direct_plans.get(key)
        if plan is None:
            # Kept only once whole: plans outlive the request that made them (schema/execution.py).
            plan = DirectPlan()
            self._fill_plan(plan, object_type, grouped)
            self._direct_plans[key] = plan
            self._direct_kept.append(grouped)  # its id stays its own while the plan is kept
        return plan

    def _fill_plan(self, plan: DirectPlan, object_type: GraphQLObjectType, grouped: Any) -> None:
        for response_name, details in grouped.items():
            node = details[0].node
            name = node.name.value
            if name == "__typename":
                shape = _Shape(non_null=True)
                plan.fields.append(_FieldPlan(response_name, _TYPENAME, object_type.name, shape))
                continue
            field_def = self.schema.get_field(object_type, name)
            if field_def is None or field_def is TypeNameMetaFieldDef:
                plan.usable = False
                return
            definition = (field_def.extensions or {}).get("strawberry-definition")
            found = self._shape(field_def.type, details)
            if found is None:
                plan.usable = False
                return
            shape = found
            resolve_name = getattr(field_def.resolve, "__name__", "")
            if (
                resolve_name == "_get_basic_result"
                and definition is not None
                and definition.default_resolver is getattr
                and not node.arguments
            ):
                plan.fields.append(_FieldPlan(response_name, _ATTRIBUTE, definition.python_name, shape))
            elif self._batched_or_async(field_def):
                plan.fields.append(_FieldPlan(response_name, _READY, id(node), shape))
            elif (resolver := _reads_self_only(definition, field_def)) is not None:
                plan.fields.append(_FieldPlan(response_name, _READS_SELF, resolver, shape))
            else:
                plan.usable = False
                return

    def _shape(self, type_: GraphQLOutputType, details: Any) -> _Shape | None:
        non_null = type(type_) is GraphQLNonNull
        if non_null:
            type_ = type_.of_type  # type: ignore[union-attr]
        if type(type_) is GraphQLList:
            item = self._shape(type_.of_type, details)
            return None if item is None else _Shape(non_null=non_null, item=item)
        if is_leaf_type(type_):
            return _Shape(non_null=non_null, leaf=Leaf.of(type_))
        if type(type_) is GraphQLObjectType:
            definition = (type_.extensions or {}).get("strawberry-definition")
            return _Shape(
                non_null=non_null,
                object_type=type_,
                is_type_of=type_.is_type_of,
                origin=getattr(definition, "origin", None),
                details=details,
            )
        return None  # an interface or a union: graphql-core resolves the type

    # --- completion ----------------------------------------------------------------------------------

    def complete_directly(self, object_type: GraphQLObjectType, grouped: Any, source: Any) -> Any:
        """The object's answer, or GIVE_UP (nothing changed) for graphql-core's path to complete it."""
        return self._answer(self.direct_plan(object_type, grouped), source)

    def _select(self, shape: _Shape) -> tuple[Any, DirectPlan, bool]:
        """The selection under an object shape, with its plan (shapes live as long as the operation)."""
        object_type = shape.object_type
        assert object_type is not None
        grouped = self.collect_subfields(object_type, shape.details)[0]
        shape.selection = (
            grouped,
            self.direct_plan(object_type, grouped),
            self._needs_resolving(object_type, grouped, depth=0),
        )
        return shape.selection

    def _answer(self, plan: DirectPlan, source: Any) -> Any:
        if not plan.usable:
            return GIVE_UP
        results: dict[str, Any] = {}
        ready = self._ready
        source_id = id(source)
        for field_plan in plan.fields:
            how = field_plan.how
            shape = field_plan.shape
            if how == _ATTRIBUTE:
                value = getattr(source, field_plan.read, None)
                # The commonest leaves, inline: a value that serialises to itself, an Int in range.
                leaf = shape.leaf
                if leaf is not None:
                    kind = type(value)
                    if kind is leaf.same_type or (kind is int and leaf.is_int and value in INT_RANGE):
                        results[field_plan.response_name] = value
                        continue
            elif how == _READY:
                found = ready.get((source_id, field_plan.read))
                if found is None:
                    return GIVE_UP
                value = found[1]
            elif how == _READS_SELF:
                try:
                    value = field_plan.read(source)
                except Exception:
                    return GIVE_UP  # raised again on graphql-core's path, and reported there
            else:
                results[field_plan.response_name] = field_plan.read
                continue
            value = self._complete_value_directly(shape, value)
            if value is GIVE_UP:
                return GIVE_UP
            results[field_plan.response_name] = value
        return results

    def _complete_value_directly(self, shape: _Shape, value: Any) -> Any:
        if value is None:
            return GIVE_UP if shape.non_null else None
        if shape.leaf is not None:
            return serialised(shape.leaf, value)
        item = shape.item
        if item is not None:
            if type(value) is not list and type(value) is not tuple:
                return GIVE_UP  # another iterable, or an error: graphql-core's path
            if not value:
                return []
            if item.object_type is not None:
                return self._complete_objects_directly(item, value)
            completed = []
            for one in value:
                one = self._complete_value_directly(item, one)
                if one is GIVE_UP:
                    return GIVE_UP
                completed.append(one)
            return completed
        is_type_of = shape.is_type_of
        if type(value) is not shape.origin and is_type_of is not None and is_type_of(value, None) is not True:
            return GIVE_UP
        return self._answer((shape.selection or self._select(shape))[1], value)

    def _complete_objects_directly(self, item: _Shape, values: list[Any] | tuple[Any, ...]) -> Any:
        grouped, plan, needs_resolving = item.selection or self._select(item)
        if needs_resolving:
            # Resolved ahead only once graphql-core's path has reached the list.
            first = values[0]
            if first is None or (id(first), id(grouped)) not in self._done:
                return GIVE_UP
        is_type_of = item.is_type_of
        origin = item.origin
        completed: list[Any] = []
        for one in values:
            if one is None:
                if item.non_null:
                    return GIVE_UP
                completed.append(None)
                continue
            if type(one) is not origin and is_type_of is not None and is_type_of(one, None) is not True:
                return GIVE_UP
            answer = self._answer(plan, one)
            if answer is GIVE_UP:
                return GIVE_UP
            completed.append(answer)
        return completed
