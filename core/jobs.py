"""Background jobs on taskiq: the same async functions run in this process on the embedded default and
from a Redis stream in production, retried with exponential backoff when they raise.

- Without Redis: taskiq's InMemoryBroker runs a job as a task of this process as soon as it is sent
  (after the sending transaction has committed), never inside the request that sent it.
- With Redis: jobs go to a Redis stream (taskiq-redis, consumer group, acknowledged when done, so a
  worker that dies mid-job leaves it to another). Server processes consume it too unless
  `VERMILION_JOBS_IN_PROCESS=false`; `vermilion worker` consumes it on machines of its own.

A job must be idempotent: a retry, or a second delivery after a crash, runs it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from taskiq import AsyncBroker, InMemoryBroker, SmartRetryMiddleware
from taskiq.api import run_receiver_task
from taskiq.kicker import AsyncKicker
from taskiq.message import TaskiqMessage
from taskiq_redis import RedisStreamBroker

log = logging.getLogger(__name__)

# Retries after the first run: 1 s, 2 s, 4 s, 8 s, 16 s (with jitter), then the job is given up.
RETRIES = 5
FIRST_DELAY_SECONDS = 1.0
STREAM = "vermilion:jobs"
CONSUMER_GROUP = "vermilion"
STREAM_LENGTH = 100_000


class _RetryAfterDelay(SmartRetryMiddleware):
    """taskiq's retry middleware, with its delays kept."""

    def make_delay(self, message: TaskiqMessage, retries: int) -> float:
        # Doubling from the first delay (taskiq multiplies the last retry's delay by the retry number).
        delay = min(self.default_delay * 2 ** (retries - 1), self.max_delay_exponent)
        return delay + random.random() if self.use_jitter else delay

    async def on_send(self, kicker: AsyncKicker[Any, Any], message: TaskiqMessage, delay: float) -> None:
        # Without a schedule source taskiq only labels the retry with its delay, a label no broker reads: the
        # retry ran at once. Waiting here (in one of the worker's job slots) keeps the failed message
        # unacknowledged until its retry is queued, so a worker stopped meanwhile leaves it to redelivery.
        await asyncio.sleep(delay)
        await super().on_send(kicker, message, delay)


def retry_middleware() -> SmartRetryMiddleware:
    return _RetryAfterDelay(
        # Every job is retried: the worker decides, as messages carry no labels (`send` names the job only).
        default_retry_label=True,
        # taskiq counts the first run among its retries.
        default_retry_count=RETRIES + 1,
        default_delay=FIRST_DELAY_SECONDS,
        use_jitter=True,
        use_delay_exponent=True,
        max_delay_exponent=60,
    )


class Jobs:
    """The app's job queue: `register` job functions once, `send` them by name, `start`/`stop` with the
    app."""

    def __init__(self, broker: AsyncBroker, *, consume: bool) -> None:
        self.broker = broker
        # Whether this process runs jobs from a Redis stream (the in-memory broker always runs its own).
        self.consume = consume and not isinstance(broker, InMemoryBroker)
        self._receiver: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, redis_url: str | None, *, in_process: bool) -> Jobs:
        if redis_url is None:
            return cls(InMemoryBroker().with_middlewares(retry_middleware()), consume=True)
        broker = RedisStreamBroker(
            redis_url,
            queue_name=STREAM,
            consumer_group_name=CONSUMER_GROUP,
            # The group is made by the first process that starts; from the stream's beginning, so jobs
            # queued before any consumer existed are run too.
            consumer_id="0",
            # Done jobs stay in the stream until trimmed: keep about the last STREAM_LENGTH.
            maxlen=STREAM_LENGTH,
            approximate=True,
        ).with_middlewares(retry_middleware())
        return cls(broker, consume=in_process)

    def register(self, name: str, function: Callable[..., Awaitable[Any]]) -> None:
        self.broker.register_task(function, task_name=name)

    async def send(self, name: str, *args: Any) -> None:
        """Queue the job `name` with `args` (JSON-serialisable). Call it after the transaction that made
        the job's work visible has committed."""
        await AsyncKicker(task_name=name, broker=self.broker, labels={}).kiq(*args)

    async def start(self) -> None:
        await self.broker.startup()
        if self.consume:
            self._receiver = asyncio.create_task(
                run_receiver_task(self.broker, run_startup=False, max_async_tasks=4)
            )

    async def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._receiver
            self._receiver = None
        await self.broker.shutdown()
