"""The SMTP notifier against a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sfakit.events import OrderPlaced, OrderShipped, ReminderDue
from sfakit.model import Money
from sfakit.notifiers import DeliveryError
from sfakit.notifiers.smtp import MailTemplate, SmtpNotifier

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Inbox:
    """An aiosmtpd handler that keeps messages, or answers with a chosen refusal."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[Any] = []
        self.refuse_with: str | None = None

    async def handle_RCPT(  # noqa: N802 - the name aiosmtpd calls
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def placed(**fields: Any) -> OrderPlaced:
    values: dict[str, Any] = {
        "order_id": "ord_1",
        "account_id": "acct_acme",
        "confirmation_number": "K7M-4QX-92B",
        "total": Money.of("1200", "EUR"),
        "contact_email": "buyer@example.com",
        "occurred_at": T0,
    }
    values.update(fields)
    return OrderPlaced(**values)


def test_an_order_confirmation_arrives_with_its_number_and_a_stable_message_id(
    inbox: tuple[Inbox, int],
) -> None:
    handler, port = inbox
    notifier = SmtpNotifier(host="127.0.0.1", port=port, sender="orders@bulbs.example")
    event = placed()
    notifier.deliver(event)
    (message,) = handler.messages
    assert message["To"] == "buyer@example.com"
    assert message["From"] == "orders@bulbs.example"
    assert message["Subject"] == "Your order K7M-4QX-92B has been received"
    assert message["Message-ID"] == f"<{event.id}@bulbs.example>"
    body = message.get_content()
    assert "K7M-4QX-92B" in body
    assert "1200.00 EUR" in body


def test_a_shipping_notice_names_carrier_and_tracking(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    notifier = SmtpNotifier(host="127.0.0.1", port=port, sender="orders@bulbs.example")
    notifier.deliver(
        OrderShipped(
            order_id="ord_1",
            account_id="acct_acme",
            confirmation_number="K7M-4QX-92B",
            carrier="DHL",
            tracking_number="00340434",
            contact_email="buyer@example.com",
            occurred_at=T0,
        )
    )
    body = handler.messages[0].get_content()
    assert "DHL" in body
    assert "00340434" in body


def test_templates_can_be_overridden_per_event_type(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    notifier = SmtpNotifier(
        host="127.0.0.1",
        port=port,
        sender="crm@bulbs.example",
        templates={"activity.reminder_due": MailTemplate("Call ${subject}", "Due ${due_at}")},
    )
    assert notifier.accepts("activity.reminder_due")
    assert not notifier.accepts("order.placed")
    notifier.deliver(
        ReminderDue(
            activity_id="actv_1",
            owner_id="rep_anna",
            subject="Acme about reorder",
            due_at=T0,
            owner_email="anna@bulbs.example",
            occurred_at=T0,
        )
    )
    assert handler.messages[0]["Subject"] == "Call Acme about reorder"
    assert handler.messages[0]["To"] == "anna@bulbs.example"


def test_an_event_without_recipients_sends_nothing(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    SmtpNotifier(host="127.0.0.1", port=port, sender="o@b.example").deliver(
        placed(contact_email=None)
    )
    assert handler.messages == []


def test_a_permanent_refusal_is_not_retried(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    handler.refuse_with = "550 5.1.1 no such mailbox"
    with pytest.raises(DeliveryError) as info:
        SmtpNotifier(host="127.0.0.1", port=port, sender="o@b.example").deliver(placed())
    assert info.value.permanent is True


def test_a_temporary_refusal_is_retried(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    handler.refuse_with = "451 4.3.0 try again later"
    with pytest.raises(DeliveryError) as info:
        SmtpNotifier(host="127.0.0.1", port=port, sender="o@b.example").deliver(placed())
    assert info.value.permanent is False


def test_an_unreachable_server_is_retried() -> None:
    notifier = SmtpNotifier(host="127.0.0.1", port=_free_port(), sender="o@b.example", timeout=2)
    with pytest.raises(DeliveryError) as info:
        notifier.deliver(placed())
    assert info.value.permanent is False


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_starttls_with_login(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    seen_logins: list[bytes] = []

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        seen_logins.append(data.login)
        return AuthResult(success=data.password == b"s3cret")

    handler = Inbox()
    port = _free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        client_context = ssl.create_default_context(cafile=str(cert))
        notifier = SmtpNotifier(
            host="127.0.0.1",
            port=port,
            security="starttls",
            username="orders",
            password="s3cret",
            sender="orders@bulbs.example",
            ssl_context=client_context,
        )
        notifier.deliver(placed())
        assert len(handler.messages) == 1
        assert seen_logins == [b"orders"]
    finally:
        controller.stop()
