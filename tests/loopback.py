"""A server in its own process on 127.0.0.1, on a port the test bound first and handed over (so no other
process can take it in between), waited for until it answers, and stopped afterwards."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    """A loopback port no one holds right now (for a server a test starts by port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_on_loopback(
    name: str,
    script: str,
    args: Sequence[str],
    ready: Callable[[str], bool],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Base URL of `python -c script <socket fd> *args`; `ready(base)` says when it is serving."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    # "{base}" in a value is the server's own address (VERMILION_PUBLIC_BASE_URL).
    extra = {key: value.replace("{base}", base) for key, value in (env or {}).items()}
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(sock.fileno()), *args],
        cwd=cwd,
        pass_fds=[sock.fileno()],
        env={**os.environ, "PYTHONUNBUFFERED": "1", **extra},
    )
    sock.close()
    try:
        _wait_ready(name, base, proc, ready, timeout)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(
    name: str, base: str, proc: subprocess.Popen[bytes], ready: Callable[[str], bool], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode} before answering")
        try:
            if ready(base):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{name} did not answer within {timeout:.0f} s")


STARTUP_SECONDS = 30


async def wait_until_healthy(http: httpx.AsyncClient) -> None:
    """Wait for `GET /healthz` to answer 200 on a server started by `vermilion serve` (a test's own
    subprocess, not `serve_on_loopback`); fail the test when it does not within STARTUP_SECONDS."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    pytest.fail("the server did not start")
