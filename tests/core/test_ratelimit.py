"""The client's address behind trusted proxies, IPv6 counted per /64, and the limiter's rules on memory
storage and on an unreachable Redis (fail open)."""

from __future__ import annotations

import logging
import uuid

import pytest
from limits.aio.storage import MemoryStorage

from core.clientip import UNKNOWN, client_address, parse_networks, rate_key
from core.errors import RequestRefused
from core.ratelimit import Action, Client, RateLimiter
from core.settings import Settings

PROXIES = parse_networks("10.0.0.1, 10.1.0.0/16, fd00::/8")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        pytest.param("203.0.113.7", None, "203.0.113.7", id="the socket peer"),
        pytest.param(
            "203.0.113.7", "1.2.3.4", "203.0.113.7", id="a header from an untrusted peer is ignored"
        ),
        pytest.param("10.0.0.1", "198.51.100.9", "198.51.100.9", id="a trusted proxy's header is believed"),
        pytest.param(
            "10.0.0.1",
            "6.6.6.6, 198.51.100.9, 10.1.2.3",
            "198.51.100.9",
            id="the first untrusted from the right",
        ),
        pytest.param("10.0.0.1", "10.1.0.5, 10.1.0.6", "10.1.0.5", id="all trusted: the farthest hop"),
        pytest.param(
            "10.0.0.1", "garbage, 198.51.100.9", "198.51.100.9", id="spoofed entries left of the client"
        ),
        pytest.param("10.0.0.1", "198.51.100.9, garbage", "10.0.0.1", id="a garbled hop: the proxy itself"),
        pytest.param("10.0.0.1", "", "10.0.0.1", id="a proxy without a header"),
        pytest.param("fd00::5", "[2001:db8::1]:443", "2001:db8::1", id="IPv6 proxy and bracketed client"),
        pytest.param("10.0.0.1", "198.51.100.9:5000", "198.51.100.9", id="an IPv4 hop with a port"),
        pytest.param("::ffff:203.0.113.7", None, "203.0.113.7", id="an IPv4-mapped peer"),
        pytest.param(None, "1.2.3.4", UNKNOWN, id="no socket address"),
    ],
)
def test_client_address(peer: str | None, forwarded_for: str | None, client: str) -> None:
    assert client_address(peer, forwarded_for, PROXIES) == client


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_address("10.0.0.1", "198.51.100.9", ()) == "10.0.0.1"


def test_ipv6_is_counted_per_64_and_ipv4_per_address() -> None:
    assert rate_key("2001:db8:1:2:aaaa::1") == rate_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert rate_key("2001:db8:1:3::1") != rate_key("2001:db8:1:2::1")
    assert rate_key("198.51.100.9") == "198.51.100.9"
    assert rate_key("198.51.100.9") != rate_key("198.51.100.10")


def test_a_malformed_trusted_proxy_is_refused() -> None:
    with pytest.raises(ValueError, match="not-an-ip"):
        parse_networks("10.0.0.1, not-an-ip")


def limiter(**overrides: object) -> RateLimiter:
    return RateLimiter.from_settings(
        Settings(VERMILION_RATE_LIMIT_PREFIX=uuid.uuid4().hex, **overrides)  # type: ignore[arg-type]
    )


async def test_a_throttle_refuses_past_its_count_with_a_retry_time() -> None:
    rules = limiter(VERMILION_SIGN_IN_LIMITS_PER_EMAIL="3/5minutes")
    for _ in range(3):
        await rules.check(Action.SIGN_IN, email="Ann@Example.com", ip="198.51.100.1")

    with pytest.raises(RequestRefused) as refused:
        await rules.check(Action.SIGN_IN, email=" ann@example.com", ip="198.51.100.2")

    assert refused.value.http_status == 429
    assert refused.value.extensions["code"] == "RATE_LIMITED"
    retry = refused.value.extensions["retryAfterSeconds"]
    assert isinstance(retry, int) and 1 <= retry <= 300
    assert refused.value.headers == {"Retry-After": str(retry)}
    # Another email from the same addresses is not concerned.
    await rules.check(Action.SIGN_IN, email="bob@example.com", ip="198.51.100.1")


async def test_the_cost_bucket_is_drawn_down_and_refuses_when_spent() -> None:
    rules = limiter(VERMILION_COST_BUCKET_SIZE=100, VERMILION_COST_RESTORE_RATE_ANONYMOUS=1)
    anonymous = Client(user_id=None, ip="198.51.100.1")

    first = await rules.charge_cost(anonymous, 40)
    second = await rules.charge_cost(anonymous, 40)
    with pytest.raises(RequestRefused) as refused:
        await rules.charge_cost(anonymous, 40)

    assert (first.maximum_available, first.restore_rate) == (100, 1)
    assert 60 <= first.currently_available <= 61 and 20 <= second.currently_available <= 21
    assert refused.value.extensions["code"] == "RATE_LIMITED"
    # A signed-in user from the same address has a bucket of their own.
    assert (await rules.charge_cost(Client(user_id=7, ip="198.51.100.1"), 40)).currently_available >= 60


