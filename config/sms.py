"""Text messages (短信), app-neutral: cooperatives, stations and logistics
all send through ``send_sms``.

The backend is a dotted path in ``settings.SMS_BACKEND``:

- ``config.sms.ConsoleBackend`` (default): logs the message, sends nothing;
- ``config.sms.LocmemBackend``: appends to ``config.sms.outbox`` (tests);
- a provider's gateway: a class with ``send(phone, text)`` that raises
  ``SMSError`` when the provider refuses the message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("wangnong.sms")


class SMSError(Exception):
    """The message could not be handed to the provider."""


@dataclass(frozen=True)
class Message:
    phone: str
    text: str


class BaseBackend:
    def send(self, phone: str, text: str) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Writes the message to the log (development and the embedded set-up)."""

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", phone, text)


outbox: list[Message] = []


class LocmemBackend(BaseBackend):
    """Keeps messages in ``config.sms.outbox``, like Django's locmem e-mail."""

    def send(self, phone: str, text: str) -> None:
        outbox.append(Message(phone, text))


def get_backend() -> BaseBackend:
    path = getattr(settings, "SMS_BACKEND", "") or "config.sms.ConsoleBackend"
    return import_string(path)()


def send_sms(phone: str, text: str) -> None:
    """Send ``text`` to the mobile number ``phone`` through the configured
    backend; raises SMSError if the backend refuses it."""
    phone = (phone or "").strip()
    if not phone:
        raise SMSError("no phone number")
    get_backend().send(phone, text)
