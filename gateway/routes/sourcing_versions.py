"""Every version of the cost model and the order rules, kept when a new one replaces it: who stored
each and when, and each document as it was (an order's decision names the versions it was made with)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from starlette.concurrency import run_in_threadpool

from gateway.auth import OperatorKey
from gateway.deps import StoreDep
from gateway.errors import NOT_FOUND
from models.api import CostModelDocument, RuleSetDocument
from models.audit import DocumentVersion

router = APIRouter(prefix="/v1/sourcing", tags=["sourcing"])

VersionPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="the version, as GET .../versions lists it")]
Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many versions, newest first")]


@router.get("/cost-model/versions", response_model=list[DocumentVersion])
async def cost_model_versions(store: StoreDep, _caller: OperatorKey, limit: Limit = 100) -> list[DocumentVersion]:
    """The cost model's kept versions, newest first: version, when it was stored and by whom."""
    return await run_in_threadpool(lambda: store.cost_model_versions(limit=limit))


@router.get("/cost-model/versions/{version}", response_model=CostModelDocument, responses=NOT_FOUND)
async def cost_model_version(
    version: VersionPath, store: StoreDep, response: Response, _caller: OperatorKey
) -> CostModelDocument:
    """Version `version` of the cost model as it was stored; 404 when there is no such version."""
    model = await run_in_threadpool(store.cost_model_at, version)
    if model is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no version {version} of the cost model")
    response.headers["ETag"] = f'"{version}"'
    return CostModelDocument(version=version, cost_model=model)


@router.get("/rules/versions", response_model=list[DocumentVersion])
async def rules_versions(store: StoreDep, _caller: OperatorKey, limit: Limit = 100) -> list[DocumentVersion]:
    """The order rules' kept versions, newest first: version, when they were stored and by whom."""
    return await run_in_threadpool(lambda: store.rules_versions(limit=limit))


@router.get("/rules/versions/{version}", response_model=RuleSetDocument, responses=NOT_FOUND)
async def rules_version(
    version: VersionPath, store: StoreDep, response: Response, _caller: OperatorKey
) -> RuleSetDocument:
    """Version `version` of the order rules as they were stored; 404 when there is no such version."""
    rules = await run_in_threadpool(store.rules_at, version)
    if rules is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no version {version} of the order rules")
    response.headers["ETag"] = f'"{version}"'
    return RuleSetDocument(version=version, rules=rules)
