"""Payloads of the scheduled workflows: the reservation sweep, the backorder sweep, the release wave
and the look-ahead's price refresh. Each workflow's result type is named for what one run did."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from models.commands import WavePlan


class SweepBatch(BaseModel):
    """Release up to `limit` reservations that expired at or before `now`.

    `skip_held` is how many expired reservations of live orders the previous batches found: they
    stay at the head of the expiry order, so the batch reads that many more rows to see past them.
    """

    now: datetime
    limit: int = Field(default=500, ge=1, le=5000)
    skip_held: int = Field(default=0, ge=0)


class SweepBatchResult(BaseModel):
    released: int = Field(ge=0, description="reservations given back to ATP by this batch")
    held: int = Field(ge=0, description="expired reservations kept because their order is still live")
    exhausted: bool = Field(description="true when no further expired reservation is left to look at")


class SweepReport(BaseModel):
    """What one sweep run did: the result of ReservationSweepWorkflow."""

    released: int = Field(ge=0)
    held: int = Field(ge=0, description="expired reservations still held by live orders when the run ended")
    batches: int = Field(ge=0)


class BackorderSweep(BaseModel):
    """What one backorder sweep found: the result of its finding step and of BackorderSweepWorkflow."""

    waiting: int = Field(ge=0, description="orders with units on backorder")
    due: list[str] = Field(default_factory=list, description="workflow ids of those whose stock has come in")
    signalled: int = Field(default=0, ge=0, description="orders told to re-plan (set by the workflow)")


class WaveDispatch(BaseModel):
    """One order's new plan from a wave, addressed to its workflow."""

    workflow_id: str
    plan: WavePlan


class WaveReport(BaseModel):
    """What one wave found: the result of its planning step, and of ReleaseWaveWorkflow."""

    wave_id: str
    ran: bool = True
    reason: str = ""
    orders: int = Field(default=0, ge=0, description="waiting orders the wave planned")
    cost_before: float = 0.0
    cost_after: float = 0.0
    status: str = ""
    solve_ms: float = 0.0
    dispatches: list[WaveDispatch] = Field(default_factory=list)
    delivered: int = Field(default=0, ge=0, description="plans the orders received (set by the workflow)")


class PriceRefresh(BaseModel):
    """What one refresh of the look-ahead's stock prices did: the result of ShadowPriceWorkflow."""

    ran: bool
    reason: str = ""
    version: int | None = None
    orders_seen: int = Field(default=0, ge=0)
    orders_without_location: int = Field(default=0, ge=0)
    prices: int = Field(default=0, ge=0, description="(node, SKU) pairs with a non-zero price")
    regions: int = Field(default=0, ge=0)
    solve_ms: float = Field(default=0.0, ge=0)
