"""The whole stack, started as a user would: DevStack runs the Temporal dev server, the provider
sandboxes, a worker and the gateway as child processes on free ports with a temporary data dir, and
the tests drive it over HTTP like a channel, a warehouse and a carrier would.

Each test uses SKUs and ids of its own, so tests may share one stack.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from omniroute.config.settings import Settings
from omniroute.devstack.ports import free_port
from omniroute.devstack.stack import DevStack

Json = dict[str, Any]
WAIT_S = 120.0  # generous: two cores are shared with other test runs
SHIP_TO = {"name": "Ada Buyer", "line1": "1 Main St", "city": "Chicago", "region": "IL",
           "postal_code": "60601", "country": "US"}


class Unavailable(AssertionError):
    """The gateway answered 503: Temporal or the worker is not answering yet (e.g. a worker restarting)."""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class GatewayDriver:
    """The gateway's HTTP API as channels, warehouses and carriers use it. Calls that must succeed
    assert their status; `wait_for_*` polls until a condition holds or fails saying what it last saw."""

    def __init__(self, base_url: str, sandbox_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.sandbox_url = sandbox_url

    def close(self) -> None:
        self.http.close()

    def put_node(self, node_id: str, postal_code: str, kind: str = "dc") -> None:
        body = {"node_id": node_id, "name": f"Node {node_id}", "kind": kind, "postal_code": postal_code,
                "country": "US"}
        response = self.http.put(f"/v1/nodes/{node_id}", json=body)
        assert response.status_code == 200, response.text

    def put_stock(self, node_id: str, sku: str, on_hand: int) -> None:
        response = self.http.put(f"/v1/inventory/{node_id}/{sku}", json={"on_hand": on_hand})
        assert response.status_code == 200, response.text

    def place_order(self, lines: list[tuple[str, int, int]], channel_order_id: str | None = None) -> httpx.Response:
        """POST an order of (sku, quantity, unit_price) lines, shipped to Chicago."""
        channel_order_id = channel_order_id or uuid.uuid4().hex[:12]
        body = {
            "channel": "web", "channel_order_id": channel_order_id, "currency": "USD",
            "customer": {"email": f"buyer-{channel_order_id}@example.com", "name": "Ada Buyer"},
            "ship_to": SHIP_TO, "service_level": "standard",
            "lines": [{"sku": sku, "quantity": quantity, "unit_price": price} for sku, quantity, price in lines],
        }
        return self.http.post("/v1/orders", json=body)

    def order_placed(self, lines: list[tuple[str, int, int]]) -> str:
        response = self.place_order(lines)
        assert response.status_code == 202, response.text
        return str(response.json()["order_id"])

    def order(self, order_id: str) -> Json:
        return self._read(f"/v1/orders/{order_id}")

    def wait_for_order(self, order_id: str, until: Callable[[Json], bool], what: str) -> Json:
        return wait_for(lambda: self.order(order_id), until, f"order {order_id} {what}")

    def wait_until_released(self, order_id: str) -> Json:
        """Until every shipment has its label (tracking number) and the warehouse may pick."""
        return self.wait_for_order(order_id, labels_bought, "to have every shipment released with a label")

    def shipment_event(self, shipment_id: str, kind: str) -> None:
        response = self.http.post(f"/v1/shipments/{shipment_id}/events", json={"type": kind})
        assert response.status_code == 202, f"{kind} for {shipment_id}: {response.text}"

    def deliver(self, order_id: str, shipment_ids: list[str]) -> Json:
        """Walk each shipment through picked, packed, shipped and delivered; the order must complete."""
        for kind in ("picked", "packed", "shipped", "delivered"):
            for shipment_id in shipment_ids:
                self.shipment_event(shipment_id, kind)
            self.wait_for_order(order_id, shipments_in(kind), f"to have every shipment {kind}")
        return self.wait_for_order(order_id, lambda o: o["status"] == "completed", "to complete")

    def cancel(self, order_id: str) -> httpx.Response:
        """Cancel everything unshipped. The gateway answers once the order's labels are voided, which
        may wait for a label still being bought, hence the long timeout."""
        return self.http.post(f"/v1/orders/{order_id}/cancel", json={}, timeout=WAIT_S)

    def return_view(self, rma: str) -> Json:
        return self._read(f"/v1/returns/{rma}")

    def wait_for_return(self, rma: str, until: Callable[[Json], bool], what: str) -> Json:
        return wait_for(lambda: self.return_view(rma), until, f"return {rma} {what}")

    def availability(self, sku: str) -> dict[str, Json]:
        """Per node: {"atp", "on_hand", "reserved", ...}."""
        response = self.http.get("/v1/availability", params={"sku": sku})
        assert response.status_code == 200, response.text
        return {node["node_id"]: node for node in response.json()["nodes"]}

    def on_hand(self, sku: str) -> dict[str, int]:
        return {node_id: int(node["on_hand"]) for node_id, node in self.availability(sku).items()}

    def throttle_carrier(self, count: int, retry_after: float, path_suffix: str | None = None) -> None:
        """The carrier sandbox answers the next `count` requests (those whose path ends with
        `path_suffix`, when given: "/buy" throttles label purchases only) 429 with Retry-After."""
        plan = {"status": 429, "count": count, "retry_after": retry_after, "path_suffix": path_suffix}
        response = httpx.post(f"{self.sandbox_url}/easypost/v2/_sandbox/faults", json=plan, timeout=30)
        assert response.status_code == 200, response.text

    def carrier_throttles_left(self) -> int:
        response = httpx.get(f"{self.sandbox_url}/easypost/v2/_sandbox/faults", timeout=30)
        assert response.status_code == 200, response.text
        return int(response.json()["remaining"])

    def stop_throttling_carrier(self) -> None:
        response = httpx.delete(f"{self.sandbox_url}/easypost/v2/_sandbox/faults", timeout=30)
        assert response.status_code == 200, response.text

    def _read(self, path: str) -> Json:
        response = self.http.get(path)
        if response.status_code == 503:
            raise Unavailable(f"GET {path}: {response.text}")
        assert response.status_code == 200, f"GET {path}: {response.text}"
        return dict(response.json())

    def carrier_stats(self) -> dict[str, int]:
        """The carrier sandbox's counters: shipments_created, labels_bought, refunds."""
        response = httpx.get(f"{self.sandbox_url}/easypost/v2/_sandbox/stats", timeout=30)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def labels(self, reference: str | None = None) -> list[Json]:
        """Labels bought at the carrier sandbox (one per carrier shipment bought)."""
        params = {} if reference is None else {"reference": reference}
        response = httpx.get(f"{self.sandbox_url}/easypost/v2/_sandbox/labels", params=params, timeout=30)
        assert response.status_code == 200, response.text
        return list(response.json())


