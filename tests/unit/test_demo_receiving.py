"""The demo's receiving dock: receipts for exactly what orders wait for, again only while they still wait."""

from __future__ import annotations

import asyncio

from models.order import OrderStatus
from omniroute.demo.api import GatewayError
from omniroute.demo.network import load_network
from omniroute.demo.receiving import SimulatedReceiving, receiving_node
from omniroute.demo.warehouse import TrackedOrder

FAST = {"lead_time_s": (0.0, 0.001)}


class Dock:
    def __init__(self, refuse: int = 0) -> None:
        self.posted: list[tuple[str, str, int, str, str]] = []
        self.refuse = refuse

    async def receive_stock(self, node_id: str, sku: str, units: int, *, source: str, key: str) -> None:
        if self.refuse:
            self.refuse -= 1
            raise GatewayError("POST", "/v1/inventory:batch", 503, "unavailable")
        self.posted.append((node_id, sku, units, source, key))


def waiting(order_id: str, *backordered: tuple[str, int]) -> TrackedOrder:
    return TrackedOrder(order_id=order_id, placed_at=0.0, ship=True, status=OrderStatus.PARTIALLY_SHIPPED,
                        backordered=backordered)


async def settle(receiving: SimulatedReceiving) -> None:
    for _ in range(20):
        await asyncio.sleep(0.005)


async def test_the_units_an_order_waits_for_are_received_once_at_a_dc_with_a_key() -> None:
    network = load_network()
    dock = Dock()
    receiving = SimulatedReceiving(dock, network, run_tag="t1", **FAST)
    order = waiting("web-1", ("PRINT-LTD-01", 1), ("MUG-CERAMIC", 2))

    receiving.observe(order)
    receiving.observe(order)  # seen again at once: nothing more is sent
    await settle(receiving)

    assert sorted((sku, units) for _, sku, units, _, _ in dock.posted) == [("MUG-CERAMIC", 2), ("PRINT-LTD-01", 1)]
    assert {node for node, *_ in dock.posted} <= {n.node_id for n in network.nodes if n.kind.value == "dc"}
    assert len({key for *_, key in dock.posted}) == 2 and all("t1:web-1" in key for *_, key in dock.posted)
    assert sum(r.units for r in receiving.receipts) == 3


async def test_an_order_still_waiting_after_the_resend_time_gets_another_receipt_under_a_new_key() -> None:
    dock = Dock()
    receiving = SimulatedReceiving(dock, load_network(), resend_after_s=0.01, **FAST)
    order = waiting("web-2", ("PRINT-LTD-01", 1))

    receiving.observe(order)
    await settle(receiving)
    order.backordered = (("PRINT-LTD-01", 1),)  # another order took the unit first
    receiving.observe(order)
    await settle(receiving)
    order.backordered = ()
    receiving.observe(order)
    await settle(receiving)

    assert len(dock.posted) == 2 and dock.posted[0][4] != dock.posted[1][4]


async def test_a_refused_receipt_is_sent_again_the_next_time_the_order_is_seen() -> None:
    dock = Dock(refuse=1)
    receiving = SimulatedReceiving(dock, load_network(), **FAST)
    order = waiting("web-3", ("PRINT-LTD-01", 1))

    receiving.observe(order)
    await settle(receiving)
    assert dock.posted == [] and receiving.last_error and "503" in receiving.last_error
    receiving.observe(order)
    await settle(receiving)

    assert len(dock.posted) == 1


def test_stock_is_received_where_most_of_it_was_held_else_at_the_first_dc() -> None:
    network = load_network()
    dcs = sorted(n.node_id for n in network.nodes if n.kind.value == "dc")
    stocked = max(dcs, key=lambda dc: network.on_hand(dc, "MUG-CERAMIC"))

    assert network.on_hand(stocked, "MUG-CERAMIC") > 0
    assert receiving_node(network, "MUG-CERAMIC") == stocked
    assert receiving_node(network, "PRINT-LTD-01") == dcs[0]
