"""EasyPostClient against the EasyPost sandbox over real HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from integrations.carriers.easypost import EasyPostClient, Parcel
from integrations.http import PermanentProviderError, RateLimitedError, RetryPolicy
from models.address import Address
from tests.fixtures.sandbox import RunningSandbox

CUSTOMER = Address(name="Ada Lovelace", line1="179 N Harbor Dr", city="Redondo Beach", region="CA",
                   postal_code="90277", phone="3105550100")
CHICAGO_DC = Address(name="Omniroute Chicago DC", line1="2200 S Halsted St", city="Chicago", region="IL",
                     postal_code="60608")
LA_STORE = Address(name="Omniroute LA Store", line1="100 W 1st St", city="Los Angeles", region="CA",
                   postal_code="90012")
BOX = Parcel(length=10, width=8, height=4, weight=20)

# Short waits keep the suite fast; the budget stays the default of two retries.
FAST_RETRY = RetryPolicy(max_retries=2, max_wait=2.0, default_wait=0.05)


def _reference() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def easypost(sandbox: RunningSandbox) -> Iterator[EasyPostClient]:
    with EasyPostClient(sandbox.easypost_url, sandbox.easypost_key, retry=FAST_RETRY) as client:
        yield client


def test_a_label_is_rated_bought_and_refunded(easypost: EasyPostClient, sandbox: RunningSandbox) -> None:
    reference = _reference()
    shipment = easypost.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                        reference=reference)
    assert shipment.id.startswith("shp_") and shipment.reference == reference
    services = {(rate.carrier, rate.service) for rate in shipment.rates}
    assert {("USPS", "GroundAdvantage"), ("UPS", "NextDayAir"), ("FedEx", "FEDEX_2_DAY")} <= services
    assert all(rate.id.startswith("rate_") and rate.rate_minor > 0 and rate.currency == "USD"
               for rate in shipment.rates)
    cheapest = min(shipment.rates, key=lambda rate: rate.rate_minor)

    bought = easypost.buy(shipment.id, cheapest.id)
    assert bought.selected_rate == cheapest
    assert bought.tracking_code and bought.tracking_code.startswith("EZ")
    assert bought.label_url
    label = bought.label()
    assert label is not None and label.cost.amount == cheapest.rate_minor

    refunded = easypost.refund(shipment.id)
    assert refunded.refund_status == "submitted"
    # The sandbox's default carrier settles a refund as soon as it is next looked at.
    assert easypost.get_shipment(shipment.id).refund_status == "refunded"
    [recorded] = sandbox.labels(reference=reference)
    assert recorded["tracking_code"] == bought.tracking_code and recorded["refunded"] is True


def test_buying_twice_returns_the_same_label_and_the_sandbox_sells_one(
    easypost: EasyPostClient, sandbox: RunningSandbox
) -> None:
    reference = _reference()
    shipment = easypost.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                        reference=reference)
    labels_before = sandbox.easypost_stats()["labels_bought"]
    first = easypost.buy(shipment.id, shipment.rates[0].id)
    again = easypost.buy(shipment.id, shipment.rates[1].id)
    assert again.tracking_code == first.tracking_code
    assert again.selected_rate == first.selected_rate
    assert len(sandbox.labels(reference=reference)) == 1
    assert sandbox.easypost_stats()["labels_bought"] == labels_before + 1


def test_a_nearer_origin_costs_less_and_arrives_sooner(easypost: EasyPostClient) -> None:
    far = easypost.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                   reference=_reference())
    near = easypost.create_shipment(to_address=CUSTOMER, from_address=LA_STORE, parcel=BOX,
                                    reference=_reference())
    far_ground, near_ground = far.rate_for("UPS", "Ground"), near.rate_for("UPS", "Ground")
    assert far_ground is not None and near_ground is not None
    assert near_ground.rate_minor < far_ground.rate_minor
    assert near_ground.delivery_days is not None and far_ground.delivery_days is not None
    assert near_ground.delivery_days < far_ground.delivery_days


def test_a_return_label_runs_back_to_the_origin(easypost: EasyPostClient, sandbox: RunningSandbox) -> None:
    reference = _reference()
    shipment = easypost.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                        reference=reference, is_return=True)
    assert shipment.is_return
    raw = httpx.get(f"{sandbox.easypost_url}/shipments/{shipment.id}",
                    headers={"Authorization": f"Bearer {sandbox.easypost_key}"}).json()
    assert raw["to_address"]["zip"] == "60608" and raw["from_address"]["zip"] == "90277"


def test_a_wrong_api_key_is_a_permanent_401(sandbox: RunningSandbox) -> None:
    with EasyPostClient(sandbox.easypost_url, "EZTK-not-the-key") as client:
        with pytest.raises(PermanentProviderError) as caught:
            client.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                   reference=_reference())
    assert caught.value.status == 401
    assert caught.value.provider == "easypost"


def test_basic_auth_with_the_key_as_username_is_accepted(sandbox: RunningSandbox) -> None:
    response = httpx.post(f"{sandbox.easypost_url}/shipments/shp_missing/refund", auth=(sandbox.easypost_key, ""))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_an_address_without_a_zip_is_refused_naming_the_field(easypost: EasyPostClient) -> None:
    located_only = CUSTOMER.model_copy(update={"postal_code": None, "latitude": 33.8, "longitude": -118.4})
    with pytest.raises(PermanentProviderError) as caught:
        easypost.create_shipment(to_address=located_only, from_address=CHICAGO_DC, parcel=BOX,
                                 reference=_reference())
    assert (caught.value.status, caught.value.field) == (422, "to_address.zip")
    assert caught.value.code == "SHIPMENT.INVALID_PARAMS"


def test_refunding_a_shipment_that_was_never_bought_is_refused(easypost: EasyPostClient) -> None:
    shipment = easypost.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                        reference=_reference())
    with pytest.raises(PermanentProviderError) as caught:
        easypost.refund(shipment.id)
    assert caught.value.status == 422


def test_a_503_with_retry_after_is_waited_out_and_the_call_succeeds(
    easypost: EasyPostClient, sandbox: RunningSandbox
) -> None:
    with sandbox.faults("easypost", status=503, count=1, retry_after=0.2):
        started = time.monotonic()
        shipment = easypost.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                            reference=_reference())
        elapsed = time.monotonic() - started
        assert sandbox.faults_remaining("easypost") == 0
    assert shipment.rates
    assert elapsed >= 0.2


def test_throttling_beyond_the_retry_budget_raises_rate_limited(
    easypost: EasyPostClient, sandbox: RunningSandbox
) -> None:
    with sandbox.faults("easypost", status=429, count=5, retry_after=0):
        with pytest.raises(RateLimitedError) as caught:
            easypost.get_shipment("shp_whatever")
        # one attempt and two retries, then the caller's retry policy takes over
        assert sandbox.faults_remaining("easypost") == 2
    assert caught.value.status == 429 and caught.value.retry_after == 0.0


def test_faults_armed_for_one_path_let_the_other_calls_through(
    easypost: EasyPostClient, sandbox: RunningSandbox
) -> None:
    with sandbox.faults("easypost", status=429, count=3, retry_after=0, path_suffix="/buy"):
        shipment = easypost.create_shipment(to_address=CUSTOMER, from_address=CHICAGO_DC, parcel=BOX,
                                            reference=_reference())
        assert easypost.get_shipment(shipment.id).id == shipment.id
        assert sandbox.faults_remaining("easypost") == 3
        with pytest.raises(RateLimitedError):
            easypost.buy(shipment.id, shipment.rates[0].id)
        assert sandbox.faults_remaining("easypost") == 0
    assert easypost.buy(shipment.id, shipment.rates[0].id).tracking_code
