"""Tortoise models of Vermilion. Tortoise discovers every model imported here (app label "models")."""

from models.catalog import Product, ProductVariant
from models.commerce import (
    AttemptStatus,
    Cart,
    CartLine,
    CartStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentAttempt,
    PaymentEvent,
    PaymentEventKind,
    Refund,
    RefundStatus,
    StockState,
    StripeEvent,
)
from models.feed import FeedEvent, FeedEventKind, FeedImpression, FeedSnapshot, NoteNeighbour
from models.mail import OutboxEmail
from models.media import (
    FailureReason,
    Media,
    MediaKind,
    MediaStatus,
    MediaUse,
    MediaVariant,
    NoteMedia,
    ProductMedia,
)
from models.notes import Note, NoteKind, NoteProduct, NoteTopic, Topic
from models.notifications import Notification, NotificationActivity, NotificationKind
from models.search import SearchDocument, SearchKind
from models.social import Board, Collect, Comment, Follow, Like
from models.users import PasswordReset, RevokedToken, User

__all__ = [
    "AttemptStatus",
    "Board",
    "Cart",
    "CartLine",
    "CartStatus",
    "Collect",
    "Comment",
    "FailureReason",
    "FeedEvent",
    "FeedEventKind",
    "FeedImpression",
    "FeedSnapshot",
    "Follow",
    "Like",
    "Media",
    "MediaKind",
    "MediaStatus",
    "MediaUse",
    "MediaVariant",
    "Note",
    "NoteKind",
    "NoteMedia",
    "NoteNeighbour",
    "NoteProduct",
    "NoteTopic",
    "Notification",
    "NotificationActivity",
    "NotificationKind",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OutboxEmail",
    "PasswordReset",
    "PaymentAttempt",
    "PaymentEvent",
    "PaymentEventKind",
    "Product",
    "ProductMedia",
    "ProductVariant",
    "Refund",
    "RefundStatus",
    "RevokedToken",
    "SearchDocument",
    "SearchKind",
    "StockState",
    "StripeEvent",
    "Topic",
    "User",
]
