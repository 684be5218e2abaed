"""Outgoing e-mail over SMTP, when an administrator has configured a server.

``LEADFLOW_SMTP_URL`` names the server: ``smtp://host:25`` (plain), ``smtp+starttls://user:pass@host:587``
(upgraded with STARTTLS) or ``smtps://user:pass@host:465`` (TLS from the start); ``LEADFLOW_MAIL_FROM``
is the sender. With no server configured nothing is sent and the caller shows the link instead.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from leadflow.core.config import Settings

_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class Outgoing:
    """One plain-text message to one person."""

    to: str
    subject: str
    text: str


@dataclass(frozen=True)
class Delivery:
    """What became of a message: sent, not configured (``sent`` False, no problem), or a problem."""

    sent: bool
    problem: str | None = None


def deliver(settings: Settings, message: Outgoing) -> Delivery:
    """Send ``message`` through the configured server; a server that fails is reported, not raised."""
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to
    email["Subject"] = message.subject
    email.set_content(message.text)
    return send(settings, email)


def send(settings: Settings, email: EmailMessage) -> Delivery:
    """Send a whole message (its own From, To and Cc) through the configured server; not configured,
    nothing is sent; a server that fails is reported, not raised."""
    if not settings.smtp_url:
        return Delivery(sent=False)
    address = urlsplit(settings.smtp_url)
    if address.scheme not in _PORTS or not address.hostname:
        return Delivery(False, "LEADFLOW_SMTP_URL must look like smtp://host:25, smtp+starttls://… or smtps://…")
    port = address.port or _PORTS[address.scheme]
    try:
        if address.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                address.hostname, port, timeout=15, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(address.hostname, port, timeout=15)
        with client:
            if address.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if address.username:
                client.login(unquote(address.username), unquote(address.password or ""))
            client.send_message(email)
    except (OSError, smtplib.SMTPException) as error:
        return Delivery(False, f"the mail server at {address.hostname}:{port} did not take it ({error})")
    return Delivery(sent=True)
