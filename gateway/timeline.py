"""An order's timeline merged from what the app DB keeps about it. Pure: the route reads, this merges.

Where each event comes from:

- intake: the order record's creation, with the channel key that placed it from the audit trail's
  `order.intake` (without one, an order from a channel sync: the system);
- rules fired and the decision: the order record (rules at its creation; the decision when its
  current reservations were made, which is when it was written);
- reservations, commits and releases: the ledger rows of the order's reservations, with their actor;
- node events, cancels, hold releases, returns: the audit trail, with the key that asked;
- customer e-mails delivered, bounced or dropped: the audit trail's `message.event` (SendGrid's Event
  Webhook, gateway/routes/webhooks_sendgrid.py); messages sent later, or abandoned, by the message retry
  sweep: the same kind, with the outcome as its event ("sent after 3 attempts");
- shipped and delivered (with the label's carrier, tracking number and cost): the shipments table.

Events at the same instant keep the order of `TimelineKind`'s members.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from models.audit import SYSTEM, Actor, ActorRole, AuditEntry, AuditKind, DetailValue
from models.currencies import minor_unit_exponent
from models.inventory import MovementKind
from models.names import fulfilment_workflow_id, order_workflow_id
from models.order import OrderView
from models.plan import SourcingDecision
from models.records import Movement, OrderRecord, ShipmentRecord
from models.timeline import OrderTimeline, TimelineEvent, TimelineKind

_RANK = {kind: rank for rank, kind in enumerate(TimelineKind)}
_MOVEMENT_KINDS = {MovementKind.RESERVE: TimelineKind.RESERVE, MovementKind.COMMIT: TimelineKind.COMMIT,
                   MovementKind.RELEASE: TimelineKind.RELEASE, MovementKind.SHORT_PICK: TimelineKind.WRITE_OFF}
_AUDIT_KINDS = {AuditKind.ORDER_CANCEL: TimelineKind.CANCEL, AuditKind.ORDER_RELEASE: TimelineKind.HOLD_RELEASE,
                AuditKind.ORDER_REROUTE: TimelineKind.REROUTE, AuditKind.SHIPMENT_EVENT: TimelineKind.NODE_EVENT,
                AuditKind.RETURN_START: TimelineKind.RETURN, AuditKind.MESSAGE_EVENT: TimelineKind.MESSAGE}


@dataclass(frozen=True)
class OrderSources:
    """What the app DB holds about one order."""

    record: OrderRecord | None = None
    movements: list[Movement] = field(default_factory=list)
    shipments: list[ShipmentRecord] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.record is None and not self.movements and not self.shipments and not self.audit


def order_timeline(
    order_id: str, sources: OrderSources, view: OrderView | None, *, live_view_read: bool,
    viewer_key_id: str | None = None,
) -> OrderTimeline:
    """The order's events oldest first. With `viewer_key_id` (a channel key's), other keys are shown by
    their role only."""
    events = sorted(_events(order_id, sources, view), key=lambda event: (event.at, _RANK[event.kind]))
    if viewer_key_id is not None:
        events = [_seen_by(event, viewer_key_id) for event in events]
    status = view.status if view is not None else (sources.record.status if sources.record is not None else None)
    return OrderTimeline(order_id=order_id, status=status, live_view_read=live_view_read, events=events,
                         notes=list(view.events) if view is not None else [])


def _events(order_id: str, sources: OrderSources, view: OrderView | None) -> Iterator[TimelineEvent]:
    workflow = Actor.workflow(order_workflow_id(order_id))
    record = sources.record
    created_at = record.created_at if record is not None else view.created_at if view is not None else None
    yield from _intake(sources, created_at)
    decision = record.decision if record is not None else view.decision if view is not None else None
    fired = decision.rules_fired if decision is not None else view.rules_fired if view is not None else []
    if fired and created_at is not None:
        yield TimelineEvent(at=created_at, kind=TimelineKind.RULES, summary="rules fired: " + "; ".join(fired),
                            actor=workflow)
    reserved_at = [m.created_at for m in sources.movements if m.kind is MovementKind.RESERVE]
    decided_at = max(reserved_at) if reserved_at else created_at
    if decision is not None and decided_at is not None:
        yield TimelineEvent(at=decided_at, kind=TimelineKind.DECISION, summary=_decision(decision), actor=workflow)
    for movement in sources.movements:
        if movement.kind in _MOVEMENT_KINDS:
            yield TimelineEvent(at=movement.created_at, kind=_MOVEMENT_KINDS[movement.kind],
                                summary=_movement(movement), actor=movement.actor)
    for entry in sources.audit:
        if entry.kind is not AuditKind.ORDER_INTAKE:
            yield TimelineEvent(at=entry.at, kind=_AUDIT_KINDS.get(entry.kind, TimelineKind.CHANGE),
                                summary=_change(entry), actor=entry.actor)
    for shipment in sources.shipments:
        yield from _shipment(shipment)


def _intake(sources: OrderSources, created_at: datetime | None) -> Iterator[TimelineEvent]:
    placed = [entry for entry in sources.audit if entry.kind is AuditKind.ORDER_INTAKE]
    for entry in placed:
        # The gateway records the intake once the workflow has taken the order, which may have stamped
        # the order's creation first: the order was placed at the earlier of the two.
        when = entry.at if created_at is None else min(entry.at, created_at)
        yield TimelineEvent(at=when, kind=TimelineKind.INTAKE, actor=entry.actor,
                            summary=f"placed on channel {entry.detail.get('channel')}: "
                                    f"{entry.detail.get('lines')} line(s)")
    if not placed and created_at is not None:
        channel = sources.record.channel if sources.record is not None else "?"
        yield TimelineEvent(at=created_at, kind=TimelineKind.INTAKE, actor=SYSTEM,
                            summary=f"received from channel {channel} (not through the gateway)")


def _decision(decision: SourcingDecision) -> str:
    nodes = ", ".join(dict.fromkeys(s.node_id for s in decision.shipments)) or "no node"
    return (f"{decision.strategy} ({decision.method}): {len(decision.shipments)} shipment(s) from {nodes}, "
            f"{money(decision.total_cents, decision.currency)}; cost model {_version(decision.cost_model_version)}, "
            f"rules {_version(decision.rules_version)}")


def _version(version: int | None) -> str:
    return "none" if version is None else f"v{version}"


def _movement(movement: Movement) -> str:
    where = f"{movement.sku} at {movement.node_id}"
    if movement.kind is MovementKind.RESERVE:
        return f"reserved {movement.reserved_delta} × {where}"
    if movement.kind is MovementKind.COMMIT:
        return f"{-movement.on_hand_delta} × {where} left the building"
    if movement.kind is MovementKind.SHORT_PICK:
        return (f"short pick: {-movement.reserved_delta} × {where} not found, {-movement.on_hand_delta} written off"
                + (f": {movement.reason}" if movement.reason else ""))
    return f"released {-movement.reserved_delta} × {where}" + (f": {movement.reason}" if movement.reason else "")


def _change(entry: AuditEntry) -> str:
    detail = entry.detail
    if entry.kind is AuditKind.ORDER_CANCEL:
        return f"cancelled lines {_listed(detail.get('lines'))}; shipments {_listed(detail.get('shipments'))}"
    if entry.kind is AuditKind.ORDER_RELEASE:
        return f"hold released; the order is {detail.get('status')}"
    if entry.kind is AuditKind.SHIPMENT_EVENT:
        exception = f" ({detail['exception']})" if detail.get("exception") else ""
        return f"{entry.subject}: {detail.get('type')}{exception} reported"
    if entry.kind is AuditKind.RETURN_START:
        return f"return {entry.subject} started ({detail.get('lines')} line(s))"
    if entry.kind is AuditKind.MESSAGE_EVENT:
        event = detail.get("event")
        channel = "SMS" if detail.get("channel") == "sms" else "e-mail"
        return f"{detail.get('message_kind')} {channel} {_MESSAGE_EVENTS.get(str(event), event)}"
    return f"{entry.kind.value} {entry.subject}"


_MESSAGE_EVENTS = {"delivered": "delivered", "bounce": "bounced", "dropped": "dropped by SendGrid"}


def _listed(value: DetailValue) -> str:
    if not isinstance(value, list):
        return str(value)
    return ", ".join(map(str, value)) or "none"


def _shipment(shipment: ShipmentRecord) -> Iterator[TimelineEvent]:
    fulfilment = Actor.workflow(fulfilment_workflow_id(shipment.shipment_id))
    if shipment.shipped_at is not None:
        label = ""
        if shipment.tracking_number is not None:
            label = f"; label {shipment.carrier or '?'} {shipment.service or ''}".rstrip()
            label += f", tracking {shipment.tracking_number}"
            if shipment.label_cost is not None and shipment.currency is not None:
                label += f", {money(shipment.label_cost, shipment.currency)}"
        yield TimelineEvent(at=shipment.shipped_at, kind=TimelineKind.SHIPPED, actor=fulfilment,
                            summary=f"{shipment.shipment_id} shipped from {shipment.node_id}{label}")
    if shipment.delivered_at is not None:
        yield TimelineEvent(at=shipment.delivered_at, kind=TimelineKind.DELIVERED, actor=fulfilment,
                            summary=f"{shipment.shipment_id} delivered")
    elif shipment.exception is not None and shipment.shipped_at is not None:
        # The record keeps no time for it: shown after the shipping, with the carrier's events above.
        yield TimelineEvent(at=shipment.shipped_at, kind=TimelineKind.SHIPPED, actor=fulfilment,
                            summary=f"{shipment.shipment_id} has a carrier exception open: "
                                    f"{shipment.exception.value.replace('_', ' ')}")


def money(minor: int, currency: str) -> str:
    """`minor` units of `currency` as a decimal amount and the code: 1999 USD is "19.99 USD"."""
    exponent = minor_unit_exponent(currency)
    sign = "-" if minor < 0 else ""
    if exponent == 0:
        return f"{sign}{abs(minor)} {currency}"
    whole, part = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{part:0{exponent}d} {currency}"


def _seen_by(event: TimelineEvent, viewer_key_id: str) -> TimelineEvent:
    """The event as a scoped key sees it: another key's id is withheld, its role shown."""
    actor = event.actor
    if actor.role in (ActorRole.WORKFLOW, ActorRole.SYSTEM) or actor.id == viewer_key_id:
        return event
    return event.model_copy(update={"actor": Actor(role=actor.role)})
