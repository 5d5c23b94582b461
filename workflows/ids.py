"""Workflow ids, task queues and search attributes: the names everything else agrees on."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

TASK_QUEUE = "omniroute"

ORDER_WORKFLOW = "OrderWorkflow"
RETURN_WORKFLOW = "ReturnWorkflow"

# Started by a Temporal Schedule of this id; the gateway triggers it when stock comes in.
BACKORDER_SWEEP_SCHEDULE = "backorder-sweep"

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CHANNEL = SearchAttributeKey.for_keyword("Channel")
RETURN_STATUS = SearchAttributeKey.for_keyword("ReturnStatus")
SHIPMENT_IDS = SearchAttributeKey.for_keyword_list("ShipmentIds")
TRACKING_NUMBERS = SearchAttributeKey.for_keyword_list("TrackingNumbers")
NODES = SearchAttributeKey.for_keyword_list("Nodes")
ORDER_TOTAL = SearchAttributeKey.for_int("OrderTotal")
ORDER_ID = SearchAttributeKey.for_keyword("OrderId")

SEARCH_ATTRIBUTES: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    ORDER_STATUS, CHANNEL, RETURN_STATUS, SHIPMENT_IDS, TRACKING_NUMBERS, NODES, ORDER_TOTAL, ORDER_ID,
)


def order_workflow_id(order_id: str) -> str:
    return f"order-{order_id}"


def return_workflow_id(rma: str) -> str:
    return f"return-{rma}"


def shipment_id_for(order_id: str, number: int) -> str:
    return f"{order_id}-S{number}"


def search_attribute_cli_args() -> list[str]:
    """`--search-attribute Name=Type` arguments for `temporal server start-dev`."""
    names = {
        "KEYWORD": "Keyword", "KEYWORD_LIST": "KeywordList", "INT": "Int",
        "TEXT": "Text", "FLOAT": "Double", "BOOL": "Bool", "DATETIME": "Datetime",
    }
    args: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        kind = names[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]
        args += ["--search-attribute", f"{key.name}={kind}"]
    return args


# Message names, shared by the workflows and the channel SDK (which calls them by name so that it
# needs only models and temporalio).
STATUS_QUERY = "status"
SHIPMENT_EVENT_SIGNAL = "shipment_event"
CANCEL_UPDATE = "cancel"
RELEASE_HOLD_UPDATE = "release_hold"
WAVE_PLAN_SIGNAL = "wave_plan"
RETRY_BACKORDERS_SIGNAL = "retry_backorders"
RETURN_EVENT_SIGNAL = "return_event"


def order_id_of_shipment(shipment_id: str) -> str:
    """Inverse of shipment_id_for: the suffix is `-S<digits>`, so the last `-S` splits it."""
    order_id, sep, number = shipment_id.rpartition("-S")
    if not sep or not order_id or not number.isdigit():
        raise ValueError(f"not a shipment id: {shipment_id!r}")
    return order_id