async def test_write_points_add_up_per_client() -> None:
    rules = limiter(VERMILION_WRITE_LIMITS="4/hour;100/day")
    user = Client(user_id=1, ip="198.51.100.1")
    await rules.charge_writes(user, 3)
    with pytest.raises(RequestRefused):
        await rules.charge_writes(user, 3)
    await rules.charge_writes(user, 1)  # the refused write took nothing
    await rules.charge_writes(Client(user_id=2, ip="198.51.100.1"), 3)


async def test_an_unreachable_redis_fails_open_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    rules = limiter(VERMILION_REDIS_URL="redis://127.0.0.1:9/0", VERMILION_SIGN_IN_LIMITS_PER_EMAIL="1/hour")
    caplog.set_level(logging.WARNING, logger="vermilion.ratelimit")
    client = Client(user_id=None, ip="198.51.100.1")

    for _ in range(3):
        await rules.check(Action.SIGN_IN, email="ann@example.com", ip="198.51.100.1")
    status = await rules.charge_cost(client, 1999)
    await rules.charge_writes(client, 10_000)

    assert status.currently_available == status.maximum_available == 2000
    assert any("not enforced" in r.getMessage() for r in caplog.records)
    await rules.close()


class CountingStorage(MemoryStorage):
    """Memory storage that counts increments: the round trips a Redis storage would make."""

    def __init__(self) -> None:
        super().__init__()
        self.increments = 0

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        self.increments += 1
        return await super().incr(key, expiry, amount)


def worker(storage: CountingStorage, *, size: int = 2000) -> RateLimiter:
    """One worker's limiter over a storage shared with others (as Redis is)."""
    settings = Settings(VERMILION_COST_BUCKET_SIZE=size)  # type: ignore[call-arg]
    built = RateLimiter.from_settings(settings)
    built.storage = storage
    return built


async def test_a_busy_client_is_charged_ahead_with_fewer_round_trips_and_exact_status() -> None:
    storage = CountingStorage()
    rules = worker(storage)
    client = Client(user_id=None, ip="198.51.100.1")

    statuses = [(await rules.charge_cost(client, 25)).currently_available for _ in range(40)]

    # One worker's status is exact: every request spent 25 of 2,000 points.
    assert statuses == [2000 - 25 * n for n in range(1, 41)]
    # Grants of 25, 50, then 100 points (1/20 of the bucket): 12 increments, not 40.
    assert storage.increments == 12


async def test_an_occasional_client_is_charged_exactly() -> None:
    storage = CountingStorage()
    rules = worker(storage)
    client = Client(user_id=3, ip="198.51.100.1")
    key = rules._bucket(client)[0].key_for(rules.prefix, "cost", client.key)

    await rules.charge_cost(client, 30)
    rules._leases[key].until = 0  # the client paused longer than a lease lives
    await rules.charge_cost(client, 30)

    assert await storage.get(key) == 60


async def test_workers_sharing_a_bucket_never_spend_more_than_it_holds() -> None:
    storage = CountingStorage()
    workers = [worker(storage, size=1000), worker(storage, size=1000)]
    client = Client(user_id=None, ip="198.51.100.1")
    served = 0
    for turn in range(200):
        try:
            await workers[turn % 2].charge_cost(client, 10)
            served += 1
        except RequestRefused as refused:
            assert refused.extensions["code"] == "RATE_LIMITED"

    # Never more than the bucket, and refused early by at most one grant (50 points) per worker.
    assert 1000 - 2 * 50 <= served * 10 <= 1000
    key = workers[0]._bucket(client)[0].key_for(workers[0].prefix, "cost", client.key)
    assert await storage.get(key) <= 1000


async def test_one_worker_alone_is_refused_exactly_when_the_bucket_is_spent() -> None:
    storage = CountingStorage()
    rules = worker(storage, size=200)  # grants of at most 10 points
    client = Client(user_id=None, ip="198.51.100.1")
    key = rules._bucket(client)[0].key_for(rules.prefix, "cost", client.key)

    statuses = []
    with pytest.raises(RequestRefused):
        while True:
            statuses.append((await rules.charge_cost(client, 7)).currently_available)

    # One worker alone is exact: 28 requests of 7 fit in 200, the 4 points left are not enough.
    assert len(statuses) == 28 and statuses[-1] == 4
    # The refused request's grant went back: the count is what was spent plus what this worker holds.
    assert await storage.get(key) == 196 + rules._leases[key].points <= 200


async def test_a_grant_that_only_partly_fits_gives_the_rest_back() -> None:
    storage = CountingStorage()
    rules = worker(storage)
    client = Client(user_id=None, ip="198.51.100.1")
    item = rules._bucket(client)[0]
    key = item.key_for(rules.prefix, "cost", client.key)
    await storage.incr(key, item.get_expiry(), 1900)  # other workers spent 1,900

    statuses = [(await rules.charge_cost(client, 25)).currently_available for _ in range(4)]
    with pytest.raises(RequestRefused):
        await rules.charge_cost(client, 25)

    # Grants of 25, 50 and 100: only 25 of the last fitted, the other 75 went back.
    assert statuses == [75, 50, 25, 0]
    assert await storage.get(key) == 2000
