"""Email through SMTP: order confirmations with their number, shipping notices, reminders.

Subjects and bodies come from :class:`MailTemplate` per event type
(``string.Template``, so ``${confirmation_number}`` and friends; an app overrides any of
:data:`DEFAULT_TEMPLATES`). Each message's ``Message-ID`` is made from the event id,
``<evt_…@domain>``, so a retried send is recognisable as the same message.

SMTP answers decide what happens next: a 5xx refusal (no such mailbox) gives up at
once; a 4xx answer, a timeout or a lost connection is retried with backoff.

>>> from sfakit.events import OrderPlaced
>>> from datetime import datetime, timezone
>>> notifier = SmtpNotifier(host="127.0.0.1", sender="orders@bulbs.example")
>>> message = notifier.render(OrderPlaced(
...     order_id="ord_1", account_id="acct_1", confirmation_number="K7M-4QX-92B",
...     contact_email="buyer@example.com", occurred_at=datetime(2026, 3, 2, tzinfo=timezone.utc)))
>>> message["Subject"]
'Your order K7M-4QX-92B has been received'
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from email.message import EmailMessage
from email.utils import format_datetime
from string import Template
from typing import Any, Final, Literal

import attrs

from sfakit.errors import ValidationError
from sfakit.events import Event, event_to_data
from sfakit.notifiers import DeliveryError, NotifierPlugin

__all__ = ["DEFAULT_TEMPLATES", "MailTemplate", "SmtpNotifier"]


@attrs.frozen
class MailTemplate:
    """Subject and plain-text body, as ``string.Template`` text over the event's fields.

    Money fields read as ``4800.00 EUR``; every event also offers ``${event_id}``,
    ``${event_type}`` and ``${occurred_at}``.
    """

    subject: str
    body: str


DEFAULT_TEMPLATES: Final[Mapping[str, MailTemplate]] = {
    "order.placed": MailTemplate(
        "Your order ${confirmation_number} has been received",
        "Thank you for your order.\n\nConfirmation number: ${confirmation_number}\n"
        "Total: ${total}\n\nWe will write again when it ships.\n",
    ),
    "order.confirmed": MailTemplate(
        "Your order ${confirmation_number} is confirmed",
        "Your order ${confirmation_number} (${total}) is confirmed and being prepared.\n",
    ),
    "order.shipped": MailTemplate(
        "Your order ${confirmation_number} has shipped",
        "Your order ${confirmation_number} left our distribution centre.\n\n"
        "Carrier: ${carrier}\nTracking number: ${tracking_number}\n",
    ),
    "activity.reminder_due": MailTemplate(
        "Reminder: ${subject}",
        "This is your reminder: ${subject}\nDue: ${due_at}\n",
    ),
    "activity.task_created": MailTemplate(
        "New task: ${subject}",
        "A task was created for you: ${subject}\nDue: ${due_at}\n",
    ),
    "lead.assigned": MailTemplate(
        "A lead was assigned to you",
        "Lead ${lead_id} is yours now (territory ${territory_key}).\nWhy: ${reason}\n",
    ),
}

Security = Literal["none", "starttls", "ssl"]


def _flatten(event: Event) -> dict[str, str]:
    envelope = event_to_data(event)
    fields: dict[str, str] = {
        "event_id": envelope["id"],
        "event_type": envelope["type"],
        "occurred_at": envelope["occurred_at"],
    }
    for key, value in envelope["data"].items():
        if isinstance(value, Mapping) and set(value) == {"amount", "currency"}:
            fields[key] = f"{value['amount']} {value['currency']}"
        else:
            fields[key] = "" if value is None else str(value)
    return fields


class SmtpNotifier(NotifierPlugin):
    """Sends one email per event to the event's recipients.

    ``recipients`` picks the addresses (default: the event's ``contact_email`` /
    ``owner_email``); an event with none is delivered as a no-op. Only event types that
    have a template are accepted.
    """

    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        sender: str,
        port: int | None = None,
        security: Security = "none",
        username: str | None = None,
        password: str | None = None,
        domain: str | None = None,
        templates: Mapping[str, MailTemplate] | None = None,
        recipients: Callable[[Event], Sequence[str]] | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        name: str | None = None,
        event_types: Iterable[str] = (),
    ) -> None:
        if security not in ("none", "starttls", "ssl"):
            raise ValidationError("$.security", security, "'none', 'starttls' or 'ssl'")
        if (username is None) != (password is None):
            raise ValidationError("$.username", username, "username and password together")
        self.templates = dict(DEFAULT_TEMPLATES if templates is None else templates)
        super().__init__(name=name, event_types=event_types or self.templates)
        self.host = host
        self.port = port if port is not None else {"ssl": 465, "starttls": 587}.get(security, 25)
        self.security = security
        self.username = username
        self.password = password
        self.sender = sender
        self.domain = domain or sender.rpartition("@")[2] or "sfakit.invalid"
        self.recipients = recipients or (lambda event: event.recipient_emails())
        self.timeout = timeout
        self.ssl_context = ssl_context

    def accepts(self, event_type: str) -> bool:
        return event_type in self.templates and super().accepts(event_type)

    def render(self, event: Event) -> EmailMessage:
        """The message that would be sent for ``event``."""
        template = self.templates[event.type]
        fields = _flatten(event)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients(event))
        message["Subject"] = Template(template.subject).safe_substitute(fields)
        message["Message-ID"] = f"<{event.id}@{self.domain}>"
        message["Date"] = format_datetime(event.occurred_at)
        message["X-Sfakit-Event-Type"] = event.type
        message.set_content(Template(template.body).safe_substitute(fields))
        return message

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            client.starttls(context=context)
        return client

    def deliver(self, event: Event) -> None:
        to = list(self.recipients(event))
        if not to:
            return
        message = self.render(event)
        try:
            with self._connect() as client:
                if self.username is not None and self.password is not None:
                    client.login(self.username, self.password)
                client.send_message(message, from_addr=self.sender, to_addrs=to)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"SMTP refused every recipient: {exc.recipients}",
                permanent=all(500 <= c < 600 for c in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP answered {exc.smtp_code}: {_text(exc.smtp_error)}",
                permanent=500 <= exc.smtp_code < 600,
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP to {self.host}:{self.port} failed: {exc}") from exc


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
