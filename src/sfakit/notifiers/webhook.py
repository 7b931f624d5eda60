"""Webhooks: POST each event as JSON, signed, to a URL.

The body is the event envelope (``type``, ``schema_version``, ``id``, ``occurred_at``,
``data``) as compact JSON. Headers:

* ``X-Sfakit-Event-Id`` and ``X-Sfakit-Event-Type``: the receiver's idempotency key;
* ``X-Sfakit-Timestamp``: Unix seconds when the request was signed;
* ``X-Sfakit-Signature``: ``v1=`` and the hex HMAC-SHA256, keyed with the shared secret,
  of ``<timestamp>.<body>``.

A receiver verifies with :func:`verify_webhook`: it recomputes the signature, compares
it in constant time, and refuses a timestamp outside its window (five minutes by
default), so a captured request cannot be replayed later. It should also ignore an
event id it has already processed, since a retried delivery repeats the event.

Answers: 2xx delivered; 408 and 429 retried; other 4xx given up (dead) at once; 5xx,
timeouts and connection errors retried with backoff.

>>> secret = "whsec_test"
>>> body = b'{"id":"evt_1"}'
>>> headers = sign(secret, body, timestamp=1767225600)
>>> verify_webhook(secret, headers, body, now=1767225700)
>>> headers["X-Sfakit-Signature"][:3]
'v1='
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Final

from sfakit.clock import Clock, SystemClock
from sfakit.errors import ValidationError
from sfakit.events import Event, event_to_data
from sfakit.notifiers import DeliveryError, NotifierPlugin

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookNotifier", "sign", "verify_webhook"]

SIGNATURE_HEADER: Final = "X-Sfakit-Signature"
TIMESTAMP_HEADER: Final = "X-Sfakit-Timestamp"
_RETRIED_4XX: Final = frozenset({408, 429})


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _digest(secret: str | bytes, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, *, timestamp: int) -> dict[str, str]:
    """The timestamp and signature headers for ``body`` signed at ``timestamp``."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"v1={_digest(secret, timestamp, body)}",
    }


def verify_webhook(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance: float = 300.0,
) -> None:
    """Check a received webhook; a forged, altered or replayed one raises ValidationError.

    ``now`` is the receiver's current Unix time; requests signed more than
    ``tolerance`` seconds before or after it are refused.
    """
    lookup = {k.lower(): v for k, v in headers.items()}
    stamp = lookup.get(TIMESTAMP_HEADER.lower(), "")
    given = lookup.get(SIGNATURE_HEADER.lower(), "")
    if not stamp.isdigit():
        raise ValidationError(f"$.headers.{TIMESTAMP_HEADER}", stamp, "Unix seconds")
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        raise ValidationError(
            f"$.headers.{TIMESTAMP_HEADER}",
            timestamp,
            f"a time within {tolerance:g} s of now ({now:.0f}); this may be a replay",
        )
    expected = f"v1={_digest(secret, timestamp, body)}"
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise ValidationError(
            f"$.headers.{SIGNATURE_HEADER}", given, "the HMAC-SHA256 of '<timestamp>.<body>'"
        )


class WebhookNotifier(NotifierPlugin):
    """POSTs events to ``url``, signed with ``secret``. See the module docstring."""

    name = "webhook"

    def __init__(
        self,
        *,
        url: str,
        secret: str | bytes,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        name: str | None = None,
        event_types: Iterable[str] = (),
    ) -> None:
        super().__init__(name=name, event_types=event_types)
        if not url.startswith(("http://", "https://")):
            raise ValidationError("$.url", url, "an http:// or https:// URL")
        if not secret:
            raise ValidationError("$.secret", "", "a non-empty shared secret")
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.clock = clock or SystemClock()

    def request(self, event: Event) -> urllib.request.Request:
        """The signed request that would be sent for ``event``."""
        body = json.dumps(event_to_data(event), separators=(",", ":"), sort_keys=True).encode()
        timestamp = int(self.clock.now().timestamp())
        headers = {
            **self.headers,
            "Content-Type": "application/json",
            "User-Agent": "sfakit-webhook/1",
            "X-Sfakit-Event-Id": event.id,
            "X-Sfakit-Event-Type": event.type,
            **sign(self.secret, body, timestamp=timestamp),
        }
        return urllib.request.Request(self.url, data=body, headers=headers, method="POST")

    def deliver(self, event: Event) -> None:
        try:
            with urllib.request.urlopen(self.request(event), timeout=self.timeout) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the open response
            permanent = 400 <= exc.code < 500 and exc.code not in _RETRIED_4XX
            raise DeliveryError(
                f"webhook {self.url} answered {exc.code} {exc.reason}", permanent=permanent
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"webhook {self.url} failed: {exc}") from exc
