"""Entering a request's schema extensions, with what is known of their classes worked out once.

Strawberry makes each request's extensions anew (their state is the request's), and for each of the
four stages of an operation (operation, parsing, validation, execution) it asks every extension, again
per request, whether its class overrides that stage's hook and of which kind it is (`inspect` on the
function), then wraps the hook in a fresh `contextlib` decorator (`functools.wraps` each time). With a
dozen extensions that was 48 such look-ups and 12 decorators per request (bench/results/http.md: about
a tenth of a product page's CPU). The answers depend on the class only, so they are kept by class here;
the hooks run exactly as Strawberry runs them — the same ones, in the same order, entered the same way.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

# (extension class, hook name) → (a context manager factory taking the extension, whether it is async),
# or None when the class does not override the hook. None as a factory: a plain function hook, wrapped
# per extension by Strawberry's own `from_callable` (no extension of ours has one).
_HOOKS: dict[tuple[type, str], tuple[Callable[[Any], Any] | None, bool] | None] = {}
_NO_RESULTS = SchemaExtension.get_results


def _hook_of(kind: type, name: str) -> tuple[Callable[[Any], Any] | None, bool] | None:
    key = (kind, name)
    if key in _HOOKS:
        return _HOOKS[key]
    function = getattr(kind, name)
    found: tuple[Callable[[Any], Any] | None, bool] | None
    if function is getattr(SchemaExtension, name):
        found = None
    elif inspect.isgeneratorfunction(function):
        found = (contextlib.contextmanager(function), False)
    elif inspect.isasyncgenfunction(function):
        found = (contextlib.asynccontextmanager(function), True)
    else:
        found = (None, False)
    _HOOKS[key] = found
    return found


class _KnownHooks(ExtensionContextManagerBase):
    """A stage's hooks from the table above; entered and left by Strawberry's own code."""

    __slots__ = ()

    def __init__(self, extensions: list[SchemaExtension]) -> None:
        self.hooks: list[WrappedHook] = []
        name = self.HOOK_NAME
        for extension in extensions:
            found = _hook_of(type(extension), name)
            if found is None:
                continue
            factory, is_async = found
            if factory is None:
                wrapped = self.from_callable(extension, getattr(type(extension), name))
            else:
                hook = partial(factory, extension)
                wrapped = WrappedHook(extension=extension, hook=hook, is_async=is_async)
            self.hooks.append(wrapped)


class _Operation(_KnownHooks, OperationContextManager):
    __slots__ = ()


class _Parsing(_KnownHooks, ParsingContextManager):
    __slots__ = ()


class _Validation(_KnownHooks, ValidationContextManager):
    __slots__ = ()


class _Executing(_KnownHooks, ExecutingContextManager):
    __slots__ = ()


class KnownHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner with the hook look-ups kept by class; results asked only of the extensions
    that give any (the base class's `get_results` gives `{}`)."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for extension in self.extensions:
            get_results = type(extension).get_results
            if get_results is _NO_RESULTS:
                continue
            results = extension.get_results()
            data.update(await results if inspect.isawaitable(results) else results)  # type: ignore[arg-type]
        data.update(ctx.extensions_results)
        return data


class Schema(strawberry.Schema):
    """Strawberry's schema, entering extensions through `KnownHooksRunner`."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return KnownHooksRunner(execution_context, extensions)
