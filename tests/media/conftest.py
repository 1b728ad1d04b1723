"""Media fixtures: an S3 API on loopback (moto) for the whole session, a fresh bucket for each test, and a
LocalStorage in the test's temporary directory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from media.storage import LocalStorage, S3Storage, Storage

LOCAL_SECRET = "test-media-signing-secret"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Base URL of a moto S3 server on 127.0.0.1, stopped at the end of the session."""
    # Port 0: the OS picks a free port as the server binds it, so no other process can take it in between.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
async def s3_storage(s3_endpoint: str) -> S3Storage:
    """An S3Storage on a bucket of its own (no other test sees its objects)."""
    storage = S3Storage(
        bucket=f"test-{uuid.uuid4().hex[:20]}",
        endpoint_url=s3_endpoint,
        # Not us-east-1, so that ensure_bucket's location constraint is exercised too.
        region="eu-west-1",
        access_key_id="testing",
        secret_access_key="testing",
        public_url=None,
    )
    await storage.ensure_bucket()
    return storage


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(root=tmp_path / "files", base_url="http://testserver", secret=LOCAL_SECRET)


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest) -> Storage:
    """Each backend in turn, for the behaviour both promise."""
    backend: Storage = request.getfixturevalue(f"{request.param}_storage")
    return backend
