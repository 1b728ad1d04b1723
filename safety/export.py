"""Leaving with one's data: a JSON archive of everything about a person, built in the background.

1. `request_export`: one export at a time per person (a request while one is PENDING returns it) and at
   most one new archive a day; the row is made PENDING and the build job queued (core/jobs).
2. `build_export` (the job, retried): the archive (`archive_of`) is written through the media storage
   under `exports/`, a prefix no public route serves, then the row becomes READY for ARCHIVE_DAYS and the
   person is notified (EXPORT_READY).
3. The download link (`ExportServices.url`) names the export's random token and an HMAC of it made with
   the server's secret, so a token read from the database alone opens nothing; `api/export_routes.py`
   streams the archive to whoever holds the link while it lasts, and answers 404 otherwise.
4. `sweep_exports` (periodic) deletes expired archives with their rows, and fails exports whose build
   never finished, so the person may ask again.

What the archive holds — profile, notes with their media (URLs and metadata), comments, likes, collects,
boards, follows both ways, blocks and mutes made, filters, products, orders with their lines, reports
made, appeals, and the moderation actions about the person — is what GDPR's access and portability
rights ask for; follows, blocks and reports are in it, which Mastodon's export misses (mastodon#10670,
mastodon#14719). Ids are the API's global ids, so an archive and the API name things alike.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode
from core.ids import to_global_id
from core.jobs import Jobs
from core.pubsub import Broker
from core.settings import Settings
from media.storage import STORAGE_ERRORS, Storage, check_key
from models import (
    Appeal,
    Block,
    Board,
    Collect,
    Comment,
    ContentFilter,
    DataExport,
    ExportStatus,
    Follow,
    Like,
    ModerationAction,
    ModerationActionKind,
    ModerationCase,
    Mute,
    Note,
    NoteProduct,
    NoteTopic,
    NotificationKind,
    Order,
    OrderLine,
    Product,
    ProductVariant,
    Report,
    SubjectKind,
    User,
)
from safety.reports import SUBJECT_TYPES
from social.events import flush_notification_changes, open_notification_outbox
from social.notifications import notify

log = logging.getLogger(__name__)

JOB_BUILD = "safety.export"
FORMAT = "vermilion-data-export"
FORMAT_VERSION = 1
PREFIX = "exports/"
# How long a finished archive can be downloaded.
ARCHIVE_DAYS = 7
# At most one new archive a day per person: an archive is a full read of everything they have.
EXPORT_INTERVAL = timedelta(hours=24)
# A build not finished by then died with its worker (its retries take under a minute): it is failed, so
# the person may ask again.
STALE_BUILD = timedelta(hours=1)
# `viewer.exports` lists this many, newest first; the sweep keeps fewer (one a day, for ARCHIVE_DAYS).
MAX_LISTED = 10
# Archives are personal: no shared cache may keep one.
PRIVATE = "private, no-store"

# Queue bookkeeping, not decisions about the person.
_INTERNAL_ACTIONS = (ModerationActionKind.ASSIGN,)


def archive_key(token: str) -> str:
    """Where an export's archive is stored: under `exports/`, which no public route serves."""
    return check_key(f"{PREFIX}{token}/archive.json")


@dataclass(frozen=True)
class ExportServices:
    """What exports need from the running app: the media storage, the job queue, the key that signs
    download links and the address clients reach this app at."""

    storage: Storage
    jobs: Jobs
    secret: bytes
    base_url: str
    # Where EXPORT_READY notifications are announced to live subscribers (None: nowhere).
    broker: Broker | None = None

    def signature(self, token: str) -> str:
        return hmac.new(self.secret, f"export|{token}".encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, export: DataExport, now: datetime | None = None) -> str | None:
        """The download link of a READY, unexpired export; None otherwise."""
        if not is_downloadable(export, now):
            return None
        return f"{self.base_url}/exports/{export.token}.{self.signature(export.token)}"

    def token_of(self, link: str) -> str | None:
        """The export token a download link's last segment names, when its signature is ours."""
        token, _, signature = link.partition(".")
        if len(token) != 32 or not signature or len(link) > 100:
            return None
        if not hmac.compare_digest(self.signature(token).encode(), signature.encode()):
            return None
        return token

    def register_jobs(self) -> None:
        async def build(export_id: int) -> None:
            await build_export(export_id, storage=self.storage, broker=self.broker)

        self.jobs.register(JOB_BUILD, build)

    async def sweep(self) -> int:
        return await sweep_exports(self.storage)


