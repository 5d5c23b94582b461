"""Pickup codes are counted per shipment (workflows/fulfilment/store.py): a wrong code is refused naming
pickup_code; the fifth wrong one locks the pickup and tells the customer to contact the store; from then
on every `collected`, the right code too, is refused saying the pickup is locked, until an operator
unlocks it."""

from __future__ import annotations

import pytest

from models.order import OrderStatus, OrderView
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from omniroute.client import EventRejectedError, RequestRejectedError
from tests.fixtures.eventually import eventually
from tests.fixtures.stores import pickup_on_the_shelf
from tests.fixtures.temporal import RunningWorker
from workflows.fulfilment.store import MAX_WRONG_PICKUP_CODES


def _collected(sid: str, code: str, n: int) -> ShipmentEvent:
    return ShipmentEvent(shipment_id=sid, type=ShipmentEventType.COLLECTED, event_id=f"{sid}-collect-{n}",
                         pickup_code=code)


async def _ready(w: RunningWorker, sku: str) -> tuple[str, str, str, str]:
    """(order_id, workflow_id, shipment_id, code) of a pickup waiting on the store's shelf."""
    ready = await pickup_on_the_shelf(w, "store-chi", sku)
    return ready.order_id, ready.workflow_id, ready.shipment_id, ready.code


async def test_five_wrong_codes_lock_the_pickup_until_an_operator_unlocks_it(omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    order_id, workflow_id, sid, code = await _ready(w, "SKU-LK")
    wrong = "000000" if code != "000000" else "111111"

    for n in range(1, MAX_WRONG_PICKUP_CODES):
        with pytest.raises(EventRejectedError, match="pickup_code: not the code") as refused:
            await w.sdk.send_shipment_event(_collected(sid, wrong, n))
        assert refused.value.current_state == ShipmentState.READY_FOR_PICKUP.value
        assert f"{MAX_WRONG_PICKUP_CODES - n} more tries" in str(refused.value)
    with pytest.raises(RequestRejectedError, match="not locked"):
        await w.sdk.unlock_pickup(sid, actor="op-1", reason="too early")
    with pytest.raises(EventRejectedError, match="locked after 5 wrong codes; the customer must contact the store"):
        await w.sdk.send_shipment_event(_collected(sid, wrong, MAX_WRONG_PICKUP_CODES))
    with pytest.raises(EventRejectedError, match="pickup_code: .* is locked"):
        await w.sdk.send_shipment_event(_collected(sid, code, 99))  # the right code too, once locked
    await eventually(lambda: any("is locked: please contact the store" in m["subject"]
                                 for m in w.sandbox.messages()), "the customer is told to contact the store")
    view = await w.sdk.get_order(order_id)
    assert view.shipments[0].state is ShipmentState.READY_FOR_PICKUP, "nothing moved"

    unlocked = await w.sdk.unlock_pickup(sid, actor="op-1", reason="customer showed id at the desk")

    assert unlocked.wrong_codes == MAX_WRONG_PICKUP_CODES and unlocked.state is ShipmentState.READY_FOR_PICKUP
    with pytest.raises(EventRejectedError, match="4 more tries"):  # the count starts over
        await w.sdk.send_shipment_event(_collected(sid, wrong, 100))
    await w.sdk.send_shipment_event(_collected(sid, code, 101))
    final = await w.temporal.get_workflow_handle(workflow_id, result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED and final.shipments[0].state is ShipmentState.COLLECTED

