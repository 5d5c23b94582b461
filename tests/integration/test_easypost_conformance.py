"""The EasyPost sandbox judged by EasyPost's official Python SDK: its requestor, its error classes (chosen
from the status and read from EasyPost's `{"error": {...}}` envelope) and its Shipment objects."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import easypost
import httpx
import pytest
from easypost.errors import InvalidRequestError, MethodNotAllowedError, NotFoundError
from easypost.models import Shipment

from integrations.carriers.sandbox import create_easypost_sandbox
from integrations.sandbox import SandboxServer

pytestmark = pytest.mark.conformance

TO = {"name": "Ada Lovelace", "street1": "179 N Harbor Dr", "city": "Redondo Beach", "state": "CA",
      "zip": "90277", "country": "US"}
FROM = {"name": "Chicago DC", "street1": "2200 S Halsted St", "city": "Chicago", "state": "IL", "zip": "60608",
        "country": "US"}
PARCEL = {"length": 10, "width": 8, "height": 4, "weight": 20}


@dataclass(frozen=True)
class EasyPost:
    url: str
    key: str
    client: easypost.EasyPostClient

    def set_refund_plan(self, **plan: Any) -> None:
        httpx.put(f"{self.url}/_sandbox/refunds", json=plan).raise_for_status()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[EasyPost]:
    key = f"EZTK-{uuid.uuid4().hex}"
    with SandboxServer(create_easypost_sandbox(key)) as server:
        yield EasyPost(server.url, key, easypost.EasyPostClient(key, api_base=server.url))


@pytest.fixture
def refund_plan(sandbox: EasyPost) -> Iterator[EasyPost]:
    yield sandbox
    httpx.delete(f"{sandbox.url}/_sandbox/refunds").raise_for_status()


def _bought(client: easypost.EasyPostClient) -> Any:
    shipment = client.shipment.create(to_address=TO, from_address=FROM, parcel=PARCEL,
                                      reference=f"conf-{uuid.uuid4().hex[:10]}")
    return client.shipment.buy(shipment.id, rate=shipment.lowest_rate())


def test_an_unknown_route_raises_the_sdks_not_found_error_with_easyposts_message(sandbox: EasyPost) -> None:
    with pytest.raises(NotFoundError) as caught:
        sandbox.client.address.create(street1="179 N Harbor Dr", zip="90277")
    assert caught.value.http_status == 404
    assert caught.value.code == "NOT_FOUND"
    assert caught.value.message == "The requested resource could not be found."


def test_a_method_a_route_does_not_take_raises_method_not_allowed(sandbox: EasyPost) -> None:
    with pytest.raises(MethodNotAllowedError) as caught:
        sandbox.client.shipment.all(page_size=5)
    assert caught.value.http_status == 405
    assert caught.value.code == "METHOD_NOT_ALLOWED"
    assert caught.value.message


def test_an_unknown_shipment_raises_not_found(sandbox: EasyPost) -> None:
    with pytest.raises(NotFoundError) as caught:
        sandbox.client.shipment.retrieve(f"shp_{uuid.uuid4().hex}")
    assert caught.value.code == "NOT_FOUND"


def test_an_invalid_shipment_raises_invalid_request_naming_the_field(sandbox: EasyPost) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        sandbox.client.shipment.create(to_address={**TO, "zip": ""}, from_address=FROM, parcel=PARCEL)
    assert caught.value.code == "SHIPMENT.INVALID_PARAMS"
    assert caught.value.message == "Unable to create shipment, one or more parameters were invalid."
    assert [error["field"] for error in caught.value.errors] == ["to_address.zip"]


def test_the_sdk_reads_a_bought_label_as_a_shipment(sandbox: EasyPost) -> None:
    bought = _bought(sandbox.client)
    assert isinstance(bought, Shipment)
    assert bought.id.startswith("shp_") and bought.tracking_code.startswith("EZ")
    assert bought.postage_label.label_url and bought.selected_rate.id.startswith("rate_")


def test_a_refund_is_submitted_then_refunded(sandbox: EasyPost) -> None:
    bought = _bought(sandbox.client)
    assert sandbox.client.shipment.refund(bought.id).refund_status == "submitted"
    assert sandbox.client.shipment.retrieve(bought.id).refund_status == "refunded"
    # Asking again for a refunded label changes nothing.
    assert sandbox.client.shipment.refund(bought.id).refund_status == "refunded"


def test_a_refund_stays_submitted_until_the_carrier_decides(refund_plan: EasyPost) -> None:
    refund_plan.set_refund_plan(outcome="refunded", after_seconds=3600)
    bought = _bought(refund_plan.client)
    refund_plan.client.shipment.refund(bought.id)
    assert refund_plan.client.shipment.retrieve(bought.id).refund_status == "submitted"


def test_a_rejected_refund_can_be_asked_for_again(refund_plan: EasyPost) -> None:
    refund_plan.set_refund_plan(outcome="rejected")
    bought = _bought(refund_plan.client)
    assert refund_plan.client.shipment.refund(bought.id).refund_status == "submitted"
    assert refund_plan.client.shipment.retrieve(bought.id).refund_status == "rejected"

    refund_plan.set_refund_plan(outcome="refunded")
    assert refund_plan.client.shipment.refund(bought.id).refund_status == "submitted"
    assert refund_plan.client.shipment.retrieve(bought.id).refund_status == "refunded"


def test_a_refund_plan_names_the_bad_field(sandbox: EasyPost) -> None:
    response = httpx.put(f"{sandbox.url}/_sandbox/refunds", json={"outcome": "lost"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "outcome"]
