"""The SDK's errors. Temporal's own errors are translated into these at the SDK's boundary
(`omniroute.client`), so a channel app catches a small tree of ours:

    OmnirouteError
    ├── NotFoundError (LookupError)
    │   ├── OrderNotFoundError                 no order workflow with that id
    │   ├── ReturnNotFoundError                no return workflow with that RMA
    │   └── ShipmentNotFoundError              no fulfilment runs or ran for the shipment (unknown, or
    │                                          not released to a node yet)
    ├── RequestRejectedError (ValueError)      the workflow would not take the request
    │   ├── CancelRejectedError                the cancel validator said no (its message is kept)
    │   ├── EventRejectedError                 a shipment or return event cannot apply in the state it is
    │   │                                      in (`current_state` names it; also once it has finished)
    │   └── WorkflowClosedError                the order has finished, or a fulfilment or return ended
    │                                          without a result (failed, terminated)
    └── TemporalUnavailableError (ConnectionError)  the server, or a worker to answer, is out of reach
"""

from __future__ import annotations


class OmnirouteError(Exception):
    """Base of every error the SDK raises on purpose."""


class NotFoundError(OmnirouteError, LookupError):
    """No such order, return or shipment."""


class OrderNotFoundError(NotFoundError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"unknown order {order_id!r}")
        self.order_id = order_id


class ReturnNotFoundError(NotFoundError):
    def __init__(self, rma: str) -> None:
        super().__init__(f"unknown return {rma!r}")
        self.rma = rma


class ShipmentNotFoundError(NotFoundError):
    def __init__(self, shipment_id: str) -> None:
        super().__init__(f"unknown shipment {shipment_id!r}")
        self.shipment_id = shipment_id


class RequestRejectedError(OmnirouteError, ValueError):
    """The workflow exists but would not take the request; the message says why."""


class CancelRejectedError(RequestRejectedError):
    """The order's cancel validator rejected the request (e.g. the lines have shipped)."""


class EventRejectedError(RequestRejectedError):
    """The shipment or return cannot take the event in the state it is in. The message is the
    workflow's ("shipment web-1-S1 is delivered; cannot apply picked"); `current_state` is that state's
    value (a ShipmentState or a ReturnStatus)."""

    def __init__(self, message: str, current_state: str) -> None:
        super().__init__(message)
        self.current_state = current_state


class WorkflowClosedError(RequestRejectedError):
    """The order has finished, or a fulfilment or return ended without a result; it takes no more
    events or changes."""


class TemporalUnavailableError(OmnirouteError, ConnectionError):
    """Temporal could not be reached, or no worker answered in time; retrying later may succeed."""
