"""Fixtures for the open interfaces: tokens, an API client that sends one, and a real HTTP
receiver for webhooks."""

from __future__ import annotations

import http.server
import io
import json
import threading
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.test import Client
from PIL import Image

from minsheng.api.services.tokens import token_create


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache; every test starts with none used."""
    cache.clear()
    yield
    cache.clear()


class ApiClient(Client):
    """A test client that sends a bearer token and JSON bodies."""

    def __init__(self, key: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.key = key

    def _auth(self, extra: dict) -> dict:
        if self.key:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.key}")
        return extra

    def get(self, path, data=None, **extra):
        return super().get(path, data, **self._auth(extra))

    def post_json(self, path, data=None, **extra):
        return super().post(path, json.dumps(data if data is not None else {}), content_type="application/json", **self._auth(extra))

    def patch_json(self, path, data=None, **extra):
        return super().patch(path, json.dumps(data or {}), content_type="application/json", **self._auth(extra))

    def delete(self, path, data="", **extra):
        return super().delete(path, data, **self._auth(extra))


@pytest.fixture
def api_for(db):
    """api_for(user) → a client acting with a fresh token of `user`; api_for(None) → none."""

    def make(user=None) -> ApiClient:
        if user is None:
            return ApiClient()
        _token, key = token_create(user=user, name="tests")
        return ApiClient(key)

    return make


def action_url(case, action: str) -> str:
    return f"/api/v1/cases/{case.pk}/actions/{action}"


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 50, 50)).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


# ---------------------------------------------------------------- a webhook receiver


@dataclass
class Received:
    headers: dict
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that answers `fail_first` requests with 503, then 204."""

    url: str
    fail_first: int = 0
    received: list[Received] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)


@pytest.fixture
def receiver():
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 — the stdlib's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(Received(headers=dict(self.headers), body=body))
            status = 503 if len(state.received) <= state.fail_first else 204
            state.answered.append(status)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()
