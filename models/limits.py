"""The largest numbers the API takes, so every count and amount fits the columns and totals that hold it.

Stock quantities live in 32-bit INTEGER columns on PostgreSQL (at most 2,147,483,647), so a count, a
safety stock or a delta is at most MAX_UNITS, which leaves room for a delta on top of a full count.
Money is integer minor units summed into 64-bit integers (the order total search attribute, BIGINT
columns): one amount is at most MAX_MINOR_UNITS and an order's total at most MAX_ORDER_TOTAL, far
inside 2**63 - 1 even when lines are added up. A configured shipping price (a rate card cell,
handling, a penalty) is at most MAX_RATE_CENTS, so a quote (rate x billable pounds + handling x
units) stays far inside them too.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_UNITS = 1_000_000_000
MAX_MINOR_UNITS = 10**15
MAX_ORDER_TOTAL = 10**15
MAX_COUNT = 1_000_000
MAX_RATE_CENTS = 1_000_000_000

Units = Annotated[int, Field(ge=0, le=MAX_UNITS, description=f"units, 0 to {MAX_UNITS:,}")]
PositiveUnits = Annotated[int, Field(gt=0, le=MAX_UNITS, description=f"units, 1 to {MAX_UNITS:,}")]
UnitDelta = Annotated[int, Field(ge=-MAX_UNITS, le=MAX_UNITS, description=f"units in or out, at most {MAX_UNITS:,}")]
MinorUnits = Annotated[
    int,
    Field(ge=0, le=MAX_MINOR_UNITS, description=f"minor units (cents) of the currency, at most {MAX_MINOR_UNITS:,}"),
]
