"""Expired reservations go back to ATP through the `reservation-sweep` Temporal Schedule, never
while a live order can still ship them. On the dev server: the time-skipping one has no schedules."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client, ScheduleIntervalSpec, ScheduleOverlapPolicy
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.sweep import ReservationSweepActivities
from models.address import Address
from models.inventory import ReservationItem, ReservationState
from models.names import (
    BACKORDER_SWEEP_SCHEDULE,
    RELEASE_WAVE_SCHEDULE,
    RESERVATION_SWEEP_SCHEDULE,
    RESERVATION_SWEEP_WORKFLOW,
    SHADOW_PRICE_SCHEDULE,
)
from models.order import Customer, OrderLineIn, OrderStatus
from models.records import OrderRecord
from models.schedules import SweepBatch, SweepBatchResult, SweepReport
from omniroute.config.settings import Settings
from store import Store
from tests.fixtures.eventually import eventually
from tests.fixtures.network import add_node
from tests.fixtures.sandbox import RunningSandbox
from tests.fixtures.temporal import worker_settings
from workers.main import running_worker
from workers.schedules import ensure_schedules

PAST = datetime.now(UTC) - timedelta(hours=1)
FUTURE = datetime.now(UTC) + timedelta(hours=72)


def _reserve(store: Store, order_id: str, quantity: int, expires_at: datetime) -> str:
    key = f"{order_id}-S1:SKU-SW"
    result = store.reserve([ReservationItem(key=key, node_id="dc-sw", sku="SKU-SW", quantity=quantity)],
                           order_id=order_id, expires_at=expires_at, source="test")
    assert result.ok
    return key


def _record_order(store: Store, order_id: str, status: OrderStatus) -> None:
    store.record_order(OrderRecord(
        order_id=order_id, workflow_id=f"order-{order_id}", channel="web", channel_order_id=order_id,
        status=status, currency="USD", customer=Customer(email="ada@example.com", name="Ada Lovelace"),
        ship_to=Address(name="Ada Lovelace", line1="1 Main St", city="Chicago", region="IL", postal_code="60601"),
        lines=[OrderLineIn(sku="SKU-SW", quantity=1, unit_price=1999)], created_at=PAST,
    ))


def _state(store: Store, order_id: str) -> ReservationState:
    (reservation,) = store.reservations(order_id)
    return reservation.state


@pytest.fixture
def stocked_store(worker_store: Store) -> Store:
    add_node(worker_store, "dc-sw", "60106")
    worker_store.set_on_hand("dc-sw", "SKU-SW", 10, source="test")
    return worker_store


@pytest.fixture
async def sweep_settings(temporal_env: WorkflowEnvironment, stocked_store: Store,
                         sandbox: RunningSandbox) -> AsyncIterator[Settings]:
    """A worker on its own task queue; the schedule (one id per namespace) is deleted afterwards."""
    settings = worker_settings(sandbox, reservation_sweep_minutes=60)
    async with running_worker(settings, client=temporal_env.client, store=stocked_store):
        try:
            yield settings
        finally:
            await _delete_schedule(temporal_env.client)


async def _delete_schedule(client: Client) -> None:
    async for listed in await client.list_schedules():
        if listed.id == RESERVATION_SWEEP_SCHEDULE:
            await client.get_schedule_handle(RESERVATION_SWEEP_SCHEDULE).delete()


async def test_a_triggered_schedule_releases_an_expired_reservation_back_to_atp(
        temporal_env: WorkflowEnvironment, stocked_store: Store, sweep_settings: Settings) -> None:
    order_id = f"web-{uuid.uuid4().hex[:8]}"
    _reserve(stocked_store, order_id, 4, PAST)
    assert stocked_store.availability("SKU-SW").total_atp == 6

    await ensure_schedules(temporal_env.client, sweep_settings)
    await temporal_env.client.get_schedule_handle(RESERVATION_SWEEP_SCHEDULE).trigger()

    await eventually(lambda: _state(stocked_store, order_id) is ReservationState.RELEASED,
                     "the triggered sweep to release the expired reservation")
    assert stocked_store.availability("SKU-SW").total_atp == 10
    release = stocked_store.ledger(node_id="dc-sw", sku="SKU-SW")[-1]
    assert (release.reserved_delta, release.source, release.reason) == (-4, "sweep", "reservation expired")


async def test_ensuring_the_schedules_twice_keeps_one_schedule_with_the_new_interval(
        temporal_env: WorkflowEnvironment, sweep_settings: Settings) -> None:
    await ensure_schedules(temporal_env.client, sweep_settings)
    await ensure_schedules(temporal_env.client, sweep_settings.model_copy(update={"reservation_sweep_minutes": 7}))

    ids = [s.id async for s in await temporal_env.client.list_schedules() if s.id == RESERVATION_SWEEP_SCHEDULE]
    description = await temporal_env.client.get_schedule_handle(RESERVATION_SWEEP_SCHEDULE).describe()
    assert len(ids) <= 1  # visibility may lag behind the create; describe() is authoritative
    assert description.schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(minutes=7))]
    assert description.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
    prices = await temporal_env.client.get_schedule_handle(SHADOW_PRICE_SCHEDULE).describe()
    every = timedelta(minutes=sweep_settings.lookahead_refresh_minutes)
    assert prices.schedule.spec.intervals == [ScheduleIntervalSpec(every=every)]
    assert prices.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
    for schedule_id, minutes in ((RELEASE_WAVE_SCHEDULE, sweep_settings.wave_minutes),
                                 (BACKORDER_SWEEP_SCHEDULE, sweep_settings.backorder_sweep_minutes)):
        described = await temporal_env.client.get_schedule_handle(schedule_id).describe()
        assert described.schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(minutes=minutes))]


async def test_the_sweep_releases_only_what_no_live_order_can_still_ship(
        temporal_env: WorkflowEnvironment, stocked_store: Store, sweep_settings: Settings) -> None:
    tag = uuid.uuid4().hex[:6]
    orphan, cancelled, fulfilling, fresh = (f"web-{tag}-{n}" for n in ("orphan", "cancelled", "live", "fresh"))
    _record_order(stocked_store, cancelled, OrderStatus.CANCELLED)
    _record_order(stocked_store, fulfilling, OrderStatus.FULFILLING)
    _record_order(stocked_store, fresh, OrderStatus.FULFILLING)
    for order_id in (orphan, cancelled, fulfilling):
        _reserve(stocked_store, order_id, 2, PAST)
    _reserve(stocked_store, fresh, 1, FUTURE)

    report = await temporal_env.client.execute_workflow(
        RESERVATION_SWEEP_WORKFLOW, id=f"sweep-{tag}", task_queue=sweep_settings.task_queue,
        result_type=SweepReport)

    assert (report.released, report.held) == (2, 1)
    assert _state(stocked_store, orphan) is ReservationState.RELEASED
    assert _state(stocked_store, cancelled) is ReservationState.RELEASED
    assert _state(stocked_store, fulfilling) is ReservationState.ACTIVE
    assert _state(stocked_store, fresh) is ReservationState.ACTIVE
    assert stocked_store.availability("SKU-SW").total_atp == 10 - 2 - 1


async def test_the_sweep_goes_past_held_reservations_across_batches(stocked_store: Store) -> None:
    """Held reservations stay at the head of the expiry order; later batches must look past them."""
    tag = uuid.uuid4().hex[:6]
    live = [f"web-{tag}-live{n}" for n in range(3)]
    orphans = [f"web-{tag}-orphan{n}" for n in range(3)]
    for n, order_id in enumerate(live):
        _record_order(stocked_store, order_id, OrderStatus.PARTIALLY_SHIPPED)
        _reserve(stocked_store, order_id, 1, PAST - timedelta(minutes=10 - n))  # live ones expire first
    for order_id in orphans:
        _reserve(stocked_store, order_id, 1, PAST)

    sweep = ReservationSweepActivities(ledger=stocked_store, reservations=stocked_store, orders=stocked_store)
    now = datetime.now(UTC)

    def batch(skip_held: int) -> SweepBatchResult:
        result: SweepBatchResult = ActivityEnvironment().run(
            sweep.release_expired_batch, SweepBatch(now=now, limit=2, skip_held=skip_held))
        return result

    first = batch(0)
    second = batch(first.held)
    third = batch(second.held)
    fourth = batch(third.held)

    assert (first.released, first.held, first.exhausted) == (0, 2, False)
    assert (second.released, second.held) == (1, 3)
    assert (third.released, third.held) == (2, 3)
    assert (fourth.released, fourth.held, fourth.exhausted) == (0, 3, True)
    assert all(_state(stocked_store, o) is ReservationState.RELEASED for o in orphans)
    assert all(_state(stocked_store, o) is ReservationState.ACTIVE for o in live)
