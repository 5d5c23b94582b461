"""The names everyone agrees on: task queue, workflow names, message names, schedule ids, search
attributes and the id helpers.

The channel SDK, the gateway, the workers and the workflows all import this one module, so a
workflow is started, signalled and queried by the same string wherever the call is made. Plain
strings only: the SDK and the workflows each build their typed search-attribute keys from
`SEARCH_ATTRIBUTES`.
"""

from __future__ import annotations

TASK_QUEUE = "omniroute"

# Workflow type names.
ORDER_WORKFLOW = "OrderWorkflow"
RETURN_WORKFLOW = "ReturnWorkflow"
DC_FULFILMENT_WORKFLOW = "DcFulfilmentWorkflow"
STORE_FULFILMENT_WORKFLOW = "StoreFulfilmentWorkflow"
THREE_PL_FULFILMENT_WORKFLOW = "ThreePLFulfilmentWorkflow"
DROPSHIP_FULFILMENT_WORKFLOW = "DropshipFulfilmentWorkflow"
# A shipment's fulfilment protocol by its node's kind (NodeKind values).
FULFILMENT_WORKFLOW_BY_KIND = {
    "dc": DC_FULFILMENT_WORKFLOW,
    "store": STORE_FULFILMENT_WORKFLOW,
    "3pl": THREE_PL_FULFILMENT_WORKFLOW,
    "dropship": DROPSHIP_FULFILMENT_WORKFLOW,
}
CHANNEL_SYNC_WORKFLOW = "ChannelInventorySyncWorkflow"
THREEPL_SYNC_WORKFLOW = "ThreePLInventorySyncWorkflow"
RESERVATION_SWEEP_WORKFLOW = "ReservationSweepWorkflow"
SHADOW_PRICE_WORKFLOW = "ShadowPriceWorkflow"
RELEASE_WAVE_WORKFLOW = "ReleaseWaveWorkflow"
BACKORDER_SWEEP_WORKFLOW = "BackorderSweepWorkflow"
MESSAGE_RETRY_WORKFLOW = "MessageRetryWorkflow"

# Schedule ids. The gateway triggers the backorder sweep when stock comes in.
RESERVATION_SWEEP_SCHEDULE = "reservation-sweep"
SHADOW_PRICE_SCHEDULE = "shadow-prices"
RELEASE_WAVE_SCHEDULE = "release-waves"
BACKORDER_SWEEP_SCHEDULE = "backorder-sweep"
MESSAGE_RETRY_SCHEDULE = "message-retry"

# Message names: queries read, signals carry events nobody waits on, updates carry requests a
# caller waits on (their validators refuse before anything is written to history).
STATUS_QUERY = "status"
CANCEL_UPDATE = "cancel"
RELEASE_HOLD_UPDATE = "release_hold"
REROUTE_SHIPMENT_UPDATE = "reroute_shipment"
WAVE_PLAN_SIGNAL = "wave_plan"
RETRY_BACKORDERS_SIGNAL = "retry_backorders"
SHIPMENT_EVENT_UPDATE = "shipment_event"
UNLOCK_PICKUP_UPDATE = "unlock_pickup"
RETURN_EVENT_UPDATE = "return_event"
FULFILMENT_PROGRESS_SIGNAL = "fulfilment_progress"
CANCEL_FULFILMENT_SIGNAL = "cancel_fulfilment"
INVENTORY_CHANGED_SIGNAL = "inventory_changed"
CHANNEL_SYNC_STATUS_QUERY = "status"

# Search attributes: name -> the type `temporal operator search-attribute create` takes.
ORDER_STATUS_ATTRIBUTE = "OrderStatus"
CHANNEL_ATTRIBUTE = "Channel"
RETURN_STATUS_ATTRIBUTE = "ReturnStatus"
SHIPMENT_IDS_ATTRIBUTE = "ShipmentIds"
TRACKING_NUMBERS_ATTRIBUTE = "TrackingNumbers"
NODES_ATTRIBUTE = "Nodes"
ORDER_TOTAL_ATTRIBUTE = "OrderTotal"
ORDER_ID_ATTRIBUTE = "OrderId"
SHIPMENT_STATE_ATTRIBUTE = "ShipmentState"
# A carrier exception open on one of the order's shipments (a TrackingException value); a Keyword, not a
# list: the dev server's SQLite visibility holds at most 3 KeywordList attributes, all taken.
TRACKING_EXCEPTION_ATTRIBUTE = "TrackingException"

SEARCH_ATTRIBUTES: dict[str, str] = {
    ORDER_STATUS_ATTRIBUTE: "Keyword",
    CHANNEL_ATTRIBUTE: "Keyword",
    RETURN_STATUS_ATTRIBUTE: "Keyword",
    SHIPMENT_IDS_ATTRIBUTE: "KeywordList",
    TRACKING_NUMBERS_ATTRIBUTE: "KeywordList",
    NODES_ATTRIBUTE: "KeywordList",
    ORDER_TOTAL_ATTRIBUTE: "Int",
    ORDER_ID_ATTRIBUTE: "Keyword",
    SHIPMENT_STATE_ATTRIBUTE: "Keyword",
    TRACKING_EXCEPTION_ATTRIBUTE: "Keyword",
}


def search_attribute_cli_args() -> list[str]:
    """`--search-attribute Name=Type` arguments for `temporal server start-dev`."""
    args: list[str] = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    return args


def order_workflow_id(order_id: str) -> str:
    return f"order-{order_id}"


def return_workflow_id(rma: str) -> str:
    return f"return-{rma}"


def shipment_id_for(order_id: str, number: int) -> str:
    return f"{order_id}-S{number}"


def fulfilment_workflow_id(shipment_id: str) -> str:
    """A shipment's fulfilment runs under this id, so a node's event addresses it directly."""
    return f"shipment-{shipment_id}"


def order_id_of_shipment(shipment_id: str) -> str:
    """Inverse of shipment_id_for: the suffix is `-S<digits>`, so the last `-S` splits it."""
    order_id, sep, number = shipment_id.rpartition("-S")
    if not sep or not order_id or not number.isdigit():
        raise ValueError(f"not a shipment id: {shipment_id!r}")
    return order_id


def reservation_key(shipment_id: str, sku: str) -> str:
    """The idempotency key of one shipment line's reservation."""
    return f"{shipment_id}:{sku}"


def reroute_reservation_key(shipment_id: str, reroute_no: int, sku: str) -> str:
    """The key of a shipment line's reservation after its `reroute_no`-th reroute (numbered from 1)."""
    return f"{shipment_id}:r{reroute_no}:{sku}"


def channel_sync_workflow_id(channel: str) -> str:
    return f"channel-sync-{channel}"


def threepl_sync_workflow_id(node_id: str) -> str:
    """One sync per node at a time: a second start for the same node while one runs is refused."""
    return f"threepl-sync-{node_id}"
