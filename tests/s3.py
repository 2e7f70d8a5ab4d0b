"""S3 for tests: moto's server mode in a process of its own, answered over real HTTP (boto3 → HTTP → moto).

What moto enforces and what it does not: /work/shared/DEPENDENCIES.md and the README's "Object storage".
Each test gets buckets of its own (a fresh name), so tests share the server and not their objects.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{self.url}/moto-api/", timeout=1)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.1)

    def settings(self) -> dict:
        """Configuration for a console using this server, with buckets of its own."""
        tag = uuid.uuid4().hex[:10]
        return {
            "STORAGE_BACKEND": "s3",
            "S3_ENDPOINT_URL": self.url,
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": "testing",
            "S3_SECRET_ACCESS_KEY": "testing",
            "S3_MEDIA_BUCKET": f"media-{tag}",
            "S3_EVIDENCE_BUCKET": f"evidence-{tag}",
            "S3_ADDRESSING_STYLE": "path",
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoServer]:
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def on_s3(ctx, moto_s3):
    """The test's app stores media and evidence in S3 (moto over HTTP), in buckets of its own."""
    from console.media import objectstore

    ctx.config.update(moto_s3.settings())
    ctx.extensions.pop("s3_client", None)
    objectstore.create_buckets()
    return objectstore.client()
