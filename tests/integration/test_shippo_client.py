"""Our ShippoClient against the Shippo sandbox over real HTTP: every operation, queued purchases and
refunds polled to their end, a lost purchase answer recovered by our reference (bought once), the
error mapping with the field named, and 429."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.carriers.easypost import Parcel
from integrations.carriers.shippo import ShippoClient
from integrations.carriers.shippo_sandbox import DEV_SHIPPO_KEY
from integrations.carriers.shippo_wire import RefundStatus, TrackingStatus, TransactionStatus
from integrations.http import PermanentProviderError, RateLimitedError, RetryPolicy, TransientProviderError
from integrations.sandbox import SandboxServer, create_sandbox_app
from integrations.sandbox_store import SandboxStore
from models.address import Address
from models.money import Money

NO_WAIT = RetryPolicy(max_retries=0)
DC = Address(name="Omniroute DC", line1="1 W Lake St", city="Chicago", region="IL", postal_code="60601")
BUYER = Address(name="Ada Buyer", line1="500 Congress Ave", city="Austin", region="TX", postal_code="78701")
BOX = Parcel(length=10, width=8, height=4, weight=20)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with SandboxServer(create_sandbox_app(easypost_key="ep", sendgrid_key="sg")) as server:
        yield f"{server.url}/shippo"


@pytest.fixture
def client(base_url: str) -> Iterator[ShippoClient]:
    with ShippoClient(base_url, DEV_SHIPPO_KEY, retry=NO_WAIT) as shippo:
        yield shippo


@pytest.fixture
def sandbox(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{base_url}/_sandbox", timeout=5) as controls:
        yield controls
        controls.post("/knobs", json={"queued_polls": 0, "drop_next_purchase_answers": 0, "fail_next_purchases": 0,
                                      "refund_polls": 1, "refund_error": False}).raise_for_status()
        controls.delete("/faults").raise_for_status()


def _ref() -> str:
    return f"order-test-{uuid.uuid4().hex[:10]}"


def _knobs(sandbox: httpx.Client, **knobs: Any) -> None:
    sandbox.post("/knobs", json=knobs).raise_for_status()


def test_create_a_shipment_buy_its_cheapest_rate_and_read_the_label(client: ShippoClient) -> None:
    reference = _ref()
    shipment = client.create_shipment(to_address=BUYER, from_address=DC, parcel=BOX, reference=reference)
    assert shipment.status == "SUCCESS" and shipment.reference == reference and len(shipment.rates) == 9
    cheapest = min(shipment.rates, key=lambda r: r.rate_minor)
    assert shipment.rate_for(cheapest.carrier, cheapest.service) == cheapest
    assert client.get_shipment(shipment.id).rates == shipment.rates

    bought = client.buy(cheapest.id, reference=reference)
    assert bought.status == TransactionStatus.SUCCESS and bought.is_bought and bought.reference == reference
    label = bought.label(cheapest)
    assert label is not None and label.tracking_number == bought.tracking_number
    assert (label.carrier, label.service, label.label_format) == (cheapest.carrier, cheapest.service, "PDF")
    assert label.cost == Money(amount=cheapest.rate_minor, currency="USD")
    assert client.get_transaction(bought.id) == bought
    assert client.find_transaction(reference) == bought


def test_a_queued_purchase_is_polled_to_success(client: ShippoClient, sandbox: httpx.Client) -> None:
    reference = _ref()
    rate = client.create_shipment(to_address=BUYER, from_address=DC, parcel=BOX, reference=reference).rates[0]
    _knobs(sandbox, queued_polls=3)
    queued = client.buy(rate.id, reference=reference, label_file_type="ZPLII")
    assert queued.is_pending and queued.label(rate) is None
    naps: list[float] = []
    done = client.wait_for_transaction(queued.id, polls=10, interval_s=0.5, sleep=naps.append)
    assert done.status == TransactionStatus.SUCCESS and done.label_format == "ZPL" and naps == [0.5] * 3


def test_a_purchase_still_queued_after_the_polls_is_transient(client: ShippoClient, sandbox: httpx.Client) -> None:
    reference = _ref()
    rate = client.create_shipment(to_address=BUYER, from_address=DC, parcel=BOX, reference=reference).rates[0]
    _knobs(sandbox, queued_polls=5)
    queued = client.buy(rate.id, reference=reference)
    with pytest.raises(TransientProviderError) as still:
        client.wait_for_transaction(queued.id, polls=2, sleep=lambda _: None)
    assert still.value.code == "STILL_QUEUED"


def test_a_purchase_whose_answer_is_lost_is_found_by_our_reference_and_bought_once(
        client: ShippoClient, sandbox: httpx.Client) -> None:
    reference = _ref()
    rate = client.create_shipment(to_address=BUYER, from_address=DC, parcel=BOX, reference=reference).rates[2]
    _knobs(sandbox, drop_next_purchase_answers=1)
    recovered = client.buy(rate.id, reference=reference)
    assert recovered.is_bought and recovered.rate_id == rate.id and recovered.reference == reference
    assert sandbox.get("/stats").json()["answers_dropped"] == 1
    again = client.buy(rate.id, reference=reference, look_first=True)  # a retry of the whole step
    assert again == recovered
    labels = sandbox.get("/labels", params={"reference": reference}).json()
    assert [label["transaction"] for label in labels] == [recovered.id]


def test_a_lost_answer_without_a_purchase_behind_it_stays_an_error(client: ShippoClient,
                                                                   sandbox: httpx.Client) -> None:
    reference = _ref()
    rate = client.create_shipment(to_address=BUYER, from_address=DC, parcel=BOX, reference=reference).rates[0]
    sandbox.post("/faults", json={"status": 502, "count": 1, "path_suffix": "/transactions"}).raise_for_status()
    with pytest.raises(TransientProviderError) as failed:
        client.buy(rate.id, reference=reference)
    assert failed.value.status == 502
    assert client.find_transaction(reference) is None


def test_a_purchase_the_carrier_refuses_ends_in_error_with_its_message(client: ShippoClient,
                                                                       sandbox: httpx.Client) -> None:
    reference = _ref()
    rate = client.create_shipment(to_address=BUYER, from_address=DC, parcel=BOX, reference=reference).rates[0]
    _knobs(sandbox, fail_next_purchases=1)
    refused = client.buy(rate.id, reference=reference)
    assert refused.status == TransactionStatus.ERROR and not refused.is_bought
    assert refused.messages and refused.messages[0].code == "carrier_error"


def test_refund_is_polled_to_success_and_asking_twice_returns_the_same_refund(
        client: ShippoClient, sandbox: httpx.Client) -> None:
    reference = _ref()
    rate = client.create_shipment(to_address=BUYER, from_address=DC, parcel=BOX, reference=reference).rates[0]
    bought = client.buy(rate.id, reference=reference)
    _knobs(sandbox, refund_polls=2)
    refund = client.refund(bought.id)
    assert refund.status == RefundStatus.QUEUED and refund.transaction_id == bought.id
    assert client.refund(bought.id).id == refund.id
    assert client.get_refund(refund.id).status == RefundStatus.PENDING
    assert client.wait_for_refund(refund.id, sleep=lambda _: None).status == RefundStatus.SUCCESS
    assert client.get_transaction(bought.id).status == TransactionStatus.REFUNDED


def test_track_a_bought_label_as_it_moves(client: ShippoClient, sandbox: httpx.Client) -> None:
    reference = _ref()
    rate = client.create_shipment(to_address=BUYER, from_address=DC, parcel=BOX, reference=reference).rates[0]
    bought = client.buy(rate.id, reference=reference)
    number = bought.tracking_number or ""
    assert client.track("usps", number).status == TrackingStatus.PRE_TRANSIT
    sandbox.post(f"/tracks/usps/{number}/advance", json={}).raise_for_status()
    moved = client.track("usps", number)
    assert moved.status == TrackingStatus.TRANSIT and moved.transaction_id == bought.id
    assert [event.status for event in moved.history] == [TrackingStatus.PRE_TRANSIT, TrackingStatus.TRANSIT]
    assert client.track("shippo", "SHIPPO_DELIVERED").status == TrackingStatus.DELIVERED


def test_validate_an_address(client: ShippoClient) -> None:
    assert client.validate_address(BUYER).is_valid
    unknown = client.validate_address(BUYER.model_copy(update={"line1": "Congress Ave"}))
    assert not unknown.is_valid and unknown.messages


def test_errors_name_the_field_shippo_names(client: ShippoClient) -> None:
    no_zip = DC.model_copy(update={"postal_code": None, "latitude": 41.88, "longitude": -87.63})
    with pytest.raises(PermanentProviderError) as invalid:
        client.create_shipment(to_address=BUYER, from_address=no_zip, parcel=BOX, reference=_ref())
    assert (invalid.value.status, invalid.value.field) == (400, "address_from.zip")
    with pytest.raises(PermanentProviderError) as bad_rate:
        client.buy(uuid.uuid4().hex, reference=_ref())
    assert bad_rate.value.field == "rate" and "does not exist" in bad_rate.value.message
    with pytest.raises(PermanentProviderError) as missing:
        client.get_transaction(uuid.uuid4().hex)
    assert missing.value.status == 404


def test_a_wrong_token_is_permanent(base_url: str) -> None:
    with ShippoClient(base_url, "shippo_test_not_ours", retry=NO_WAIT) as wrong:
        with pytest.raises(PermanentProviderError) as refused:
            wrong.track("shippo", "SHIPPO_TRANSIT")
    assert refused.value.status == 401 and "Invalid token" in refused.value.message


def test_429_is_rate_limited_with_a_minute_to_wait_when_shippo_says_nothing(
        client: ShippoClient, sandbox: httpx.Client) -> None:
    sandbox.post("/faults", json={"status": 429, "count": 1}).raise_for_status()
    with pytest.raises(RateLimitedError) as throttled:
        client.track("shippo", "SHIPPO_TRANSIT")
    assert throttled.value.retry_after == 60.0 and "throttled" in throttled.value.message
    assert client.track("shippo", "SHIPPO_TRANSIT").status == TrackingStatus.TRANSIT


def test_a_short_retry_after_is_waited_out_in_process(base_url: str, sandbox: httpx.Client) -> None:
    sandbox.post("/faults", json={"status": 429, "count": 1, "retry_after": 0}).raise_for_status()
    with ShippoClient(base_url, DEV_SHIPPO_KEY) as patient:
        assert patient.track("shippo", "SHIPPO_RETURNED").status == TrackingStatus.RETURNED
    assert sandbox.get("/faults").json()["remaining"] == 0


def test_find_transaction_follows_the_pages(client: ShippoClient) -> None:
    references = []
    for _ in range(3):
        reference = _ref()
        rate = client.create_shipment(to_address=BUYER, from_address=DC, parcel=BOX, reference=reference).rates[0]
        client.buy(rate.id, reference=reference)
        references.append(reference)
    oldest = references[0]
    pages = list(client.transactions(page_size=1, max_pages=3))
    assert len(pages) == 3 and pages[0].reference == references[-1]
    found = client.find_transaction(oldest, page_size=1)
    assert found is not None and found.reference == oldest


def test_the_sandbox_keeps_its_labels_across_a_restart_on_the_same_file(tmp_path: Path) -> None:
    reference, state_file = _ref(), tmp_path / "sandboxes.db"
    with SandboxStore(state_file) as store, SandboxServer(create_sandbox_app(
            easypost_key="ep", sendgrid_key="sg", store=store)) as server:
        with ShippoClient(f"{server.url}/shippo", DEV_SHIPPO_KEY, retry=NO_WAIT) as first:
            rate = first.create_shipment(to_address=BUYER, from_address=DC, parcel=BOX, reference=reference).rates[0]
            bought = first.buy(rate.id, reference=reference)
    with SandboxStore(state_file) as store, SandboxServer(create_sandbox_app(
            easypost_key="ep", sendgrid_key="sg", store=store)) as server:
        with ShippoClient(f"{server.url}/shippo", DEV_SHIPPO_KEY, retry=NO_WAIT) as second:
            assert second.find_transaction(reference) == bought
            assert second.track("usps", bought.tracking_number or "").transaction_id == bought.id
            with pytest.raises(PermanentProviderError) as twice:
                second.buy(rate.id, reference=_ref())
            assert twice.value.field == "rate"
