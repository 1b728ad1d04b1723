"""Rate limits: the cost bucket, write budgets and the account throttles (figures in SECURITY.md).

Counts live in Redis when `VERMILION_REDIS_URL` is set, so every worker draws from the same budgets, and
in this process otherwise. They are kept by the `limits` library:

- the cost bucket (Shopify's leaky bucket: 2,000 points, restoring 100/s signed in, 50/s anonymous) is a
  fixed window of `size` points per `size / rate` seconds (all points restored when it ends), counted
  with atomic increments; each request is charged its requested cost. A worker takes a busy client's
  points a few requests ahead (`_Lease`), so that a client sending many requests costs one storage
  round trip per several requests instead of one each;
- write budgets (Bluesky's points per action, per hour and per day) are sliding-window counters too;
- sign-in, sign-up and password-reset throttles are exact moving windows (few hits per window).

Over a limit, `RequestRefused(RATE_LIMITED, retryAfterSeconds=…)` with HTTP 429 and `Retry-After`.
When the storage is unreachable the limits fail open: a request is never refused because Redis is down
(a warning is logged, and the storage is left alone for a few seconds so requests don't wait on it).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import redis.asyncio as redis
from limits import RateLimitItem, RateLimitItemPerSecond, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from core.clientip import rate_key
from core.errors import RequestCode, RequestRefused
from core.settings import Settings

log = logging.getLogger("vermilion.ratelimit")

T = TypeVar("T")

# After a storage failure, requests skip the storage (and are not limited) for this long.
OUTAGE_PAUSE_SECONDS = 5.0
# A Redis that accepts connections but does not answer must not hold requests for long.
REDIS_TIMEOUT_SECONDS = 0.5
# Points a worker took from a client's bucket in advance are spent within this long, or forfeited.
LEASE_SECONDS = 1.0
# A grant in advance is at most this share of the bucket (1/20: 100 of 2,000 points).
LEASE_SHARE = 20
# Clients whose advance this worker remembers (least recently charged forgotten first).
MAX_LEASES = 10_000


class Action(StrEnum):
    """Account actions throttled per email and per IP, whatever the outcome of each attempt."""

    SIGN_IN = "sign_in"
    SIGN_UP = "sign_up"
    PASSWORD_RESET = "password_reset"
    MEDIA_UPLOAD = "media_upload"
    REPORT = "report"
    # Moderators' own decisions, tiered: an admin's limit is its own action.
    MODERATE = "moderate"
    MODERATE_AS_ADMIN = "moderate_as_admin"


@dataclass(frozen=True)
class Client:
    """Whom a request is counted against: the signed-in user, else the client's address."""

    user_id: int | None
    ip: str

    @property
    def key(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else f"ip:{rate_key(self.ip)}"


@dataclass(frozen=True)
class ThrottleStatus:
    """The cost bucket of one client after a request (`extensions.cost.throttleStatus`)."""

    maximum_available: int
    currently_available: int
    restore_rate: int


@dataclass
class _Lease:
    """Points of one client's bucket that this worker took from the shared count and has not spent yet.

    The first request of a client takes exactly its cost. While the client keeps sending (its lease is
    live when the next request finds it short), each new grant doubles, up to 1/LEASE_SHARE of the
    bucket, and the requests in between are served from the points in hand without a round trip. So a
    client sending one request now and then is counted exactly; a busy one is refused at most one grant
    per worker early (points held by another worker), and forfeits at most one grant when it stops."""

    points: int  # taken from the shared count, not yet spent
    used: int  # the shared count after the last grant (what the status reports, with `points`)
    grant: int  # the size of the last grant
    until: float  # monotonic time after which `points` are forfeited


def rate_limited(retry_after: float, what: str) -> RequestRefused:
    """The refusal clients get over any limit: RATE_LIMITED, HTTP 429 and Retry-After in seconds."""
    seconds = max(1, math.ceil(retry_after))
    refusal = RequestRefused(
        RequestCode.RATE_LIMITED,
        f"Too many {what}; try again in {seconds} seconds.",
        http_status=429,
        retryAfterSeconds=seconds,
    )
    refusal.headers["Retry-After"] = str(seconds)
    return refusal


def _email_key(email: str) -> str:
    # Hashed: keys stay short whatever was typed, and Redis holds no addresses.
    return hashlib.sha256(email.strip().casefold().encode("utf-8", "surrogatepass")).hexdigest()[:32]


class RateLimiter:
    """Every limit of SECURITY.md, on one storage; built once per app (`from_settings`)."""

    def __init__(
        self,
        storage: Storage,
        *,
        prefix: str,
        bucket_size: int,
        restore_rate: int,
        restore_rate_anonymous: int,
        write_limits: Sequence[RateLimitItem],
        throttles: dict[tuple[Action, str], Sequence[RateLimitItem]],
        pool: redis.ConnectionPool | None = None,
    ) -> None:
        self.storage = storage
        self.prefix = prefix
        self.bucket_size = bucket_size
        self.restore_rate = restore_rate
        self.restore_rate_anonymous = restore_rate_anonymous
        self.write_limits = list(write_limits)
        self.throttles = {scope: list(items) for scope, items in throttles.items()}
        self._sliding = SlidingWindowCounterRateLimiter(storage)
        self._moving = MovingWindowRateLimiter(storage)
        self._pool = pool
        self._paused_until = 0.0
        self._leases: OrderedDict[str, _Lease] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        """Redis storage when `VERMILION_REDIS_URL` is set, else memory; malformed limits raise ValueError."""
        pool: redis.ConnectionPool | None = None
        storage: Storage
        if settings.redis_url:
            pool = redis.ConnectionPool.from_url(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            storage = RedisStorage(
                f"async+{settings.redis_url}",
                implementation="redispy",
                wrap_exceptions=True,
                connection_pool=pool,  # type: ignore[arg-type]  # ours, so that close() can end it
            )
        else:
            storage = MemoryStorage()
        return cls(
            storage,
            prefix=settings.rate_limit_prefix,
            bucket_size=settings.cost_bucket_size,
            restore_rate=settings.cost_restore_rate,
            restore_rate_anonymous=settings.cost_restore_rate_anonymous,
            write_limits=parse_many(settings.write_limits),
            throttles={
                (Action.SIGN_IN, "email"): parse_many(settings.sign_in_limits_per_email),
                (Action.SIGN_IN, "ip"): parse_many(settings.sign_in_limits_per_ip),
                (Action.SIGN_UP, "ip"): parse_many(settings.sign_up_limits_per_ip),
                (Action.PASSWORD_RESET, "email"): parse_many(settings.password_reset_limits_per_email),
                (Action.PASSWORD_RESET, "ip"): parse_many(settings.password_reset_limits_per_ip),
                (Action.MEDIA_UPLOAD, "user"): parse_many(settings.media_upload_limits_per_user),
                (Action.REPORT, "user"): parse_many(settings.report_limits_per_user),
                (Action.MODERATE, "user"): parse_many(settings.moderation_limits_per_moderator),
                (Action.MODERATE_AS_ADMIN, "user"): parse_many(settings.moderation_limits_per_admin),
            },
            pool=pool,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    # --- Account throttles -------------------------------------------------------------------------

    async def check(
        self, action: Action, *, email: str | None = None, ip: str | None = None, user_id: int | None = None
    ) -> None:
        """Count one attempt of `action` against its email, IP and user limits; RATE_LIMITED when over any.

        Every attempt counts, allowed or not (as Rack::Attack counts), so hammering a refused email
        keeps it refused."""
        keys = {
            "email": _email_key(email) if email is not None else None,
            "ip": rate_key(ip) if ip else None,
            "user": str(user_id) if user_id is not None else None,
        }
        retry_after = 0.0
        for scope, key in keys.items():
            if key is None:
                continue
            for item in self.throttles.get((action, scope), ()):
                ids = (self.prefix, action.value, scope, key)
                if not await self._guarded(self._moving.hit(item, *ids), True):
                    stats = await self._guarded(self._moving.get_window_stats(item, *ids), None)
                    wait = stats.reset_time - time.time() if stats else item.get_expiry()
                    retry_after = max(retry_after, wait)
        if retry_after:
            raise rate_limited(retry_after, "attempts")

    # --- The cost bucket ---------------------------------------------------------------------------

    def _bucket(self, client: Client) -> tuple[RateLimitItem, int]:
        rate = self.restore_rate if client.user_id is not None else self.restore_rate_anonymous
        return RateLimitItemPerSecond(self.bucket_size, max(1, math.ceil(self.bucket_size / rate))), rate

    async def charge_cost(self, client: Client, cost: int) -> ThrottleStatus:
        """Take `cost` points from the client's bucket; RATE_LIMITED when it holds fewer.

        The bucket is a fixed window of `size` points per `size / rate` seconds, counted by an atomic
        INCRBY that sets the window's expiry. A round trip per request costs ~10 % of a small query's
        throughput when Redis holds the counts (bench/results/overhead.md), so points are taken ahead
        for a busy client (`_Lease`) and the requests in between are charged in this worker."""
        item, rate = self._bucket(client)
        key = item.key_for(self.prefix, "cost", client.key)
        now = time.monotonic()
        lease = self._live_lease(key, now)
        if lease is not None and lease.points >= cost:
            lease.points -= cost
            return ThrottleStatus(item.amount, max(0, item.amount - lease.used + lease.points), rate)
        grant = cost
        if lease is not None:  # a busy client: take more ahead, up to the cap
            grant = max(cost, min(2 * lease.grant, item.amount // LEASE_SHARE))
        used = await self._guarded(self.storage.incr(key, item.get_expiry(), amount=grant), 0)
        fits = grant - max(0, min(grant, used - item.amount))
        # Read again: another request of this client may have renewed the lease during the round trip.
        lease = self._live_lease(key, time.monotonic())
        held = lease.points if lease is not None else 0
        if held + fits < cost:
            # A refused request spends nothing: everything this grant took goes back.
            await self._guarded(self.storage.incr(key, item.get_expiry(), amount=-grant), 0)
            expires_at = await self._guarded(self.storage.get_expiry(key), time.time() + 1.0)
            raise rate_limited(expires_at - time.time(), "requests: the query cost budget is spent")
        if fits < grant:  # only part of the grant fits in the bucket: the rest goes back
            used = item.amount
            await self._guarded(self.storage.incr(key, item.get_expiry(), amount=fits - grant), 0)
        lease = _Lease(points=held + fits - cost, used=used, grant=grant, until=now + LEASE_SECONDS)
        self._leases[key] = lease
        self._leases.move_to_end(key)
        if len(self._leases) > MAX_LEASES:
            self._leases.popitem(last=False)
        return ThrottleStatus(item.amount, max(0, item.amount - used + lease.points), rate)

    def _live_lease(self, key: str, now: float) -> _Lease | None:
        lease = self._leases.get(key)
        return lease if lease is not None and lease.until > now else None

    async def cost_status(self, client: Client) -> ThrottleStatus:
        """The client's bucket without charging it (responses to requests that did not run)."""
        item, rate = self._bucket(client)
        used = await self._guarded(self.storage.get(item.key_for(self.prefix, "cost", client.key)), 0)
        return ThrottleStatus(item.amount, max(0, item.amount - used), rate)

    # --- Write budgets -----------------------------------------------------------------------------

    async def charge_writes(self, client: Client, points: int) -> None:
        """Take `points` from every write budget of the client; RATE_LIMITED when one would overflow."""
        if points <= 0:
            return
        ids = (self.prefix, "writes", client.key)
        for item in self.write_limits:
            if not await self._guarded(self._sliding.test(item, *ids, cost=points), True):
                stats = await self._guarded(self._sliding.get_window_stats(item, *ids), None)
                wait = stats.reset_time - time.time() if stats else item.get_expiry()
                raise rate_limited(wait, "writes")
        for item in self.write_limits:
            await self._guarded(self._sliding.hit(item, *ids, cost=points), True)

    # --- Failing open ------------------------------------------------------------------------------

    async def _guarded(self, operation: Coroutine[Any, Any, T], fallback: T) -> T:
        """The operation's answer, or `fallback` (as if within the limits) when the storage fails."""
        if time.monotonic() < self._paused_until:
            operation.close()
            return fallback
        try:
            return await operation
        except (StorageError, redis.RedisError, OSError, TimeoutError) as exc:
            self._paused_until = time.monotonic() + OUTAGE_PAUSE_SECONDS
            log.warning(
                "Rate-limit storage unreachable (%s); limits are not enforced for the next %g s",
                exc,
                OUTAGE_PAUSE_SECONDS,
            )
            return fallback
