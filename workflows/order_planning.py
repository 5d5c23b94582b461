"""The order's planning steps: the intake rules, plan and reserve (with backorders and the release
hold), plan again when backordered stock comes in, and take a release wave's better plan.

Plain functions over the order's state and its bookkeeping; the order's runner calls them, one at a
time, so that only it issues commands.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.inventory import InventoryActivities
    from activities.sourcing import SourcingActivities
    from models.commands import AllocateStock, StockAllocated, SwapReservations, SwapResult, WavePlan
    from models.notify import NotificationKind
    from models.order import OrderStatus
    from models.plan import PlannedShipment
    from models.rules import RuleOutcome
    from models.shipment import ShipmentLine, ShipmentState, ShipmentView
    from workflows.order_book import OrderBook
    from workflows.order_state import OrderState, ShipmentRuntime, backordered_lines, open_lines
    from workflows.policies import local

# From this patch on, a pickup order whose rules say `pickup_fallback: ship` ships handed-back lines no
# pickup store can fill to its ship_to (a second plan and reserve, and its own notice).
PICKUP_FALLBACK_SHIP = "pickup-fallback-ship"

# Under the `backorder` policy, units no node can ship are planned again this often, and cancelled
# when they are still waiting after BACKORDER_MAX_WAIT.
BACKORDER_RETRY_EVERY = timedelta(hours=1)
BACKORDER_MAX_WAIT = timedelta(days=14)


async def apply_rules(state: OrderState, book: OrderBook) -> None:
    outcome: RuleOutcome = await local(SourcingActivities.evaluate_rules, state.order)
    state.rules = outcome
    state.events.extend(str(fired) for fired in outcome.fired)
    if outcome.holds:
        state.held = True
        state.events.append("held for review: " + "; ".join(outcome.holds))
        await book.update_status()


async def allocate(state: OrderState, book: OrderBook) -> None:
    """Plan and reserve the open lines, tell the customer what will ship, and set the release hold."""
    lines = open_lines(state)
    if not lines:  # every line was cancelled while the order was held
        state.allocated = True
        await book.update_status()
        return
    allocation = await _plan(state, lines)
    if allocation.hold is not None:
        state.release_at = workflow.now() + allocation.hold
        state.events.append(f"shipments wait for a release wave until {state.release_at:%H:%M} UTC")
    state.allocated = True
    await book.save_shipments(list(state.shipments.values()))
    await book.update_status()
    facts = {"shipments": str(len(state.shipments))}
    unfillable = "; ".join(f"{u.sku} x{u.quantity}: {u.reason}" for u in allocation.plan.unfillable)
    if unfillable:
        facts["backordered" if state.backordered else "cancelled"] = unfillable
    if state.shipments:
        kind = NotificationKind.ORDER_CONFIRMED
    else:
        kind = NotificationKind.BACKORDERED if state.backordered else NotificationKind.ORDER_CANCELLED
    await book.notify(kind, facts)


async def _plan(state: OrderState, lines: list[ShipmentLine], *, keep_unfillable: bool = False,
                ship_instead: bool = False) -> StockAllocated:
    """Plan and reserve `lines` as new shipments; units no node can ship now are backordered or
    cancelled by the order's backorder policy (cancel unless a rule said backorder), or, with
    `keep_unfillable`, left in the answer for the caller. `ship_instead`: a pickup order's lines
    planned as shipments to its ship_to (no pickup store could take them)."""
    order = state.order
    ship_to = order.ship_to if ship_instead and order.ship_to is not None else state.ship_to
    allocation: StockAllocated = await local(InventoryActivities.allocate, AllocateStock(
        order_id=order.order_id, ship_to=ship_to, lines=lines, rules=state.rules,
        service_level=order.service_level, deliver_by=order.promised_delivery,
        first_shipment_no=len(state.shipments) + 1, exclude_nodes=state.excluded_nodes,
        **({} if ship_instead else _pickup_terms(state)),
    ))
    state.decision = allocation.plan.decision
    _add_shipments(state, allocation.shipment_ids, allocation.plan.shipments, allocation.reservation_keys,
                   pickup=order.pickup is not None and not ship_instead)
    if keep_unfillable:
        state.events.extend(allocation.plan.explanation)
        return allocation
    backorder = state.rules is not None and state.rules.backorder_policy == "backorder"
    for line in allocation.plan.unfillable:
        if backorder:
            state.backordered[line.line_no] = state.backordered.get(line.line_no, 0) + line.quantity
            state.events.append(f"line {line.line_no} ({line.sku}): {line.quantity} backordered")
        else:
            state.cancel_quantity(line.line_no, line.quantity, line.reason)
    if state.backordered and state.backordered_since is None:
        state.backordered_since = workflow.now()
    if state.backordered:
        state.backorder_retry_at = workflow.now() + BACKORDER_RETRY_EVERY
    state.events.extend(allocation.plan.explanation)
    return allocation


def _pickup_terms(state: OrderState) -> dict[str, object]:
    """A pickup order plans at its store; lines that store handed back, at another pickup store."""
    pickup = state.order.pickup
    if pickup is None:
        return {}
    chosen = pickup.node_id if pickup.node_id not in state.excluded_nodes else None
    return {"pickup_only": True, "pickup_at": chosen, "curbside": pickup.curbside}


def _add_shipments(state: OrderState, shipment_ids: list[str], planned: list[PlannedShipment],
                   keys: dict[str, list[str]], *, pickup: bool | None = None) -> list[ShipmentRuntime]:
    """Add the planned shipments; `pickup` (default: a pickup order's are) says the customer collects them."""
    collected = state.order.pickup is not None if pickup is None else pickup
    fresh = []
    for sid, shipment in zip(shipment_ids, planned, strict=True):
        runtime = ShipmentRuntime(
            view=ShipmentView(shipment_id=sid, node_id=shipment.node_id, lines=shipment.lines,
                              state=ShipmentState.PENDING, pickup=collected),
            reservation_keys=dict(zip([line.sku for line in shipment.lines], keys[sid], strict=True)),
            planned=shipment,
        )
        state.shipments[sid] = runtime
        fresh.append(runtime)
    return fresh


async def retry_backorders(state: OrderState, book: OrderBook) -> list[ShipmentRuntime]:
    """Plan the backordered units again (the new shipments are returned, to be released); cancel them
    once they have waited BACKORDER_MAX_WAIT."""
    if not state.backordered:
        return []
    since = state.backordered_since or workflow.now()
    if workflow.now() - since >= BACKORDER_MAX_WAIT:
        line_nos = sorted(state.backordered)
        cancel_backorders(state, f"backorder not filled within {BACKORDER_MAX_WAIT.days} days")
        await book.update_status()
        kind = (NotificationKind.ORDER_CANCELLED if state.status is OrderStatus.CANCELLED
                else NotificationKind.LINES_CANCELLED)
        await book.notify(kind, {"lines": ", ".join(map(str, line_nos)), "reason": "backorder not filled"})
        return []
    lines = backordered_lines(state)
    state.backordered.clear()
    before = set(state.shipments)
    await _plan(state, lines)
    for line in lines:
        if filled := line.quantity - state.backordered.get(line.line_no, 0):
            state.filled_from_backorder[line.line_no] = state.filled_from_backorder.get(line.line_no, 0) + filled
    if not state.backordered:
        state.backordered_since = None
    fresh = [s for sid, s in state.shipments.items() if sid not in before]
    if not fresh:
        return []
    await book.save_shipments(fresh)
    await book.update_status()
    await book.notify(NotificationKind.ORDER_CONFIRMED, {
        "shipments": str(len(fresh)), "backorder": "now planned" if not state.backordered else "in part"})
    return fresh


async def resource(state: OrderState, book: OrderBook, node_id: str, lines: list[ShipmentLine],
                   reason: str, *, exclude: bool = True) -> list[ShipmentRuntime]:
    """Plan lines a node handed back (rejected, timed out, short-picked) again, never from that node;
    what no other node can ship is backordered or cancelled as at intake. The new shipments are
    returned, to be released. `exclude=False`: the node gave nothing back for its own reasons (it
    cancelled a whole shipment of which the order wanted only some lines gone), so it may ship them again."""
    units = ", ".join(f"{line.sku} x{line.quantity}" for line in lines)
    if exclude:
        if node_id not in state.excluded_nodes:
            state.excluded_nodes.append(node_id)
        state.events.append(f"{node_id} handed back {units}: {reason}")
    else:
        state.events.append(f"{node_id} cancelled the whole shipment; planning {units} again: {reason}")
    before = set(state.shipments)
    shipped_instead = await _plan_handed_back(state, lines)
    fresh = [s for sid, s in state.shipments.items() if sid not in before]
    await book.save_shipments(fresh)
    await book.update_status()
    if shipped_instead:
        kind = NotificationKind.PICKUP_SHIPPED_INSTEAD
    elif fresh:
        kind = NotificationKind.ORDER_CONFIRMED
    elif state.backordered:
        kind = NotificationKind.BACKORDERED
    else:
        kind = (NotificationKind.ORDER_CANCELLED if state.status is OrderStatus.CANCELLED
                else NotificationKind.LINES_CANCELLED)
    await book.notify(kind, {"shipments": str(len(fresh)), "re-sourced": reason, "units": units})
    return fresh


async def _plan_handed_back(state: OrderState, lines: list[ShipmentLine]) -> list[ShipmentLine]:
    """Plan handed-back lines as at intake. A pickup order whose rules say `pickup_fallback: ship`, and
    that has a ship_to, ships what no other pickup store can fill to the customer instead (the lines
    so planned are returned); what nobody can ship is backordered or cancelled by policy."""
    order = state.order
    fallback = state.rules.pickup_fallback if state.rules is not None else None
    if order.pickup is None or fallback != "ship" or order.ship_to is None or not workflow.patched(
            PICKUP_FALLBACK_SHIP):
        await _plan(state, lines)
        return []
    allocation = await _plan(state, lines, keep_unfillable=True)
    unfilled = [ShipmentLine(line_no=u.line_no, sku=u.sku, quantity=u.quantity) for u in allocation.plan.unfillable]
    if not unfilled:
        return []
    before = set(state.shipments)
    await _plan(state, unfilled, ship_instead=True)
    shipped = [line for sid, s in state.shipments.items() if sid not in before for line in s.view.lines]
    if shipped:
        units = ", ".join(f"{line.sku} x{line.quantity}" for line in shipped)
        state.events.append(f"no pickup store can fill {units}: shipped to the customer instead "
                            "(rule pickup_fallback: ship)")
    return shipped


def cancel_backorders(state: OrderState, reason: str) -> None:
    for line_no, quantity in sorted(state.backordered.items()):
        state.cancel_quantity(line_no, quantity, reason)
    state.backordered.clear()
    state.backordered_since = None


async def take_wave(state: OrderState, book: OrderBook, offer: WavePlan) -> bool:
    """Take a release wave's plan if the shipments still wait: swap the reservations (all or
    nothing) and replace the waiting shipments by the new ones. True when they should be released
    now (the plan was taken)."""
    if state.release_at is None or state.stopping:
        state.events.append(f"{offer.wave_id}: arrived after release; the plan stands")
        return False
    if state.reroutes:
        state.events.append(f"{offer.wave_id}: an operator rerouted {', '.join(state.reroutes)}; the plan stands")
        return False
    old = [s for s in state.shipments.values() if s.view.state is ShipmentState.PENDING and not s.cancel_requested]
    if _units(line for s in old for line in s.view.lines) != _units(
            line for s in offer.plan.shipments for line in s.lines):
        state.events.append(f"{offer.wave_id}: the order changed since the wave planned it; the plan stands")
        return False
    swapped: SwapResult = await local(InventoryActivities.swap, SwapReservations(
        order_id=state.order.order_id, release_keys=[k for s in old for k in s.reservation_keys.values()],
        plan=offer.plan, first_shipment_no=len(state.shipments) + 1, rules=state.rules,
        reason=f"re-planned in {offer.wave_id}"))
    if not swapped.ok:
        state.events.append(f"{offer.wave_id}: plan not taken ({swapped.reason}); the plan stands")
        return False
    for shipment in old:
        shipment.view.state = ShipmentState.CANCELLED
        state.events.append(f"{shipment.view.shipment_id} replaced in {offer.wave_id}")
    fresh = _add_shipments(state, swapped.shipment_ids, offer.plan.shipments, swapped.reservation_keys)
    state.decision = offer.plan.decision
    state.events.append(f"{offer.wave_id}: re-planned, the wave saves {offer.saving_cents / 100:.2f}")
    state.events.extend(offer.plan.explanation)
    await book.save_shipments(old + fresh)
    await book.update_status()
    return True


def _units(lines: Iterable[ShipmentLine]) -> dict[tuple[int, str], int]:
    out: dict[tuple[int, str], int] = {}
    for line in lines:
        out[(line.line_no, line.sku)] = out.get((line.line_no, line.sku), 0) + line.quantity
    return out
