"""The media routes of local storage (the embedded default): the app plays the part S3 plays in production.

- `PUT /media/upload/{key}?expires&size&type&signature`: the upload URL mediaUploadCreate signed. The body
  is the file, streamed to disk, never more than the size signed for (413); the signature, its expiry (403)
  and the Content-Type signed for (415) are checked first. Nothing is written for a refused request.
- `GET /media/files/{key}`: processed files only (the `media/` prefix), with a year of caching: a processed
  file never changes. Unfinished uploads (`uploads/`) are never served.
"""

from __future__ import annotations

import mimetypes

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from media.service import IMMUTABLE, MediaServices
from media.storage import LocalStorage, UploadRefused

PROCESSED_PREFIX = "media/"


def _local(request: Request) -> LocalStorage | None:
    services: MediaServices | None = getattr(request.app.state, "media", None)
    storage = services.storage if services else None
    return storage if isinstance(storage, LocalStorage) else None


def _refused(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def upload(request: Request) -> Response:
    storage = _local(request)
    if storage is None:
        return _refused(404, "uploads go to the storage service this server is configured with")
    key = request.path_params["key"]
    try:
        grant = storage.verify_upload(key, request.query_params)
    except UploadRefused as refused:
        return _refused(403, str(refused.reason))
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if declared != grant.content_type:
        return _refused(415, f"send the file with Content-Type: {grant.content_type}")
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > grant.byte_size):
        return _refused(413, f"the upload was signed for {grant.byte_size} bytes")
    try:
        written = await storage.write_stream(key, request.stream(), max_bytes=grant.byte_size)
    except UploadRefused as refused:
        return _refused(413, str(refused.reason))
    return JSONResponse({"key": key, "size": written}, status_code=200)


async def file(request: Request) -> Response:
    storage = _local(request)
    key = request.path_params["key"]
    path = storage.file_path(key) if storage is not None and key.startswith(PROCESSED_PREFIX) else None
    if path is None:
        return Response(status_code=404)
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=content_type, headers={"Cache-Control": IMMUTABLE})
