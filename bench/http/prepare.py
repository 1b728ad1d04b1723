"""What the requests need from the world and a running server: ids, a token, carts, a second-page cursor."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from bench.http.queries import (
    CART_CREATE,
    CART_LINES_ADD,
    DISCOVER,
    FEED,
    NOTE,
    PRODUCT,
    SEARCH,
    SIGN_IN,
    Kind,
    body,
)
from core.ids import to_global_id
from social.tokens import issue_token

DEMO_EMAIL, DEMO_PASSWORD = "demo@vermilion.dev", "vermilion-demo"
SEARCH_TEXT = "口红"
# Guest carts × CNY variants the add-to-cart requests go round: each pair is hit once per round, far
# below the 999 of one variant a cart may hold, and no cart reaches its 100 variants.
CARTS, CART_VARIANTS = 64, 100
# People whose discovery feeds page 1 goes round (a full run asks for about 2,000 first pages: a few each,
# where one person's feed has room for some 35 before it runs dry), and sessions whose page 2 is asked for.
DISCOVER_VIEWERS, PAGE_TWO_SESSIONS = 500, 32
TOKEN_TTL = 24 * 3600

# A product with 10 reviews or more (a full first page; fewer only in a small world), the most variants.
_PRODUCT_SQL = """
SELECT p.id FROM products p
ORDER BY LEAST(p.review_count, 10) DESC,
  (SELECT count(*) FROM product_variants v WHERE v.product_id = p.id) DESC, p.review_count DESC, p.id
LIMIT 1"""
# A note with more than 20 root comments (fewer only in a small world), preferably tagging products.
_NOTE_SQL = """
SELECT c.note_id FROM comments c JOIN notes n ON n.id = c.note_id
WHERE c.root_id IS NULL AND c.deleted_at IS NULL AND n.deleted_at IS NULL
GROUP BY c.note_id
ORDER BY LEAST(count(*), 21) DESC,
  EXISTS (SELECT 1 FROM note_products np WHERE np.note_id = c.note_id) DESC, count(*) DESC, c.note_id
LIMIT 1"""
_VARIANTS_SQL = "SELECT id FROM product_variants WHERE currency = 'CNY' ORDER BY id LIMIT $1"
# The demo shopper first, then people with at least 5 likes, by id: the same people every run.
_VIEWERS_SQL = """
SELECT u.id, u.session_version FROM users u
WHERE u.email = $1 OR (SELECT count(*) FROM likes l WHERE l.user_id = u.id) >= 5
ORDER BY u.email = $1 DESC, u.id
LIMIT $2"""


async def world_ids(url: str) -> dict[str, Any]:
    """The product, note and variants the requests use, chosen the same way on every run."""
    connection = await asyncpg.connect(url)
    try:
        product = await connection.fetchval(_PRODUCT_SQL)
        note = await connection.fetchval(_NOTE_SQL)
        variants = [r["id"] for r in await connection.fetch(_VARIANTS_SQL, CART_VARIANTS)]
    finally:
        await connection.close()
    if product is None or note is None or not variants:
        raise SystemExit("the world has no product, commented note or CNY variant")
    return {
        "product": to_global_id("Product", product),
        "note": to_global_id("Note", note),
        "variants": [to_global_id("ProductVariant", v) for v in variants],
    }


async def post(http: httpx.AsyncClient, request: dict[str, Any], token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post("/graphql", json=request, headers=headers)


async def _data(http: httpx.AsyncClient, request: dict[str, Any], token: str | None = None) -> Any:
    response = await post(http, request, token)
    answer = response.json()
    if response.status_code != 200 or answer.get("errors"):
        raise RuntimeError(f"{request['operationName']}: {response.status_code} {answer}")
    return answer["data"]


async def viewers(url: str, secret: str, count: int) -> list[str]:
    """Tokens for `count` seeded people who have liked notes (so their discovery feed has a profile),
    made as signIn makes them; and what the bench's earlier runs did to their feeds undone: every note the
    discovery feed shows is left out of that person's next sessions for 7 days, so one person asking for
    page 1 again and again soon sees an empty feed."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(_VIEWERS_SQL, DEMO_EMAIL, count)
        await connection.execute(
            "DELETE FROM feed_impressions WHERE user_id = ANY($1::int[])", [r["id"] for r in rows]
        )
    finally:
        await connection.close()
    return [
        issue_token(
            user_id=r["id"], secret_key=secret, ttl_seconds=TOKEN_TTL, session_version=r["session_version"]
        )
        for r in rows
    ]


async def kinds(
    base: str,
    ids: dict[str, Any],
    url: str,
    secret: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Kind]:
    """Every request kind, with what it needs made on the server at `base` (or through `transport`)."""
    tokens = await viewers(url, secret, DISCOVER_VIEWERS)
    async with httpx.AsyncClient(base_url=base, timeout=60, transport=transport) as http:
        signed = await _data(http, body(SIGN_IN, "SignIn", {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}))
        demo = signed["signIn"]["token"]
        if not demo:
            raise RuntimeError(f"signIn refused: {signed}")
        # Page 2 of as many sessions: each of these people opens the feed once, here.
        second_pages = []
        for token in tokens[:PAGE_TWO_SESSIONS]:
            first = await _data(http, body(DISCOVER, "DiscoverFeed"), token)
            second_pages.append(
                body(DISCOVER, "DiscoverFeed", {"after": first["discoverFeed"]["pageInfo"]["endCursor"]})
            )
        carts = []
        for _ in range(CARTS):
            made = await _data(http, body(CART_CREATE, "CartCreate"))
            carts.append(made["cartCreate"]["cart"]["id"])
    cart_bodies = [
        body(CART_LINES_ADD, "CartLinesAdd", {"cartId": cart, "variantId": variant})
        for variant in ids["variants"]
        for cart in carts
    ]
    return [
        Kind(
            "followingFeed(first: 20), signed in",
            [body(FEED, "FollowingFeed")],
            [demo],
            raw=True,
            sql_budget=6,
        ),
        Kind(
            "product(id): variants, 10 reviews",
            [body(PRODUCT, "ProductPage", {"id": ids["product"]})],
            raw=True,
            sql_budget=4,
        ),
        Kind(
            f"discoverFeed page 1, signed in ({len(tokens)} people in turn)",
            [body(DISCOVER, "DiscoverFeed")] * len(tokens),
            tokens,
        ),
        Kind(
            f"discoverFeed page 2 (after), signed in ({len(second_pages)} sessions in turn)",
            second_pages,
            tokens[: len(second_pages)],
        ),
        Kind("note(id): 20 comments", [body(NOTE, "NotePage", {"id": ids["note"]})], sql_budget=5),
        Kind(f'search("{SEARCH_TEXT}", first: 20)', [body(SEARCH, "Search", {"query": SEARCH_TEXT})]),
        Kind(
            f"cartLinesAdd (guest carts, {CARTS} × {len(ids['variants'])} CNY variants in turn)",
            cart_bodies,
            sql_budget=5,
        ),
    ]
