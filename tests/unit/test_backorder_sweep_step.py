"""The backorder sweep's finding step against fakes: only stock at a node that ships makes an order due."""

from __future__ import annotations

from temporalio.testing import ActivityEnvironment

from activities.backorders import BackorderActivities
from models.network import Capability, Node, NodeKind
from tests.fixtures.fakes import FakeLedger, FakeNetwork, FakeOrderQueues


def test_orders_are_due_only_for_stock_back_at_a_node_that_ships() -> None:
    ledger = FakeLedger()
    ledger.stock("dc-1", "TEE", 2)
    ledger.stock("returns-only", "MUG", 5)
    network = FakeNetwork([Node(node_id="dc-1", name="dc-1", kind=NodeKind.DC, postal_code="60106"),
                           Node(node_id="returns-only", name="r", kind=NodeKind.DC, postal_code="60106",
                                capabilities=[Capability.RETURNS])])
    queues = FakeOrderQueues(backordered=[("o-1", "order-o-1", ["TEE"]), ("o-2", "order-o-2", ["MUG"])])

    sweep = ActivityEnvironment().run(BackorderActivities(queues=queues, network=network, ledger=ledger)
                                      .orders_with_stock_back)

    assert (sweep.waiting, sweep.due) == (2, ["order-o-1"])
