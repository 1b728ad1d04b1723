"""GraphQL types of people."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from tortoise.expressions import Subquery

from commerce.cart import open_cart_of
from core.cursors import page_request
from core.ids import to_global_id
from models import Block, Board, Follow, Mute, Note, Order, OrderLine, User
from schema.context import Info
from schema.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    keyset_connection,
    linked_connection,
)
from social.notifications import unread_count
from social.policy import is_self, note_filter, user_filter, visible_boards

if TYPE_CHECKING:
    from schema.catalog.types import MerchantSettings
    from schema.commerce.discounts import DiscountCodeType
    from schema.commerce.returns import ReturnRequestType, ReturnStatusEnum
    from schema.commerce.shipping import ShippingRateType
    from schema.commerce.types import CartType, OrderType
    from schema.earnings.payouts import PayoutType
    from schema.earnings.types import CommissionsOwed, EarningEntryType, Earnings
    from schema.notes.types import NoteType
    from schema.safety.account import DataExportType
    from schema.safety.filters import FilterType
    from schema.safety.moderation_enums import Role
    from schema.safety.moderation_types import AppealType, ModerationActionType
    from schema.safety.reports_types import ReportType
    from schema.social.notifications import NotificationType
    from schema.social.types import BoardType

NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]
BoardRef = Annotated["BoardType", strawberry.lazy("schema.social.types")]
NotificationRef = Annotated["NotificationType", strawberry.lazy("schema.social.notifications")]
FilterRef = Annotated["FilterType", strawberry.lazy("schema.safety.filters")]
CartRef = Annotated["CartType", strawberry.lazy("schema.commerce.types")]
OrderRef = Annotated["OrderType", strawberry.lazy("schema.commerce.types")]
DiscountCodeRef = Annotated["DiscountCodeType", strawberry.lazy("schema.commerce.discounts")]
ReturnRequestRef = Annotated["ReturnRequestType", strawberry.lazy("schema.commerce.returns")]
ReturnStatusRef = Annotated["ReturnStatusEnum", strawberry.lazy("schema.commerce.returns")]  # type: ignore[valid-type]
EarningsRef = Annotated["Earnings", strawberry.lazy("schema.earnings.types")]
EarningEntryRef = Annotated["EarningEntryType", strawberry.lazy("schema.earnings.types")]
CommissionsOwedRef = Annotated["CommissionsOwed", strawberry.lazy("schema.earnings.types")]
PayoutRef = Annotated["PayoutType", strawberry.lazy("schema.earnings.payouts")]
DataExportRef = Annotated["DataExportType", strawberry.lazy("schema.safety.account")]
ShippingRateRef = Annotated["ShippingRateType", strawberry.lazy("schema.commerce.shipping")]
MerchantSettingsRef = Annotated["MerchantSettings", strawberry.lazy("schema.catalog.types")]
RoleRef = Annotated["Role", strawberry.lazy("schema.safety.moderation_enums")]
ReportRef = Annotated["ReportType", strawberry.lazy("schema.safety.reports_types")]
AppealRef = Annotated["AppealType", strawberry.lazy("schema.safety.moderation_types")]
ModerationActionRef = Annotated["ModerationActionType", strawberry.lazy("schema.safety.moderation_types")]


@strawberry.type(name="User", description="A person: shopper, creator or merchant.")
class UserType(Node):
    row: strawberry.Private[User]
    handle: str = strawberry.field(
        description="Unique public name without the @: 3–30 characters, a–z, 0–9 and _, lower case "
        '("lily_chen"). Show it as @handle.'
    )
    display_name: str = strawberry.field(
        description="The name shown on the profile, 1–50 characters, any script; the handle unless set."
    )
    bio: str = strawberry.field(description="Profile text, up to 500 characters; empty when none.")
    avatar_url: str | None = strawberry.field(
        description="The http(s) URL of the profile picture; null when none (show a placeholder)."
    )
    languages: list[str] = strawberry.field(
        description='Languages the person reads, best first, as codes such as "zh" or "en" (up to 5); search '
        "ranks notes in them higher. Empty when not set."
    )
    interests: list[str] = strawberry.field(
        description="Topics chosen at onboarding (normalised names, up to 20); they seed the discovery feed."
    )
    follower_count: int = strawberry.field(description="How many people follow this person.")
    following_count: int = strawberry.field(description="How many people this person follows.")
    note_count: int = strawberry.field(
        description="How many notes this person has posted (deleted ones not)."
    )
    likes_and_collects_count: int = strawberry.field(
        description="Likes and collects received on this person's notes."
    )
    created_at: datetime = strawberry.field(description="When the account was created.")
    # The person who just signed in or up with this request (its token is not the request's own yet).
    signing_in: strawberry.Private[bool] = False

    @classmethod
    def from_row(cls, row: User) -> UserType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("User", row.id)),
            handle=row.handle,
            display_name=row.display_name,
            bio=row.bio,
            avatar_url=row.avatar_url,
            languages=list(row.languages or []),
            interests=list(row.interests or []),
            follower_count=row.follower_count,
            following_count=row.following_count,
            note_count=row.note_count,
            likes_and_collects_count=row.likes_and_collects_count,
            created_at=row.created_at,
        )

    @strawberry.field(
        description="The sign-in and receipt email address; only the person themselves sees it, null for "
        "anyone else."
    )
    def email(self, info: Info) -> str | None:
        return self.row.email if self.signing_in or is_self(self.row.id, info.context.viewer_id) else None

    @strawberry.field(description="True when this is the signed-in person.")
    def is_viewer(self, info: Info) -> bool:
        return self.signing_in or is_self(self.row.id, info.context.viewer_id)

    @strawberry.field(
        description="Whether the signed-in person follows this one; false when anonymous or for yourself."
    )
    async def viewer_is_following(self, info: Info) -> bool:
        if info.context.viewer_id is None or info.context.viewer_id == self.row.id:
            return False
        return bool(await info.context.loaders.viewer_follows.load(self.row.id))

    @strawberry.field(
        description="Notes by this person, newest first; `totalCount` is `noteCount`, kept with every post "
        "and deletion."
    )
    async def notes(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[NoteRef]:
        from schema.notes.types import NoteType

        request = page_request(first, after, last, before)
        visible = note_filter(await info.context.audience())
        return await keyset_connection(
            Note.filter(visible, author_id=self.row.id),
            request,
            NoteType.from_row,
            total_count=self.row.note_count,
        )

    @strawberry.field(
        description="Boards, newest first; private ones only for their owner. `totalCount` is counted when "
        "asked for (one indexed count: nobody has many boards)."
    )
    async def boards(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[BoardRef]:
        from schema.social.types import BoardType

        request = page_request(first, after, last, before)
        query = Board.filter(visible_boards(self.row.id, await info.context.audience()))
        return await keyset_connection(query, request, BoardType.from_row, total_count=query.count)

    @strawberry.field(
        description="Your notification list, newest activity first; null on anyone else's profile. Likes of "
        "one note are one entry, collects of it another (`actorCount`, `actors`); an entry someone joins "
        "moves back to the top, unread. Pages both ways (`first`/`after`, `last`/`before`) by the entries' "
        "latest activity: a page never repeats an entry, but one that moves up while you page down shows "
        "on your next refresh. `totalCount`: the entries (unread ones with `unreadOnly`), counted when asked "
        "for — one indexed count. Your keyword filters of NOTIFICATIONS apply (HIDE leaves entries out, WARN "
        "sets `filtered`), so a page may hold fewer than `first` entries; its cursors continue where it "
        "ended all the same, and `totalCount` counts entries filtered out too."
    )
    async def notifications(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        unread_only: Annotated[
            bool, strawberry.argument(description="Only entries not yet marked read.")
        ] = False,
    ) -> Connection[NotificationRef] | None:
        from schema.social.notifications import notification_connection

        request = page_request(first, after, last, before)
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await notification_connection(info, self.row.id, request, unread_only=unread_only)

    @strawberry.field(
        description="How many entries of your notification list are unread (an entry of twelve likes counts "
        "once); null on anyone else's profile. Live: subscribe to `unreadNotificationCount`."
    )
    async def unread_notification_count(self, info: Info) -> int | None:
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await unread_count(self.row.id, await info.context.audience())

    @strawberry.field(description="Your open cart; null when you have none, or on anyone else's profile.")
    async def cart(self, info: Info) -> CartRef | None:
        from schema.commerce.types import cart_type

        if not is_self(self.row.id, info.context.viewer_id):
            return None
        cart = await open_cart_of(self.row.id)
        return await cart_type(cart.id) if cart else None

    @strawberry.field(
        description="Your orders as a buyer, newest first; null on anyone else's profile. `totalCount` is "
        "counted when asked for, one indexed count."
    )
    async def orders(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[OrderRef] | None:
        from schema.commerce.types import order_connection

        request = page_request(first, after, last, before)
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await order_connection(Order.filter(buyer_id=self.row.id), request)

    @strawberry.field(
        description="Orders containing your products, newest first (for merchants; empty if you sell "
        "nothing); null on anyone else's profile. `totalCount` is counted when asked for, one indexed count."
    )
    async def sales_orders(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[OrderRef] | None:
        from schema.commerce.types import order_connection

        request = page_request(first, after, last, before)
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        sold = Subquery(OrderLine.filter(merchant_id=self.row.id).values("order_id"))
        return await order_connection(Order.filter(id__in=sold), request)

    @strawberry.field(
        description="Returns of goods you sold, newest first (for merchants; empty if none), those in "
        "`status` when given; null on anyone else's profile. `totalCount` is counted when asked for, one "
        "indexed count."
    )
    async def return_requests(
        self,
        info: Info,
        status: Annotated[
            ReturnStatusRef | None,
            strawberry.argument(description="Only returns in this state, e.g. REQUESTED: those to decide."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ReturnRequestRef] | None:
        from schema.commerce.returns import merchant_returns

        request = page_request(first, after, last, before)
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await merchant_returns(self.row.id, status, request)

    @strawberry.field(
        description="Your discount codes (discountCodeCreate), newest first, with their uses; null on anyone "
        "else's profile. `totalCount` is counted when asked for, one indexed count."
    )
    async def discount_codes(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[DiscountCodeRef] | None:
        from schema.commerce.discounts import discount_code_connection

        request = page_request(first, after, last, before)
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await discount_code_connection(self.row.id, request)

    @strawberry.field(
        description="What you earned from your notes that sold, per balance and currency (pending, "
        "available, in payout, paid out); null on anyone else's profile."
    )
    async def earnings(self, info: Info) -> EarningsRef | None:
        from schema.earnings.types import viewer_earnings

        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await viewer_earnings(self.row.id)

    @strawberry.field(
        description="Every movement of your earnings (commissions, reversals, releases, payouts), newest "
        "first; null on anyone else's profile. `totalCount` is counted when asked for, one indexed count."
    )
    async def earning_entries(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[EarningEntryRef] | None:
        from schema.earnings.types import earning_entry_connection

        request = page_request(first, after, last, before)
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await earning_entry_connection(self.row.id, request)

    @strawberry.field(
        description="For merchants: what creators earn from your sales (commissions pending, released, "
        "reversed), per currency; null on anyone else's profile."
    )
    async def commissions_owed(self, info: Info) -> CommissionsOwedRef | None:
        from schema.earnings.types import merchant_commissions

        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await merchant_commissions(self.row.id)

    @strawberry.field(
        description="Your payouts (payoutRequest), newest first, each with its status, amount, reference "
        "and dates; null on anyone else's profile. `totalCount` is counted when asked for, one indexed count."
    )
    async def payouts(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[PayoutRef] | None:
        from schema.earnings.payouts import payout_connection

        request = page_request(first, after, last, before)
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await payout_connection(self.row.id, request)

    @strawberry.field(
        description="Your archives of your data (viewerExportCreate), newest first; null on anyone else's "
        "profile."
    )
    async def exports(self, info: Info) -> list[DataExportRef] | None:
        from schema.safety.account import viewer_exports

        return await viewer_exports(info, self.row)

    @strawberry.field(
        description="People who follow this person, most recent first; `totalCount` is `followerCount`, kept "
        "with every follow and unfollow."
    )
    async def followers(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[UserType]:
        request = page_request(first, after, last, before)
        return await linked_connection(
            Follow.filter(
                user_filter(await info.context.audience(), via="follower"), followee_id=self.row.id
            ),
            request,
            target_id=lambda link: link.follower_id,
            loader=info.context.loaders.user_by_id,
            to_node=UserType.from_row,
            total_count=self.row.follower_count,
        )

    @strawberry.field(
        description="People this person follows, most recent first; `totalCount` is `followingCount`, kept "
        "with every follow and unfollow."
    )
    async def following(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[UserType]:
        request = page_request(first, after, last, before)
        return await linked_connection(
            Follow.filter(
                user_filter(await info.context.audience(), via="followee"), follower_id=self.row.id
            ),
            request,
            target_id=lambda link: link.followee_id,
            loader=info.context.loaders.user_by_id,
            to_node=UserType.from_row,
            total_count=self.row.following_count,
        )

    @strawberry.field(
        description="People you blocked, most recent first; null on anyone else's profile (nobody sees who "
        "blocked whom)."
    )
    async def blocked_users(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[UserType] | None:
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await linked_connection(
            Block.filter(blocker_id=self.row.id),
            page_request(first, after, last, before),
            target_id=lambda link: link.blocked_id,
            loader=info.context.loaders.user_by_id,
            to_node=UserType.from_row,
        )

    @strawberry.field(description="People you muted, most recent first; null on anyone else's profile.")
    async def muted_users(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[UserType] | None:
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await linked_connection(
            Mute.filter(muter_id=self.row.id),
            page_request(first, after, last, before),
            target_id=lambda link: link.muted_id,
            loader=info.context.loaders.user_by_id,
            to_node=UserType.from_row,
        )

    @strawberry.field(description="Whether you muted this person (false when signed out or on yourself).")
    async def viewer_has_muted(self, info: Info) -> bool:
        return self.row.id in (await info.context.audience()).muted_ids

    @strawberry.field(
        description="Your keyword filters in force, newest first (expired ones are left out: they no longer "
        "apply); null on anyone else's profile."
    )
    async def filters(self, info: Info) -> list[FilterRef] | None:
        from schema.safety.filters import viewer_filters

        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await viewer_filters(self.row.id)

    @strawberry.field(
        description="Your shipping rates (shippingRateCreate): the live ones, oldest first, then with "
        "`includeArchived` the most recently archived ones, up to 100 in all; null on anyone else's profile."
    )
    async def shipping_rates(
        self,
        info: Info,
        include_archived: Annotated[
            bool, strawberry.argument(description="Also the rates you archived.")
        ] = False,
    ) -> list[ShippingRateRef] | None:
        from schema.commerce.shipping import viewer_shipping_rates

        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await viewer_shipping_rates(self.row.id, include_archived=include_archived)

    @strawberry.field(
        description="Your merchant settings (merchantSettingsUpdate): the commission your products pay "
        "creators by default; null on anyone else's profile (each product shows its own rate)."
    )
    def merchant_settings(self, info: Info) -> MerchantSettingsRef | None:
        from schema.catalog.types import MerchantSettings

        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return MerchantSettings.of(self.row)

    @strawberry.field(
        description="USER, MODERATOR or ADMIN: seen by the person themselves and by staff; null for anyone "
        "else."
    )
    async def role(self, info: Info) -> RoleRef | None:
        from schema.safety.moderation_types import viewer_is_staff

        if is_self(self.row.id, info.context.viewer_id) or await viewer_is_staff(info):
            return self.row.role  # type: ignore[return-value]
        return None

    @strawberry.field(
        description="The reports you made, newest first, with their status and outcome; null on anyone "
        "else's profile. `totalCount` is counted when asked for."
    )
    async def reports(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[ReportRef] | None:
        from schema.safety.moderation_queries import viewer_reports

        request = page_request(first, after, last, before)
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await viewer_reports(info, self.row.id, request)

    @strawberry.field(
        description="Your appeals, newest first; null on anyone else's profile. `totalCount` is counted when "
        "asked for."
    )
    async def appeals(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[AppealRef] | None:
        from schema.safety.moderation_queries import viewer_appeals

        request = page_request(first, after, last, before)
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await viewer_appeals(info, self.row.id, request)

    @strawberry.field(
        description="Moderators' decisions about you and your content, newest first, with their reasons and "
        "until when each can be appealed (`appealCreate`); null on anyone else's profile."
    )
    async def moderation_actions(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[ModerationActionRef] | None:
        from schema.safety.moderation_queries import viewer_moderation_actions

        request = page_request(first, after, last, before)
        if not is_self(self.row.id, info.context.viewer_id):
            return None
        return await viewer_moderation_actions(info, self.row.id, request)


async def load_user(info: Info, user_id: int) -> UserType:
    """A related person (author, owner, merchant, actor) through this request's loader."""
    return UserType.from_row(await info.context.loaders.user_by_id.load(user_id))
