"""End to end: `omniroute dev` survives its children. A crashed worker, gateway, sandbox or Temporal
server is restarted and the orders go on; a service that crashes in a loop ends the stack with exit 1,
naming it. Each test runs its own `omniroute dev` on free ports with a temporary data dir."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.dev_command import STOP_S, Channel, DevCommand, wait_until
from tests.fixtures.stack import WAREHOUSE_EVENTS, mug_and_lamp_lines, unique

pytestmark = pytest.mark.e2e

ORDERS = 10
THROTTLED = 30


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevCommand]:
    command = DevCommand(tmp_path)
    try:
        command.start()
        yield command
    finally:
        command.close()


@pytest.fixture
def channel(dev: DevCommand) -> Iterator[Channel]:
    client = Channel(dev)
    try:
        yield client
    finally:
        client.close()


def stocked(channel: Channel) -> tuple[str, str]:
    """A mug in Illinois and a lamp in New York, 40 of each; their SKUs."""
    mug, lamp = unique("MUG"), unique("LAMP")
    channel.stock(unique("dc-il"), "60106", mug, 40)
    channel.stock(unique("dc-ny"), "10001", lamp, 40)
    return mug, lamp


def deliver(channel: Channel, order_ids: list[str]) -> None:
    shipment_ids = [s["shipment_id"] for view in channel.wait_for_orders(order_ids, "released").values()
                    for s in view["shipments"]]
    for kind in WAREHOUSE_EVENTS:
        for shipment_id in shipment_ids:
            channel.event(shipment_id, kind)
        channel.wait_for_orders(order_ids, kind)
    channel.wait_for_orders(order_ids, "completed")


def test_a_worker_killed_under_omniroute_dev_is_restarted_and_the_orders_in_flight_complete_with_one_label_each(
    dev: DevCommand, channel: Channel
) -> None:
    mug, lamp = stocked(channel)
    # The carrier throttles at first, so the orders' rate and label calls are in flight (inside the
    # worker, waiting out Retry-After) when the worker dies.
    channel.sandbox("POST", "faults", json={"status": 429, "count": THROTTLED, "retry_after": 0.5})
    order_ids = [channel.place(mug_and_lamp_lines(n, mug, lamp)) for n in range(ORDERS)]
    wait_until(lambda: channel.sandbox("GET", "faults")["remaining"] <= THROTTLED - 5,
               "the worker to be calling the carrier")

    killed = dev.crash("worker")
    labels_at_kill = len(channel.labels())
    restarting = dev.wait_for("worker exited with status 137 (SIGKILL)")
    dev.wait_for("restarting worker")
    dev.wait_for("worker ready again")
    channel.sandbox("DELETE", "faults")

    assert "worker.log" in restarting.splitlines()[-1] and "restarting it at" in restarting
    assert labels_at_kill < sum(len(mug_and_lamp_lines(n, mug, lamp)) for n in range(ORDERS))  # the kill was mid-flight
    assert dev.pid("worker") != killed
    deliver(channel, order_ids)
    shipments = [s["shipment_id"] for view in channel.wait_for_orders(order_ids, "completed").values()
                 for s in view["shipments"]]
    assert len(shipments) == sum(len(mug_and_lamp_lines(n, mug, lamp)) for n in range(ORDERS))
    for shipment_id in shipments:
        assert len(channel.labels(reference=shipment_id)) == 1, channel.labels(reference=shipment_id)

    status, rest = dev.stop(signal.SIGINT, timeout=STOP_S)
    assert status == 0, dev.output()
    assert not dev.left_behind()


def test_a_killed_gateway_sandbox_or_temporal_server_comes_back_and_orders_go_on(
    dev: DevCommand, channel: Channel
) -> None:
    mug, _ = stocked(channel)
    before = channel.place([(mug, 1, 1500)])
    channel.wait_for_orders([before], "released")

    for name in ("gateway", "sandbox", "temporal"):
        killed = dev.crash(name)
        dev.wait_for(f"{name} exited with status 137 (SIGKILL)")
        dev.wait_for(f"{name} ready again")
        assert dev.pid(name) != killed
    wait_until(channel.healthy, "the gateway to answer")
    after = channel.place([(mug, 1, 1500)])

    deliver(channel, [before, after])  # the order begun before Temporal's restart finishes after it
    (shipment,) = channel.wait_for_orders([before], "completed")[before]["shipments"]
    assert len(channel.labels(reference=shipment["shipment_id"])) == 1  # the restarted sandbox kept its sale
    status, _ = dev.stop(signal.SIGTERM, timeout=STOP_S)
    assert status == 0, dev.output()
    assert not dev.left_behind()


def test_a_service_that_crashes_in_a_loop_ends_omniroute_dev_with_exit_1_naming_it(dev: DevCommand) -> None:
    # The sandboxes' state file turns into a folder: every start of the sandbox now fails at once.
    state = dev.data_dir / "sandboxes.db"
    for leftover in dev.data_dir.glob("sandboxes.db*"):
        leftover.unlink()
    state.mkdir()

    dev.crash("sandbox")
    status, rest = dev.wait_for_exit(timeout=300)

    assert status == 1, dev.output()
    assert rest.count("restarting sandbox") == 5
    assert "sandbox exited with status 1" in rest and "crashed 6 times in a row" in rest
    assert "sandbox.log" in rest and "last lines of the sandbox log" in rest
    assert "unable to open database file" in rest  # the log's tail says why
    assert not dev.left_behind()
    shutil.rmtree(state)
