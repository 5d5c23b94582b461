"""A sandbox WMS: the webhook end of a DC's hand-off (docs/fulfilment-dc.md), for tests and the demo.

`POST /nodes/{node_id}/webhooks` takes Standard Webhooks messages for a node configured here, verified
with the `standardwebhooks` library (bad or missing signature: 401; an unknown node: 404):
- `shipment.released` → 200 `{"received": true}`; a `webhook-id` seen before is answered the same and
  counted once. With `work` configured, the WMS then posts its events for the shipment back through
  the gateway with its node key (`POST /v1/shipments/{id}/events`), one every `step_delay_s`.
- `shipment.cancel_requested` → by the node's `cancel` knob: `accept` → 200 `{"cancelled": true}`;
  `refuse` → 409 `{"cancelled": false, "reason": "shipped"}`; `later` → 202 (it answers by event);
  `auto` → refuse once it has sent `shipped` for that shipment, else accept (and stop working it).

Control, under `/_sandbox/`: `PUT /_sandbox/nodes/{node_id}` (secret, cancel, work), `GET
/_sandbox/messages[?node_id=&shipment_id=]`, `GET /_sandbox/stats`, `POST
/_sandbox/nodes/{node_id}/shipments/{shipment_id}/events` (post one event through the gateway now),
and `/_sandbox/faults` (the WMS is down: deliveries fail with the planned status).

Given a file store (integrations.sandbox_store), the WMS keeps its nodes, the messages it received (so a
delivery repeated after a restart is still a duplicate), the events it posted per shipment and its counters:
a restarted sandbox still plays its nodes. The work in progress (events not posted yet) stops at a restart.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from standardwebhooks import WebhookVerificationError

from integrations.sandbox_kit import install_faults
from integrations.sandbox_store import SandboxStore
from integrations.webhooks import verify
from models.handoff import CANCEL_REQUESTED_MESSAGE, RELEASED_MESSAGE

CancelKnob = Literal["auto", "accept", "refuse", "later"]
_ATTEMPTS = 12  # about 25 s of retries per step


class WmsWork(BaseModel):
    """The WMS works each released shipment through these events, posted to the gateway."""

    gateway_url: str
    api_key: str
    steps: list[str] = Field(default_factory=lambda: ["accepted", "picked", "packed", "shipped"])
    step_delay_s: float = Field(default=0.05, ge=0, le=60)


class WmsNode(BaseModel):
    """One node the WMS plays: the secret its webhooks are signed with, and how it behaves."""

    secret: str = Field(min_length=1)
    cancel: CancelKnob = "auto"
    work: WmsWork | None = None


class PostEvent(BaseModel):
    type: str
    event_id: str | None = None


def _error(status: int, message: str) -> dict[str, object]:
    return {"error": {"status": status, "message": message}}


_NODES, _MESSAGES, _SENT, _COUNTERS = "wms.node", "wms.message", "wms.sent", "wms.counters"


class _Wms:
    """The WMS's state in memory, each change written through to `store` under the same lock."""

    def __init__(self, store: SandboxStore) -> None:
        self.lock = threading.Lock()
        self.store = store
        self.nodes: dict[str, WmsNode] = {key: WmsNode.model_validate(value) for key, value in store.load(_NODES)}
        self.messages: dict[str, dict[str, Any]] = dict(store.load(_MESSAGES))  # webhook-id -> what arrived
        self.sent: dict[str, list[str]] = dict(store.load(_SENT))  # shipment id -> event types posted
        self.stats = {"received": 0, "duplicates": 0, "bad_signatures": 0, "events_posted": 0, "event_errors": 0,
                      **(store.get(_COUNTERS, "wms") or {})}
        self.tasks: set[asyncio.Task[None]] = set()

    def count(self, name: str) -> None:
        with self.lock:
            self.stats[name] += 1
            self.store.put(_COUNTERS, "wms", self.stats)

    def configure(self, node_id: str, node: WmsNode) -> None:
        with self.lock:
            self.nodes[node_id] = node
            self.store.put(_NODES, node_id, node.model_dump(mode="json"))

    def record_message(self, message_id: str, record: dict[str, Any]) -> bool:
        """Keep a message the first time it arrives; True when it was seen before (then its attempts go up)."""
        with self.lock, self.store.transaction():
            seen = message_id in self.messages
            if seen:
                self.messages[message_id]["attempts"] += 1
                self.stats["duplicates"] += 1
            else:
                self.messages[message_id] = record
                self.stats["received"] += 1
            self.store.put(_MESSAGES, message_id, self.messages[message_id])
            self.store.put(_COUNTERS, "wms", self.stats)
            return seen

    def add_sent(self, shipment_id: str, event_type: str, *, posted: bool) -> None:
        """Note an event of the shipment's (`posted`: one the gateway took, counted) or the WMS's own stop."""
        with self.lock, self.store.transaction():
            self.sent.setdefault(shipment_id, []).append(event_type)
            self.store.put(_SENT, shipment_id, self.sent[shipment_id])
            if posted:
                self.stats["events_posted"] += 1
                self.store.put(_COUNTERS, "wms", self.stats)


