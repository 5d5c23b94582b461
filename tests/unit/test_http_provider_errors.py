"""Provider error bodies and amounts parsed at the edge: EasyPost and SendGrid, via httpx.MockTransport."""

from __future__ import annotations

import httpx
import pytest

from integrations.carriers.easypost import EasyPostClient, decimal_to_minor
from integrations.carriers.easypost import parse_error as easypost_error
from integrations.http import NO_RETRY, PermanentProviderError
from integrations.notify.sendgrid import SendGridClient
from integrations.notify.sendgrid import parse_error as sendgrid_error


def test_easypost_error_with_field_objects_names_the_first_field() -> None:
    response = httpx.Response(422, json={"error": {
        "code": "ADDRESS.VERIFY.FAILURE", "message": "Unable to verify address.",
        "errors": [{"field": "street1", "message": "not found", "suggestion": None},
                   {"field": "zip", "message": "invalid"}]}})
    detail = easypost_error(response)
    assert detail.code == "ADDRESS.VERIFY.FAILURE"
    assert detail.field == "street1"
    assert "Unable to verify address." in detail.message and "not found" in detail.message


def test_easypost_error_with_string_errors_has_no_field() -> None:
    response = httpx.Response(422, json={"error": {"code": "SHIPMENT.POSTAGE.EXISTS",
                                                   "message": "Postage exists", "errors": ["already bought"]}})
    detail = easypost_error(response)
    assert (detail.code, detail.field) == ("SHIPMENT.POSTAGE.EXISTS", None)
    assert "already bought" in detail.message


def test_sendgrid_errors_name_the_first_field_and_keep_every_message() -> None:
    response = httpx.Response(400, json={"errors": [
        {"message": "The from email does not contain a valid address.", "field": "from.email", "help": None},
        {"message": "The subject is required.", "field": "subject", "help": None}]})
    detail = sendgrid_error(response)
    assert detail.field == "from.email"
    assert "from email" in detail.message and "subject is required" in detail.message


@pytest.mark.parametrize(("text", "cents"), [("7.58", 758), ("12", 1200), ("0.10", 10), ("1234.5", 123450)])
def test_decimal_rates_become_exact_integer_cents(text: str, cents: int) -> None:
    assert decimal_to_minor(text) == cents


@pytest.mark.parametrize("text", ["7.585", "abc", "NaN", ""])
def test_amounts_that_are_not_whole_cents_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        decimal_to_minor(text)


def test_an_easypost_401_reaches_the_caller_as_a_permanent_error_with_its_code() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer wrong"
        return httpx.Response(401, json={"error": {"code": "APIKEY.INVALID", "message": "bad key", "errors": []}})

    with EasyPostClient("https://ep.test/v2", "wrong", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(PermanentProviderError) as caught:
            client.get_shipment("shp_1")
    assert (caught.value.status, caught.value.code, caught.value.provider) == (401, "APIKEY.INVALID", "easypost")


def test_a_sendgrid_202_without_a_message_id_is_an_error_not_a_silent_success() -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(202))
    with SendGridClient("https://sg.test", "SG.x", transport=transport, retry=NO_RETRY) as client:
        with pytest.raises(PermanentProviderError, match="X-Message-Id"):
            client.send(to_email="a@b.example", to_name="A", from_email="o@shop.example", subject="s", text="t")
