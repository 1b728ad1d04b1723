"""The hot paths answer exactly what they answered before: whole responses against stored golden files.

Each case runs the operations the benchmark times through the public GraphQL API on the seeded demo world
(`seed_database(users=60)`, as the `demo_user` fixture seeds it) and compares every response body with
`tests/golden/<case>.json`, so a rewrite of the read path (rows instead of models, prefetch, sync
resolvers) cannot change what a client sees. Each request's SQL statement count
(`extensions.sqlStatements`) is also held to the budget of PERFORMANCE.md.

Writing the golden files (after a deliberate change of what the API answers; review the diff):

    VERMILION_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_responses.py
    VERMILION_UPDATE_GOLDEN=1 VERMILION_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        .venv/bin/pytest tests/test_golden_responses.py        # the .postgres.json files

Without VERMILION_UPDATE_GOLDEN a missing file fails the test; it is never created silently.

What is compared, and how it is made deterministic on SQLite and PostgreSQL alike:
- The whole body (`data`, `errors`) and, of `extensions`, the query cost (`requestedQueryCost`,
  `actualQueryCost`). Left out: `requestId` (random), `throttleStatus` (depends on the earlier requests of
  the run) and `sqlStatements` (asserted against the budget instead).
- Global ids are decoded. A row the seed wrote keeps its key: `"Note:345"` is
  `node(id: base64("Note:345"))` — the seed assigns its rows' ids itself, in creation order, so they do not
  depend on a database sequence. A row made during the test (a cart, its lines, a signed-up account) or an
  id of a type not listed in `SEEDED` becomes `"<Type>:new#<n>"`, numbered by first appearance in the file.
- Cursors are opaque (the discovery feed's name a random session): `"<cursor #n>"` by first appearance
  in the file, so the same cursor twice stays the same placeholder (page 2's `after` is page 1's end).
- Timestamps: the seed's are fixed (it is dated as of demo.world.BASE_TIME's day, `as_of`, not today); one
  at or after the moment this module started seeding was written by the test and becomes
  `"<written during the test>"`.
- Numbers compare exactly, floats included (search scores are computed in Python on both databases).
Order is never normalised: a reordering fails.

The discovery feed ranks by the viewer's history decayed from the wall clock (feed/service.py takes
`now=datetime.now(UTC)`; feed/ranking.py interest_profile: exp(-Δt/14 d) under a Hill saturation, plus
undecayed onboarding interests), and no argument pins the clock: the demo shopper's feed reorders within a
week (6 of the first 20 positions differ 7 days later). So the golden feed is that of a newcomer signed up
with interests and no history, with `seed`: its profile is its interests alone, which no clock moves
(checked from 25 days before to a year after). Fresh-note exploration only looks 14 days back, and every
seeded note is older than that now (BASE_TIME is 2026-11-01).

SQL budgets are upper bounds (PERFORMANCE.md, plus the one statement that checks a bearer token's session).
That they stay constant in page size is held elsewhere, on purpose-built worlds, and not repeated here:
tests/test_sql_budget.py (followingFeed), tests/test_cart_lines.py (cartLinesAdd),
tests/test_discover_feed.py (discoverFeed), tests/test_search_api.py (search),
tests/test_notifications_grouped.py (notifications), tests/test_paging.py (paging from a cursor).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.models import Model

from api.app import create_app
from api.db import empty_all_tables
from core.ids import to_global_id
from core.settings import Settings
from demo import seed_database
from demo.world import BASE_TIME
from models import Board, Comment, Note, NoteProduct, Notification, Product, ProductVariant, Topic, User
from social.tokens import issue_token
from tests.conftest import GENEROUS_LIMITS, IS_POSTGRES, TEST_SECRET, GraphQLClient, forget_search_data

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("VERMILION_UPDATE_GOLDEN") == "1"
DIALECT = "postgres" if IS_POSTGRES else "sqlite"

# GraphQL types whose ids the seed assigns (the model holding them); other ids are numbered.
SEEDED: dict[str, type[Model]] = {
    "User": User,
    "Note": Note,
    "Comment": Comment,
    "Product": Product,
    "ProductVariant": ProductVariant,
    "Topic": Topic,
    "Board": Board,
    "Notification": Notification,
}
CURSOR_KEYS = {"cursor", "startCursor", "endCursor"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")
GLOBAL_ID = re.compile(r"^[A-Za-z0-9+/]{8,}={0,2}$")
TYPE_NAME = re.compile(r"^[A-Z][A-Za-z]+$")

# --- the operations (the benchmark's, bench/overhead.py and README "Trying the API") ----------------------

FOLLOWING_FEED = """{
  viewer { handle followingCount }
  followingFeed(first: 20) {
    edges { node { id title language author { displayName } topics { name }
                   products { title price { amount currency } variants { id name price { amount } stock } }
                   comments(first: 3) { edges { node { body author { handle } } } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
PRODUCT = """query($id: ID!) {
  product(id: $id) { id title reviewCount averageRating price { amount currency }
    merchant { handle displayName }
    variants { id sku name price { amount minorUnits currency } stock inStock }
    reviews(first: 10) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id title reviewRating likeCount author { handle } } } } }
}"""
NOTE = """query($id: ID!) {
  note(id: $id) { id title body likeCount author { handle displayName } topics { name }
    comments(first: 20) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id body createdAt author { handle } } } } }
}"""
DISCOVER = """query($after: String) {
  discoverFeed(first: 20, after: $after, seed: 7) {
    edges { cursor reason { kind topics text similarToNoteIds }
      node { id title likeCount viewerHasLiked viewerHasCollected author { handle displayName }
        topics { name } products { id title price { amount } variants { id price { amount } } }
        comments(first: 3) { edges { node { body author { handle } } } } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
SEARCH = """query($q: String!) {
  search(query: $q, sort: RELEVANCE, first: 20) {
    terms relaxed pageInfo { hasNextPage endCursor }
    edges { cursor score
      node { ... on Note { id title language likeCount author { handle } topics { name } } } }
  }
}"""
NOTIFICATIONS = """{
  viewer { unreadNotificationCount
    notifications(first: 20) { pageInfo { hasNextPage endCursor }
      edges { cursor node { id kind groupKey createdAt updatedAt read actorCount actor { handle }
        actors(first: 3) { totalCount nodes { handle } } note { id title } comment { id body } } } } }
}"""
SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) { token errors { code } } }"""
CART_CREATE = """mutation { cartCreate(input: {lines: []}) { cart { id } errors { code } } }"""
CART_LINES_ADD = """mutation($cartId: ID!, $lines: [CartLineInput!]!) {
  cartLinesAdd(cartId: $cartId, lines: $lines) {
    cart { id status currency totalQuantity subtotal { amount minorUnits currency }
      lines { id quantity variant { id sku name stock } sourceNote { id title }
        unitPrice { minorUnits currency } addedAtPrice { minorUnits } lineTotal { amount minorUnits } }
      warnings { code message lineId } }
    errors { field message code }
  }
}"""


# --- the seeded world, once for the module ----------------------------------------------------------------


@dataclass
class World:
    client: GraphQLClient
    started: datetime  # every timestamp from here on was written by the test
    seeded_max: dict[str, int]  # per SEEDED type: the largest id the seed wrote

    async def token(self, handle: str) -> str:
        user = await User.get(handle=handle)
        return issue_token(user_id=user.id, secret_key=TEST_SECRET, ttl_seconds=600)


@pytest.fixture(scope="module")
async def world(database: str) -> AsyncIterator[World]:
    """Seeded once: the cases only read, except what they make themselves (a newcomer, a cart), which no
    other case looks at — so they agree whichever of them runs, in any order."""
    started = datetime.now(UTC)
    await empty_all_tables()
    await seed_database(users=60, as_of=BASE_TIME.date(), progress=False)
    await forget_search_data()
    seeded_max = {}
    for type_name, model in SEEDED.items():
        last = await model.all().order_by("-id").first()
        seeded_max[type_name] = int(last.pk) if last is not None else 0
    settings = Settings(
        VERMILION_DATABASE_URL=database,
        VERMILION_SECRET_KEY=TEST_SECRET,
        VERMILION_ENV="development",  # reports extensions.sqlStatements
        STRIPE_API_KEY=None,
        **GENEROUS_LIMITS,
    )
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield World(GraphQLClient(http, app), started, seeded_max)
    await app.state.recorder.drain()  # the discovery feed's impressions land before the next module


# --- normalising a response -------------------------------------------------------------------------------


@dataclass
class Normaliser:
    """One per golden file: placeholders are numbered by first appearance across all its responses."""

    world: World
    cursors: dict[str, str] = field(default_factory=dict)
    new_ids: dict[str, str] = field(default_factory=dict)

    def __call__(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, key) for v in value]
        if not isinstance(value, str):
            return value
        if key in CURSOR_KEYS:
            return self.cursors.setdefault(value, f"<cursor #{len(self.cursors) + 1}>")
        if TIMESTAMP.match(value):
            written = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return "<written during the test>" if written >= self.world.started else value
        decoded = _decode_global_id(value)
        if decoded is None:
            return value
        type_name, key_text = decoded
        if key_text.isdigit() and 0 < int(key_text) <= self.world.seeded_max.get(type_name, 0):
            return f"{type_name}:{key_text}"
        numbered = sum(1 for v in self.new_ids.values() if v.startswith(f"{type_name}:new#"))
        return self.new_ids.setdefault(value, f"{type_name}:new#{numbered + 1}")


def _decode_global_id(value: str) -> tuple[str, str] | None:
    """("Type", "key") when `value` is a Relay global id (core/ids.py), else None."""
    if not GLOBAL_ID.match(value) or len(value) % 4:
        return None
    try:
        type_name, sep, key = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (type_name, key) if sep and key and TYPE_NAME.match(type_name) else None


def _visible(body: dict[str, Any]) -> dict[str, Any]:
    """What a client sees, less what differs from run to run (see the module docstring)."""
    shown = {k: v for k, v in body.items() if k != "extensions"}
    cost = body.get("extensions", {}).get("cost")
    if cost is not None:
        shown["extensions"] = {
            "cost": {k: cost[k] for k in ("requestedQueryCost", "actualQueryCost") if k in cost}
        }
    return shown


# --- comparing with the golden file -----------------------------------------------------------------------


def _differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = [f"{path}.{k}: missing" for k in expected if k not in actual]
        out += [f"{path}.{k}: unexpected" for k in actual if k not in expected]
        for k in expected:
            if k in actual:
                out += _differences(expected[k], actual[k], f"{path}.{k}")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = [] if len(expected) == len(actual) else [f"{path}: {len(expected)} items, now {len(actual)}"]
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            out += _differences(e, a, f"{path}[{i}]")
        return out
    return (
        []
        if expected == actual and type(expected) is type(actual)
        else [f"{path}: {expected!r} → {actual!r}"]
    )


def _check_golden(name: str, responses: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(responses, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"{path} is missing: write it with VERMILION_UPDATE_GOLDEN=1 (see this module's docstring)"
        )
    expected = json.loads(path.read_text(encoding="utf-8"))
    differences = _differences(expected, responses)
    assert not differences, f"{path.name} differs ({len(differences)}):\n" + "\n".join(differences[:30])


# --- the cases --------------------------------------------------------------------------------------------


@dataclass
class Run:
    """The responses of one case, each named, and their statement counts against the budget."""

    world: World
    normalise: Normaliser
    responses: dict[str, Any] = field(default_factory=dict)
    over_budget: list[str] = field(default_factory=list)

    async def step(
        self, label: str, query: str, variables: dict[str, Any] | None, budget: int, token: str | None = None
    ) -> dict[str, Any]:
        body = await self.world.client.execute(query, variables, token=token)
        statements = int(body["extensions"]["sqlStatements"])
        if statements > budget:
            self.over_budget.append(f"{label}: {statements} SQL statements, budget {budget}")
        self.responses[label] = self.normalise(_visible(body))
        return body


async def following_feed(run: Run) -> None:
    # PERFORMANCE.md: feed ≤ 6 with the token's session check (as tests/test_sql_budget.py counts it).
    await run.step("followingFeed", FOLLOWING_FEED, None, 6, token=await run.world.token("demo"))


async def product_page(run: Run) -> None:
    # The product with the most reviews (21, the lipstick; titles repeat, SKUs do not): a full page of 10.
    variant = await ProductVariant.get(sku="VMS-00004-1")
    product_id = variant.product_id  # type: ignore[attr-defined]
    await run.step("product", PRODUCT, {"id": to_global_id("Product", product_id)}, 4)  # PERFORMANCE.md


async def note_page(run: Run) -> None:
    # The note with the most comments (15), so first: 20 gets every one.
    note = await Note.get(title="第一次去西湖必看的3个建议")
    await run.step("note", NOTE, {"id": to_global_id("Note", note.id)}, 5)  # PERFORMANCE.md


async def discover_feed(run: Run) -> None:
    """Pages 1 and 2 of a signed-in newcomer's feed (why not the demo shopper's: the module docstring)."""
    signed_up = await run.world.client.data(
        SIGN_UP,
        {
            "input": {
                "email": "golden-newcomer@example.com",
                "password": "golden-password-1",
                "handle": "golden_newcomer",
                "languages": ["zh", "en"],
                "interests": ["护肤", "美食", "travel"],
            }
        },
    )
    token = signed_up["signUp"]["token"]
    assert token, signed_up
    # Budget: as tests/test_discover_feed.py (the first page builds the ranking session).
    first = await run.step("discoverFeed page 1", DISCOVER, {"after": None}, 8, token=token)
    after = first["data"]["discoverFeed"]["pageInfo"]["endCursor"]
    await run.step("discoverFeed page 2", DISCOVER, {"after": after}, 8, token=token)


async def _warm_search(run: Run, q: str) -> None:
    """Search's per-process data (topic families, the words' document counts) is read by the first search
    that needs it and kept (search/families.py, search/terms.py): the budget is that of every later one."""
    await run.world.client.execute(SEARCH, {"q": q})


async def search_chinese(run: Run) -> None:
    await _warm_search(run, "口红")
    await run.step("search 口红", SEARCH, {"q": "口红"}, 4)  # as tests/test_search_api.py counts it


async def search_english(run: Run) -> None:
    await _warm_search(run, "lipstick")
    await run.step("search lipstick", SEARCH, {"q": "lipstick"}, 4)


async def cart_lines_add(run: Run) -> None:
    """The demo shopper adds two sizes of a sunscreen (1 × 30ml, 2 × 100ml), as seen in the newest note
    that tags it."""
    token = await run.world.token("demo")
    variants = [await ProductVariant.get(sku=sku) for sku in ("VMS-00010-1", "VMS-00010-3")]
    tagged = await NoteProduct.filter(product_id=variants[0].product_id).order_by("-note_id").first()  # type: ignore[attr-defined]
    assert tagged is not None
    created = await run.world.client.data(CART_CREATE, token=token)
    lines = [
        {
            "variantId": to_global_id("ProductVariant", v.id),
            "quantity": quantity,
            "sourceNoteId": to_global_id("Note", tagged.note_id),  # type: ignore[attr-defined]
        }
        for quantity, v in enumerate(variants, start=1)
    ]
    variables = {"cartId": created["cartCreate"]["cart"]["id"], "lines": lines}
    # PERFORMANCE.md: add-to-cart ≤ 5 in one transaction, plus the token's session check.
    await run.step("cartLinesAdd", CART_LINES_ADD, variables, 6, token=token)


async def notifications(run: Run) -> None:
    """Page 1 of the demo creator's notifications. No budget in PERFORMANCE.md: one statement per relation,
    7 — the session, the unread count, the page, the latest actor, the actors, the notes, the comments."""
    await run.step("notifications", NOTIFICATIONS, None, 7, token=await run.world.token("xiaohong"))


# name → (the case, one golden file per database when its answers may differ between them)
CASES: dict[str, tuple[Callable[[Run], Awaitable[None]], bool]] = {
    "following_feed": (following_feed, False),
    "product_page": (product_page, False),
    "note_page": (note_page, False),
    "discover_feed": (discover_feed, False),
    "search_chinese": (search_chinese, False),
    "search_english": (search_english, False),
    "cart_lines_add": (cart_lines_add, False),
    "notifications": (notifications, False),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_hot_path_answers_as_golden_within_sql_budget(world: World, name: str) -> None:
    case, per_dialect = CASES[name]
    run = Run(world, Normaliser(world))
    await case(run)
    for label, response in run.responses.items():
        assert "errors" not in response, (label, response["errors"])
    _check_golden(f"{name}.{DIALECT}" if per_dialect else name, run.responses)
    assert not run.over_budget, run.over_budget


def test_normaliser_keeps_seeded_ids_and_numbers_the_rest() -> None:
    """The normalisation itself: seeded keys survive, new rows and cursors are numbered by first
    appearance, the seed's timestamps stay and the test's become a placeholder."""
    world = World(client=None, started=datetime(2026, 11, 30, tzinfo=UTC), seeded_max={"Note": 10})  # type: ignore[arg-type]
    normalise = Normaliser(world)
    body = {
        "a": [
            to_global_id("Note", 7),
            to_global_id("Note", 11),
            to_global_id("Note", 12),
            to_global_id("Note", 11),
        ],
        "cursor": "abc",
        "pageInfo": {"endCursor": "abc", "startCursor": "xyz"},
        "at": ["2026-10-01T00:00:00+00:00", "2026-11-30T10:00:00+00:00"],
        "text": ["hello", "Tm90ZTo3", "not:an id"],
    }
    assert normalise(body) == {
        "a": ["Note:7", "Note:new#1", "Note:new#2", "Note:new#1"],
        "cursor": "<cursor #1>",
        "pageInfo": {"endCursor": "<cursor #1>", "startCursor": "<cursor #2>"},
        "at": ["2026-10-01T00:00:00+00:00", "<written during the test>"],
        "text": ["hello", "Note:7", "not:an id"],
    }
