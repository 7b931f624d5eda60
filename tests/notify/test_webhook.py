"""The webhook notifier against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sfakit import ManualClock, ValidationError
from sfakit.events import LeadCaptured, event_from_data
from sfakit.notifiers import DeliveryError
from sfakit.notifiers.webhook import WebhookNotifier, sign, verify_webhook

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
SECRET = "whsec_0123456789"


class Receiver:
    """What the test server received, and how it should answer."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.delay = 0.0


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((dict(self.headers.items()), body))
            time.sleep(state.delay)
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hooks/crm"
    server.shutdown()
    server.server_close()


def event() -> LeadCaptured:
    return LeadCaptured(lead_id="lead_1", source="web", occurred_at=T0)


def notifier(url: str, **options: Any) -> WebhookNotifier:
    return WebhookNotifier(url=url, secret=SECRET, clock=ManualClock(T0), **options)


def test_a_delivery_posts_the_signed_envelope(receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    sent = event()
    notifier(url).deliver(sent)
    ((headers, body),) = state.requests
    assert headers["X-Sfakit-Event-Id"] == sent.id
    assert headers["X-Sfakit-Event-Type"] == "lead.captured"
    assert headers["Content-Type"] == "application/json"
    verify_webhook(SECRET, headers, body, now=T0.timestamp() + 10)
    assert event_from_data(json.loads(body)) == sent


def test_a_replay_outside_the_window_is_refused(receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    notifier(url).deliver(event())
    ((headers, body),) = state.requests
    with pytest.raises(ValidationError) as info:
        verify_webhook(SECRET, headers, body, now=T0.timestamp() + 3600)
    assert "replay" in str(info.value)


def test_a_tampered_body_or_wrong_secret_fails_verification(receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    notifier(url).deliver(event())
    ((headers, body),) = state.requests
    with pytest.raises(ValidationError):
        verify_webhook(SECRET, headers, body.replace(b"web", b"bad"), now=T0.timestamp())
    with pytest.raises(ValidationError):
        verify_webhook("another secret", headers, body, now=T0.timestamp())


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (404, True), (410, True), (408, False), (429, False), (500, False), (503, False)],
)
def test_answers_decide_between_retry_and_giving_up(
    receiver: tuple[Receiver, str], status: int, permanent: bool
) -> None:
    state, url = receiver
    state.status = status
    with pytest.raises(DeliveryError) as info:
        notifier(url).deliver(event())
    assert info.value.permanent is permanent
    assert str(status) in str(info.value)


def test_a_slow_receiver_times_out_and_is_retried(receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    state.delay = 1.5
    with pytest.raises(DeliveryError) as info:
        notifier(url, timeout=0.3).deliver(event())
    assert info.value.permanent is False


def test_sign_and_verify_agree_and_the_url_is_checked() -> None:
    headers = sign(SECRET, b"{}", timestamp=1_800_000_000)
    verify_webhook(SECRET, headers, b"{}", now=1_800_000_100)
    with pytest.raises(ValidationError) as info:
        WebhookNotifier(url="ftp://x", secret=SECRET)
    assert info.value.path == "$.url"
