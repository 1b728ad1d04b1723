"""The subscription broker: bounded fan-out in-process and across processes through Redis."""

from __future__ import annotations

import asyncio
import os
import uuid

from core.pubsub import QUEUE_SIZE, LocalBroker, RedisBroker

REDIS_URL = os.environ.get("VERMILION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def test_local_broker_delivers_to_every_subscriber_and_drops_the_oldest_when_full() -> None:
    broker = LocalBroker()
    async with broker.subscribe("c") as slow, broker.subscribe("c") as other:
        for i in range(QUEUE_SIZE + 50):
            await broker.publish("c", {"i": i})
        await broker.publish("elsewhere", {"i": -1})
        received = [(await anext(slow))["i"] for _ in range(QUEUE_SIZE)]
        assert received == list(range(50, QUEUE_SIZE + 50))
        assert (await anext(other))["i"] == 50
    await broker.publish("c", {"i": 0})  # no subscribers left: nothing is kept
    assert broker._queues == {}


async def test_redis_broker_carries_events_between_two_brokers() -> None:
    # Two brokers stand for two worker processes: each has its own Redis connections.
    listener, publisher = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
    channel = f"vermilion:test:{uuid.uuid4().hex}"
    try:
        async with listener.subscribe(channel) as events:
            await asyncio.sleep(0.05)  # let SUBSCRIBE reach Redis before publishing
            await publisher.publish(channel, {"likeCount": 3, "text": "赞"})
            assert await asyncio.wait_for(anext(events), 5) == {"likeCount": 3, "text": "赞"}
        assert channel not in listener._queues
    finally:
        await listener.close()
        await publisher.close()
