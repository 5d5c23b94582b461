"""The order acts on a fulfilment's outcome: lines a node hands back are planned again, never from
that node, and what nobody else can ship follows the order's backorder policy.

A stand-in fulfilment (registered under the DC fulfilment's name) plays a node that rejects its
work, so the order's side of the contract is tested on real Temporal with the real activities.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment

from models import names
from models.fulfilment import FulfilmentOutcome, FulfilShipment, OutcomeKind
from models.order import OrderStatus, OrderView
from models.shipment import ShipmentState
from omniroute.client import OmnirouteClient
from store import Store
from tests.fixtures.eventually import eventually
from tests.fixtures.network import add_node
from tests.fixtures.orders import an_order
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import worker_settings
from workers.main import WORKFLOWS, running_worker
from workflows.fulfilment.dc import DcFulfilmentWorkflow

REJECTING_NODE = "dc-rejects"


@workflow.defn(name=names.DC_FULFILMENT_WORKFLOW)
class NodeThatRejects:
    """Hands every shipment from REJECTING_NODE back at once; delivers the others at once."""

    @workflow.run
    async def run(self, request: FulfilShipment) -> FulfilmentOutcome:
        view = request.shipment.model_copy(deep=True)
        if view.node_id == REJECTING_NODE:
            handed_back = list(view.lines)
            view.state = ShipmentState.CANCELLED
            return FulfilmentOutcome(kind=OutcomeKind.HANDED_BACK, shipment=view, handed_back=handed_back,
                                     reason="the node rejected the work")
        view.state = ShipmentState.DELIVERED
        return FulfilmentOutcome(kind=OutcomeKind.DELIVERED, shipment=view)


def _with_stand_in() -> list[type]:
    return [w for w in WORKFLOWS if w is not DcFulfilmentWorkflow] + [NodeThatRejects]


async def test_lines_a_node_hands_back_are_planned_again_from_another_node(
        temporal_env: WorkflowEnvironment, sqlite_store: Store, sandbox: RunningSandbox) -> None:
    settings = worker_settings(sandbox)
    sdk = OmnirouteClient(temporal_env.client, task_queue=settings.task_queue)
    add_node(sqlite_store, REJECTING_NODE, "60106")
    add_node(sqlite_store, "dc-far", "90001")
    sqlite_store.set_on_hand(REJECTING_NODE, "SKU-HB", 2, source="test")
    sqlite_store.set_on_hand("dc-far", "SKU-HB", 2, source="test")
    order = an_order(("SKU-HB", 2))  # to Chicago: the nearby node is planned first

    async with running_worker(settings, client=temporal_env.client, store=sqlite_store, workflows=_with_stand_in()):
        await sdk.place_order(order)
        result: OrderView = await temporal_env.client.get_workflow_handle(
            names.order_workflow_id(order.order_id), result_type=OrderView).result()

    first, second = result.shipments
    assert (first.node_id, first.state) == (REJECTING_NODE, ShipmentState.CANCELLED)
    assert (second.node_id, second.state) == ("dc-far", ShipmentState.DELIVERED)
    assert [line.quantity for line in second.lines] == [2]
    assert result.status is OrderStatus.COMPLETED
    assert result.lines[0].quantity_cancelled == 0, "handed-back units are re-sourced, not cancelled"
    assert any("handed back SKU-HB x2: the node rejected the work" in e for e in result.events)
    rejecting = next(n for n in sqlite_store.availability("SKU-HB").nodes if n.node_id == REJECTING_NODE)
    assert rejecting.reserved == 2, "the stand-in node keeps what its fulfilment would have released"


async def test_lines_no_other_node_can_ship_are_cancelled_under_the_default_policy(
        temporal_env: WorkflowEnvironment, sqlite_store: Store, sandbox: RunningSandbox) -> None:
    settings = worker_settings(sandbox)
    sdk = OmnirouteClient(temporal_env.client, task_queue=settings.task_queue)
    add_node(sqlite_store, REJECTING_NODE, "60106")
    sqlite_store.set_on_hand(REJECTING_NODE, "SKU-HC", 5, source="test")
    order = an_order(("SKU-HC", 1))

    async with running_worker(settings, client=temporal_env.client, store=sqlite_store, workflows=_with_stand_in()):
        await sdk.place_order(order)
        result: OrderView = await temporal_env.client.get_workflow_handle(
            names.order_workflow_id(order.order_id), result_type=OrderView).result()
        email = str(order.customer.email)
        subjects = await eventually(lambda: [m["subject"] for m in sandbox.messages(to=email)
                                             if "cancel" in m["subject"].lower()],
                                    what="the customer told that the line is cancelled")

    assert result.status is OrderStatus.CANCELLED
    assert result.lines[0].quantity_cancelled == 1
    assert len(result.shipments) == 1, "the node that handed the line back is not planned again"
    assert subjects
