"""GraphiQL served offline (placeholder: completed by the GraphiQL work)."""

from __future__ import annotations

from starlette.routing import BaseRoute
from strawberry.http.ides import get_graphql_ide_html


def graphiql_html() -> str:
    return get_graphql_ide_html("graphiql")


def graphiql_routes() -> list[BaseRoute]:
    return []
