"""The fulfillment network: nodes are created and updated by id (PUT is an upsert)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from gateway.audit import record
from gateway.auth import AdminKey, NodeOrOperatorKey
from gateway.deps import StoreDep
from gateway.errors import NOT_FOUND, field_error
from gateway.validation import require_known_postal_code
from models.api import NodeUpsert
from models.audit import AuditKind
from models.network import Node, NodeId

router = APIRouter(prefix="/v1/nodes", tags=["network"])

NodeIdPath = Annotated[NodeId, Path(description="the node's id, e.g. DC-CHI")]


@router.put("/{node_id}", response_model=Node)
def put_node(node_id: NodeIdPath, body: NodeUpsert, store: StoreDep, caller: AdminKey) -> Node:
    """Create or replace the node. A `node_id` in the body must equal the path's; a US
    `postal_code` must exist."""
    if body.node_id is not None and body.node_id != node_id:
        raise field_error(
            ("body", "node_id"), f"node_id {body.node_id!r} differs from the path's {node_id!r}", value=body.node_id
        )
    require_known_postal_code(body.country, body.postal_code, ("body", "postal_code"))
    node = store.upsert_node(body.for_id(node_id))
    record(store, caller, AuditKind.NODE_PUT, node_id, kind=node.kind.value, active=node.active)
    return node


@router.get("", response_model=list[Node])
def list_nodes(store: StoreDep, caller: NodeOrOperatorKey) -> list[Node]:
    """Every node (a node key: its own)."""
    return [node for node in store.list_nodes() if caller.owns_node(node.node_id)]


@router.get("/{node_id}", response_model=Node, responses=NOT_FOUND)
def get_node(node_id: NodeIdPath, store: StoreDep, caller: NodeOrOperatorKey) -> Node:
    node = store.get_node(node_id) if caller.owns_node(node_id) else None
    if node is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown node_id {node_id!r}")
    return node
