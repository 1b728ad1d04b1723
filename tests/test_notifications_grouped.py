"""Grouped notifications through the public API: likes and collects of one note are one entry each, with
their people; entries page both ways by latest activity; order events tell the buyer, merchant and creator."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up
from tests.shop import ORDER_FULFILL, PRICE, ok, paid_order, refund, world

ENTRY = """id kind groupKey read actorCount createdAt updatedAt actor { handle } note { title }
  actors(first: 3) { nodes { handle } totalCount pageInfo { hasNextPage endCursor } }"""
INBOX = f"""query($first: Int, $after: String, $last: Int, $before: String, $unread: Boolean = false) {{
  viewer {{ unreadNotificationCount notifications(first: $first, after: $after, last: $last, before: $before,
    unreadOnly: $unread) {{ totalCount edges {{ cursor node {{ {ENTRY} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }} }}"""
LIKE = "mutation($n: ID!) { noteLike(noteId: $n) { errors { code } } }"
UNLIKE = "mutation($n: ID!) { noteUnlike(noteId: $n) { errors { code } } }"
COLLECT = "mutation($n: ID!) { noteCollect(noteId: $n) { errors { code } } }"
MARK = "mutation($ids: [ID!]) { notificationsMarkRead(ids: $ids) { unreadCount errors { code } } }"


async def inbox(client: GraphQLClient, token: str, **variables: Any) -> dict[str, Any]:
    return dict((await client.data(INBOX, variables, token=token))["viewer"])


def entries(box: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in box["notifications"]["edges"]]


async def test_likes_of_one_note_are_one_entry_with_its_people_most_recent_first(
    client: GraphQLClient,
) -> None:
    author = await sign_up(client, "xiaohong")
    note = await create_note(client, author["token"], title="春日穿搭")
    fans = [await sign_up(client, f"fan{i:02}") for i in range(12)]
    for fan in fans:
        await client.data(LIKE, {"n": note["id"]}, token=fan["token"])
    for fan in fans[:2]:
        await client.data(COLLECT, {"n": note["id"]}, token=fan["token"])
    # an unlike and a like again tell nobody twice
    await client.data(UNLIKE, {"n": note["id"]}, token=fans[0]["token"])
    await client.data(LIKE, {"n": note["id"]}, token=fans[0]["token"])

    box = await inbox(client, author["token"])
    collects, likes = entries(box)
    assert (likes["kind"], likes["actorCount"], likes["read"]) == ("LIKE", 12, False)
    assert likes["actor"] == {"handle": "fan11"}  # "fan11 and 11 others liked your note"
    assert likes["actors"]["nodes"] == [{"handle": "fan11"}, {"handle": "fan10"}, {"handle": "fan09"}]
    assert likes["actors"]["totalCount"] == 12 and likes["actors"]["pageInfo"]["hasNextPage"]
    assert likes["note"] == {"title": "春日穿搭"} and likes["groupKey"].startswith("LIKE:note:")
    assert (collects["kind"], collects["actorCount"], collects["actor"]) == (
        "COLLECT",
        2,
        {"handle": "fan01"},
    )
    assert box["unreadNotificationCount"] == 2  # entries, as the list shows them
    assert box["notifications"]["totalCount"] == 2

    # the rest of the people, paged on from the sample
    rest = await client.data(
        "query($after: String) { viewer { notifications(first: 5) { nodes { kind"
        " actors(first: 20, after: $after) { nodes { handle } pageInfo { hasNextPage } } } } } }",
        {"after": likes["actors"]["pageInfo"]["endCursor"]},
        token=author["token"],
    )
    people = next(n for n in rest["viewer"]["notifications"]["nodes"] if n["kind"] == "LIKE")["actors"]
    assert [p["handle"] for p in people["nodes"]] == [f"fan{i:02}" for i in range(8, -1, -1)]
    assert people["pageInfo"]["hasNextPage"] is False


async def test_a_new_like_on_a_read_entry_brings_it_back_to_the_top_unread(client: GraphQLClient) -> None:
    author = await sign_up(client, "creator")
    old, new = [await create_note(client, author["token"], title=t) for t in ("旧笔记", "新笔记")]
    fans = [await sign_up(client, f"liker{i}") for i in range(3)]
    await client.data(LIKE, {"n": old["id"]}, token=fans[0]["token"])
    await client.data(LIKE, {"n": new["id"]}, token=fans[1]["token"])
    before = entries(await inbox(client, author["token"]))
    assert [e["note"]["title"] for e in before] == ["新笔记", "旧笔记"]
    assert (await client.data(MARK, {}, token=author["token"]))["notificationsMarkRead"]["unreadCount"] == 0

    await client.data(LIKE, {"n": old["id"]}, token=fans[2]["token"])
    box = await inbox(client, author["token"])
    top, second = entries(box)
    assert (top["note"]["title"], top["read"], top["actorCount"], top["id"]) == (
        "旧笔记",
        False,
        2,
        before[1]["id"],
    )
    assert top["updatedAt"] > top["createdAt"]
    assert (second["note"]["title"], second["read"]) == ("新笔记", True)
    assert box["unreadNotificationCount"] == 1
    unread = await inbox(client, author["token"], unread=True)
    assert [e["id"] for e in entries(unread)] == [top["id"]] and unread["notifications"]["totalCount"] == 1

    # marking the entry read marks all of its people read; nothing else is touched
    marked = await client.data(MARK, {"ids": [top["id"]]}, token=author["token"])
    assert marked["notificationsMarkRead"] == {"unreadCount": 0, "errors": []}


async def test_the_list_pages_both_ways_and_never_repeats_an_entry_that_moves_up(
    client: GraphQLClient,
) -> None:
    author = await sign_up(client, "pager")
    fan = await sign_up(client, "pagerfan")
    late = await sign_up(client, "latecomer")
    notes = [await create_note(client, author["token"], title=f"笔记{i}") for i in range(5)]
    for note in notes:
        await client.data(LIKE, {"n": note["id"]}, token=fan["token"])

    first = await inbox(client, author["token"], first=2)
    page = first["notifications"]
    assert [e["note"]["title"] for e in entries(first)] == ["笔记4", "笔记3"]
    assert (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"], page["totalCount"]) == (
        False,
        True,
        5,
    )
    # the oldest entry moves to the top while the client pages down: it is not shown again on this pass
    await client.data(LIKE, {"n": notes[0]["id"]}, token=late["token"])
    second = await inbox(client, author["token"], first=2, after=page["pageInfo"]["endCursor"])
    assert [e["note"]["title"] for e in entries(second)] == ["笔记2", "笔记1"]
    assert second["notifications"]["pageInfo"]["hasPreviousPage"] is True
    third = await inbox(
        client, author["token"], first=2, after=second["notifications"]["pageInfo"]["endCursor"]
    )
    assert entries(third) == [] and third["notifications"]["pageInfo"]["hasNextPage"] is False

    # backwards from the end, and back from a page's start
    last = await inbox(client, author["token"], last=2)
    assert [e["note"]["title"] for e in entries(last)] == ["笔记2", "笔记1"]
    info = last["notifications"]["pageInfo"]
    assert (info["hasPreviousPage"], info["hasNextPage"]) == (True, False)
    before = await inbox(client, author["token"], last=2, before=info["startCursor"])
    assert [e["note"]["title"] for e in entries(before)] == ["笔记4", "笔记3"]
    assert before["notifications"]["pageInfo"]["hasPreviousPage"] is True
    assert before["notifications"]["pageInfo"]["hasNextPage"] is True
    top = await inbox(
        client, author["token"], last=5, before=before["notifications"]["pageInfo"]["startCursor"]
    )
    assert [e["note"]["title"] for e in entries(top)] == ["笔记0"]  # the one that moved up
    assert top["notifications"]["pageInfo"]["hasPreviousPage"] is False


async def test_paging_arguments_are_checked(client: GraphQLClient) -> None:
    reader = await sign_up(client, "checker")
    body = await client.execute(INBOX, {"first": 2, "last": 2}, token=reader["token"])
    assert body["errors"][0]["extensions"]["code"] == "INVALID"
    body = await client.execute(INBOX, {"after": "not-a-cursor"}, token=reader["token"])
    assert body["errors"][0]["extensions"]["code"] == "INVALID"


# --- orders ----------------------------------------------------------------------------------------------

ORDER_ENTRY = "kind read actorCount actor { handle } note { title } order { id status }"


async def kinds_of(client: GraphQLClient, token: str) -> list[dict[str, Any]]:
    query = f"{{ viewer {{ notifications(first: 20) {{ nodes {{ {ORDER_ENTRY} }} }} }} }}"
    return list((await client.data(query, token=token))["viewer"]["notifications"]["nodes"])


async def test_order_events_tell_the_buyer_the_merchant_and_the_creator(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop)
    handle = {key: (await shop.data("{ viewer { handle } }", token=acct["token"]))["viewer"]["handle"]
              for key, acct in (("merchant", w.merchant), ("shopper", w.shopper))}  # fmt: skip
    order = await paid_order(shop, stripe_base, w)

    paid = {"id": order["id"], "status": "PAID"}
    # the buyer sees the shop they bought from
    assert await kinds_of(shop, w.shopper["token"]) == [
        {"kind": "ORDER_PAID", "read": False, "actorCount": 1, "actor": {"handle": handle["merchant"]},
         "note": None, "order": paid}
    ]  # fmt: skip
    assert await kinds_of(shop, w.merchant["token"]) == [
        {"kind": "SALE", "read": False, "actorCount": 1, "actor": {"handle": handle["shopper"]}, "note": None,
         "order": paid}
    ]  # fmt: skip
    # the creator learns their note sold and which shop sold it, not who bought it nor the buyer's order
    assert await kinds_of(shop, w.creator["token"]) == [
        {"kind": "NOTE_SALE", "read": False, "actorCount": 1, "actor": {"handle": handle["merchant"]},
         "note": {"title": "这支唇釉绝了"}, "order": None}
    ]  # fmt: skip

    await ok(shop, ORDER_FULFILL, {"orderId": order["id"]}, "orderFulfill", token=w.merchant["token"])
    await refund(shop, order["id"], PRICE // 2, w.merchant["token"], key="half")
    await refund(shop, order["id"], PRICE // 2, w.merchant["token"], key="rest")
    told = await kinds_of(shop, w.shopper["token"])
    assert [(n["kind"], n["actor"]) for n in told] == [
        ("ORDER_REFUNDED", {"handle": handle["merchant"]}),
        ("ORDER_REFUNDED", {"handle": handle["merchant"]}),
        ("ORDER_FULFILLED", {"handle": handle["merchant"]}),
        ("ORDER_PAID", {"handle": handle["merchant"]}),
    ]
    assert told[0]["order"] == {"id": order["id"], "status": "REFUNDED"}
    # the merchant's own actions tell the merchant nothing
    assert [n["kind"] for n in await kinds_of(shop, w.merchant["token"])] == ["SALE"]


async def test_a_creator_buying_from_their_own_note_is_not_told_of_it(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop)
    w.shopper = w.creator  # the creator buys what their note tags
    await paid_order(shop, stripe_base, w)
    assert [n["kind"] for n in await kinds_of(shop, w.creator["token"])] == ["ORDER_PAID"]
    assert [n["kind"] for n in await kinds_of(shop, w.merchant["token"])] == ["SALE"]


async def test_a_page_of_entries_with_their_people_costs_the_same_statements(client: GraphQLClient) -> None:
    author = await sign_up(client, "budget")
    fans = [await sign_up(client, f"budgetfan{i}") for i in range(2)]
    for i in range(20):
        note = await create_note(client, author["token"], title=f"预算{i}")
        for fan in fans:
            await client.data(LIKE, {"n": note["id"]}, token=fan["token"])
    query = (
        "query($first: Int) { viewer { notifications(first: $first) { nodes { actorCount actor { handle }"
        " actors(first: 3) { nodes { handle } totalCount } } } } }"
    )
    counts = {}
    for first in (5, 20):
        body = await client.execute(query, {"first": first}, token=author["token"])
        nodes = body["data"]["viewer"]["notifications"]["nodes"]
        assert len(nodes) == first and all(len(n["actors"]["nodes"]) == 2 for n in nodes)
        counts[first] = body["extensions"]["sqlStatements"]
    # the session check, the page, the latest actors, the people of every entry (one windowed statement)
    assert counts[5] == counts[20] <= 4, counts
