"""Our Stripe-Signature check against signatures made by Stripe's own SDK, and our form encoding
against the SDK's."""

from __future__ import annotations

import time
import urllib.parse

import pytest
import stripe
from stripe._encode import _api_encode

from integrations.payments import signature
from integrations.payments.wire import FormError, decode_form, encode_form

SECRET = "whsec_test_secret_for_units"
BODY = b'{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1"}}}'


def test_a_signature_the_sdk_makes_is_accepted() -> None:
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRET)
    assert signature.verify(BODY, header, SECRET) == int(header.split(",")[0][2:])


def test_a_signature_we_make_passes_the_sdks_check() -> None:
    header = signature.sign(SECRET, BODY)
    assert stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET)


def test_an_altered_body_or_another_secret_is_refused() -> None:
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRET)
    with pytest.raises(signature.SignatureError, match="no signature matches"):
        signature.verify(BODY.replace(b"pi_1", b"pi_2"), header, SECRET)
    with pytest.raises(signature.SignatureError, match="no signature matches"):
        signature.verify(BODY, header, "whsec_other")


def test_an_old_signature_is_refused_outside_the_tolerance() -> None:
    then = int(time.time()) - 301
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRET, timestamp=then)
    with pytest.raises(signature.SignatureError, match="tolerance"):
        signature.verify(BODY, header, SECRET)
    assert signature.verify(BODY, header, SECRET, now=then + 300) == then


def test_any_matching_v1_is_enough_while_a_secret_is_rolled() -> None:
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRET)
    rolled = header.replace("v1=", "v1=" + "0" * 64 + ",v1=") + ",v0=ignored"
    assert signature.verify(BODY, rolled, SECRET)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=notanumber,v1=abc", "t=123"])
def test_a_malformed_header_is_refused(header: str | None) -> None:
    with pytest.raises(signature.SignatureError):
        signature.verify(BODY, header, SECRET)


def test_our_form_encoding_matches_the_sdks() -> None:
    params = {"amount": 2000, "currency": "usd", "confirm": True, "payment_method_types": ["card"],
              "metadata": {"omniroute_ref": "order-1", "note": "a&b=c"},
              "payment_method_options": {"card": {"request_multicapture": "if_available"}}, "description": None}
    theirs = [(key, str(value)) for key, value in _api_encode(params)]
    assert encode_form(params) == theirs
    decoded = decode_form(urllib.parse.urlencode(encode_form(params)))
    assert decoded == {"amount": "2000", "currency": "usd", "confirm": "true", "payment_method_types": ["card"],
                       "metadata": {"omniroute_ref": "order-1", "note": "a&b=c"},
                       "payment_method_options": {"card": {"request_multicapture": "if_available"}}}


def test_a_key_that_is_both_a_value_and_an_object_is_refused_by_name() -> None:
    with pytest.raises(FormError) as refused:
        decode_form("metadata=x&metadata[a]=b")
    assert refused.value.param == "metadata[a]"
