from tests.conftest import GraphQLClient


async def test_typename(client: GraphQLClient) -> None:
    assert await client.data("{ __typename }") == {"__typename": "Query"}
