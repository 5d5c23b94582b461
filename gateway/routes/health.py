"""Liveness, with whether the app DB and Temporal answer."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from gateway.deps import ClientDep, StoreDep
from models.api import Health
from omniroute.client import OmnirouteClient
from store import Store

router = APIRouter(tags=["ops"])

TEMPORAL_HEALTH_TIMEOUT = timedelta(seconds=2)


@router.get("/healthz", response_model=Health)
async def healthz(store: StoreDep, client: ClientDep) -> Health:
    """Always 200 while the gateway runs; `database` and `temporal` say whether each answered."""
    return Health(database=await run_in_threadpool(_database_answers, store), temporal=await _temporal_answers(client))


def _database_answers(store: Store) -> bool:
    try:
        store.list_nodes()
    except Exception:  # any failure means "not reachable" here; the detail belongs in the DB's own logs
        return False
    return True


async def _temporal_answers(client: OmnirouteClient) -> bool:
    try:
        return await client.temporal.service_client.check_health(timeout=TEMPORAL_HEALTH_TIMEOUT)
    except (RPCError, RuntimeError):
        return False
