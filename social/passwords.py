"""Password hashing with Argon2id (argon2-cffi's recommended parameters), off the event loop.

One hash or verification costs ≈ 0.4 s of CPU: on the event loop it would stall every other request of the
worker for that long. `in_password_thread` runs it on a small pool of its own (argon2-cffi releases the GIL),
sized to the CPUs so a burst of sign-ins queues there instead of taking every thread of the default
executor. Callers never hold a database transaction while they wait for it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")

THREAD_NAME_PREFIX = "vermilion-argon2"
_hasher = PasswordHasher()
_executor = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix=THREAD_NAME_PREFIX)
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


async def in_password_thread(fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` on the password pool, awaited without blocking the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_executor, fn, *args)