def create_wms_sandbox(store: SandboxStore | None = None) -> FastAPI:
    """The WMS sandbox app; its state is kept in `store` too when given (else in memory only)."""
    app = FastAPI(title="WMS sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    wms = _Wms(store or SandboxStore(None))
    install_faults(app, _error)

    @app.post("/nodes/{node_id}/webhooks")
    async def receive(node_id: str, request: Request) -> JSONResponse:
        node = wms.nodes.get(node_id)
        if node is None:
            return JSONResponse(_error(404, f"no node {node_id} at this WMS"), status_code=404)
        body = await request.body()
        try:
            message = verify(node.secret, body, request.headers)
        except WebhookVerificationError as err:
            wms.count("bad_signatures")
            return JSONResponse(_error(401, f"signature: {err}"), status_code=401)
        message_id = request.headers["webhook-id"]
        data = message.get("data") or {}
        shipment_id = str(data.get("shipment_id"))
        seen = wms.record_message(message_id, {
            "id": message_id, "type": message.get("type"), "node_id": node_id, "shipment_id": shipment_id,
            "data": data, "attempts": 1, "received_at": datetime.now(UTC).isoformat()})
        if message.get("type") == RELEASED_MESSAGE:
            if not seen and node.work is not None:
                _spawn(wms, _work(wms, node.work, shipment_id))
            return JSONResponse({"received": True})
        if message.get("type") == CANCEL_REQUESTED_MESSAGE:
            return _answer_cancel(wms, node, shipment_id)
        return JSONResponse(_error(400, f"unknown message type {message.get('type')!r}"), status_code=400)

    @app.put("/_sandbox/nodes/{node_id}")
    def configure(node_id: str, node: WmsNode) -> dict[str, str]:
        wms.configure(node_id, node)
        return {"node_id": node_id}

    @app.get("/_sandbox/messages")
    def messages(node_id: str | None = None, shipment_id: str | None = None) -> list[dict[str, Any]]:
        with wms.lock:
            return [m for m in wms.messages.values()
                    if (node_id is None or m["node_id"] == node_id)
                    and (shipment_id is None or m["shipment_id"] == shipment_id)]

    @app.get("/_sandbox/stats")
    def stats() -> dict[str, int]:
        with wms.lock:
            return dict(wms.stats)

    @app.get("/_sandbox/sent/{shipment_id}")
    def sent(shipment_id: str) -> list[str]:
        with wms.lock:
            return list(wms.sent.get(shipment_id, []))

    @app.post("/_sandbox/nodes/{node_id}/shipments/{shipment_id}/events")
    async def post_event(node_id: str, shipment_id: str, event: PostEvent, gateway_url: str,
                         api_key: str) -> JSONResponse:
        """Post one event for the shipment through the gateway now; answers the gateway's answer."""
        response = await _post(wms, WmsWork(gateway_url=gateway_url, api_key=api_key), shipment_id, event)
        return JSONResponse(response.json(), status_code=response.status_code)

    return app


def _answer_cancel(wms: _Wms, node: WmsNode, shipment_id: str) -> JSONResponse:
    knob = node.cancel
    with wms.lock:
        shipped = "shipped" in wms.sent.get(shipment_id, [])
        if knob == "auto":
            knob = "refuse" if shipped else "accept"
        if knob == "accept":
            wms.sent.setdefault(shipment_id, []).append("cancelled")  # stops the work on it
            wms.store.put(_SENT, shipment_id, wms.sent[shipment_id])
    if knob == "accept":
        return JSONResponse({"cancelled": True})
    if knob == "refuse":
        return JSONResponse({"cancelled": False, "reason": "shipped"}, status_code=409)
    return JSONResponse({"status": "pending"}, status_code=202)


def _spawn(wms: _Wms, work: Any) -> None:
    task = asyncio.get_running_loop().create_task(work)
    wms.tasks.add(task)
    task.add_done_callback(wms.tasks.discard)


async def _work(wms: _Wms, work: WmsWork, shipment_id: str) -> None:
    """Send the steps one by one. Like a real WMS it retries what may pass later: errors, 429 and 5xx,
    and a 409 for a while (the shipment counts as released once Omniroute has recorded the delivery it
    just answered); a step still refused then (the shipment was cancelled) ends the work."""
    for step in work.steps:
        await asyncio.sleep(work.step_delay_s)
        response: httpx.Response | None = None
        for attempt in range(_ATTEMPTS):
            with wms.lock:
                if "cancelled" in wms.sent.get(shipment_id, []):
                    return
            try:
                response = await _post(wms, work, shipment_id, PostEvent(type=step, event_id=f"{shipment_id}:{step}"))
            except httpx.HTTPError:
                wms.count("event_errors")
                response = None
            if response is not None and response.status_code < 300:
                break
            if response is not None and response.status_code < 500 and response.status_code not in (409, 429):
                return
            await asyncio.sleep(min(0.1 * 2 ** attempt, 3.0))
        if response is None or response.status_code >= 300:
            return


async def _post(wms: _Wms, work: WmsWork, shipment_id: str, event: PostEvent) -> httpx.Response:
    async with httpx.AsyncClient(base_url=work.gateway_url, timeout=10) as client:
        response = await client.post(f"/v1/shipments/{shipment_id}/events",
                                      json=event.model_dump(exclude_none=True),
                                      headers={"Authorization": f"Bearer {work.api_key}"})
    if response.status_code < 300:
        wms.add_sent(shipment_id, event.type, posted=True)
    else:
        wms.count("event_errors")
    return response
