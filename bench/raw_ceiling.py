"""The practical ceiling: Starlette + asyncpg, hand-written SQL, the same JSON as Vermilion's for two queries.

PERFORMANCE.md measures Vermilion against an endpoint that does only what the answer needs: one statement
per kind of row, rows turned into the response's dictionaries by hand, orjson. It serves POST /graphql for
exactly the operations `bench.http` sends it (chosen by `operationName`), answering with the bytes
Vermilion answers with — the same Relay ids (core.ids), cursors (core.cursors) and money strings
(commerce.money), in the same field order — so the gate can compare them before anything is timed.

Signed-in requests are checked as Vermilion checks them: the JWT verified (social.tokens) and the
session found live in one statement (the user's session version, the token not revoked).

    BENCH_RAW_DATABASE_URL=postgres://… BENCH_RAW_SECRET_KEY=… uvicorn bench.raw_ceiling:app --workers 2
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from commerce.money import format_amount
from core.cursors import encode_cursor
from core.ids import parse_global_id, to_global_id
from social.tokens import read_claims

FEED_PAGE = 20
REVIEWS_PAGE = 10
FEED_COMMENTS = 3
# Statements per request, by construction (the session check included): what the report shows as the
# raw ceiling's SQL per request.
STATEMENTS = {"FollowingFeed": 5, "ProductPage": 3}

_SESSION_SQL = (
    "SELECT u.session_version, EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.id = $2) AS revoked"
    " FROM users u WHERE u.id = $1"
)
_FEED_NOTES_SQL = (
    "SELECT n.id, n.title, n.like_count, n.comment_count, u.id AS author_id, u.handle, u.display_name,"
    " u.avatar_url FROM notes n JOIN users u ON u.id = n.author_id"
    " WHERE n.deleted_at IS NULL AND n.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)"
    " ORDER BY n.id DESC LIMIT $2"
)
_TOPICS_SQL = (
    "SELECT nt.note_id, t.name FROM note_topics nt JOIN topics t ON t.id = nt.topic_id"
    " WHERE nt.note_id = ANY($1::int[]) ORDER BY nt.note_id, nt.position"
)
_PRODUCTS_SQL = (
    "SELECT np.note_id, p.id, p.title, v.id AS variant_id, v.name, v.price_minor_units, v.currency, v.stock"
    " FROM note_products np JOIN products p ON p.id = np.product_id"
    " LEFT JOIN product_variants v ON v.product_id = p.id"
    " WHERE np.note_id = ANY($1::int[]) ORDER BY np.note_id, np.position, v.id"
)
_COMMENTS_SQL = (
    "SELECT ranked.id, ranked.note_id, ranked.body, u.handle FROM ("
    " SELECT c.id, c.note_id, c.body, c.author_id,"
    " ROW_NUMBER() OVER (PARTITION BY c.note_id ORDER BY c.id) AS rn"
    " FROM comments c WHERE c.note_id = ANY($1::int[]) AND c.deleted_at IS NULL AND c.root_id IS NULL"
    ") ranked JOIN users u ON u.id = ranked.author_id WHERE ranked.rn <= $2 ORDER BY ranked.id"
)
_PRODUCT_SQL = (
    "SELECT p.id, p.title, p.review_count, p.rating_sum, u.handle, u.display_name"
    " FROM products p JOIN users u ON u.id = p.merchant_id WHERE p.id = $1"
)
_VARIANTS_SQL = (
    "SELECT id, sku, name, price_minor_units, currency, stock FROM product_variants"
    " WHERE product_id = $1 ORDER BY id"
)
_REVIEWS_SQL = (
    "SELECT n.id, n.title, n.review_rating, n.like_count, u.handle FROM notes n"
    " JOIN users u ON u.id = n.author_id"
    " WHERE n.deleted_at IS NULL AND n.review_product_id = $1 ORDER BY n.id DESC LIMIT $2"
)


def _money(minor_units: int, currency: str) -> dict[str, str]:
    return {"amount": format_amount(minor_units, currency), "currency": currency}


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:] if header[:7].lower() == "bearer " else None


async def _viewer(connection: asyncpg.Connection, token: str | None, secret_key: str) -> int | None:
    """The user id of a live session, as Vermilion decides it; None when anonymous or not live."""
    claims = read_claims(token, secret_key=secret_key) if token else None
    if claims is None:
        return None
    row = await connection.fetchrow(_SESSION_SQL, claims.user_id, claims.token_id)
    if row is None or row["revoked"] or row["session_version"] != claims.session_version:
        return None
    return claims.user_id


def _products_by_note(rows: list[asyncpg.Record]) -> dict[int, list[dict[str, Any]]]:
    """Each note's tagged products in the author's order, each with its variants and lowest price (rows
    come one per note, product and variant, in that order)."""
    by_note: dict[int, list[dict[str, Any]]] = defaultdict(list)
    key: tuple[int, int] | None = None
    product: dict[str, Any] = {}
    cheapest: tuple[str, int] | None = None
    for row in rows:
        if (row["note_id"], row["id"]) != key:
            key, cheapest = (row["note_id"], row["id"]), None
            product = {"id": to_global_id("Product", row["id"]), "title": row["title"], "price": None}
            product["variants"] = []
            by_note[row["note_id"]].append(product)
        if row["variant_id"] is None:
            continue
        price = (row["currency"], row["price_minor_units"])
        if cheapest is None or price < cheapest:
            cheapest = price
            product["price"] = _money(price[1], price[0])
        product["variants"].append(
            {
                "id": to_global_id("ProductVariant", row["variant_id"]),
                "name": row["name"],
                "price": _money(row["price_minor_units"], row["currency"]),
                "stock": row["stock"],
            }
        )
    return by_note


async def following_feed(connection: asyncpg.Connection, viewer_id: int | None) -> dict[str, Any]:
    """`followingFeed(first: 20)` as bench.http.queries.FEED selects it: five statements."""
    if viewer_id is None:
        return {"followingFeed": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}
    notes = await connection.fetch(_FEED_NOTES_SQL, viewer_id, FEED_PAGE + 1)
    page, more = notes[:FEED_PAGE], len(notes) > FEED_PAGE
    ids = [n["id"] for n in page]
    topics: dict[int, list[dict[str, str]]] = defaultdict(list)
    for row in await connection.fetch(_TOPICS_SQL, ids):
        topics[row["note_id"]].append({"name": row["name"]})
    products = _products_by_note(await connection.fetch(_PRODUCTS_SQL, ids))
    comments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await connection.fetch(_COMMENTS_SQL, ids, FEED_COMMENTS):
        node = {
            "id": to_global_id("Comment", row["id"]),
            "body": row["body"],
            "author": {"handle": row["handle"]},
        }
        comments[row["note_id"]].append({"node": node})
    edges = []
    for n in page:
        node = {
            "id": to_global_id("Note", n["id"]),
            "title": n["title"],
            "likeCount": n["like_count"],
            "commentCount": n["comment_count"],
            "author": {
                "id": to_global_id("User", n["author_id"]),
                "handle": n["handle"],
                "displayName": n["display_name"],
                "avatarUrl": n["avatar_url"],
            },
            "topics": topics.get(n["id"], []),
            "products": products.get(n["id"], []),
            "comments": {"edges": comments.get(n["id"], [])[:FEED_COMMENTS]},
        }
        edges.append({"cursor": encode_cursor(n["id"]), "node": node})
    page_info = {"hasNextPage": more, "endCursor": edges[-1]["cursor"] if edges else None}
    return {"followingFeed": {"edges": edges, "pageInfo": page_info}}


async def product_page(connection: asyncpg.Connection, global_id: str) -> dict[str, Any]:
    """`product(id)` as bench.http.queries.PRODUCT selects it: three statements."""
    parsed = parse_global_id(global_id)
    product = (
        await connection.fetchrow(_PRODUCT_SQL, parsed[1]) if parsed and parsed[0] == "Product" else None
    )
    if product is None:
        return {"product": None}
    variants = await connection.fetch(_VARIANTS_SQL, product["id"])
    reviews = await connection.fetch(_REVIEWS_SQL, product["id"], REVIEWS_PAGE + 1)
    page, more = reviews[:REVIEWS_PAGE], len(reviews) > REVIEWS_PAGE
    count = product["review_count"]
    edges = [
        {
            "cursor": encode_cursor(r["id"]),
            "node": {
                "id": to_global_id("Note", r["id"]),
                "title": r["title"],
                "reviewRating": r["review_rating"],
                "likeCount": r["like_count"],
                "author": {"handle": r["handle"]},
            },
        }
        for r in page
    ]
    return {
        "product": {
            "id": to_global_id("Product", product["id"]),
            "title": product["title"],
            "reviewCount": count,
            "averageRating": round(product["rating_sum"] / count, 2) if count > 0 else None,
            "merchant": {"handle": product["handle"], "displayName": product["display_name"]},
            "variants": [
                {
                    "id": to_global_id("ProductVariant", v["id"]),
                    "sku": v["sku"],
                    "name": v["name"],
                    "price": _money(v["price_minor_units"], v["currency"]),
                    "stock": v["stock"],
                }
                for v in variants
            ],
            "reviews": {
                "totalCount": count,
                "edges": edges,
                "pageInfo": {"hasNextPage": more, "endCursor": edges[-1]["cursor"] if edges else None},
            },
        }
    }


def _answer(data: dict[str, Any] | None, status: int = 200, message: str | None = None) -> Response:
    body = {"data": data} if message is None else {"data": None, "errors": [{"message": message}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def graphql(request: Request) -> Response:
    body = orjson.loads(await request.body())
    operation, variables = body.get("operationName"), body.get("variables") or {}
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as connection:
        if operation == "FollowingFeed":
            viewer = await _viewer(connection, _bearer(request), request.app.state.secret_key)
            return _answer(await following_feed(connection, viewer))
        if operation == "ProductPage":
            return _answer(await product_page(connection, str(variables.get("id", ""))))
    return _answer(None, 400, f"The raw ceiling does not serve {operation!r}.")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    url = os.environ["BENCH_RAW_DATABASE_URL"]
    # Vermilion's pool size (VERMILION_DB_POOL_SIZE default) per worker.
    app.state.pool = await asyncpg.create_pool(
        url, min_size=2, max_size=int(os.environ.get("BENCH_RAW_POOL", "10"))
    )
    app.state.secret_key = os.environ["BENCH_RAW_SECRET_KEY"]
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])], lifespan=lifespan)
