"""The Shippo sandbox judged by Shippo's official Python SDK: its own HTTP session and auth hook, its own
typed models reading our answers, its own error class; and the track webhooks checked by our verifier."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import shippo
from shippo.models import components, errors, operations

from integrations.carriers import shippo_signature
from integrations.carriers.shippo_sandbox import DEV_SHIPPO_KEY, DEV_SHIPPO_WEBHOOK_SECRET
from integrations.sandbox import SandboxServer, create_sandbox_app
from tests.fixtures.webhook_inbox import WebhookInbox, webhook_inbox

pytestmark = pytest.mark.conformance


@dataclass(frozen=True)
class Sandbox:
    url: str
    sdk: shippo.Shippo
    inbox: WebhookInbox
    hook_url: str


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    app = create_sandbox_app(easypost_key="ep", sendgrid_key="sg")
    with webhook_inbox("shippo-auth-signature") as inbox, SandboxServer(app) as server:
        url = f"{server.url}/shippo"
        sdk = shippo.Shippo(api_key_header=DEV_SHIPPO_KEY, shippo_api_version="2018-02-08", server_url=url)
        yield Sandbox(url, sdk, inbox, inbox.url)


def _track(inbox: WebhookInbox, event: str, tracking_number: str, status: str) -> tuple[bytes, str]:
    """The `event` webhook about `tracking_number` at `status`."""
    def about(payload: dict[str, Any]) -> bool:
        data = payload["data"]
        return (payload["event"] == event and data.get("tracking_number") == tracking_number
                and (data.get("tracking_status") or {}).get("status") == status)
    return inbox.wait_for(about, f"{event} webhook for {tracking_number} at {status}")


def _ref() -> str:
    return f"order-{uuid.uuid4().hex[:12]}"


def _address(name: str, street: str, city: str, state: str, zip_code: str) -> components.AddressCreateRequest:
    return components.AddressCreateRequest(name=name, street1=street, city=city, state=state, zip=zip_code,
                                           country="US")


def _shipment(sdk: shippo.Shippo, reference: str, weight_lb: str = "2") -> components.Shipment:
    return sdk.shipments.create(components.ShipmentCreateRequest(
        address_from=_address("Omniroute DC", "1 W Lake St", "Chicago", "IL", "60601"),
        address_to=_address("Ada Buyer", "500 Congress Ave", "Austin", "TX", "78701"),
        parcels=[components.ParcelCreateRequest(length="10", width="8", height="4",
                                                distance_unit=components.DistanceUnitEnum.IN, weight=weight_lb,
                                                mass_unit=components.WeightUnitEnum.LB)],
        metadata=reference, async_=False))


def _buy(sdk: shippo.Shippo, rate: components.Rate, reference: str) -> components.Transaction:
    return sdk.transactions.create(components.TransactionCreateRequest(
        rate=rate.object_id, label_file_type=components.LabelFileTypeEnum.PDF, metadata=reference, async_=False))


def _knobs(sandbox: Sandbox, **knobs: Any) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/knobs", json=knobs, timeout=5).raise_for_status()


def test_the_sdk_reads_a_shipment_and_its_rates(sandbox: Sandbox) -> None:
    reference = _ref()
    shipment = _shipment(sandbox.sdk, reference)
    assert shipment.status == components.ShipmentStatus.SUCCESS and shipment.metadata == reference
    assert {r.provider for r in shipment.rates} == {"USPS", "UPS", "FedEx"}
    assert all(r.shipment == shipment.object_id and float(r.amount) > 0 for r in shipment.rates)
    assert sum(components.Attributes.CHEAPEST in r.attributes for r in shipment.rates) == 1
    cheapest = next(r for r in shipment.rates if components.Attributes.CHEAPEST in r.attributes)
    assert float(cheapest.amount) == min(float(r.amount) for r in shipment.rates)
    assert sandbox.sdk.shipments.get(shipment.object_id).rates[0].object_id == shipment.rates[0].object_id
    heavier = _shipment(sandbox.sdk, _ref(), weight_lb="9")
    assert float(heavier.rates[0].amount) > float(shipment.rates[0].amount)


def test_the_sdk_buys_a_label_and_finds_it_among_the_transactions(sandbox: Sandbox) -> None:
    reference = _ref()
    rate = _shipment(sandbox.sdk, reference).rates[0]
    bought = _buy(sandbox.sdk, rate, reference)
    assert bought.status == components.TransactionStatusEnum.SUCCESS
    assert bought.object_state == components.ObjectStateEnum.VALID and bought.rate == rate.object_id
    assert bought.tracking_number and bought.label_url and bought.metadata == reference
    assert bought.label_file_type == components.LabelFileTypeEnum.PDF
    listed = sandbox.sdk.transactions.list(operations.ListTransactionsRequest(rate=rate.object_id, results=5))
    assert [t.object_id for t in listed.results or []] == [bought.object_id]
    assert sandbox.sdk.transactions.get(bought.object_id).tracking_number == bought.tracking_number


def test_the_sdk_pages_through_transactions(sandbox: Sandbox) -> None:
    for _ in range(3):
        reference = _ref()
        _buy(sandbox.sdk, _shipment(sandbox.sdk, reference).rates[0], reference)
    first = sandbox.sdk.transactions.list(operations.ListTransactionsRequest(page=1, results=2))
    second = sandbox.sdk.transactions.list(operations.ListTransactionsRequest(page=2, results=2))
    assert first.next is not None and "page=2" in first.next and first.previous is None
    assert second.previous is not None and len(first.results or []) == 2
    assert not {t.object_id for t in first.results or []} & {t.object_id for t in second.results or []}


def test_a_queued_purchase_succeeds_after_the_polls_the_knob_sets(sandbox: Sandbox) -> None:
    reference = _ref()
    rate = _shipment(sandbox.sdk, reference).rates[1]
    _knobs(sandbox, queued_polls=2)
    try:
        queued = _buy(sandbox.sdk, rate, reference)
    finally:
        _knobs(sandbox, queued_polls=0)
    assert queued.status == components.TransactionStatusEnum.QUEUED and not queued.tracking_number
    statuses = [sandbox.sdk.transactions.get(queued.object_id).status for _ in range(3)]
    assert statuses == [components.TransactionStatusEnum.QUEUED] * 2 + [components.TransactionStatusEnum.SUCCESS]
    assert sandbox.sdk.transactions.get(queued.object_id).tracking_number


def test_the_sdk_refunds_a_label_and_sees_the_refund_succeed(sandbox: Sandbox) -> None:
    reference = _ref()
    bought = _buy(sandbox.sdk, _shipment(sandbox.sdk, reference).rates[0], reference)
    refund = sandbox.sdk.refunds.create(transaction=bought.object_id or "", async_=False)
    assert refund.status == components.RefundStatus.QUEUED and refund.transaction == bought.object_id
    assert sandbox.sdk.transactions.get(bought.object_id).status == components.TransactionStatusEnum.REFUNDPENDING
    assert sandbox.sdk.refunds.get(refund.object_id or "").status == components.RefundStatus.SUCCESS
    assert sandbox.sdk.transactions.get(bought.object_id).status == components.TransactionStatusEnum.REFUNDED
    assert refund.object_id in {r.object_id for r in sandbox.sdk.refunds.list().results or []}


def test_the_sdk_tracks_a_bought_label_and_the_test_numbers(sandbox: Sandbox) -> None:
    reference = _ref()
    bought = _buy(sandbox.sdk, _shipment(sandbox.sdk, reference).rates[0], reference)
    track = sandbox.sdk.tracking_status.get(bought.tracking_number or "", "usps")
    assert track.tracking_status is not None
    assert track.tracking_status.status == components.TrackingStatusEnum.PRE_TRANSIT
    assert track.transaction == bought.object_id and track.tracking_history
    for status in ("TRANSIT", "DELIVERED", "RETURNED"):
        test_track = sandbox.sdk.tracking_status.get(f"SHIPPO_{status}", "shippo")
        assert test_track.tracking_status is not None and test_track.tracking_status.status == status
    registered = sandbox.sdk.tracking_status.create("shippo", "SHIPPO_PRE_TRANSIT", metadata=reference)
    assert registered.metadata == reference


def test_track_updates_arrive_signed_as_shippo_signs_them(sandbox: Sandbox) -> None:
    hook = sandbox.sdk.webhooks.create_webhook(components.WebhookUpdateRequest(
        event=components.WebhookEventTypeEnum.TRACK_UPDATED, url=sandbox.hook_url, is_test=True))
    try:
        assert hook.object_id in {w.object_id for w in sandbox.sdk.webhooks.list_webhooks().results or []}
        reference = _ref()
        bought = _buy(sandbox.sdk, _shipment(sandbox.sdk, reference).rates[0], reference)
        number = bought.tracking_number or ""
        httpx.post(f"{sandbox.url}/_sandbox/tracks/usps/{number}/advance", json={}, timeout=5).raise_for_status()
        body, header = _track(sandbox.inbox, "track_updated", number, "TRANSIT")
    finally:
        sandbox.sdk.webhooks.delete_webhook(hook.object_id or "")
    assert shippo_signature.verify(body, header, DEV_SHIPPO_WEBHOOK_SECRET) > 0
    with pytest.raises(shippo_signature.ShippoSignatureError):
        shippo_signature.verify(body + b" ", header, DEV_SHIPPO_WEBHOOK_SECRET)
    payload = components.WebhookPayloadTrack.from_dict(json.loads(body))  # type: ignore[attr-defined]
    assert payload.event == components.WebhookEventTypeEnum.TRACK_UPDATED and payload.test is True
    assert payload.data.tracking_status.status == components.TrackingStatusEnum.TRANSIT
    assert payload.data.transaction == bought.object_id


def test_the_sdk_validates_an_address(sandbox: Sandbox) -> None:
    good = sandbox.sdk.addresses.create(components.AddressCreateRequest(
        name="Ada", street1="500 Congress Ave", city="Austin", state="TX", zip="78701", country="US", validate=True))
    assert good.validation_results is not None and good.validation_results.is_valid is True and good.is_complete
    vague = sandbox.sdk.addresses.create(components.AddressCreateRequest(
        name="Ada", street1="Congress Ave", city="Austin", state="TX", zip="78701", country="US", validate=True))
    assert vague.validation_results is not None and vague.validation_results.is_valid is False
    assert vague.validation_results.messages


def test_the_sdk_raises_its_error_with_our_drf_bodies(sandbox: Sandbox) -> None:
    with pytest.raises(errors.SDKError) as missing:
        sandbox.sdk.shipments.create(components.ShipmentCreateRequest(
            address_from=_address("A", "1 W Lake St", "Chicago", "IL", ""),
            address_to=_address("B", "500 Congress Ave", "Austin", "TX", "78701"),
            parcels=[components.ParcelCreateRequest(length="1", width="1", height="1", weight="1",
                                                    distance_unit=components.DistanceUnitEnum.IN,
                                                    mass_unit=components.WeightUnitEnum.LB)]))
    assert missing.value.status_code == 400
    assert json.loads(missing.value.body) == {"address_from": {"zip": ["This field is required."]}}
    wrong_token = shippo.Shippo(api_key_header="shippo_test_wrong", server_url=sandbox.url)
    with pytest.raises(errors.SDKError) as refused:
        wrong_token.shipments.get(uuid.uuid4().hex)
    assert refused.value.status_code == 401
