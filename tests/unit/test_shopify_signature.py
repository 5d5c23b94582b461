"""Our X-Shopify-Hmac-Sha256 check: against a digest worked out with openssl, and on the ways a header
goes wrong."""

from __future__ import annotations

import base64

import pytest

from gateway.signatures import shopify_signature_valid

SECRET = "hush-shopify-secret"
BODY = b'{"id":820982911946154508,"email":"jon@example.com"}'
# printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
OPENSSL_DIGEST = "AQe34avm+DrNO5/m1YU8tgXMEDAbPK4/Js391eG47So="


def test_accepts_the_digest_openssl_computes_over_the_raw_body() -> None:
    assert shopify_signature_valid(BODY, OPENSSL_DIGEST, SECRET)


def test_accepts_the_header_with_surrounding_whitespace() -> None:
    assert shopify_signature_valid(BODY, f" {OPENSSL_DIGEST} ", SECRET)


@pytest.mark.parametrize(("body", "header", "secret"), [
    pytest.param(BODY, None, SECRET, id="no header"),
    pytest.param(BODY, "", SECRET, id="empty header"),
    pytest.param(BODY, OPENSSL_DIGEST, "another-secret", id="another secret"),
    pytest.param(BODY, OPENSSL_DIGEST, "", id="no secret"),
    pytest.param(BODY + b" ", OPENSSL_DIGEST, SECRET, id="body changed after signing"),
    pytest.param(b'{"email":"jon@example.com","id":820982911946154508}', OPENSSL_DIGEST, SECRET,
                 id="same JSON, other bytes"),
    pytest.param(BODY, "not base64 at all!", SECRET, id="not base64"),
    pytest.param(BODY, "é" + OPENSSL_DIGEST, SECRET, id="not ASCII"),
    pytest.param(BODY, OPENSSL_DIGEST[:-4], SECRET, id="truncated"),
    pytest.param(BODY, base64.b64decode(OPENSSL_DIGEST).hex(), SECRET, id="hex instead of base64"),
])
def test_refuses_a_header_that_does_not_sign_the_body(body: bytes, header: str | None, secret: str) -> None:
    assert not shopify_signature_valid(body, header, secret)
