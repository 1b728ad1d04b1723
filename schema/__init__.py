"""The GraphQL schema of Vermilion."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from api.settings import Settings
from schema.limits import protection_extensions


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "你好"


def build_schema(settings: Settings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        extensions=protection_extensions(settings),
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )
