"""The gateway's dependencies, as named aliases: the Store and the channel SDK live on `app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from omniroute.client import OmnirouteClient
from store import Store


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_client(request: Request) -> OmnirouteClient:
    client: OmnirouteClient = request.app.state.client
    return client


StoreDep = Annotated[Store, Depends(get_store)]
ClientDep = Annotated[OmnirouteClient, Depends(get_client)]