def export_services(
    settings: Settings, *, storage: Storage, jobs: Jobs, broker: Broker | None = None
) -> ExportServices:
    # A key of its own, derived from the secret key: a link signature can never pass for anything else.
    secret = hmac.new(settings.secret_key.encode(), b"vermilion data exports", hashlib.sha256).digest()
    return ExportServices(
        storage=storage,
        jobs=jobs,
        secret=secret,
        base_url=settings.public_base_url.rstrip("/"),
        broker=broker,
    )


def is_downloadable(export: DataExport, now: datetime | None = None) -> bool:
    return (
        export.status is ExportStatus.READY
        and export.expires_at is not None
        and export.expires_at > (now or datetime.now(UTC))
    )


# --- asking for one ----------------------------------------------------------------------------------------


async def request_export(*, user_id: int, jobs: Jobs, now: datetime | None = None) -> DataExport:
    """Queue an archive of the person's data; the export being built, when one is, is returned instead.
    TOO_MANY when an archive was made in the last EXPORT_INTERVAL (that one is still downloadable)."""
    moment = now or datetime.now(UTC)
    async with in_transaction():
        # The person's row locked first: two requests at once make one export, not two (PostgreSQL; on
        # SQLite, transactions are one at a time anyway).
        await User.select_for_update().filter(id=user_id).first()
        pending = await DataExport.filter(user_id=user_id, status=ExportStatus.PENDING).first()
        if pending is not None:
            return pending
        recent = await (
            DataExport.filter(
                user_id=user_id, status=ExportStatus.READY, created_at__gt=moment - EXPORT_INTERVAL
            )
            .order_by("-id")
            .first()
        )
        if recent is not None:
            raise DomainError(
                ErrorCode.TOO_MANY,
                "One archive a day: yours from "
                f"{recent.created_at:%Y-%m-%d %H:%M} UTC can be downloaded until "
                f"{recent.expires_at:%Y-%m-%d %H:%M} UTC.",
            )
        export = await DataExport.create(user_id=user_id, token=secrets.token_hex(16))
    await jobs.send(JOB_BUILD, export.id)
    return export


async def exports_of(user_id: int) -> list[DataExport]:
    """The person's exports, newest first (the sweep keeps only the live ones)."""
    return await DataExport.filter(user_id=user_id).order_by("-id").limit(MAX_LISTED)


async def downloadable(token: str, now: datetime | None = None) -> DataExport | None:
    """The export a download link names, while it can be downloaded."""
    export = await DataExport.get_or_none(token=token)
    return export if export is not None and is_downloadable(export, now) else None


# --- building it -------------------------------------------------------------------------------------------


async def build_export(
    export_id: int, *, storage: Storage, broker: Broker | None = None, now: datetime | None = None
) -> None:
    """The build job: PENDING → READY with the archive stored, and the person notified. Safe to run twice
    (a retry, a second delivery): only a PENDING export is built, always to the same key."""
    export = await DataExport.get_or_none(id=export_id)
    if export is None or export.status is not ExportStatus.PENDING:
        return
    user = await User.get(id=export.user_id)  # type: ignore[attr-defined]
    if user.deleted_at is not None:
        await DataExport.filter(id=export.id, status=ExportStatus.PENDING).update(status=ExportStatus.FAILED)
        return
    archive = await archive_of(user, media_url=storage.public_url)
    data = orjson.dumps(archive, option=orjson.OPT_INDENT_2)
    key = archive_key(export.token)
    await storage.write(key, data, content_type="application/json", cache_control=PRIVATE)
    ready = now or datetime.now(UTC)
    open_notification_outbox()
    async with in_transaction():
        moved = await DataExport.filter(id=export.id, status=ExportStatus.PENDING).update(
            status=ExportStatus.READY,
            storage_key=key,
            byte_size=len(data),
            ready_at=ready,
            expires_at=ready + timedelta(days=ARCHIVE_DAYS),
        )
        if moved:
            await notify(
                recipient_id=user.id,
                actor_id=None,
                kind=NotificationKind.EXPORT_READY,
                detail=f"export:{export.id}",
            )
    if broker is not None:
        await flush_notification_changes(broker)
    if not moved:  # failed as stale meanwhile: the archive nobody can reach goes
        await _delete_files(storage, [key])


