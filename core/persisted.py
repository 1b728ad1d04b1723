"""Persisted queries: Apollo's Automatic Persisted Queries, and trusted documents for production.

Automatic Persisted Queries (APQ, Apollo's protocol): a client sends only `extensions.persistedQuery
{ version: 1, sha256Hash }`. When the server knows the hash it runs the stored text; otherwise it answers
`PERSISTED_QUERY_NOT_FOUND` (message "PersistedQueryNotFound", what Apollo Client's link waits for) and the
client sends the text with its hash once, which is checked and stored. Stored texts live in Redis when
`VERMILION_REDIS_URL` is set (every worker shares them; they expire after `VERMILION_APQ_TTL_SECONDS`), in
this process otherwise, and in this process too while Redis is unreachable. Short requests by hash can go
over GET, so a CDN can cache public reads.

Trusted documents (`VERMILION_TRUSTED_DOCUMENTS`: a manifest of the operations a frontend was built with,
Apollo's `persisted-query-manifest.json` or a `{hash: text}` object): then only those operations run,
by hash or by text, and anything else is `PERSISTED_QUERY_NOT_IN_LIST`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

from core.errors import RequestCode, RequestRefused
from core.outages import REDIS_ERRORS, Outage, redis_client

log = logging.getLogger(__name__)

# Texts longer than this are run but not stored (nothing a real client sends by hash is this long).
MAX_STORED_CHARS = 20_000
# Texts this process keeps when Redis is not configured or not reachable.
MEMORY_ENTRIES = 2_000
_HEX = frozenset("0123456789abcdef")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


NOT_TRUSTED = "Only the operations this deployment trusts may run here; this one is not among them."
MISMATCH = "The persisted query's sha256Hash does not match its text."
BAD_HASH = "persistedQuery.sha256Hash must be 64 hexadecimal digits."


def load_manifest(path: Path) -> dict[str, str]:
    """{sha256 hash: text} from Apollo's persisted-query manifest or a plain `{hash: text}` object;
    ValueError when a hash does not match its text."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(raw, dict) and isinstance(raw.get("operations"), list):
        entries = {str(op["id"]): str(op["body"]) for op in raw["operations"]}
    elif isinstance(raw, dict):
        entries = {str(key): str(value) for key, value in raw.items()}
    else:
        raise ValueError(f"{path}: not a persisted-query manifest")
    for digest, text in entries.items():
        if sha256_hex(text) != digest.lower():
            raise ValueError(f"{path}: the hash {digest} does not match its operation")
    return {digest.lower(): text for digest, text in entries.items()}


class PersistedQueries:
    """Resolves the text to run for a request's `query` and `extensions` (`resolve`)."""

    def __init__(
        self,
        *,
        redis_url: str | None = None,
        prefix: str = "vermilion",
        ttl_seconds: int = 7 * 24 * 3600,
        trusted: dict[str, str] | None = None,
    ) -> None:
        self.trusted = trusted
        self.ttl_seconds = ttl_seconds
        self._key = f"{prefix}:apq:"
        self._redis = redis_client(redis_url) if redis_url else None
        self._outage = Outage("Redis (persisted queries)")
        self._memory: OrderedDict[str, str] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Any) -> PersistedQueries:
        manifest = settings.trusted_documents
        return cls(
            redis_url=settings.redis_url,
            prefix=settings.rate_limit_prefix,
            ttl_seconds=settings.apq_ttl_seconds,
            trusted=load_manifest(Path(manifest)) if manifest else None,
        )

    async def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        """The text to run; RequestRefused (PERSISTED_QUERY_NOT_FOUND, PERSISTED_QUERY_NOT_IN_LIST,
        BAD_REQUEST) when there is none to run."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if self.trusted is not None and query is not None and sha256_hex(query) not in self.trusted:
                raise RequestRefused(RequestCode.PERSISTED_QUERY_NOT_IN_LIST, NOT_TRUSTED)
            return query
        digest = self._hash_of(persisted)
        if query is not None:
            if sha256_hex(query) != digest:
                raise RequestRefused(
                    RequestCode.BAD_REQUEST, "The persisted query's sha256Hash does not match its text."
                )
            if self.trusted is not None:
                if digest not in self.trusted:
                    raise RequestRefused(RequestCode.PERSISTED_QUERY_NOT_IN_LIST, NOT_TRUSTED)
                return query
            await self._store(digest, query)
            return query
        if self.trusted is not None:
            text = self.trusted.get(digest)
            if text is None:
                raise RequestRefused(RequestCode.PERSISTED_QUERY_NOT_IN_LIST, "PersistedQueryNotInList")
            return text
        text = await self._load(digest)
        if text is None:
            # The message is Apollo's: its persisted-queries link then sends the text with the hash.
            raise RequestRefused(RequestCode.PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
        return text

    @staticmethod
    def _hash_of(persisted: object) -> str:
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise RequestRefused(RequestCode.BAD_REQUEST, "PersistedQueryNotSupported: only version 1 is.")
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or len(digest) != 64 or not set(digest.lower()) <= _HEX:
            raise RequestRefused(
                RequestCode.BAD_REQUEST, "persistedQuery.sha256Hash must be 64 hexadecimal digits."
            )
        return digest.lower()

    async def _store(self, digest: str, text: str) -> None:
        if len(text) > MAX_STORED_CHARS:
            return
        self._remember(digest, text)
        if self._redis is not None and not self._outage.skip():
            try:
                await self._redis.set(self._key + digest, text, ex=self.ttl_seconds)
                self._outage.succeeded()
            except REDIS_ERRORS as exc:
                self._outage.failed(exc)

    async def _load(self, digest: str) -> str | None:
        text = self._memory.get(digest)
        if text is not None:
            self._memory.move_to_end(digest)
            return text
        if self._redis is None or self._outage.skip():
            return None
        try:
            stored = await self._redis.get(self._key + digest)
            self._outage.succeeded()
        except REDIS_ERRORS as exc:
            self._outage.failed(exc)
            return None
        if stored is None:
            return None
        text = stored.decode() if isinstance(stored, bytes) else str(stored)
        self._remember(digest, text)
        return text

    def _remember(self, digest: str, text: str) -> None:
        self._memory[digest] = text
        self._memory.move_to_end(digest)
        if len(self._memory) > MEMORY_ENTRIES:
            self._memory.popitem(last=False)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
