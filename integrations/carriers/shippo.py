"""Shippo client: shipments with rates, label purchase (transactions), refunds, tracking, address checks.

Wire format: https://api.goshippo.com, `Authorization: ShippoToken <token>`, `Shippo-API-Version`
pinned, plain JSON bodies, lists as `{"next", "previous", "results"}` paged by `page` and `results`,
errors as Django REST Framework bodies (see integrations.carriers.shippo_wire).

Shippo has no idempotency key. A purchase carries our reference in `metadata`; when its answer is
lost (network error, 5xx) `buy` reads the transactions back and returns the one carrying that
reference, so a purchase is made once; `buy(..., look_first=True)` does the reading before buying, for
a retry whose earlier attempt may have bought. Purchases and refunds may answer QUEUED: poll them.
Shippo's limits are per minute, so a 429 without a short Retry-After is raised at once with
`retry_after` = 60 s for the caller's retry policy, instead of being retried here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from integrations.carriers.easypost import Parcel
from integrations.carriers.shippo_wire import (
    PROVIDER,
    AddressCheck,
    RefundStatus,
    ShippoRefund,
    ShippoShipment,
    ShippoTrack,
    ShippoTransaction,
    parse_address_check,
    parse_error,
    parse_refund,
    parse_shipment,
    parse_track,
    parse_transaction,
)
from integrations.http import (
    PermanentProviderError,
    ProviderClient,
    RateLimitedError,
    RetryPolicy,
    TransientProviderError,
    json_object,
    send,
)
from models.address import Address

API_VERSION = "2018-02-08"
LABEL_FILE_TYPES = frozenset({"PDF", "PDF_4x6", "PDF_4x8", "PDF_A4", "PDF_A6", "PNG", "PNG_2.3x7.5", "ZPLII"})
RATE_WINDOW_S = 60.0  # Shippo counts requests per minute
# Short Retry-After answers are waited out; without one the default wait exceeds max_wait: raised at once.
SHIPPO_RETRY = RetryPolicy(max_retries=2, max_wait=5.0, default_wait=RATE_WINDOW_S)
_METADATA_MAX = 100


class ShippoClient(ProviderClient):
    """Sync Shippo client. Every method raises an `integrations.http.ProviderError` subclass on failure:
    `PermanentProviderError` for refusals (401 bad token, 404, 400 naming the field),
    `TransientProviderError`/`RateLimitedError` for outages and throttling."""

    provider = PROVIDER

    def __init__(self, base_url: str, api_token: str, *, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy = SHIPPO_RETRY,
                 api_version: str = API_VERSION) -> None:
        super().__init__(base_url, {"Authorization": f"ShippoToken {api_token}", "Shippo-API-Version": api_version,
                                    "Accept": "application/json"}, timeout=timeout, transport=transport, retry=retry)

    def create_shipment(self, *, to_address: Address, from_address: Address, parcel: Parcel,
                        reference: str) -> ShippoShipment:
        """Create a shipment and get its rates at once (`async: false`); `reference` goes in metadata."""
        body = {"address_from": address_fields(from_address), "address_to": address_fields(to_address),
                "parcels": [parcel_fields(parcel)], "metadata": _metadata(reference), "async": False}
        return parse_shipment(self._call("POST", "/shipments", json=body))

    def get_shipment(self, shipment_id: str) -> ShippoShipment:
        return parse_shipment(self._call("GET", f"/shipments/{shipment_id}"))

    def buy(self, rate_id: str, *, reference: str, label_file_type: str = "PDF",
            look_first: bool = False) -> ShippoTransaction:
        """Buy the label of `rate_id`. The answer may still be QUEUED (see `wait_for_transaction`), or
        ERROR with the carrier's `messages`. A lost answer is recovered by reading our reference back."""
        if label_file_type not in LABEL_FILE_TYPES:
            raise ValueError(f"label_file_type must be one of {sorted(LABEL_FILE_TYPES)}")
        if look_first and (earlier := self.find_transaction(reference, rate_id=rate_id)) is not None:
            return earlier
        body = {"rate": rate_id, "label_file_type": label_file_type, "metadata": _metadata(reference), "async": False}
        try:
            return parse_transaction(self._call("POST", "/transactions", json=body))
        except RateLimitedError:
            raise  # refused before anything was bought
        except TransientProviderError as lost:
            try:
                found = self.find_transaction(reference, rate_id=rate_id)
            except TransientProviderError:
                raise lost from None
            if found is None:
                raise
            return found

    def get_transaction(self, transaction_id: str) -> ShippoTransaction:
        return parse_transaction(self._call("GET", f"/transactions/{transaction_id}"))

    def wait_for_transaction(self, transaction_id: str, *, polls: int = 10, interval_s: float = 1.0,
                             sleep: Callable[[float], None] = time.sleep) -> ShippoTransaction:
        """Poll a purchase until it leaves QUEUED/WAITING; TransientProviderError if it is still there
        after `polls` reads (ask again later)."""
        for attempt in range(polls):
            transaction = self.get_transaction(transaction_id)
            if not transaction.is_pending:
                return transaction
            if attempt + 1 < polls:
                sleep(interval_s)
        raise TransientProviderError(PROVIDER, f"transaction {transaction_id} still {transaction.status} "
                                               f"after {polls} polls", code="STILL_QUEUED")

    def transactions(self, *, rate_id: str | None = None, page_size: int = 25,
                     max_pages: int = 40) -> Iterator[ShippoTransaction]:
        """Every transaction (newest first), following `next`; only those of `rate_id` when given."""
        params: dict[str, Any] = {"results": page_size}
        if rate_id is not None:
            params["rate"] = rate_id
        for data in self._pages("/transactions", params, max_pages):
            yield parse_transaction(data)

    def find_transaction(self, reference: str, *, rate_id: str | None = None, page_size: int = 25,
                         max_pages: int = 40) -> ShippoTransaction | None:
        """The newest transaction whose metadata is `reference` (and of `rate_id`, when given)."""
        wanted = _metadata(reference)
        found = self.transactions(rate_id=rate_id, page_size=page_size, max_pages=max_pages)
        return next((t for t in found if t.reference == wanted), None)

    def refund(self, transaction_id: str) -> ShippoRefund:
        """Ask for a label's refund (QUEUED at first). A refund already asked for is returned as it is."""
        try:
            return parse_refund(self._call("POST", "/refunds", json={"transaction": transaction_id, "async": False}))
        except PermanentProviderError as exc:
            if exc.field != "transaction" or (earlier := self.find_refund(transaction_id)) is None:
                raise
            return earlier

    def get_refund(self, refund_id: str) -> ShippoRefund:
        return parse_refund(self._call("GET", f"/refunds/{refund_id}"))

    def wait_for_refund(self, refund_id: str, *, polls: int = 10, interval_s: float = 1.0,
                        sleep: Callable[[float], None] = time.sleep) -> ShippoRefund:
        """Poll a refund until SUCCESS or ERROR; TransientProviderError if it is still pending after `polls`."""
        for attempt in range(polls):
            refund = self.get_refund(refund_id)
            if refund.status in (RefundStatus.SUCCESS, RefundStatus.ERROR):
                return refund
            if attempt + 1 < polls:
                sleep(interval_s)
        raise TransientProviderError(PROVIDER, f"refund {refund_id} still {refund.status} after {polls} polls",
                                     code="STILL_PENDING")

    def find_refund(self, transaction_id: str, *, max_pages: int = 40) -> ShippoRefund | None:
        refunds = (parse_refund(data) for data in self._pages("/refunds", {"results": 25}, max_pages))
        return next((r for r in refunds if r.transaction_id == transaction_id), None)

    def track(self, carrier: str, tracking_number: str) -> ShippoTrack:
        """The tracking state of a number at a carrier (Shippo's token: usps, ups, fedex; shippo in test)."""
        return parse_track(self._call("GET", f"/tracks/{carrier}/{tracking_number}"))

    def validate_address(self, address: Address, *, email: str | None = None) -> AddressCheck:
        """Shippo's check of an address (`POST /addresses` with `validate: true`)."""
        body: dict[str, Any] = {**address_fields(address), "validate": True}
        if email:
            body["email"] = email
        return parse_address_check(self._call("POST", "/addresses", json=body))

    def _pages(self, path: str, params: dict[str, Any], max_pages: int) -> Iterator[dict[str, Any]]:
        request = self._http.build_request("GET", path, params=params)
        for _ in range(max_pages):
            page = json_object(PROVIDER, self._send(request))
            for item in page.get("results") or []:
                if isinstance(item, dict):
                    yield item
            next_url = page.get("next")
            if not next_url:
                return
            request = self._http.build_request("GET", str(next_url))

    def _call(self, method: str, path: str, *, json: dict[str, Any] | None = None) -> dict[str, Any]:
        return json_object(PROVIDER, self._send(self._http.build_request(method, path, json=json)))

    def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            return send(self._http, request, provider=PROVIDER, parse_error=parse_error, retry=self._retry)
        except RateLimitedError as exc:
            if exc.retry_after is not None:
                raise
            raise RateLimitedError(PROVIDER, exc.message, status=exc.status, code=exc.code, field=exc.field,
                                   retry_after=RATE_WINDOW_S) from exc


def address_fields(address: Address) -> dict[str, str]:
    """Our Address in Shippo's field names (absent values left out)."""
    fields = {"name": address.name, "street1": address.line1, "street2": address.line2, "city": address.city,
              "state": address.region, "zip": address.postal_code, "country": address.country,
              "phone": address.phone}
    return {key: value for key, value in fields.items() if value}


def parcel_fields(parcel: Parcel) -> dict[str, str]:
    """Our Parcel (inches, ounces) in Shippo's terms: decimal strings with their units."""
    return {"length": f"{parcel.length:g}", "width": f"{parcel.width:g}", "height": f"{parcel.height:g}",
            "distance_unit": "in", "weight": f"{parcel.weight:g}", "mass_unit": "oz"}


def _metadata(reference: str) -> str:
    if not reference or len(reference) > _METADATA_MAX:
        raise ValueError(f"reference must be 1..{_METADATA_MAX} characters (Shippo's metadata)")
    return reference
