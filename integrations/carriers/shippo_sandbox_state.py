"""The Shippo sandbox's state: shipments, transactions (label purchases), refunds, tracks and webhooks,
behind one lock, written to the sandbox store before they change in memory. Knobs (how long purchases
stay QUEUED, a purchase whose answer is dropped, failing purchases, refund polls) live in memory only.

Every change that Shippo would announce returns the webhook events it causes, `(event, data)`, for
the caller to send (integrations.carriers.shippo_sandbox_webhooks)."""

from __future__ import annotations

import secrets
import threading
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from integrations.carriers.shippo_sandbox_wire import (
    LABEL_FILE_TYPES,
    TRACKING_STATUSES,
    ShippoApiError,
    address,
    carrier_token,
    now,
    parcel,
    public,
    rates,
    stamped,
    test_track,
    track_json,
    tracking_event,
)
from integrations.sandbox_store import SandboxStore

Events = list[tuple[str, dict[str, Any]]]
_KINDS = ("shipment", "transaction", "refund", "track", "webhook")
_COUNTERS = "shippo.counters"
_NEXT_STATUS = {"PRE_TRANSIT": "TRANSIT", "TRANSIT": "DELIVERED"}


class Knobs(BaseModel):
    """How the sandbox behaves from now on (POST /_sandbox/knobs; omitted fields keep their value)."""

    queued_polls: int = Field(default=0, ge=0, le=1000, description="reads of a new purchase that answer QUEUED")
    drop_next_purchase_answers: int = Field(default=0, ge=0, le=100,
                                            description="purchases made whose answer is then dropped")
    fail_next_purchases: int = Field(default=0, ge=0, le=100, description="purchases that end in ERROR")
    refund_polls: int = Field(default=1, ge=1, le=1000, description="reads of a refund until it is SUCCESS")
    refund_error: bool = Field(default=False, description="refunds end in ERROR instead")


def not_found() -> ShippoApiError:
    return ShippoApiError(404, {"detail": "Not found."})


