"""Our `Shippo-Auth-Signature` verifier: against the header the sandbox's webhook sender puts on what it
posts, against an HMAC worked out here by hand, and on the ways a header goes wrong."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading

import httpx
import pytest

from integrations.carriers.shippo_sandbox_webhooks import WebhookSender
from integrations.carriers.shippo_signature import SIGNATURE_HEADER, ShippoSignatureError, sign, verify

SECRET = "whsec-like-but-shippo-4f1c"
BODY = b'{"event":"track_updated","test":true,"data":{"tracking_number":"SHIPPO_TRANSIT"}}'


def _sent_by_the_sandbox(secret: str) -> tuple[bytes, str]:
    posted: list[httpx.Request] = []
    arrived = threading.Event()

    def receive(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        arrived.set()
        return httpx.Response(200)

    hooks = [{"url": "http://receiver.invalid/hooks", "event": "track_updated", "active": True}]
    sender = WebhookSender(secret, lambda: hooks, transport=httpx.MockTransport(receive))
    sender.emit([("track_updated", {"tracking_number": "SHIPPO_TRANSIT", "carrier": "shippo"})])
    assert arrived.wait(10), "the sandbox posted nothing"
    return posted[0].content, posted[0].headers[SIGNATURE_HEADER]


def test_accepts_what_the_sandbox_signs_and_nothing_else() -> None:
    body, header = _sent_by_the_sandbox(SECRET)
    assert json.loads(body)["event"] == "track_updated"
    timestamp = verify(body, header, SECRET)
    by_hand = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert header == f"t={timestamp},v1={by_hand}"
    with pytest.raises(ShippoSignatureError, match="does not match"):
        verify(body, header, "another-secret")
    with pytest.raises(ShippoSignatureError, match="does not match"):
        verify(body.replace(b"SHIPPO_TRANSIT", b"SHIPPO_DELIVERED"), header, SECRET)


def test_matches_an_hmac_worked_out_by_hand() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, timestamp=1700000000) == f"t=1700000000,v1={expected}"
    assert verify(BODY, f"t=1700000000,v1={expected}", SECRET, now=1700000000) == 1700000000


def test_the_timestamp_must_be_within_300_seconds() -> None:
    header = sign(SECRET, BODY, timestamp=1_700_000_000)
    assert verify(BODY, header, SECRET, now=1_700_000_300) == 1_700_000_000
    assert verify(BODY, header, SECRET, now=1_699_999_700) == 1_700_000_000
    for clock in (1_700_000_301, 1_699_999_699):
        with pytest.raises(ShippoSignatureError, match="300 s"):
            verify(BODY, header, SECRET, now=clock)


def test_any_matching_v1_is_enough_while_a_secret_is_rotated() -> None:
    old = sign("old-secret", BODY, timestamp=1_700_000_000).split(",")[1]
    new = sign(SECRET, BODY, timestamp=1_700_000_000).split(",")[1]
    assert verify(BODY, f"t=1700000000, {old}, {new}", SECRET, now=1_700_000_000) == 1_700_000_000


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=1700000000", "t=soon,v1=abc", "garbage"])
def test_a_missing_or_malformed_header_is_refused(header: str | None) -> None:
    with pytest.raises(ShippoSignatureError):
        verify(BODY, header, SECRET, now=1_700_000_000)


def test_no_secret_verifies_nothing() -> None:
    with pytest.raises(ShippoSignatureError, match="no webhook secret"):
        verify(BODY, sign("", BODY), "")
