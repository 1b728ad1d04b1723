"""The GraphQL schema of Vermilion: root types merged from each domain package."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from core.settings import Settings
from schema.catalog.mutations import CatalogMutation
from schema.catalog.types import ProductType, ProductVariantType
from schema.commerce.mutations import CommerceMutation
from schema.commerce.subscriptions import CommerceSubscription
from schema.commerce.types import CartType, OrderType
from schema.context import Authentication
from schema.feed.fields import FeedMutation, FeedQuery
from schema.limits import ErrorCodes, protection_extensions
from schema.notes.mutations import NoteMutation
from schema.notes.subscriptions import NoteSubscription
from schema.notes.types import NoteType, TopicType
from schema.queries import SocialQuery
from schema.search.fields import SearchQuery
from schema.social.mutations import SocialMutation
from schema.social.notifications import NotificationMutation, NotificationType
from schema.social.types import BoardType, CommentType
from schema.users.mutations import UserMutation
from schema.users.types import UserType

Query = merge_types("Query", (SocialQuery, FeedQuery, SearchQuery))
Mutation = merge_types(
    "Mutation",
    (
        UserMutation,
        NoteMutation,
        SocialMutation,
        FeedMutation,
        CatalogMutation,
        CommerceMutation,
        NotificationMutation,
    ),
)
Subscription = merge_types("Subscription", (NoteSubscription, CommerceSubscription))

# Types reachable only through the Node interface must be listed so `node(id:)` can return them.
NODE_TYPES = [
    UserType, NoteType, TopicType, CommentType, BoardType, ProductType, ProductVariantType, NotificationType,
    CartType, OrderType,
]  # fmt: skip


def build_schema(settings: Settings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        # Authentication first: every later step (limits per user, resolvers) sees only a live session.
        extensions=[ErrorCodes, Authentication, *protection_extensions(settings)],
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )
