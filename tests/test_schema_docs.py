"""Every part of the GraphQL schema is documented: frontend developers read the schema, in GraphiQL or from
schema.graphql, as the API's reference. A type, field, argument, input field or enum value added without a
description fails here (and graphql-schema-linter fails on schema.graphql in scripts/test)."""

from __future__ import annotations

from typing import cast

import graphql
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    IntrospectionQuery,
    build_client_schema,
    get_introspection_query,
    specified_scalar_types,
)

from core.settings import Settings
from schema import build_schema
from tests.conftest import GraphQLClient


def described_parts(schema: GraphQLSchema) -> dict[str, str | None]:
    """Each documentable part of the schema by its coordinate (`Type`, `Type.field`, `Type.field(arg:)`,
    `Enum.VALUE`), with its description; introspection types and the built-in scalars are GraphQL's own."""
    parts: dict[str, str | None] = {}
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in specified_scalar_types:
            continue
        parts[name] = named.description
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                parts[f"{name}.{field_name}"] = field.description
                for arg_name, arg in field.args.items():
                    parts[f"{name}.{field_name}({arg_name}:)"] = arg.description
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, input_field in named.fields.items():
                parts[f"{name}.{field_name}"] = input_field.description
        elif isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                parts[f"{name}.{value_name}"] = value.description
    return parts


def undocumented(schema: GraphQLSchema) -> list[str]:
    return sorted(where for where, text in described_parts(schema).items() if not (text or "").strip())


def not_capitalised(schema: GraphQLSchema) -> list[str]:
    """Descriptions starting with a lower-case letter (digits, quotes and backticks may start one)."""
    return sorted(where for where, text in described_parts(schema).items() if text and text[0].islower())


def served_schema() -> GraphQLSchema:
    """The schema the code defines, as `vermilion export-schema` prints it."""
    settings = Settings(_env_file=None, VERMILION_ENV="development")  # type: ignore[call-arg]
    return graphql.build_schema(build_schema(settings).as_str())


def test_every_part_of_the_schema_has_a_description() -> None:
    schema = served_schema()
    assert len(described_parts(schema)) > 400  # the walk reaches fields, arguments, input fields and values
    assert undocumented(schema) == []


def test_descriptions_start_with_a_capital_letter() -> None:
    assert not_capitalised(served_schema()) == []


async def test_introspection_gives_clients_the_descriptions(client: GraphQLClient) -> None:
    data = await client.data(get_introspection_query(descriptions=True, input_value_deprecation=True))
    schema = build_client_schema(cast(IntrospectionQuery, data))
    assert undocumented(schema) == []
    mutation = schema.mutation_type
    assert mutation is not None
    assert "minor units" in (mutation.fields["orderRefund"].args["amountMinorUnits"].description or "")


def test_each_kind_of_missing_description_is_found() -> None:
    schema = graphql.build_schema(
        '''
        """Reads."""
        type Query {
          """A thing."""
          thing(id: ID!): Thing
          other(input: OtherInput): Kind
        }

        type Thing {
          """The name."""
          name: String
          count: Int
        }

        """Filter."""
        input OtherInput {
          """Given."""
          given: String
          bare: String
        }

        """Kinds."""
        enum Kind {
          """First."""
          FIRST
          SECOND
        }
        '''
    )
    assert undocumented(schema) == [
        "Kind.SECOND",
        "OtherInput.bare",
        "Query.other",
        "Query.other(input:)",
        "Query.thing(id:)",
        "Thing",
        "Thing.count",
    ]
    assert not_capitalised(graphql.build_schema('type Query { """lower case""" a: Int }')) == ["Query.a"]
