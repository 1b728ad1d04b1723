"""`GET /exports/{link}`: the download of a person's data archive (safety/export.py).

The link is the export's random token and its signature (`ExportServices.url`); it works for whoever holds
it while the archive lasts, and answers 404 for anything else — a forged or altered link, another token,
an archive not ready, expired or swept — without saying which. Archives live under `exports/`, which the
public media route never serves; here they are streamed from the storage (a local file as it is, an S3
object through a temporary file), never cached by anyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from media.storage import STORAGE_ERRORS, LocalStorage
from safety.export import PRIVATE, ExportServices, downloadable


def _not_found() -> Response:
    return Response(status_code=404, headers={"Cache-Control": PRIVATE})


async def download(request: Request) -> Response:
    services: ExportServices | None = getattr(request.app.state, "exports", None)
    if services is None:
        return _not_found()
    token = services.token_of(request.path_params["link"])
    export = await downloadable(token) if token is not None else None
    if export is None or export.storage_key is None:
        return _not_found()
    headers = {
        "Cache-Control": PRIVATE,
        "Content-Disposition": f'attachment; filename="vermilion-data-{export.created_at:%Y-%m-%d}.json"',
        "X-Content-Type-Options": "nosniff",
    }
    storage = services.storage
    if isinstance(storage, LocalStorage):
        path = storage.file_path(export.storage_key)
        if path is None:
            return _not_found()
        return FileResponse(path, media_type="application/json", headers=headers)
    temporary = await asyncio.to_thread(_temporary_file)
    try:
        await storage.download_to(export.storage_key, temporary)
    except FileNotFoundError:
        await asyncio.to_thread(_remove, temporary)
        return _not_found()
    except STORAGE_ERRORS:
        await asyncio.to_thread(_remove, temporary)
        return Response(
            "Storage cannot be reached right now; try again shortly.",
            status_code=503,
            headers={"Retry-After": "5", "Cache-Control": PRIVATE},
        )
    return FileResponse(
        temporary,
        media_type="application/json",
        headers=headers,
        background=BackgroundTask(_remove, temporary),
    )


def _temporary_file() -> Path:
    handle, name = tempfile.mkstemp(prefix="vermilion-export-", suffix=".json")
    os.close(handle)
    return Path(name)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
