"""The core journey through the public API: three people, a product, a review, the social graph."""

from __future__ import annotations

from social.counters import counter_mismatches
from tests.conftest import GraphQLClient
from tests.factories import create_note, create_product, sign_up

NOTE_STATE = """
query($id: ID!) {
  note(id: $id) {
    likeCount collectCount commentCount viewerHasLiked viewerHasCollected
    author { handle likesAndCollectsCount followerCount viewerIsFollowing }
    comments(first: 10) { edges { node { body author { handle } replyCount
      replies(first: 10) { edges { node { body replyTo { body } author { handle } } } } } } }
  }
}"""


async def test_social_scenario(client: GraphQLClient) -> None:
    # given three people: a merchant, a creator and a shopper
    merchant = await sign_up(client, "merchant", displayName="Lumi Shop")
    creator = await sign_up(client, "xiaohong", displayName="小红", languages=["zh"])
    shopper = await sign_up(client, "amy", languages=["en"], interests=["#护肤"])

    product = await create_product(client, merchant["token"])
    assert product["variants"][0]["price"] == {"amount": "129.00", "minorUnits": 12900, "currency": "CNY"}

    # when the creator posts a Chinese review note tagging the product
    note = await create_note(
        client,
        creator["token"],
        title="丝绒唇釉真实测评",
        body="颜色很正，持久度一般，适合日常通勤。",
        topics=["#彩妆", "口红"],
        media=["https://media.example/lip-1.jpg"],
        review={"productId": product["id"], "rating": 4},
    )
    assert note["language"] == "zh"
    assert note["kind"] == "IMAGE"
    assert [t["name"] for t in note["topics"]] == ["彩妆", "口红"]
    assert note["products"] == [{"id": product["id"]}]
    assert note["review"] == {"rating": 4, "product": {"id": product["id"]}}

    # and the shopper follows, likes (twice), collects and comments; the creator replies
    sh = shopper["token"]
    follow = await client.data(
        "mutation($u: ID!) { userFollow(userId: $u) { user { followerCount viewerIsFollowing } errors { code } } }",
        {"u": creator["user"]["id"]},
        token=sh,
    )
    assert follow["userFollow"] == {"user": {"followerCount": 1, "viewerIsFollowing": True}, "errors": []}
    for _ in range(2):
        liked = await client.data(
            "mutation($n: ID!) { noteLike(noteId: $n) { note { likeCount viewerHasLiked } errors { code } } }",
            {"n": note["id"]},
            token=sh,
        )
        assert liked["noteLike"]["note"] == {"likeCount": 1, "viewerHasLiked": True}
    collected = await client.data(
        "mutation($n: ID!) { noteCollect(noteId: $n) { note { collectCount } board { name noteCount isDefault } errors { code } } }",
        {"n": note["id"]},
        token=sh,
    )
    assert collected["noteCollect"]["note"] == {"collectCount": 1}
    assert collected["noteCollect"]["board"]["noteCount"] == 1
    comment = await client.data(
        "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { comment { id body isReply } errors { code } } }",
        {"i": {"noteId": note["id"], "body": "Is it drying on the lips?"}},
        token=sh,
    )
    root_id = comment["commentCreate"]["comment"]["id"]
    reply = await client.data(
        "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { comment { isReply } errors { code } } }",
        {"i": {"noteId": note["id"], "body": "不会，很滋润～", "replyToId": root_id}},
        token=creator["token"],
    )
    assert reply["commentCreate"] == {"comment": {"isReply": True}, "errors": []}

    # then counters and viewer state are exact, for the shopper and for an anonymous visitor
    seen = (await client.data(NOTE_STATE, {"id": note["id"]}, token=sh))["note"]
    assert seen["likeCount"] == 1 and seen["collectCount"] == 1 and seen["commentCount"] == 2
    assert seen["viewerHasLiked"] and seen["viewerHasCollected"]
    assert seen["author"] == {
        "handle": "xiaohong", "likesAndCollectsCount": 2, "followerCount": 1, "viewerIsFollowing": True,
    }  # fmt: skip
    (root,) = seen["comments"]["edges"]
    assert root["node"]["replyCount"] == 1
    assert root["node"]["replies"]["edges"][0]["node"] == {
        "body": "不会，很滋润～", "replyTo": {"body": "Is it drying on the lips?"}, "author": {"handle": "xiaohong"},
    }  # fmt: skip
    anonymous = (await client.data(NOTE_STATE, {"id": note["id"]}, anonymous=True))["note"]
    assert not anonymous["viewerHasLiked"] and not anonymous["viewerHasCollected"]
    assert not anonymous["author"]["viewerIsFollowing"]

    # and the product shows its review and average rating
    product_page = await client.data(
        "query($id: ID!) { product(id: $id) { averageRating reviewCount reviews(first: 5) { edges { node { title } } } } }",
        {"id": product["id"]},
    )
    assert product_page["product"] == {
        "averageRating": 4.0, "reviewCount": 1, "reviews": {"edges": [{"node": {"title": "丝绒唇釉真实测评"}}]},
    }  # fmt: skip

    # and unliking / uncollecting bring the counters back
    await client.data(
        "mutation($n: ID!) { noteUnlike(noteId: $n) { errors { code } } }", {"n": note["id"]}, token=sh
    )
    await client.data(
        "mutation($n: ID!) { noteUncollect(noteId: $n) { errors { code } } }", {"n": note["id"]}, token=sh
    )
    after = (await client.data(NOTE_STATE, {"id": note["id"]}, token=sh))["note"]
    assert (after["likeCount"], after["collectCount"], after["viewerHasLiked"]) == (0, 0, False)
    assert after["author"]["likesAndCollectsCount"] == 0
    assert await counter_mismatches() == []


async def test_following_feed_pages_without_repeats_or_gaps(client: GraphQLClient) -> None:
    # given a reader who follows two creators with 27 notes between them, and one they don't follow
    reader = await sign_up(client, "reader")
    a = await sign_up(client, "creator_a")
    b = await sign_up(client, "creator_b")
    stranger = await sign_up(client, "stranger")
    expected = []
    for i in range(27):
        author = a if i % 3 else b
        expected.append((await create_note(client, author["token"], title=f"note {i}"))["id"])
        if i % 5 == 0:
            await create_note(client, stranger["token"], title=f"unfollowed {i}")
    for creator in (a, b):
        await client.data(
            "mutation($u: ID!) { userFollow(userId: $u) { errors { code } } }",
            {"u": creator["user"]["id"]},
            token=reader["token"],
        )

    # when the reader pages through with first: 10
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = await client.data(
            "query($after: String) { followingFeed(first: 10, after: $after) {"
            " edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }",
            {"after": after},
            token=reader["token"],
        )
        feed = data["followingFeed"]
        seen += [edge["node"]["id"] for edge in feed["edges"]]
        pages += 1
        if not feed["pageInfo"]["hasNextPage"]:
            break
        after = feed["pageInfo"]["endCursor"]

    # then every followed note appears once, newest first, in three pages
    assert seen == list(reversed(expected))
    assert pages == 3
