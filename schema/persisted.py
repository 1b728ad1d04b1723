"""Persisted queries on every transport: the text an operation runs is resolved before it is parsed
(`core.persisted`), from the request's `extensions.persistedQuery`.

A public read asked for by hash over GET (no bearer token, no error) is marked cacheable for a short
while, so a CDN in front of Vermilion can answer it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

# How long a CDN may keep a public read asked for by hash over GET.
PUBLIC_MAX_AGE_SECONDS = 60


class PersistedQueryLookup(SchemaExtension):
    """Runs before parsing: the stored text for a hash, or a refusal (PERSISTED_QUERY_NOT_FOUND, …)."""

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        execution = self.execution_context
        context = execution.context
        store = getattr(context, "persisted_queries", None)
        extensions = execution.operation_extensions
        by_hash = bool(extensions and "persistedQuery" in extensions)
        if store is not None and (by_hash or store.trusted is not None):
            execution.query = await store.resolve(execution.query, extensions)
        yield
        request, response = getattr(context, "request", None), getattr(context, "response", None)
        if (
            by_hash
            and response is not None
            and request is not None
            and request.method == "GET"
            and getattr(context, "bearer", None) is None
            and not getattr(execution.result, "errors", None)
        ):
            response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE_SECONDS}"
