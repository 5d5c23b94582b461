"""The 3PL inventory pull's request and result (ThreePLInventorySyncWorkflow and its activity)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from models.network import NodeId

SHIPBOB_SOURCE = "shipbob"
# ShipBob's largest page (integrations.threepl.shipbob.MAX_PAGE_SIZE enforces it on the wire);
# models import nothing of ours outside models, so the bound is repeated here.
MAX_PULL_PAGE_SIZE = 250


class PullThreePLInventory(BaseModel):
    """Pull every level from the 3PL and count it at `node_id` (the 3PL's node in our network)."""

    model_config = ConfigDict(frozen=True)

    node_id: NodeId
    source: str = Field(default=SHIPBOB_SOURCE, min_length=1, max_length=100)
    page_size: int = Field(default=100, ge=1, le=MAX_PULL_PAGE_SIZE)


class PullResult(BaseModel):
    """What one pull did. `items` = `applied` + `rejected_stale` + `skipped`."""

    items: int = Field(ge=0, description="levels the 3PL returned")
    pages: int = Field(ge=0)
    applied: int = Field(ge=0, description="counts written to the ledger")
    rejected_stale: int = Field(ge=0, description="counts refused: the position moved after the pull began")
    skipped: int = Field(default=0, ge=0, description="levels with no usable SKU or quantity")
    as_of: datetime