def labels_bought(order: Json) -> bool:
    shipments = order["shipments"]
    return bool(shipments) and all(s["tracking_number"] and s["state"] == "released" for s in shipments)


def shipments_in(state: str) -> Callable[[Json], bool]:
    return lambda order: bool(order["shipments"]) and all(s["state"] == state for s in order["shipments"])


WAREHOUSE_EVENTS = ("picked", "packed", "shipped", "delivered")


def mug_and_lamp_lines(number: int, mug: str, lamp: str) -> list[tuple[str, int, int]]:
    """Even orders: one mug (one shipment). Odd orders: a mug and a lamp, stocked apart (two shipments)."""
    return [(mug, 1, 1500)] if number % 2 == 0 else [(mug, 1, 1500), (lamp, 1, 4200)]


def orders_view(api: GatewayDriver, order_ids: list[str]) -> Json:
    return {order_id: api.order(order_id) for order_id in order_ids}


def every_order(condition: Callable[[Json], bool]) -> Callable[[Json], bool]:
    return lambda view: all(map(condition, view.values()))


def work_through_the_warehouse(api: GatewayDriver, order_ids: list[str], shipment_ids: list[str], what: str) -> Json:
    """Send every shipment picked, packed, shipped, delivered (each step once all are in the last), then
    wait until every order is completed; returns the orders' views."""
    for kind in WAREHOUSE_EVENTS:
        for shipment_id in shipment_ids:
            api.shipment_event(shipment_id, kind)
        wait_for(lambda: orders_view(api, order_ids), every_order(shipments_in(kind)), f"every shipment to be {kind}")
    return wait_for(lambda: orders_view(api, order_ids), every_order(lambda order: order["status"] == "completed"),
                    what)


def wait_for(read: Callable[[], Json], until: Callable[[Json], bool], what: str, timeout: float = WAIT_S) -> Json:
    """Poll `read` until `until` holds; 503s (Unavailable) count as "not yet"."""
    deadline = time.monotonic() + timeout
    while True:
        seen: object
        try:
            value = read()
        except Unavailable as unavailable:
            seen = unavailable
        else:
            if until(value):
                return value
            seen = value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {seen}")
        time.sleep(0.2)


@dataclass
class RunningStack:
    devstack: DevStack
    settings: Settings
    api: GatewayDriver


def stack_settings(data_dir: Path, database_url: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=data_dir, database_url=database_url, temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(), gateway_port=free_port(), sandbox_port=free_port(),
    )


@contextmanager
def running_stack(settings: Settings) -> Iterator[RunningStack]:
    """A stack on `settings`, stopped on the way out. Entered again with the same settings, it is the
    same stack restarted: same ports, and the same data dir (Temporal's history, the app DB and the
    sandboxes' state file)."""
    with DevStack(settings) as stack:
        api = GatewayDriver(stack.urls["gateway"], stack.urls["sandbox"])
        try:
            yield RunningStack(stack, settings, api)
        finally:
            api.close()


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """One stack per test module on the default SQLite app DB; tests share it through their own ids."""
    with running_stack(stack_settings(tmp_path_factory.mktemp("stack"))) as stack:
        yield stack


@pytest.fixture
def postgres_stack(tmp_path: Path, postgres_url: str) -> Iterator[RunningStack]:
    """A stack of its own whose app DB is a fresh PostgreSQL database."""
    with running_stack(stack_settings(tmp_path, database_url=postgres_url)) as stack:
        yield stack


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[RunningStack]:
    """A stack for this test alone (for tests that kill parts of it)."""
    with running_stack(stack_settings(tmp_path)) as stack:
        yield stack
