"""End to end: orders and returns through the gateway of the whole stack, as child processes, on SQLite
and on PostgreSQL; and the `omniroute dev` command itself."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omniroute.devstack.ports import free_port
from tests.fixtures.dev_command import STOP_S, DevCommand, dev_environment
from tests.fixtures.stack import RunningStack, unique

pytestmark = pytest.mark.e2e

MUG_PRICE, LAMP_PRICE = 1500, 4200


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stack(request: pytest.FixtureRequest) -> RunningStack:
    """The full order-to-return journey runs once on each app DB."""
    running: RunningStack = request.getfixturevalue(f"{request.param}_stack")
    return running


def test_a_split_order_ships_from_two_nodes_completes_and_a_return_restocks_and_refunds(stack: RunningStack) -> None:
    api = stack.api
    mug, lamp = unique("MUG"), unique("LAMP")
    illinois, new_york = unique("dc-il"), unique("dc-ny")
    api.put_node(illinois, "60106")
    api.put_node(new_york, "10001")
    api.put_stock(illinois, mug, 5)
    api.put_stock(new_york, lamp, 5)

    order_id = api.order_placed([(mug, 2, MUG_PRICE), (lamp, 1, LAMP_PRICE)])
    released = api.wait_until_released(order_id)

    assert sorted(s["node_id"] for s in released["shipments"]) == sorted([illinois, new_york])
    assert api.availability(mug)[illinois]["reserved"] == 2
    completed = api.deliver(order_id, [s["shipment_id"] for s in released["shipments"]])
    assert all(s["state"] == "delivered" for s in completed["shipments"])
    assert api.on_hand(mug)[illinois] == 3 and api.on_hand(lamp)[new_york] == 4
    assert api.availability(mug)[illinois]["reserved"] == 0

    rma = unique("RMA")
    started = api.http.post("/v1/returns", json={"rma": rma, "order_id": order_id,
                                                 "lines": [{"sku": mug, "quantity": 1}], "reason": "chipped"})
    assert started.status_code == 202, started.text
    awaiting = api.wait_for_return(rma, lambda r: r["status"] in ("awaiting_receipt", "rejected"), "to await receipt")
    assert awaiting["status"] == "awaiting_receipt", awaiting
    received = api.http.post(f"/v1/returns/{rma}/events", json={"type": "received"})
    assert received.status_code == 202, received.text
    done = api.wait_for_return(rma, lambda r: r["status"] == "completed", "to complete")

    assert done["refund"] == {"amount": MUG_PRICE, "currency": "USD"}
    assert sum(api.on_hand(mug).values()) == 3 + 1  # restocked at the return node
    assert api.on_hand(mug)[done["return_node_id"]] >= 1


def test_the_same_order_posted_twice_starts_one_workflow(sqlite_stack: RunningStack) -> None:
    api = sqlite_stack.api
    sku, node = unique("SOCK"), unique("dc-il")
    api.put_node(node, "60106")
    api.put_stock(node, sku, 10)
    channel_order_id = unique("dup")

    first = api.place_order([(sku, 3, 500)], channel_order_id)
    second = api.place_order([(sku, 3, 500)], channel_order_id)

    assert (first.status_code, second.status_code) == (202, 200), (first.text, second.text)
    assert (first.json()["created"], second.json()["created"]) == (True, False)
    assert first.json()["workflow_id"] == second.json()["workflow_id"]
    order = api.wait_until_released(first.json()["order_id"])
    assert len(order["shipments"]) == 1
    assert api.availability(sku)[node]["reserved"] == 3  # reserved once, not twice


def test_cancelling_an_order_before_it_ships_releases_its_stock(sqlite_stack: RunningStack) -> None:
    api = sqlite_stack.api
    sku, node = unique("KETTLE"), unique("dc-il")
    api.put_node(node, "60106")
    api.put_stock(node, sku, 4)
    order_id = api.order_placed([(sku, 3, 3000)])
    api.wait_until_released(order_id)
    assert api.availability(sku)[node]["atp"] == 1

    cancelled = api.http.post(f"/v1/orders/{order_id}/cancel", json={})

    assert cancelled.status_code == 200, cancelled.text
    final = api.wait_for_order(order_id, lambda o: o["status"] == "cancelled", "to be cancelled")
    assert all(s["state"] == "cancelled" for s in final["shipments"])
    position = api.availability(sku)[node]
    assert (position["atp"], position["reserved"], position["on_hand"]) == (4, 0, 4)


def test_omniroute_dev_exits_at_once_naming_a_port_that_is_taken(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        env = dev_environment(tmp_path / "data", temporal=free_port(), ui=free_port(), gateway=taken,
                              sandbox=free_port())
        started = time.monotonic()

        result = subprocess.run([sys.executable, "-m", "omniroute", "dev"], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert time.monotonic() - started < 20
    assert f"port {taken} (gateway)" in result.stderr, result.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


def test_omniroute_dev_runs_the_stack_until_ctrl_c_and_leaves_no_process_behind(tmp_path: Path) -> None:
    # Started the way a script's background job (`make test &`) starts it: with SIGINT ignored, which
    # Python keeps ignoring unless `omniroute dev` handles the signal itself.
    dev = DevCommand(tmp_path, ignore_sigint=True)
    try:
        output = dev.start()
        assert f"http://127.0.0.1:{dev.ports['gateway']}/docs" in output

        status, rest = dev.stop(signal.SIGINT, timeout=STOP_S)
    finally:
        dev.close()

    assert status == 0, dev.output()
    assert "stopped." in rest
    assert not dev.left_behind()
