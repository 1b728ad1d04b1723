"""Password hashing with Argon2id (argon2-cffi's recommended parameters), off the event loop.

One hash or verification costs ≈ 0.4 s of CPU and holds 64 MiB while it runs: on the event loop it would
stall every other request of the worker for that long. `in_password_thread` runs it on a pool of its own,
so a burst of sign-ins queues there instead of taking the default executor. By default that pool is
threads (argon2-cffi releases the GIL); the server switches it to processes of its own
(`use_processes`, VERMILION_PASSWORD_PROCESSES), so that the 64 MiB of each hash are never a web worker's
memory (a worker's peak went from 175 to its steady ≈ 140 MB on the 1× world). Callers never hold a
database transaction while they wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")

log = logging.getLogger(__name__)

THREAD_NAME_PREFIX = "vermilion-argon2"
_hasher = PasswordHasher()
_threads = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix=THREAD_NAME_PREFIX)
_executor: Executor = _threads
_processes = 0
# Verified against when the email is unknown, so both failures take the same time. Written out rather than
# hashed at import: a hash holds 64 MiB while it runs, which set every worker's peak memory at start-up.
# Its parameters must be the hasher's (tests/social/test_passwords_rules.py checks).
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$2g3+2TgXoXb/sPw8mfFtHw$IXCh3FKB6n3bigBsn+rJCTnG4OUIqa8Q+5KQnoLX9Xo"
)


def hash_password(password: str) -> str:
    """The Argon2id hash of `password` (blocking: call it through `in_password_thread`)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash, spends the same time and returns False (blocking)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _process_pool(count: int) -> ProcessPoolExecutor:
    # Spawned, not forked: a fresh interpreter that imports this module (and argon2) only, whatever the
    # worker holds (an event loop, threads, connections) at the time.
    return ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"))


def use_processes(count: int) -> None:
    """From now on hash in `count` processes of this process's own (0: back to threads). `fn` and its
    arguments then cross a pipe, so they must be picklable (module-level functions and strings are)."""
    global _executor, _processes
    previous, previous_count = _executor, _processes
    _executor, _processes = (_process_pool(count), count) if count > 0 else (_threads, 0)
    if previous_count:
        previous.shutdown(wait=False, cancel_futures=True)


def start_processes(count: int) -> None:
    """`use_processes(count)`, the processes started now rather than by the first sign-in."""
    use_processes(count)
    if count > 0:
        _executor.submit(os.getpid)  # starts a process; nothing waits for it


def stop_processes() -> None:
    """Back to threads, the processes told to stop (at shutdown)."""
    use_processes(0)


async def in_password_thread(fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` on the password pool, awaited without blocking the event loop.

    A process of the pool that died (killed for memory, say) breaks the pool: a new one takes over and the
    call runs again there, once."""
    loop = asyncio.get_running_loop()
    executor = _executor
    try:
        return await loop.run_in_executor(executor, fn, *args)
    except BrokenProcessPool:
        if _executor is executor:
            log.warning("the password process pool broke; starting a new one")
            use_processes(_processes)
        return await loop.run_in_executor(_executor, fn, *args)