class ShippoSandboxState:
    def __init__(self, store: SandboxStore | None = None) -> None:
        self._lock = threading.Lock()
        self._store = store or SandboxStore(None)
        self._records: dict[str, dict[str, dict[str, Any]]] = {
            kind: dict(self._store.load(f"shippo.{kind}")) for kind in _KINDS}
        saved = self._store.get(_COUNTERS, "shippo") or {}
        self._next_tracking: int = saved.get("next_tracking", 10**15 + secrets.randbelow(10**6) * 10**6)
        self.knobs = Knobs()
        self.stats: dict[str, int] = {"shipments_created": 0, "labels_bought": 0, "refunds": 0,
                                      "answers_dropped": 0}

    def set_knobs(self, changes: dict[str, Any]) -> Knobs:
        with self._lock:
            self.knobs = Knobs.model_validate({**self.knobs.model_dump(), **changes})
            return self.knobs

    def take_dropped_answer(self) -> bool:
        with self._lock:
            if self.knobs.drop_next_purchase_answers == 0:
                return False
            self.knobs = self.knobs.model_copy(
                update={"drop_next_purchase_answers": self.knobs.drop_next_purchase_answers - 1})
            self.stats["answers_dropped"] += 1
            return True

    # shipments and rates

    def create_shipment(self, body: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        address_from = address(body.get("address_from"), "address_from", errors)
        address_to = address(body.get("address_to"), "address_to", errors)
        raw_parcels = body.get("parcels")
        if not isinstance(raw_parcels, list) or not raw_parcels:
            errors["parcels"] = ["This field is required."]
            raw_parcels = []
        parcels = [parcel(item, index, errors) for index, item in enumerate(raw_parcels)]
        metadata = body.get("metadata") or ""
        if not isinstance(metadata, str) or len(metadata) > 100:
            errors["metadata"] = ["Ensure this field has no more than 100 characters."]
        if errors:
            raise ShippoApiError(400, errors)
        shipment = stamped(status="SUCCESS", address_from=address_from, address_to=address_to,
                           parcels=[p for p, _, _ in parcels], carrier_accounts=[], messages=[],
                           metadata=metadata, extra=body.get("extra") or {}, shipment_date=now(), test=True)
        weight = sum((w for _, w, _ in parcels), start=Decimal(0))
        shipment["rates"] = rates(shipment["object_id"], address_from["zip"], address_to["zip"], weight,
                                  parcels[0][2] if len(parcels) == 1 else [])
        with self._lock:
            self.stats["shipments_created"] += 1
            return self._put("shipment", shipment)

    def shipment(self, shipment_id: str) -> dict[str, Any]:
        with self._lock:
            return public(self._get("shipment", shipment_id))

    # label purchases

    def buy(self, body: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        rate_id, file_type = body.get("rate"), body.get("label_file_type") or "PDF"
        metadata = body.get("metadata") or ""
        if not isinstance(rate_id, str) or not rate_id:
            raise ShippoApiError(400, {"rate": ["This field is required."]})
        if not isinstance(metadata, str) or len(metadata) > 100:
            raise ShippoApiError(400, {"metadata": ["Ensure this field has no more than 100 characters."]})
        if file_type not in LABEL_FILE_TYPES:
            raise ShippoApiError(400, {"label_file_type": [f"\"{file_type}\" is not a valid choice."]})
        with self._lock:
            rate = next((r for s in self._records["shipment"].values() for r in s["rates"]
                         if r["object_id"] == rate_id), None)
            if rate is None:
                raise ShippoApiError(400, {"rate": [f"Rate with object_id {rate_id} does not exist."]})
            earlier = self._records["transaction"].values()
            if any(t["_rate_id"] == rate_id and t["status"] != "ERROR" for t in earlier):
                raise ShippoApiError(400, {"rate": ["A label has already been purchased for this rate."]})
            shipment = self._get("shipment", rate["shipment"])
            failing = self.knobs.fail_next_purchases > 0
            if failing:
                self.knobs = self.knobs.model_copy(update={"fail_next_purchases": self.knobs.fail_next_purchases - 1})
            transaction = stamped(
                object_state="VALID", status="QUEUED", rate=rate_id, _rate_id=rate_id, metadata=metadata,
                label_file_type=file_type,
                parcel=shipment["parcels"][0]["object_id"], tracking_number=None, tracking_status=None,
                tracking_url_provider=None, label_url=None, commercial_invoice_url=None, qr_code_url=None,
                eta=None, messages=[], test=True, created_by=None, _polls_left=self.knobs.queued_polls, _fail=failing,
                _carrier=carrier_token(rate["provider"]), _servicelevel=rate["servicelevel"])
            events: Events = []
            with self._store.transaction():
                if transaction["_polls_left"] == 0:
                    events = self._settle(transaction)
                self._put("transaction", transaction)
            return public(transaction), [("transaction_created", public(transaction)), *events]

    def transaction(self, transaction_id: str) -> tuple[dict[str, Any], Events]:
        """A read of a purchase: a queued one counts the read, and settles once it has waited enough."""
        with self._lock:
            transaction = self._get("transaction", transaction_id)
            if transaction["status"] != "QUEUED":
                return public(transaction), []
            transaction = dict(transaction)
            events: Events = []
            with self._store.transaction():
                if transaction["_polls_left"] > 0:
                    transaction["_polls_left"] -= 1
                else:
                    events = self._settle(transaction)
                self._put("transaction", transaction)
            return public(transaction), events

    def transactions(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        with self._lock:
            found = list(reversed(self._records["transaction"].values()))
        for name, wanted in (("_rate_id", filters.get("rate")), ("status", filters.get("object_status")),
                             ("tracking_status", filters.get("tracking_status"))):
            if wanted:
                found = [t for t in found if t.get(name) == wanted]
        return [public(t) for t in found]

    def _settle(self, transaction: dict[str, Any]) -> Events:
        """Finish a purchase in place: ERROR when the knob said so, else a label and its track. Under the lock."""
        transaction["object_updated"] = now()
        if transaction["_fail"]:
            transaction["status"] = "ERROR"
            transaction["messages"] = [{"source": transaction["_carrier"].upper(), "code": "carrier_error",
                                        "text": "The carrier refused the label (sandbox fault)."}]
            return [("transaction_updated", public(transaction))]
        number = str(self._next_tracking)
        self._next_tracking += 1
        self._store.put(_COUNTERS, "shippo", {"next_tracking": self._next_tracking})
        carrier = transaction["_carrier"]
        extension = "zpl" if str(transaction["label_file_type"]).startswith("ZPL") else "pdf"
        transaction.update(status="SUCCESS", tracking_number=number, tracking_status="PRE_TRANSIT",
                           tracking_url_provider=f"https://sandbox.invalid/track/{carrier}/{number}",
                           label_url=f"https://sandbox.invalid/labels/{transaction['object_id']}.{extension}")
        track = {"object_id": f"{carrier}/{number}", "carrier": carrier, "tracking_number": number,
                 "transaction": transaction["object_id"], "metadata": None, "eta": None, "original_eta": None,
                 "servicelevel": transaction["_servicelevel"], "messages": [], "address_from": None,
                 "address_to": None, "tracking_history": [tracking_event("PRE_TRANSIT", "Label created.")]}
        self._put("track", track)
        self.stats["labels_bought"] += 1
        return [("transaction_updated", public(transaction)), ("track_updated", track_json(track))]

    # refunds

    def refund(self, body: dict[str, Any]) -> tuple[dict[str, Any], Events]:
        transaction_id = body.get("transaction")
        if not isinstance(transaction_id, str) or not transaction_id:
            raise ShippoApiError(400, {"transaction": ["This field is required."]})
        with self._lock:
            transaction = self._records["transaction"].get(transaction_id)
            if transaction is None:
                raise ShippoApiError(400, {"transaction": [f"Transaction {transaction_id} does not exist."]})
            if any(r["transaction"] == transaction_id for r in self._records["refund"].values()):
                raise ShippoApiError(400, {"transaction": ["A refund for this transaction already exists."]})
            if transaction["status"] != "SUCCESS":
                raise ShippoApiError(400, {"transaction": ["Only a successful label purchase can be refunded."]})
            refund = stamped(status="QUEUED", transaction=transaction_id, test=True,
                             _polls_left=self.knobs.refund_polls, _error=self.knobs.refund_error)
            updated = {**transaction, "status": "REFUNDPENDING", "object_updated": now()}
            self._put("transaction", updated)
            self.stats["refunds"] += 1
            return self._put("refund", refund), [("transaction_updated", public(updated))]

    def get_refund(self, refund_id: str) -> tuple[dict[str, Any], Events]:
        with self._lock:
            refund = dict(self._get("refund", refund_id))
            if refund["status"] not in ("QUEUED", "PENDING"):
                return public(refund), []
            refund["_polls_left"] -= 1
            refund["object_updated"] = now()
            events: Events = []
            if refund["_polls_left"] > 0:
                refund["status"] = "PENDING"
            else:
                refund["status"] = "ERROR" if refund["_error"] else "SUCCESS"
                transaction = {**self._get("transaction", refund["transaction"]), "object_updated": now(),
                               "status": "REFUNDREJECTED" if refund["_error"] else "REFUNDED"}
                self._put("transaction", transaction)
                events.append(("transaction_updated", public(transaction)))
            return self._put("refund", refund), events

    def refunds(self) -> list[dict[str, Any]]:
        with self._lock:
            return [public(r) for r in reversed(self._records["refund"].values())]

    # tracking

    def track(self, carrier: str, number: str, metadata: str | None = None) -> dict[str, Any]:
        if (test := test_track(carrier, number, metadata)) is not None:
            return test
        with self._lock:
            record = self._records["track"].get(f"{carrier}/{number}")
            if record is None:
                return track_json({"carrier": carrier, "tracking_number": number, "transaction": None,
                                    "metadata": metadata, "messages": ["Tracking number not found."],
                                    "tracking_history": []})
            if metadata is not None:
                record = self._put("track", {**record, "metadata": metadata})
            return track_json(record)

    def advance_track(self, carrier: str, number: str, status: str | None, details: str | None) -> Events:
        with self._lock:
            record = self._records["track"].get(f"{carrier}/{number}")
            if record is None:
                raise not_found()
            current = record["tracking_history"][-1]["status"]
            target = status or _NEXT_STATUS.get(current, current)
            if target not in TRACKING_STATUSES:
                raise ShippoApiError(400, {"status": [f"\"{target}\" is not a valid choice."]})
            event = tracking_event(target, details or f"Sandbox carrier scan: {target}.", city="Chicago", state="IL")
            record = self._put("track", {**record, "tracking_history": [*record["tracking_history"], event]})
            for transaction in self._records["transaction"].values():
                if transaction["object_id"] == record["transaction"]:
                    self._put("transaction", {**transaction, "tracking_status": target})
            return [("track_updated", track_json(record))]

    # webhooks

    def add_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        url, event = body.get("url"), body.get("event")
        errors = {}
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) >= 200:
            errors["url"] = ["Enter a valid URL of less than 200 characters."]
        if event not in ("transaction_created", "transaction_updated", "track_updated", "batch_created",
                         "batch_purchased", "all"):
            errors["event"] = [f"\"{event}\" is not a valid choice."]
        if errors:
            raise ShippoApiError(400, errors)
        hook = stamped(url=url, event=event, active=body.get("active", True) is not False,
                       is_test=body.get("is_test", True) is not False)
        with self._lock:
            return self._put("webhook", hook)

    def webhooks(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(w) for w in self._records["webhook"].values()]

    def remove_webhook(self, webhook_id: str) -> None:
        with self._lock:
            self._get("webhook", webhook_id)
            self._store.delete("shippo.webhook", webhook_id)
            del self._records["webhook"][webhook_id]

    def labels(self, reference: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return [{"transaction": t["object_id"], "reference": t["metadata"], "rate": t["_rate_id"],
                     "tracking_number": t["tracking_number"], "carrier": t["_carrier"], "status": t["status"]}
                    for t in self._records["transaction"].values()
                    if t["tracking_number"] and (reference is None or t["metadata"] == reference)]

    def _get(self, kind: str, object_id: str) -> dict[str, Any]:
        record = self._records[kind].get(object_id)
        if record is None:
            raise not_found()
        return record

    def _put(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        self._store.put(f"shippo.{kind}", record["object_id"], record)
        self._records[kind][record["object_id"]] = record
        return public(record)

