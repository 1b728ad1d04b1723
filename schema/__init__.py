"""The GraphQL schema of Vermilion: root types merged from each domain package."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from core.settings import Settings
from schema.catalog.mutations import CatalogMutation
from schema.catalog.types import ProductType, ProductVariantType
from schema.commerce.cart_choices import CartChoiceMutation
from schema.commerce.discounts import DiscountMutation
from schema.commerce.fulfilment import FulfilmentMutation
from schema.commerce.mutations import CommerceMutation
from schema.commerce.returns import ReturnMutation
from schema.commerce.shipping import ShippingMutation
from schema.commerce.subscriptions import CommerceSubscription
from schema.commerce.types import CartType, OrderType
from schema.context import Authentication
from schema.earnings.payouts import PayoutMutation
from schema.execution import VermilionExecutor
from schema.feed.fields import FeedMutation, FeedQuery
from schema.limits import ErrorCodes, protection_extensions
from schema.media.mutations import MediaMutation
from schema.media.subscriptions import MediaSubscription
from schema.media.types import MediaType
from schema.notes.mutations import NoteMutation
from schema.notes.subscriptions import NoteSubscription
from schema.notes.types import NoteType, TopicType
from schema.persisted import PersistedQueryLookup
from schema.queries import SocialQuery
from schema.runner import Schema
from schema.safety.account import AccountMutation
from schema.safety.blocks import BlockMutation
from schema.safety.filters import FilterMutation
from schema.safety.moderation_mutations import ModerationMutation
from schema.safety.moderation_queries import ModerationQuery
from schema.safety.reports import ReportMutation
from schema.search.fields import SearchQuery
from schema.social.mutations import SocialMutation
from schema.social.notification_subscriptions import NotificationOutbox, NotificationSubscription
from schema.social.notifications import NotificationMutation, NotificationType
from schema.social.types import BoardType, CommentType
from schema.users.mutations import UserMutation
from schema.users.types import UserType


# The root types join each domain's fields, as `strawberry.tools.merge_types` would, with a description.
@strawberry.type(
    description="Everything a client can read. Anonymous requests may ask too: fields that need a "
    "signed-in person say so and answer null or empty for anyone else."
)
class Query(SocialQuery, FeedQuery, SearchQuery, ModerationQuery):
    pass


@strawberry.type(
    description="Everything a client can change. An expected refusal (bad input, no permission, a product "
    "rule) comes back in the payload's `errors`, not as a GraphQL error."
)
class Mutation(
    UserMutation,
    NoteMutation,
    SocialMutation,
    FeedMutation,
    CatalogMutation,
    CommerceMutation,
    CartChoiceMutation,
    DiscountMutation,
    ShippingMutation,
    FulfilmentMutation,
    ReturnMutation,
    PayoutMutation,
    NotificationMutation,
    MediaMutation,
    BlockMutation,
    FilterMutation,
    ReportMutation,
    ModerationMutation,
    AccountMutation,
):
    pass


@strawberry.type(
    description="Live updates over WebSocket (graphql-transport-ws protocol, same path as queries); send "
    "the bearer token in the connection_init payload."
)
class Subscription(NoteSubscription, CommerceSubscription, NotificationSubscription, MediaSubscription):
    pass


# Types reachable only through the Node interface must be listed so `node(id:)` can return them.
NODE_TYPES = [
    UserType, NoteType, TopicType, CommentType, BoardType, ProductType, ProductVariantType, NotificationType,
    CartType, OrderType, MediaType,
]  # fmt: skip


def build_schema(settings: Settings) -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        # Authentication first: every later step (limits per user, resolvers) sees only a live session.
        # Persisted queries resolve the text before anything else reads it; errors are coded last.
        extensions=[
            ErrorCodes,
            PersistedQueryLookup,
            Authentication,
            *protection_extensions(settings),
            # Publishes the notifications a mutation wrote, once it is done (after its commits).
            NotificationOutbox,
        ],
        execution_context_class=VermilionExecutor,
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )
