"""Live notifications over WebSocket (graphql-transport-ws): entries as they change, and the unread count.

Rules write notifications deep inside their transactions (`social.notifications.notify`), where no broker is
at hand; they note each change in the operation's outbox (`social.events`). `NotificationOutbox`, a schema
extension, opens that outbox when a mutation starts and publishes what it holds once the mutation is done
— after its transactions committed — best effort, as every live event (`core.pubsub.announce`). An event
only names the entry: subscribers read it again, so they always send it as it is after the change, and an
event whose change did not happen (its transaction rolled back) sends nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from models import Notification
from schema.context import Context, Info
from schema.safety.filters import screen_notifications
from schema.social.notifications import NotificationType
from social.events import flush_notification_changes, notifications_channel, open_notification_outbox
from social.notifications import inbox_filter, latest_position, unread_count

# Entries a `notificationAdded` subscription remembers having sent (their positions), to send each state
# once: enough for a burst, bounded so a long-lived connection holds little.
REMEMBERED = 256


class NotificationOutbox(SchemaExtension):
    """Publishes the notification changes a mutation made, after it (see the module's docstring)."""

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context.context
        if self.execution_context.operation_type != OperationType.MUTATION or not isinstance(
            context, Context
        ):
            yield
            return
        open_notification_outbox()
        try:
            yield
        finally:
            await flush_notification_changes(context.broker)


@strawberry.type
class NotificationSubscription:
    @strawberry.subscription(
        description="Each entry of your notification list as it is right after it changed: a new "
        "notification, or a grouped one (LIKE, COLLECT) that someone joined — with its new `actorCount`, "
        "`actors`, `updatedAt`, unread again. Put it at the top of your list in place of the entry with the "
        "same `id`. Only changes after you subscribe; after a reconnect, refetch the list. Signed in only "
        "(UNAUTHENTICATED otherwise)."
    )
    async def notification_added(self, info: Info) -> AsyncGenerator[NotificationType, None]:
        viewer_id = info.context.require_viewer_id()
        async with info.context.broker.subscribe(notifications_channel(viewer_id)) as events:
            # Read after subscribing: an activity written in between is both newer and announced.
            since = await latest_position(viewer_id)
            sent: OrderedDict[int, int] = OrderedDict()
            async for event in events:
                notification_id = event.get("notificationId")
                if not isinstance(notification_id, int):
                    continue  # read state moved: nothing was added
                # The audience is rebuilt per event on a connection: someone hidden since is not shown.
                visible = inbox_filter(viewer_id, await info.context.audience())
                row = await Notification.filter(visible, id=notification_id).first()
                if row is None or row.position <= max(since, sent.get(notification_id, 0)):
                    continue  # gone, hidden, older than the subscription, or this state was sent
                sent[notification_id] = row.position
                sent.move_to_end(notification_id)
                if len(sent) > REMEMBERED:
                    sent.popitem(last=False)
                # The viewer's filters of NOTIFICATIONS, as on the list: hidden, or sent with `filtered`.
                for entry in await screen_notifications(info, [NotificationType.from_row(row)]):
                    yield entry

    @strawberry.subscription(
        name="unreadNotificationCount",
        description="How many entries of your notification list are unread "
        "(`viewer.unreadNotificationCount`): the count now, then each time it changes — a new notification, "
        "or notificationsMarkRead. After a reconnect the first event is again the current count. Signed in "
        "only (UNAUTHENTICATED otherwise).",
    )
    async def unread_notification_count(self, info: Info) -> AsyncGenerator[int, None]:
        viewer_id = info.context.require_viewer_id()
        async with info.context.broker.subscribe(notifications_channel(viewer_id)) as events:
            last = await unread_count(viewer_id, await info.context.audience())
            yield last
            async for _ in events:
                count = await unread_count(viewer_id, await info.context.audience())
                if count != last:
                    last = count
                    yield count
