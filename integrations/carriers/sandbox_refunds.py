"""How the EasyPost sandbox settles label refunds: each one is `submitted` first, then `refunded` or
`rejected` as the plan said when it was submitted, once `after_seconds` have passed.

EasyPost answers a refund request with `refund_status: "submitted"` and moves it on when the carrier
decides; a rejected refund may be asked for again. The plan is a knob (`/_sandbox/refunds`), like the
faults it is kept in memory only; a refund already submitted keeps the outcome it was given.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

PENDING_KEY = "_refund"  # where a shipment record keeps its submitted refund's fate; never sent to clients


class RefundPlan(BaseModel):
    """What becomes of the refunds submitted from now on, and how long they stay `submitted`."""

    outcome: Literal["refunded", "rejected"] = "refunded"
    after_seconds: float = Field(default=0.0, ge=0, le=86_400)


class RefundDesk:
    """The current plan; `submit` stamps a refund with it, `settle` moves a due refund on."""

    def __init__(self, plan: RefundPlan | None = None) -> None:
        self._lock = threading.Lock()
        self._plan = plan or RefundPlan()

    @property
    def plan(self) -> RefundPlan:
        with self._lock:
            return self._plan

    @plan.setter
    def plan(self, plan: RefundPlan) -> None:
        with self._lock:
            self._plan = plan

    def submit(self) -> dict[str, Any]:
        plan = self.plan
        return {"outcome": plan.outcome, "due_at": time.time() + plan.after_seconds}

    @staticmethod
    def settle(record: dict[str, Any], now: float | None = None) -> dict[str, Any] | None:
        """The record with its refund moved on, when it is `submitted` and due; None otherwise."""
        pending = record.get(PENDING_KEY)
        if record.get("refund_status") != "submitted" or not isinstance(pending, dict):
            return None
        if (time.time() if now is None else now) < pending["due_at"]:
            return None
        settled = {key: value for key, value in record.items() if key != PENDING_KEY}
        return {**settled, "refund_status": pending["outcome"]}


def refund_controls(desk: RefundDesk) -> APIRouter:
    """`GET /_sandbox/refunds` shows the plan, `PUT` replaces it, `DELETE` restores the default."""
    controls = APIRouter(prefix="/_sandbox", include_in_schema=False)

    @controls.get("/refunds")
    def get_plan() -> RefundPlan:
        return desk.plan

    @controls.put("/refunds")
    def put_plan(plan: RefundPlan) -> RefundPlan:
        desk.plan = plan
        return plan

    @controls.delete("/refunds")
    def reset_plan() -> RefundPlan:
        desk.plan = RefundPlan()
        return desk.plan

    return controls
