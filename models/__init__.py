"""Tortoise models of Vermilion. Tortoise discovers every model imported here (app label "models")."""

from models.catalog import Product, ProductVariant
from models.notes import Note, NoteKind, NoteProduct, NoteTopic, Topic
from models.notifications import Notification, NotificationKind
from models.social import Board, Collect, Comment, Follow, Like
from models.users import User

__all__ = [
    "Board",
    "Collect",
    "Comment",
    "Follow",
    "Like",
    "Note",
    "NoteKind",
    "NoteProduct",
    "NoteTopic",
    "Notification",
    "NotificationKind",
    "Product",
    "ProductVariant",
    "Topic",
    "User",
]
