"""Live look-ahead on a real Temporal server: the scheduled refresh prices stock from recent orders,
and an order then leaves the unit that nearby demand will need."""

from __future__ import annotations

from datetime import UTC, datetime

from models.address import Address
from models.costs import LookAheadSettings
from models.names import SHADOW_PRICE_WORKFLOW
from models.records import OrderRecord
from models.schedules import PriceRefresh
from omniroute.files.cost_files import demo_cost_model_path, load_cost_model
from tests.fixtures.network import add_node
from tests.fixtures.orders import CHICAGO, an_order
from tests.fixtures.temporal import RunningWorker
from tests.fixtures.workflows import all_released, run_once, wait_for

ST_LOUIS = Address(name="Ada Buyer", line1="1 Market St", city="St. Louis", region="MO", postal_code="63101")


def record_past_orders(w: RunningWorker, count: int, sku: str) -> None:
    """Orders that came to Chicago recently: the demand the look-ahead forecasts."""
    for _ in range(count):
        order = an_order((sku, 1))
        w.store.record_order(OrderRecord(
            order_id=order.order_id, workflow_id=f"past-{order.order_id}", channel=order.channel,
            channel_order_id=order.channel_order_id, status="completed", currency=order.currency,
            customer=order.customer, ship_to=CHICAGO, lines=order.lines, created_at=datetime.now(UTC),
        ))


async def refresh(w: RunningWorker) -> PriceRefresh:
    return await run_once(w, SHADOW_PRICE_WORKFLOW, PriceRefresh)


async def test_the_refresh_does_nothing_while_the_cost_model_has_look_ahead_off(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    w.store.set_cost_model(load_cost_model(demo_cost_model_path()))

    result = await refresh(w)

    assert not result.ran and "look_ahead" in result.reason
    assert w.store.shadow_prices() is None


async def test_an_order_leaves_the_unit_chicago_will_need_once_prices_are_refreshed(
        omniroute_worker: RunningWorker) -> None:
    w = omniroute_worker
    model = load_cost_model(demo_cost_model_path())
    w.store.set_cost_model(model)
    add_node(w.store, "dc-il", "60106")
    add_node(w.store, "dc-tx", "75201")
    w.store.set_on_hand("dc-il", "MUG-1", 2, source="test")
    w.store.set_on_hand("dc-tx", "MUG-1", 50, source="test")
    record_past_orders(w, 6, "MUG-1")

    # Myopic: St. Louis is nearer Illinois than Texas.
    first = an_order(("MUG-1", 1), ship_to=ST_LOUIS)
    await w.sdk.place_order(first)
    myopic = await wait_for(w, first.order_id, all_released)
    assert [s.node_id for s in myopic.shipments] == ["dc-il"]
    assert myopic.decision is not None and myopic.decision.strategy == "optimal"

    w.store.set_cost_model(model.model_copy(update={"look_ahead": LookAheadSettings(history_days=1, horizon_days=1)}))
    result = await refresh(w)
    assert result.ran and result.orders_seen == 7 and result.prices >= 1
    stored = w.store.shadow_prices()
    assert stored is not None and stored[1] == result.version
    prices = stored[0].as_map()
    assert prices.get(("dc-il", "MUG-1"), 0) > 0, "Illinois' last unit is wanted by Chicago"
    assert prices.get(("dc-tx", "MUG-1"), 0) == 0, "Texas holds more than the forecast"

    second = an_order(("MUG-1", 1), ship_to=ST_LOUIS)
    await w.sdk.place_order(second)
    steered = await wait_for(w, second.order_id, all_released)

    assert [s.node_id for s in steered.shipments] == ["dc-tx"]
    decision = steered.decision
    assert decision is not None and decision.strategy == "look-ahead"
    assert decision.shadow_prices_version == result.version and decision.look_ahead_cents == 0
    assert any(r.nodes == ["dc-il"] for r in decision.runners_up), "the nearer node is shown as the runner-up"