async def sweep_exports(storage: Storage, *, now: datetime | None = None) -> int:
    """Expired archives are deleted with their rows; builds that never finished are failed, and failed
    exports go after ARCHIVE_DAYS. Returns how many archives were deleted."""
    moment = now or datetime.now(UTC)
    await DataExport.filter(status=ExportStatus.PENDING, created_at__lt=moment - STALE_BUILD).update(
        status=ExportStatus.FAILED
    )
    await DataExport.filter(
        status=ExportStatus.FAILED, created_at__lt=moment - timedelta(days=ARCHIVE_DAYS)
    ).delete()
    expired = await DataExport.filter(expires_at__lte=moment).limit(500)
    deleted = 0
    for export in expired:
        # The row first: a download that finds no row answers 404, never a half-deleted file.
        if not await DataExport.filter(id=export.id).delete():
            continue
        deleted += 1
        if export.storage_key:
            await _delete_files(storage, [export.storage_key])
    return deleted


async def delete_exports_of(user_id: int, storage: Storage) -> None:
    """Every export of a person goes, archives included (their account is being removed)."""
    exports = await DataExport.filter(user_id=user_id)
    await DataExport.filter(user_id=user_id).delete()
    await _delete_files(storage, [e.storage_key for e in exports if e.storage_key])


async def _delete_files(storage: Storage, keys: list[str]) -> None:
    if not keys:
        return
    try:
        await storage.delete(*keys)
    except STORAGE_ERRORS as exc:  # the archive is unreachable without its row; logged for a cleanup
        log.warning("could not delete export archives %s: %s", keys, exc)


# --- what the archive holds ---------------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _gid(type_name: str, pk: Any) -> str | None:
    return to_global_id(type_name, pk) if pk is not None else None


def _money(minor_units: int, currency: str) -> dict[str, Any]:
    return {"minorUnits": minor_units, "currency": currency}


def _moderation(row: Note | Comment | Product) -> dict[str, Any]:
    return {"state": row.moderation.value, "reason": row.moderation_reason}


def _media(item: Any, media_url: Callable[[str], str]) -> dict[str, Any]:
    """One media of a note as its row keeps it (media.attach.snapshot), or the URL of an older note."""
    if isinstance(item, str):
        return {"url": item}
    files = {name: media_url(f["key"]) for name, f in (item.get("files") or {}).items() if f.get("key")}
    return {
        "id": _gid("Media", item.get("id")),
        "kind": item.get("kind"),
        "width": item.get("width"),
        "height": item.get("height"),
        "altText": item.get("alt_text") or "",
        "durationSeconds": item.get("duration_seconds"),
        "files": files,
    }


