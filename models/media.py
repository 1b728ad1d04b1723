"""Pictures and videos people upload: one row per upload, from the upload ticket to the processed files."""

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.catalog import Product
    from models.notes import Note
    from models.users import User


class MediaKind(StrEnum):
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"


class MediaStatus(StrEnum):
    # Ticket issued; the client is sending the file to storage.
    UPLOADING = "UPLOADING"
    # The upload was checked and processing is queued or running.
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


class MediaVariant(StrEnum):
    """The processed sizes of an image (a video's poster frame too): the longest side at most this many
    pixels (media.images.VARIANT_SIDES), never enlarged."""

    THUMBNAIL = "THUMBNAIL"
    FEED = "FEED"
    ORIGINAL = "ORIGINAL"


class MediaUse(StrEnum):
    """What a media was attached to (it is attached once, to one thing)."""

    NOTE = "NOTE"
    PRODUCT = "PRODUCT"
    AVATAR = "AVATAR"


class FailureReason(StrEnum):
    """Why an upload was refused at completion or failed in processing: stable names clients switch on."""

    # The bytes are none of the accepted image or video formats (whatever the name or declared type said).
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    # The real type is not the kind asked for (a video sent as IMAGE).
    WRONG_KIND = "WRONG_KIND"
    # The file is bigger than the kind's limit, or than the size declared for the upload.
    TOO_LARGE = "TOO_LARGE"
    # More pixels than the limit (a decompression bomb, or simply too big a picture).
    TOO_MANY_PIXELS = "TOO_MANY_PIXELS"
    # A video longer than the limit.
    TOO_LONG = "TOO_LONG"
    # The file could not be decoded.
    CORRUPT = "CORRUPT"
    # Nothing was uploaded before the ticket expired.
    MISSING = "MISSING"
    # Processing kept failing (storage or worker trouble) after every retry.
    PROCESSING_ERROR = "PROCESSING_ERROR"


class Media(Model):
    id = fields.IntField(primary_key=True)
    owner: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="media", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(MediaKind, max_length=8)
    status = fields.CharEnumField(MediaStatus, max_length=12, default=MediaStatus.UPLOADING)
    # What the client declared: the upload is held to them, and the real type is checked at completion.
    content_type = fields.CharField(max_length=100)
    byte_size = fields.BigIntField()
    filename = fields.CharField(max_length=255, default="")
    # Where the client sends the file (storage key under "uploads/"), and the random part of every processed
    # file's key: URLs cannot be guessed from ids.
    upload_key = fields.CharField(max_length=255, unique=True)
    token = fields.CharField(max_length=32, unique=True)
    upload_expires_at = fields.DatetimeField()
    # Filled by processing.
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    blurhash = fields.CharField(max_length=64, null=True)
    dominant_color = fields.CharField(max_length=7, null=True)
    duration_seconds = fields.FloatField(null=True)
    # {variant: {"key": storage key, "width": …, "height": …, "content_type": …}} (and "VIDEO" for the file).
    files: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    failure_reason = fields.CharEnumField(FailureReason, max_length=20, null=True)
    alt_text = fields.CharField(max_length=1500, default="")
    # Set when a note, an avatar or a product takes it: media never attached are deleted after a day.
    attached_at = fields.DatetimeField(null=True)
    attached_to = fields.CharEnumField(MediaUse, max_length=8, null=True)
    attempts = fields.SmallIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "media"
        indexes = (("owner_id", "id"), ("status", "created_at"))


class NoteMedia(Model):
    """A note's pictures (or its one video), in order."""

    id = fields.IntField(primary_key=True)
    note: fields.ForeignKeyRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="media_links", on_delete=fields.CASCADE
    )
    media: fields.ForeignKeyRelation[Media] = fields.OneToOneField(
        "models.Media", related_name="note_link", on_delete=fields.CASCADE
    )
    position = fields.SmallIntField(default=0)

    class Meta:
        table = "note_media"
        indexes = (("note_id", "position"),)


class ProductMedia(Model):
    """A product's images, in order."""

    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation["Product"] = fields.ForeignKeyField(
        "models.Product", related_name="media_links", on_delete=fields.CASCADE
    )
    media: fields.ForeignKeyRelation[Media] = fields.OneToOneField(
        "models.Media", related_name="product_link", on_delete=fields.CASCADE
    )
    position = fields.SmallIntField(default=0)

    class Meta:
        table = "product_media"
        indexes = (("product_id", "position"),)
