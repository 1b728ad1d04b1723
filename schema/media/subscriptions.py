"""Live processing status: a client that sent a file learns the moment it is READY (or FAILED)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from core.ids import decode_global_id
from media.service import media_status_channel, own_media
from models.media import Media, MediaStatus
from schema.context import Info
from schema.media.types import MediaType

_SETTLED = (MediaStatus.READY, MediaStatus.FAILED)


@strawberry.type
class MediaSubscription:
    @strawberry.subscription(
        description="Your media now, then again at each status change until READY or FAILED, then the "
        "subscription ends. Polling `node(id)` gives the same answer."
    )
    async def media_status(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="A Media id of yours; anyone else's ends the subscription with NOT_FOUND."
            ),
        ],
    ) -> AsyncGenerator[MediaType, None]:
        viewer = info.context.require_viewer_id()
        pk = decode_global_id(id, "Media", "id")
        async with info.context.broker.subscribe(media_status_channel(pk)) as events:
            media = await own_media(viewer, pk)
            yield MediaType.from_row(media)
            last = media.status
            if last in _SETTLED:
                return
            async for _ in events:
                current = await Media.get_or_none(id=pk)
                if current is None:
                    return
                if current.status is not last:
                    last = current.status
                    yield MediaType.from_row(current)
                if last in _SETTLED:
                    return
