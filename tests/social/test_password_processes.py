"""Argon2 in processes of the worker's own (social.passwords.use_processes, as the server runs it): the hash
leaves the worker, a verification agrees with a hash made there, and a pool whose process died is replaced."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from social import passwords


@pytest.fixture
def processes() -> Iterator[None]:
    passwords.use_processes(1)
    yield
    passwords.stop_processes()


async def test_hashing_runs_outside_this_process_and_agrees_with_it(processes: None) -> None:
    assert await passwords.in_password_thread(os.getpid) != os.getpid()
    stored = await passwords.in_password_thread(passwords.hash_password, "correct horse")
    assert passwords.verify_password(stored, "correct horse")  # checked here, made there
    assert await passwords.in_password_thread(passwords.verify_password, stored, "correct horse") is True
    assert await passwords.in_password_thread(passwords.verify_password, stored, "wrong horse") is False


async def test_a_pool_whose_process_died_is_replaced(processes: None) -> None:
    child = await passwords.in_password_thread(os.getpid)
    os.kill(child, signal.SIGKILL)
    stored = passwords.hash_password("still here")
    assert await passwords.in_password_thread(passwords.verify_password, stored, "still here") is True
    assert await passwords.in_password_thread(os.getpid) not in (child, os.getpid())


async def test_without_processes_hashing_stays_in_this_process() -> None:
    assert await passwords.in_password_thread(os.getpid) == os.getpid()
