"""The store's errors. Everything the store raises on purpose is a StoreError:

    StoreError
    ├── UnknownNodeError        a node id that is not in the network
    ├── UnknownOrderError       an order id that the read model has never recorded
    └── InvalidQuantityError    a negative count or a non-positive restock

Database failures (a lock timeout, a dropped connection) are not translated: they are transient,
and callers (activities) leave them to their retry policy.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class UnknownNodeError(StoreError):
    def __init__(self, node_id: str) -> None:
        super().__init__(f"unknown node {node_id!r}: add it to the network first")
        self.node_id = node_id


class UnknownOrderError(StoreError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"unknown order {order_id!r}: record it before changing it")
        self.order_id = order_id


class InvalidQuantityError(StoreError):
    def __init__(self, field: str, value: int, rule: str) -> None:
        super().__init__(f"{field} must be {rule}, got {value}")
        self.field = field
        self.value = value