def _grouped(pairs: Iterable[tuple[int, Any]]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


async def archive_of(user: User, *, media_url: Callable[[str], str]) -> dict[str, Any]:
    """Everything about `user`, as plain JSON values (`media_url` turns a storage key into its URL)."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "generatedAt": datetime.now(UTC).isoformat(),
        "profile": _profile(user),
        "notes": await _notes(user.id, media_url),
        "comments": await _comments(user.id),
        "likes": await _likes(user.id),
        "collects": await _collects(user.id),
        "boards": await _boards(user.id),
        "following": await _people(Follow.filter(follower_id=user.id), "followee_id"),
        "followers": await _people(Follow.filter(followee_id=user.id), "follower_id"),
        "blocks": await _people(Block.filter(blocker_id=user.id), "blocked_id"),
        "mutes": await _people(Mute.filter(muter_id=user.id), "muted_id"),
        "filters": await _filters(user.id),
        "products": await _products(user.id),
        "orders": await _orders(user.id),
        "reports": await _reports(user.id),
        "appeals": await _appeals(user.id),
        "moderationActions": await _actions(user.id),
    }


def _profile(user: User) -> dict[str, Any]:
    return {
        "id": _gid("User", user.id),
        "handle": user.handle,
        "email": user.email,
        "displayName": user.display_name,
        "bio": user.bio,
        "avatarUrl": user.avatar_url,
        "languages": list(user.languages or []),
        "interests": list(user.interests or []),
        "role": user.role.value,
        "followerCount": user.follower_count,
        "followingCount": user.following_count,
        "noteCount": user.note_count,
        "likesAndCollectsCount": user.likes_and_collects_count,
        "suspendedUntil": _time(user.suspended_until),
        "suspensionReason": user.suspension_reason,
        "createdAt": _time(user.created_at),
    }


async def _notes(user_id: int, media_url: Callable[[str], str]) -> list[dict[str, Any]]:
    notes = await Note.filter(author_id=user_id, deleted_at=None).order_by("id")
    ids = [n.id for n in notes]
    topics = _grouped(
        await NoteTopic.filter(note_id__in=ids)
        .order_by("note_id", "position")
        .values_list("note_id", "topic__name")
    )
    products = _grouped(
        await NoteProduct.filter(note_id__in=ids)
        .order_by("note_id", "position")
        .values_list("note_id", "product_id")
    )
    return [
        {
            "id": _gid("Note", n.id),
            "kind": n.kind.value,
            "title": n.title,
            "body": n.body,
            "language": n.language,
            "topics": topics.get(n.id, []),
            "products": [_gid("Product", p) for p in products.get(n.id, [])],
            "review": (
                {"product": _gid("Product", n.review_product_id), "rating": n.review_rating}  # type: ignore[attr-defined]
                if n.review_product_id is not None  # type: ignore[attr-defined]
                else None
            ),
            "media": [_media(item, media_url) for item in n.media or []],
            "likeCount": n.like_count,
            "collectCount": n.collect_count,
            "commentCount": n.comment_count,
            "moderation": _moderation(n),
            "createdAt": _time(n.created_at),
            "updatedAt": _time(n.updated_at),
        }
        for n in notes
    ]


async def _comments(user_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": _gid("Comment", c.id),
            "note": _gid("Note", c.note_id),  # type: ignore[attr-defined]
            "replyTo": _gid("Comment", c.reply_to_id),  # type: ignore[attr-defined]
            "body": c.body,
            "moderation": _moderation(c),
            "createdAt": _time(c.created_at),
        }
        for c in await Comment.filter(author_id=user_id, deleted_at=None).order_by("id")
    ]


async def _likes(user_id: int) -> list[dict[str, Any]]:
    rows = await Like.filter(user_id=user_id).order_by("id").values_list("note_id", "created_at")
    return [{"note": _gid("Note", note), "createdAt": _time(at)} for note, at in rows]


async def _collects(user_id: int) -> list[dict[str, Any]]:
    rows = (
        await Collect.filter(user_id=user_id).order_by("id").values_list("note_id", "board_id", "created_at")
    )
    return [
        {"note": _gid("Note", note), "board": _gid("Board", board), "createdAt": _time(at)}
        for note, board, at in rows
    ]


async def _boards(user_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": _gid("Board", b.id),
            "name": b.name,
            "description": b.description,
            "isPrivate": b.is_private,
            "isDefault": b.is_default,
            "noteCount": b.note_count,
            "createdAt": _time(b.created_at),
        }
        for b in await Board.filter(owner_id=user_id).order_by("id")
    ]


async def _people(links: Any, column: str) -> list[dict[str, Any]]:
    """The people at the other end of follow, block or mute rows, with their handles then."""
    rows = await links.order_by("id").values_list(column, "created_at")
    handles = dict(await User.filter(id__in=[r[0] for r in rows]).values_list("id", "handle"))
    return [
        {"user": _gid("User", other), "handle": handles.get(other), "since": _time(at)} for other, at in rows
    ]


async def _filters(user_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": _gid("Filter", f.id),
            "phrase": f.phrase,
            "contexts": list(f.contexts or []),
            "action": f.action.value,
            "expiresAt": _time(f.expires_at),
            "createdAt": _time(f.created_at),
        }
        for f in await ContentFilter.filter(owner_id=user_id).order_by("id")
    ]


async def _products(user_id: int) -> list[dict[str, Any]]:
    products = await Product.filter(merchant_id=user_id).order_by("id")
    variants = _grouped(
        (v.product_id, v)  # type: ignore[attr-defined]
        for v in await ProductVariant.filter(product_id__in=[p.id for p in products]).order_by("id")
    )
    return [
        {
            "id": _gid("Product", p.id),
            "title": p.title,
            "description": p.description,
            "variants": [
                {
                    "sku": v.sku,
                    "name": v.name,
                    "price": _money(v.price_minor_units, v.currency),
                    "stock": v.stock,
                }
                for v in variants.get(p.id, [])
            ],
            "reviewCount": p.review_count,
            "moderation": _moderation(p),
            "createdAt": _time(p.created_at),
        }
        for p in products
    ]


async def _orders(user_id: int) -> list[dict[str, Any]]:
    orders = await Order.filter(buyer_id=user_id).order_by("created_at")
    lines = _grouped(
        (line.order_id, line)  # type: ignore[attr-defined]
        for line in await OrderLine.filter(order_id__in=[o.id for o in orders]).order_by("id")
    )
    return [
        {
            "id": _gid("Order", o.id),
            "status": o.status.value,
            "email": o.email,
            "shippingAddress": dict(o.shipping_address or {}),
            "total": _money(o.total_minor_units, o.currency),
            "paid": _money(o.paid_minor_units, o.currency),
            "refunded": _money(o.refunded_minor_units, o.currency),
            "createdAt": _time(o.created_at),
            "paidAt": _time(o.paid_at),
            "lines": [
                {
                    "product": _gid("Product", line.product_id),  # type: ignore[attr-defined]
                    "productTitle": line.product_title,
                    "variantName": line.variant_name,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unitPrice": _money(line.unit_price_minor_units, o.currency),
                    "sourceNote": _gid("Note", line.source_note_id),  # type: ignore[attr-defined]
                }
                for line in lines.get(o.id, [])  # type: ignore[call-overload]
            ],
        }
        for o in orders
    ]


def _subject(kind: SubjectKind, subject_id: int) -> dict[str, Any]:
    return {"kind": kind.value, "id": _gid(SUBJECT_TYPES[kind], subject_id)}


async def _reports(user_id: int) -> list[dict[str, Any]]:
    reports = await Report.filter(reporter_id=user_id).order_by("id")
    cases = {
        c.id: c
        for c in await ModerationCase.filter(id__in=list({r.case_id for r in reports}))  # type: ignore[attr-defined]
    }
    return [
        {
            "id": _gid("Report", r.id),
            "subject": _subject(case.subject_kind, case.subject_id),
            "category": r.category.value,
            "comment": r.comment,
            "status": r.status.value,
            "outcome": r.outcome.value if r.outcome else None,
            "createdAt": _time(r.created_at),
            "resolvedAt": _time(r.resolved_at),
        }
        for r in reports
        if (case := cases.get(r.case_id)) is not None  # type: ignore[attr-defined]
    ]


async def _appeals(user_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": _gid("Appeal", a.id),
            "action": _gid("ModerationAction", a.action_id),  # type: ignore[attr-defined]
            "text": a.text,
            "status": a.status.value,
            "resolution": a.resolution,
            "createdAt": _time(a.created_at),
            "resolvedAt": _time(a.resolved_at),
        }
        for a in await Appeal.filter(appellant_id=user_id).order_by("id")
    ]


async def _actions(user_id: int) -> list[dict[str, Any]]:
    """The moderation decisions about the person: what and why, never which moderator."""
    actions = (
        await ModerationAction.filter(target_user_id=user_id)
        .exclude(action__in=_INTERNAL_ACTIONS)
        .order_by("id")
    )
    return [
        {
            "id": _gid("ModerationAction", a.id),
            "action": a.action.value,
            "subject": _subject(a.subject_kind, a.subject_id),
            "reason": a.reason,
            "durationDays": a.duration_days,
            "expiresAt": _time(a.expires_at),
            "createdAt": _time(a.created_at),
        }
        for a in actions
    ]
