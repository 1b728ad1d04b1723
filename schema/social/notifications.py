"""GraphQL types and mutations of notifications: the entries of a person's list (grouped, see
social/notifications.py) and who acted in each."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from commerce.policy import can_view_order
from core.cursors import PageRequest, decode_id_cursor, page_size
from core.ids import decode_global_id, to_global_id
from models import Notification, NotificationActivity, NotificationKind, Order
from schema.context import Info
from schema.enums import described_enum
from schema.errors import UserError, payload_errors, returns_errors
from schema.execution import batched
from schema.loaders import Window
from schema.relay import (
    After,
    Connection,
    First,
    KeysetOrder,
    KeysetPage,
    Node,
    build_connection,
    keyset_window,
)
from schema.safety.filters import FILTERED_DESCRIPTION, FilteredBy, screened_notifications
from schema.safety.moderation_types import NotificationModeration, notification_moderations
from schema.social.types import CommentType
from social.filters import FilterHit
from social.notifications import inbox, mark_read
from social.policy import Audience, actor_filter

if TYPE_CHECKING:
    from schema.commerce.types import OrderType
    from schema.notes.types import NoteType
    from schema.users.types import UserType

UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]
NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]
OrderRef = Annotated["OrderType", strawberry.lazy("schema.commerce.types")]
NotificationKindEnum = described_enum(
    NotificationKind,
    name="NotificationKind",
    description="What happened. LIKE and COLLECT entries group everyone who did it to one note; every "
    "other kind is an entry of its own.",
    values={
        "LIKE": "People liked your note: one entry per note, each person told once (`actors`, `actorCount`).",
        "COLLECT": "People collected your note into a board: one entry per note, each person told once.",
        "COMMENT": "Commented on your note, or replied to someone else's comment on it.",
        "REPLY": "Replied to your comment.",
        "FOLLOW": "Started following you (told once per person).",
        "ORDER_PAID": "Your order's payment went through (`order`; `actors` are the shops it was bought "
        "from).",
        "ORDER_FULFILLED": "A merchant shipped your order (`order`; `actor` is the merchant).",
        "ORDER_REFUNDED": "Money from your order was refunded, in part or in full (`order`; `actor` is the "
        "merchant, or — for a refund made outside Vermilion — the order's shops). One entry per refund.",
        "SALE": "Someone bought your products (`order`, `actor` the buyer).",
        "NOTE_SALE": "A paid order bought a product from your note (`note`; `actor` is the shop that sold "
        "it); who bought it stays private, so `order` is null. Not sent when you sell the product yourself "
        "(SALE tells you).",
        "MODERATION": "A moderator decided about your content or account (`moderation`: what, why, and until "
        "when it can be appealed; `note` or `comment` when it is about one).",
        "REPORT_RESOLVED": "A moderator decided about something you reported (`moderation.action` is the "
        "outcome; the reason stays between the moderator and the person concerned).",
        "APPEAL_RESOLVED": "Your appeal was decided (`moderation`: APPEAL_APPROVED or APPEAL_REJECTED, and "
        "why).",
        "EXPORT_READY": "The archive of your data you asked for is ready: download it from "
        "`viewer.exports` (`DataExport.url`) within 7 days.",
        "SHIPMENT_UPDATED": "A parcel of your order shipped or was delivered (`order`, whose `shipments` "
        "show it; `actor` is the merchant). One entry per parcel and step; the parcel that completes the "
        "order tells ORDER_FULFILLED instead.",
        "RETURN_UPDATED": "A return changed (`order`, whose `returns` show it): asked for (to the merchant, "
        "`actor` the buyer), then approved, rejected or received (to the buyer, `actor` the merchant); one "
        "entry per return and step. Its refund tells the buyer ORDER_REFUNDED, as every refund does.",
    },
)


@strawberry.type(
    name="Notification",
    description="One entry of your notification list: something that happened, or — for LIKE and COLLECT — "
    'everyone who did it to one note, shown once ("小红 and 11 others liked your note").',
)
class NotificationType(Node):
    row: strawberry.Private[Notification]
    kind: NotificationKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="What happened."
    )
    group_key: str = strawberry.field(
        description='What makes activities one entry (e.g. "LIKE:note:12"): stable for the entry\'s life, '
        "for clients that merge live updates into a list they hold."
    )
    created_at: datetime = strawberry.field(description="When the entry's first activity happened.")
    updated_at: datetime = strawberry.field(
        description="When its latest activity happened: the list's order, newest first."
    )
    read: bool = strawberry.field(
        description="True once marked read with notificationsMarkRead; a new activity makes it unread again."
    )
    # The viewer's WARN filter this entry matched (schema.safety.filters).
    filter_hit: strawberry.Private[FilterHit | None] = None

    @classmethod
    def from_row(cls, row: Notification) -> NotificationType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Notification", row.id)),
            kind=row.kind,
            group_key=row.group_key,
            created_at=row.created_at,
            updated_at=row.updated_at or row.created_at,
            read=row.read_at is not None,
        )

    @strawberry.field(
        description='How many people are in the entry (12 for "小红 and 11 others"); 0 for a guest\'s '
        "purchase (SALE). People hidden from you are counted out."
    )
    async def actor_count(self, info: Info) -> int:
        return await visible_actor_count(self.row, await info.context.audience())

    @strawberry.field(
        description="Who did it most recently: the liker, commenter or follower; the shop for order "
        "events (ORDER_PAID, ORDER_FULFILLED, ORDER_REFUNDED, NOTE_SALE, SHIPMENT_UPDATED, RETURN_UPDATED "
        "to the buyer); the buyer for SALE and for RETURN_UPDATED to the merchant, and null only when that "
        "buyer was a guest. The whole list is `actors`."
    )
    async def actor(self, info: Info) -> UserRef | None:
        from schema.users.types import UserType, load_user

        actor_id: int | None = self.row.actor_id  # type: ignore[attr-defined]
        if actor_id is not None and not (await info.context.audience()).hides(actor_id):
            user = await load_user(info, actor_id)
            if user is not None:
                return user
        # The latest actor is hidden from you (or gone): the entry shows the most recent one who is not.
        page = await info.context.loaders.actors_by_notification.load(Window(self.row.id, 1, None))
        return UserType.from_row(page.rows[0][1]) if page.rows else None

    @strawberry.field(
        description="The people in the entry, most recent first (a sample: `actors(first: 3)`); cursors page "
        "on through the rest. `totalCount` is `actorCount`."
    )
    async def actors(self, info: Info, first: First = None, after: After = None) -> Connection[UserRef]:
        from schema.users.types import UserType

        window = Window(self.row.id, page_size(first), decode_id_cursor(after))
        page = await info.context.loaders.actors_by_notification.load(window)
        return build_connection(
            KeysetPage(page.rows, page.has_next, has_previous=window.after is not None),
            None,
            lambda pair: UserType.from_row(pair[1]),
            key=lambda pair: pair[0],
            total_count=lambda: _actor_count(info, self.row),
        )

    @strawberry.field(description=FILTERED_DESCRIPTION)
    def filtered(self) -> FilteredBy | None:
        return FilteredBy.of(self.filter_hit)

    @strawberry.field(
        description="For MODERATION, REPORT_RESOLVED and APPEAL_RESOLVED: the decision it is about; null for "
        "other kinds.",
        metadata=batched(notification_moderations),
    )
    async def moderation(self, info: Info) -> NotificationModeration | None:
        return (await notification_moderations([self], info))[0]

    @strawberry.field(
        description="The note concerned; null for follows and orders, or when the note was deleted."
    )
    async def note(self, info: Info) -> NoteRef | None:
        from schema.notes.types import NoteType

        note_id = self.row.note_id  # type: ignore[attr-defined]
        row = await info.context.loaders.note_by_id.load(note_id) if note_id else None
        return NoteType.from_row(row) if row else None

    @strawberry.field(description="The comment or reply, for COMMENT and REPLY; null once deleted.")
    async def comment(self, info: Info) -> CommentType | None:
        comment_id = self.row.comment_id  # type: ignore[attr-defined]
        row = await info.context.loaders.comment_by_id.load(comment_id) if comment_id else None
        return CommentType.from_row(row) if row else None

    @strawberry.field(
        description="The order, for ORDER_PAID, ORDER_FULFILLED, ORDER_REFUNDED, SALE, SHIPMENT_UPDATED and "
        "RETURN_UPDATED, while you may see it; null otherwise (always for NOTE_SALE: the buyer's order is "
        "theirs and the merchant's)."
    )
    async def order(self, info: Info) -> OrderRef | None:
        from schema.commerce.types import OrderType

        order_id = self.row.order_id  # type: ignore[attr-defined]
        if order_id is None or self.row.kind == NotificationKind.NOTE_SALE:
            return None
        order = await Order.get_or_none(id=order_id)
        if order is None or not await can_view_order(order, info.context.viewer_id):
            return None
        return OrderType.from_row(order)


async def visible_actor_count(row: Notification, audience: Audience) -> int:
    """The entry's people, less those hidden from this audience."""
    if not audience.hidden_author_ids:
        return row.actor_count  # kept with every activity, in its transaction: no statement
    return await NotificationActivity.filter(
        actor_filter(audience), notification_id=row.id, actor_id__isnull=False
    ).count()


