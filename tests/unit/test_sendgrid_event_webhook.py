"""Our Event Webhook signature check agrees with the sendgrid SDK's EventWebhook verifier, and refuses
what it must (a changed body, another key, a stale timestamp, garbage)."""

from __future__ import annotations

import json
import time

from sendgrid.helpers.eventwebhook import EventWebhook

from models.sendgrid_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    event_webhook_valid,
    new_signing_key,
    public_key_text,
    sign_events,
)

BODY = json.dumps([{"email": "ada@example.com", "event": "delivered", "sg_message_id": "abc.filter0001.0",
                    "timestamp": 1_700_000_000}]).encode()


def _signed(body: bytes = BODY, timestamp: str | None = None) -> tuple[str, str, str]:
    key = new_signing_key()
    headers = sign_events(key, body, timestamp or str(int(time.time())))
    return public_key_text(key), headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER]


def test_a_signature_we_make_is_one_the_sdk_accepts_and_so_do_we() -> None:
    public_key, signature, timestamp = _signed()
    sdk = EventWebhook(public_key)
    assert sdk.verify_signature(BODY.decode(), signature, timestamp)
    assert event_webhook_valid(public_key, BODY, signature, timestamp)


def test_a_changed_body_is_refused_by_both() -> None:
    public_key, signature, timestamp = _signed()
    changed = BODY.replace(b"delivered", b"bounce")
    assert not EventWebhook(public_key).verify_signature(changed.decode(), signature, timestamp)
    assert not event_webhook_valid(public_key, changed, signature, timestamp)


def test_another_accounts_key_is_refused_by_both() -> None:
    _, signature, timestamp = _signed()
    other_key = public_key_text(new_signing_key())
    assert not EventWebhook(other_key).verify_signature(BODY.decode(), signature, timestamp)
    assert not event_webhook_valid(other_key, BODY, signature, timestamp)


def test_a_changed_timestamp_is_refused_by_both() -> None:
    public_key, signature, timestamp = _signed()
    later = str(int(timestamp) + 1)
    assert not EventWebhook(public_key).verify_signature(BODY.decode(), signature, later)
    assert not event_webhook_valid(public_key, BODY, signature, later)


def test_a_stale_post_is_refused_unless_the_tolerance_is_lifted() -> None:
    signed_at = "1700000000"
    public_key, signature, _ = _signed(timestamp=signed_at)
    assert EventWebhook(public_key).verify_signature(BODY.decode(), signature, signed_at)  # the SDK has no clock
    assert not event_webhook_valid(public_key, BODY, signature, signed_at, now=1_700_000_301)
    assert event_webhook_valid(public_key, BODY, signature, signed_at, now=1_700_000_299)
    assert event_webhook_valid(public_key, BODY, signature, signed_at, tolerance_seconds=None)


def test_missing_or_malformed_parts_are_not_valid() -> None:
    public_key, signature, timestamp = _signed()
    assert not event_webhook_valid(public_key, BODY, None, timestamp)
    assert not event_webhook_valid(public_key, BODY, signature, None)
    assert not event_webhook_valid(public_key, BODY, "not base64!", timestamp)
    assert not event_webhook_valid("not a key", BODY, signature, timestamp)
    assert not event_webhook_valid(public_key, BODY, signature, "yesterday")
