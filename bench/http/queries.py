"""The requests bench.http times: GraphQL documents, and the request kinds built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The following feed as an app's home tab shows it (bench/raw_ceiling.py answers it too, byte for byte).
FEED = """query FollowingFeed {
  followingFeed(first: 20) {
    edges {
      cursor
      node {
        id title likeCount commentCount
        author { id handle displayName avatarUrl }
        topics { name }
        products { id title price { amount currency } variants { id name price { amount currency } stock } }
        comments(first: 3) { edges { node { id body author { handle } } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""

# A product page: variants and the first 10 reviews (bench/raw_ceiling.py answers it too).
PRODUCT = """query ProductPage($id: ID!) {
  product(id: $id) {
    id title reviewCount averageRating
    merchant { handle displayName }
    variants { id sku name price { amount currency } stock }
    reviews(first: 10) {
      totalCount
      edges { cursor node { id title reviewRating likeCount author { handle } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

DISCOVER = """query DiscoverFeed($after: String) {
  discoverFeed(first: 20, after: $after) {
    edges {
      cursor
      reason { kind }
      node { id title likeCount commentCount author { id handle displayName } topics { name } }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""

NOTE = """query NotePage($id: ID!) {
  note(id: $id) {
    id title body likeCount commentCount
    author { id handle displayName }
    topics { name }
    products { id title price { amount currency } }
    comments(first: 20) {
      edges { cursor node { id body replyCount author { handle displayName } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

SEARCH = """query Search($query: String!) {
  search(query: $query, first: 20) {
    totalCount relaxed
    edges { score node { ... on Note { id title likeCount author { handle } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

CART_LINES_ADD = """mutation CartLinesAdd($cartId: ID!, $variantId: ID!) {
  cartLinesAdd(cartId: $cartId, lines: [{variantId: $variantId, quantity: 1}]) {
    cart { id totalQuantity subtotal { amount currency } }
    errors { code field message }
  }
}"""

CART_CREATE = """mutation CartCreate {
  cartCreate(input: {lines: []}) { cart { id } errors { code message } }
}"""

SIGN_IN = """mutation SignIn($email: String!, $password: String!) {
  signIn(input: {email: $email, password: $password}) { token errors { code message } }
}"""


@dataclass
class Kind:
    """One kind of request: its name in reports and the bodies wrk sends in turn, each with the bearer
    token it is sent with (`tokens[i]` for `bodies[i]`; none: anonymous).

    `raw` marks the kinds bench/raw_ceiling.py also answers (timed against it, gated on equal JSON)."""

    name: str
    bodies: list[dict[str, Any]]
    tokens: list[str] = field(default_factory=list)
    raw: bool = False
    # PERFORMANCE.md's budget of SQL statements per request, where it sets one.
    sql_budget: int | None = None

    def token(self, index: int) -> str | None:
        return self.tokens[index % len(self.tokens)] if self.tokens else None


def body(query: str, operation: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"query": query, "operationName": operation, "variables": variables or {}}