async def _actor_count(info: Info, row: Notification) -> int:
    return await visible_actor_count(row, await info.context.audience())


# --- the list --------------------------------------------------------------------------------------------

# Entries in the order of their latest activity: `position` is the id of that activity, unique and growing.
BY_LATEST_ACTIVITY = KeysetOrder(fields=("position",))


async def notification_connection(
    info: Info, recipient_id: int, request: PageRequest, *, unread_only: bool = False
) -> Connection[NotificationType]:
    """A page of a person's entries either way; cursors are positions (indexed by recipient and position)."""
    query = inbox(recipient_id, await info.context.audience(), unread_only=unread_only)
    cursor = request.id_cursor()
    page = await keyset_window(query, request, None if cursor is None else (cursor,), BY_LATEST_ACTIVITY)
    connection = build_connection(
        page, None, NotificationType.from_row, key=lambda row: row.position, total_count=query.count
    )
    return await screened_notifications(info, connection)


# --- marking read ----------------------------------------------------------------------------------------


@strawberry.type(description="The result of notificationsMarkRead.")
class NotificationsMarkReadPayload:
    unread_count: int | None = strawberry.field(
        default=None, description="How many of your notifications are still unread; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(
        description="Mark these entries read (a grouped entry with all its people), or all of them when "
        "`ids` is omitted. `unreadNotificationCount` subscribers are told the new count."
    )
    @returns_errors
    async def notifications_mark_read(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="Notification ids, up to 100; ids that are not yours are ignored. Omit for all."
            ),
        ] = None,
    ) -> NotificationsMarkReadPayload:
        user_id = info.context.require_viewer_id()
        pks = (
            [decode_global_id(g, "Notification", ("ids", i)) for i, g in enumerate(ids)]
            if ids is not None
            else None
        )
        unread = await mark_read(
            user_id=user_id, notification_ids=pks, audience=await info.context.audience()
        )
        return NotificationsMarkReadPayload(unread_count=unread)
