"""Signed webhooks out (Standard Webhooks, the `standardwebhooks` library): the sender a DC's hand-off
posts through, and the verification a receiver (the WMS sandbox) does with the same library."""

from integrations.webhooks.standard import (
    WebhookSender,
    message_body,
    sign_headers,
    verify,
)

__all__ = ["WebhookSender", "message_body", "sign_headers", "verify"]
