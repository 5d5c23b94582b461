"""`omniroute orders list` against a real app DB (SQLite and PostgreSQL), `orders show|cancel|release`
against a real Temporal dev server running a small stand-in order workflow under the real names (the
commands only know the SDK, never our workflow code), and `orders unlock-pickup` against a real worker
whose store pickup was locked by wrong codes."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from typer.testing import CliRunner, Result

from models import names
from models.order import (
    CancelOrder,
    CancelResult,
    LineStatus,
    OrderLineView,
    OrderStatus,
    OrderView,
    PlaceOrder,
    ReleaseHold,
)
from models.order_search import OrderPage
from models.shipment import ShipmentEvent, ShipmentEventType, ShipmentState
from omniroute.cli.app import app
from omniroute.client import EventRejectedError
from store import Store
from tests.fixtures.gateway import closed_port_address
from tests.fixtures.order_search import Placed, record_all
from tests.fixtures.stores import ReadyPickup, pickup_on_the_shelf
from tests.fixtures.temporal import RunningWorker
from workflows.fulfilment.store import MAX_WRONG_PICKUP_CODES

ORDERS = [
    Placed("web-1", 0, skus=("MUG-1",)),
    Placed("web-2", 1, skus=("MUG-1", "TEE-1"), status=OrderStatus.HELD, nodes=("dc-a",)),
    Placed("pos-1", 2, skus=("TEE-1",), nodes=("dc-b",), backordered=True),
]


def table_rows(result: Result) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.output.splitlines()
            if line.startswith("│")]


def test_list_prints_the_matching_orders_newest_first(runner: CliRunner, store: Store) -> None:
    record_all(store, ORDERS)

    everything = runner.invoke(app, ["orders", "list"])
    mugs = runner.invoke(app, ["orders", "list", "--sku", "MUG-1", "--not-held"])

    assert everything.exit_code == 0, everything.output
    rows = table_rows(everything)
    assert [row[0] for row in rows] == ["pos-1", "web-2", "web-1"]
    assert rows[0] == ["pos-1", "pos", "received", "20.00 USD", "2025-06-02 15:02:00", "dc-b", "yes"]
    assert rows[1][2] == "held" and rows[1][5] == "dc-a"
    assert mugs.exit_code == 0, mugs.output
    assert [row[0] for row in table_rows(mugs)] == ["web-1"]
    assert "ada@example.com" not in everything.output


def test_list_pages_with_the_cursor_it_prints_and_answers_json(runner: CliRunner, store: Store) -> None:
    record_all(store, ORDERS)

    first = runner.invoke(app, ["orders", "list", "--limit", "2"])
    cursor = first.output.split("--cursor", 1)[1].split()[0]
    second = runner.invoke(app, ["orders", "list", "--limit", "2", "--cursor", cursor, "--json"])

    assert [row[0] for row in table_rows(first)] == ["pos-1", "web-2"]
    assert second.exit_code == 0, second.output
    page = OrderPage.model_validate_json(second.output)
    assert [item.order_id for item in page.items] == ["web-1"] and page.next_cursor is None


def test_list_says_when_nothing_matches(runner: CliRunner, store: Store) -> None:
    record_all(store, ORDERS)

    result = runner.invoke(app, ["orders", "list", "--channel", "amazon"])

    assert result.exit_code == 0, result.output
    assert "no orders match" in result.output


@pytest.mark.parametrize(("options", "named"), [
    (["--from", "2025-06-03", "--to", "2025-06-02"], "--to"),
    (["--from", "last week"], "--from"),
    (["--cursor", "nonsense"], "--cursor"),
    (["--status", "lost"], "--status"),
])
def test_list_refuses_a_bad_option_naming_it(runner: CliRunner, options: list[str], named: str) -> None:
    result = runner.invoke(app, ["orders", "list", *options])

    assert result.exit_code == 2
    assert named in result.output


@workflow.defn(name=names.ORDER_WORKFLOW)
class HeldOrderStandIn:
    """A held order of two lines whose second line has shipped: it answers status, cancels the first line
    or refuses, and releases once."""

    @workflow.init
    def __init__(self, order: PlaceOrder) -> None:
        self.view = OrderView(
            order_id=order.order_id, workflow_id=workflow.info().workflow_id, channel=order.channel,
            channel_order_id=order.channel_order_id, status=OrderStatus.HELD, currency=order.currency,
            total=order.total, shipments=[],
            lines=[OrderLineView(line_no=n, sku=line.sku, quantity=line.quantity, unit_price=line.unit_price,
                                 status=LineStatus.OPEN if n == 1 else LineStatus.SHIPPED)
                   for n, line in enumerate(order.lines, start=1)],
        )

    @workflow.run
    async def run(self, order: PlaceOrder) -> None:
        await workflow.wait_condition(lambda: self.view.status.is_final)

    @workflow.query(name=names.STATUS_QUERY)
    def status(self) -> OrderView:
        return self.view

    @workflow.update(name=names.CANCEL_UPDATE)
    def cancel(self, request: CancelOrder) -> CancelResult:
        return CancelResult(cancelled_line_nos=[1], cancelled_shipment_ids=[], status=self.view.status)

    @cancel.validator
    def _validate_cancel(self, request: CancelOrder) -> None:
        if request.line_nos != [1]:
            raise ApplicationError("line 2 has shipped and cannot be cancelled")

    @workflow.update(name=names.RELEASE_HOLD_UPDATE)
    def release(self, request: ReleaseHold) -> OrderView:
        self.view = self.view.model_copy(update={"status": OrderStatus.FULFILLING})
        return self.view

    @release.validator
    def _validate_release(self, request: ReleaseHold) -> None:
        if self.view.status is not OrderStatus.HELD:
            raise ApplicationError(f"order is {self.view.status}, not on hold")


@pytest.fixture
async def held_order(temporal_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch,
                     tmp_path: Path) -> AsyncIterator[str]:
    """A held order's id; the environment points the command at its Temporal and task queue."""
    task_queue = f"cli-orders-{uuid.uuid4().hex}"
    monkeypatch.chdir(tmp_path)
    for key in [key for key in os.environ if key.startswith("OMNIROUTE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("OMNIROUTE_TEMPORAL_ADDRESS", temporal_env.client.service_client.config.target_host)
    monkeypatch.setenv("OMNIROUTE_TASK_QUEUE", task_queue)
    order = PlaceOrder.model_validate({
        "channel": "web", "channel_order_id": uuid.uuid4().hex[:12], "currency": "USD",
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "ship_to": {"name": "Ada", "line1": "1 Main St", "city": "Chicago", "region": "IL", "postal_code": "60601"},
        "lines": [{"sku": "MUG-1", "quantity": 2, "unit_price": 1250}, {"sku": "TEE-M", "quantity": 1,
                                                                        "unit_price": 900}],
    })
    async with Worker(temporal_env.client, task_queue=task_queue, workflows=[HeldOrderStandIn],
                      workflow_runner=UnsandboxedWorkflowRunner()):
        await temporal_env.client.start_workflow(names.ORDER_WORKFLOW, order, id=names.order_workflow_id(
            order.order_id), task_queue=task_queue)
        yield order.order_id


async def omniroute(*args: str) -> Result:
    """The command in a thread of its own: it runs its own event loop, as from a shell."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def test_show_prints_the_order_as_its_workflow_sees_it(held_order: str) -> None:
    shown = await omniroute("orders", "show", held_order)
    as_json = await omniroute("orders", "show", held_order, "--json")

    assert shown.exit_code == 0, shown.output
    assert f"order {held_order}" in shown.output and "held, total 34.00 USD" in shown.output
    assert [row[:5] for row in table_rows(shown)] == [["1", "MUG-1", "2", "12.50 USD", "open"],
                                                      ["2", "TEE-M", "1", "9.00 USD", "shipped"]]
    assert "shipments: none yet" in shown.output
    assert OrderView.model_validate_json(as_json.output).order_id == held_order


async def test_cancel_prints_what_was_cancelled_or_why_not(held_order: str) -> None:
    cancelled = await omniroute("orders", "cancel", held_order, "--line", "1", "--reason", "customer called")
    refused = await omniroute("orders", "cancel", held_order)

    assert cancelled.exit_code == 0, cancelled.output
    assert "cancelled lines 1; shipments cancelled none; status held" in cancelled.output
    assert refused.exit_code == 1
    assert "refused: line 2 has shipped and cannot be cancelled" in refused.output


async def test_release_lets_a_held_order_go_once(held_order: str) -> None:
    released = await omniroute("orders", "release", held_order, "--reason", "checked", "--by", "sam")
    again = await omniroute("orders", "release", held_order, "--reason", "checked")

    assert released.exit_code == 0, released.output
    assert f"order {held_order} released by sam" in released.output and "fulfilling" in released.output
    assert again.exit_code == 1
    assert "not on hold" in again.output


async def test_an_unknown_order_exits_1_naming_it(held_order: str) -> None:
    result = await omniroute("orders", "show", "web-nobody-ordered-this")

    assert result.exit_code == 1
    assert "unknown order 'web-nobody-ordered-this'" in result.output


def test_a_temporal_nobody_serves_exits_1_saying_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    address = closed_port_address()

    result = CliRunner().invoke(app, ["orders", "cancel", "web-1"], env={"OMNIROUTE_TEMPORAL_ADDRESS": address})

    assert result.exit_code == 1
    assert f"no answer from Temporal {address}" in result.output


def _no_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env file of the developer's, no OMNIROUTE_* variable of the shell's."""
    monkeypatch.chdir(tmp_path)
    for key in [key for key in os.environ if key.startswith("OMNIROUTE_")]:
        monkeypatch.delenv(key)


@pytest.fixture
async def ready_pickup(omniroute_worker: RunningWorker, monkeypatch: pytest.MonkeyPatch,
                       tmp_path: Path) -> ReadyPickup:
    """A BOPIS pickup on a real worker, ready on the store's shelf; the environment points the command
    at that worker's Temporal and task queue."""
    w = omniroute_worker
    _no_configuration(monkeypatch, tmp_path)
    monkeypatch.setenv("OMNIROUTE_TEMPORAL_ADDRESS", w.temporal.service_client.config.target_host)
    monkeypatch.setenv("OMNIROUTE_TASK_QUEUE", w.task_queue)
    return await pickup_on_the_shelf(w, f"store-cli-{uuid.uuid4().hex[:6]}", "SKU-UNLOCK")


def _collected(pickup: ReadyPickup, code: str, n: int) -> ShipmentEvent:
    return ShipmentEvent(shipment_id=pickup.shipment_id, type=ShipmentEventType.COLLECTED,
                         event_id=f"{pickup.shipment_id}-collect-{n}", pickup_code=code)


async def test_unlock_pickup_lets_a_pickup_locked_by_wrong_codes_take_the_right_code(
        omniroute_worker: RunningWorker, ready_pickup: ReadyPickup) -> None:
    w, pickup = omniroute_worker, ready_pickup
    wrong = "000000" if pickup.code != "000000" else "111111"
    for n in range(MAX_WRONG_PICKUP_CODES):
        with pytest.raises(EventRejectedError, match="pickup_code"):
            await w.sdk.send_shipment_event(_collected(pickup, wrong, n))
    with pytest.raises(EventRejectedError, match="is locked"):
        await w.sdk.send_shipment_event(_collected(pickup, pickup.code, 50))

    unlocked = await omniroute("orders", "unlock-pickup", pickup.order_id, pickup.shipment_id,
                               "--reason", "customer showed id at the desk", "--by", "sam")

    assert unlocked.exit_code == 0, unlocked.output
    assert (f"pickup of shipment {pickup.shipment_id} unlocked by sam: {MAX_WRONG_PICKUP_CODES} wrong codes were "
            "tried; it is ready_for_pickup") in unlocked.output
    await w.sdk.send_shipment_event(_collected(pickup, pickup.code, 51))
    final = await w.temporal.get_workflow_handle(pickup.workflow_id, result_type=OrderView).result()
    assert final.status is OrderStatus.COMPLETED and final.shipments[0].state is ShipmentState.COLLECTED


async def test_unlock_pickup_of_a_pickup_not_locked_exits_1_saying_so(
        omniroute_worker: RunningWorker, ready_pickup: ReadyPickup) -> None:
    w, pickup = omniroute_worker, ready_pickup
    with pytest.raises(EventRejectedError, match="pickup_code"):
        await w.sdk.send_shipment_event(_collected(pickup, "x" + pickup.code, 1))

    result = await omniroute("orders", "unlock-pickup", pickup.order_id, pickup.shipment_id, "--reason", "why not")

    assert result.exit_code == 1
    assert f"not unlocked: the pickup of shipment {pickup.shipment_id} is not locked (1 wrong codes)" in " ".join(
        result.output.split())
    await w.sdk.send_shipment_event(_collected(pickup, pickup.code, 2))  # still takes the right code
    final = await w.temporal.get_workflow_handle(pickup.workflow_id, result_type=OrderView).result()
    assert final.shipments[0].state is ShipmentState.COLLECTED


async def test_unlock_pickup_of_an_unknown_shipment_exits_1_naming_it(ready_pickup: ReadyPickup) -> None:
    unknown = f"{ready_pickup.order_id}-S9"

    not_run = await omniroute("orders", "unlock-pickup", ready_pickup.order_id, unknown, "--reason", "x")
    not_its = await omniroute("orders", "unlock-pickup", "web-another", ready_pickup.shipment_id, "--reason", "x")

    assert not_run.exit_code == 1
    assert f"unknown shipment {unknown!r}: no fulfilment runs or ran for it" in " ".join(not_run.output.split())
    assert not_its.exit_code == 1
    assert "it is not a shipment of order web-another" in " ".join(not_its.output.split())


@pytest.mark.parametrize(("args", "named"), [
    (["web-1", "web-1", "--reason", "x"], "shipment_id"),
    (["web-1", "web-1-S1", "--reason", ""], "--reason"),
])
def test_unlock_pickup_refuses_bad_input_naming_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    args: list[str], named: str) -> None:
    _no_configuration(monkeypatch, tmp_path)

    result = CliRunner().invoke(app, ["orders", "unlock-pickup", *args])

    assert result.exit_code == 2
    assert named in result.output


def test_unlock_pickup_that_temporal_refuses_the_caller_exits_1_saying_no_permission(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A Temporal with an authorizer (mTLS, a namespace the certificate may not write) answers
    PERMISSION_DENIED; the SDK passes it on and the command names it."""

    class RefusingSdk:
        async def unlock_pickup(self, shipment_id: str, *, actor: str, reason: str) -> None:
            raise RPCError("Request unauthorized.", RPCStatusCode.PERMISSION_DENIED, b"")

    async def connect(settings: object) -> RefusingSdk:
        return RefusingSdk()

    _no_configuration(monkeypatch, tmp_path)
    monkeypatch.setattr("omniroute.cli.orders.connect_sdk", connect)

    result = CliRunner().invoke(app, ["orders", "unlock-pickup", "web-1", "web-1-S1", "--reason", "x"])

    assert result.exit_code == 1
    assert "no permission" in result.output and "Request unauthorized." in result.output


def test_unlock_pickup_help_says_what_it_does(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_configuration(monkeypatch, tmp_path)

    result = CliRunner().invoke(app, ["orders", "unlock-pickup", "--help"])

    assert result.exit_code == 0
    assert "Unlock a BOPIS pickup locked after five wrong pickup codes" in result.output
    assert "--reason" in result.output and "--by" in result.output
