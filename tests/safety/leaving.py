"""A person with a full life on Vermilion, built through the public API, for the export and deletion tests:
notes (one with an uploaded picture, one a review), comments (one answered by a friend), likes, collects
into a board of their own, follows both ways, a report, a block, a mute, a filter and a paid order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from tests.commerce.fake_payments import FakePayments
from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up
from tests.media.files import encode, solid
from tests.media.flow import local_media_settings, upload
from tests.shop import CHECKOUT_COMPLETE, PASSWORD, World, ok, start, world

ERRORS = "errors { field message code }"
LIKE = f"mutation($n: ID!) {{ noteLike(noteId: $n) {{ {ERRORS} }} }}"
COLLECT = f"mutation($n: ID!, $b: ID) {{ noteCollect(noteId: $n, boardId: $b) {{ {ERRORS} }} }}"
BOARD = f"mutation($i: BoardCreateInput!) {{ boardCreate(input: $i) {{ board {{ id }} {ERRORS} }} }}"
COMMENT = f"mutation($i: CommentCreateInput!) {{ commentCreate(input: $i) {{ comment {{ id }} {ERRORS} }} }}"
FOLLOW = f"mutation($u: ID!) {{ userFollow(userId: $u) {{ {ERRORS} }} }}"
BLOCK = f"mutation($u: ID!) {{ userBlock(userId: $u) {{ {ERRORS} }} }}"
MUTE = f"mutation($u: ID!) {{ userMute(userId: $u) {{ {ERRORS} }} }}"
FILTER = f"mutation($i: FilterCreateInput!) {{ filterCreate(input: $i) {{ filter {{ id }} {ERRORS} }} }}"
REPORT = f"mutation($i: ReportCreateInput!) {{ reportCreate(input: $i) {{ report {{ id }} {ERRORS} }} }}"
SIGN_IN = f"""mutation($i: SignInInput!) {{
  signIn(input: $i) {{ token deletionCancelled user {{ id handle }} {ERRORS} }}
}}"""
EXPORT = f"""mutation {{
  viewerExportCreate {{ export {{ id status byteSize createdAt readyAt expiresAt url }} {ERRORS} }}
}}"""
EXPORTS = "{ viewer { exports { id status byteSize readyAt expiresAt url } } }"
DELETE = f"""mutation($i: ViewerDeleteInput!) {{
  viewerDelete(input: $i) {{ deletionScheduledAt {ERRORS} }}
}}"""


@asynccontextmanager
async def leaving_client(root: Path, **settings: Any) -> AsyncIterator[tuple[GraphQLClient, FakePayments]]:
    """A client of an app with local storage under `root`, the in-memory payments door and `settings`; its
    background jobs stopped at the end."""
    payments = FakePayments()
    app = create_app(local_media_settings(root, **settings), payments=payments, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield GraphQLClient(http, app), payments
    await app.state.media.jobs.stop()
    await app.state.recorder.drain()


@dataclass
class Life:
    """The person (`me`, the shop's buyer) and the people and things around them."""

    shop: World
    me: dict[str, Any]
    friend: dict[str, Any]  # the creator of the shop's note, who follows me
    troll: dict[str, Any]  # blocked and reported
    media_id: str
    my_note: dict[str, Any]  # with the uploaded picture; the friend liked, collected and commented on it
    my_review: dict[str, Any]  # a review of the shop's product
    board_id: str
    my_root: str  # my comment on the friend's note, which the friend answered
    friend_reply: str
    my_lonely: str  # my comment nobody answered
    friend_root: str
    my_reply: str  # my answer to the friend's comment
    order: dict[str, Any]


async def act(client: GraphQLClient, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    """Run a mutation that must succeed; its payload."""
    data = await client.data(query, variables, token=token)
    (payload,) = data.values()
    assert payload["errors"] == [], payload["errors"]
    return dict(payload)


async def comment(
    client: GraphQLClient, token: str, note_id: str, body: str, reply_to: str | None = None
) -> str:
    payload = await act(
        client, COMMENT, {"i": {"noteId": note_id, "body": body, "replyToId": reply_to}}, token
    )
    return str(payload["comment"]["id"])


async def a_life(client: GraphQLClient, payments: FakePayments) -> Life:
    shop = await world(client)
    me, friend = shop.shopper, shop.creator
    troll = await sign_up(client, "troll_" + shop.merchant["user"]["handle"][4:])
    mine, theirs = me["token"], friend["token"]
    picture = encode(solid((64, 48), (200, 30, 30)), "JPEG")
    media_id = await upload(client, picture, "image/jpeg", token=mine)
    my_note = await create_note(client, mine, title="我的护肤笔记", topics=["护肤"], mediaIds=[media_id])
    my_review = await create_note(
        client,
        mine,
        title="唇釉测评",
        topics=["口红"],
        review={"productId": shop.product["id"], "rating": 5},
    )
    await act(client, LIKE, {"n": my_note["id"]}, theirs)
    await act(client, COLLECT, {"n": my_note["id"], "b": None}, theirs)
    await comment(client, theirs, my_note["id"], "好看！")
    board_id = (await act(client, BOARD, {"i": {"name": "种草"}}, mine))["board"]["id"]
    await act(client, LIKE, {"n": shop.note["id"]}, mine)
    await act(client, COLLECT, {"n": shop.note["id"], "b": board_id}, mine)
    my_root = await comment(client, mine, shop.note["id"], "求链接")
    friend_reply = await comment(client, theirs, shop.note["id"], "在商品页", my_root)
    my_lonely = await comment(client, mine, shop.note["id"], "已下单")
    friend_root = await comment(client, theirs, shop.note["id"], "欢迎提问")
    my_reply = await comment(client, mine, shop.note["id"], "谢谢", friend_root)
    await act(client, FOLLOW, {"u": friend["user"]["id"]}, mine)
    await act(client, FOLLOW, {"u": me["user"]["id"]}, theirs)
    await act(client, FOLLOW, {"u": me["user"]["id"]}, shop.merchant["token"])
    await act(client, MUTE, {"u": shop.merchant["user"]["id"]}, mine)
    await act(client, FILTER, {"i": {"phrase": "广告", "contexts": ["FEED"]}}, mine)
    troll_note = await create_note(client, troll["token"], title="加我微信")
    report = {"subjectId": troll_note["id"], "category": "SPAM", "comment": "广告"}
    await act(client, REPORT, {"i": report}, mine)
    await act(client, BLOCK, {"u": troll["user"]["id"]}, mine)
    started = await start(client, shop, token=mine)
    payments.succeed(started["payment"]["paymentIntentId"])
    order = (
        await ok(
            client, CHECKOUT_COMPLETE, {"orderId": started["order"]["id"]}, "checkoutComplete", token=mine
        )
    )["order"]
    assert order["status"] == "PAID"
    return Life(
        shop=shop,
        me=me,
        friend=friend,
        troll=troll,
        media_id=media_id,
        my_note=my_note,
        my_review=my_review,
        board_id=board_id,
        my_root=my_root,
        friend_reply=friend_reply,
        my_lonely=my_lonely,
        friend_root=friend_root,
        my_reply=my_reply,
        order=order,
    )


async def ready_export(client: GraphQLClient, token: str) -> dict[str, Any]:
    """The newest export once built (polled as a client polls `viewer.exports`)."""
    for _ in range(400):
        exports = (await client.data(EXPORTS, token=token))["viewer"]["exports"]
        if exports and exports[0]["status"] != "PENDING":
            return dict(exports[0])
        await asyncio.sleep(0.025)
    raise AssertionError("the export is still PENDING")


async def sign_in(client: GraphQLClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    data = await client.data(SIGN_IN, {"i": {"email": email, "password": password}}, anonymous=True)
    return dict(data["signIn"])
