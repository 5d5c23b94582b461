"""Sourcing configuration (the cost model, the order rules, the SKU catalogue) and the delivery promise.

The cost model and the rules are whole documents, replaced by PUT and versioned; the version is in
the body and in the `ETag` header. They are accepted as JSON or, with `Content-Type:
application/yaml`, as the YAML an operator keeps in a file. Bad documents are 422s naming the path
into the document (`["body", "services", 0, "rates"]`, `["body", "rules", 2, "when", "all", 1, ...]`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

import yaml
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from gateway.audit import actor_of, record, record_async
from gateway.auth import AdminKey, ChannelOrOperatorKey, OperatorKey, scoped_channel
from gateway.deps import StoreDep
from gateway.errors import NOT_FOUND, Problem, field_error, quoted_input
from gateway.routes.availability import NowDep, atp_by_node, availability_for, destination, priced_network
from models.api import (
    MAX_CART_ITEMS,
    CostModelDocument,
    PromiseAnswer,
    RuleSetDocument,
    ShadowPriceDocument,
    SkuBatch,
    SkuBatchResult,
)
from models.audit import AuditKind
from models.catalog import SkuAttributes
from models.costs import CostModel, ServiceLevel
from models.inventory import Sku
from models.order import ChannelName
from models.rules import ACTION_KEYS, CONDITION_KEYS, RuleSet
from models.shipment import ShipmentLine
from sourcing.inputs import SourcingInput
from sourcing.promise import promise

router = APIRouter(prefix="/v1", tags=["sourcing"])

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
_ONE_KEY_TAGS = CONDITION_KEYS | ACTION_KEYS
_SKU = TypeAdapter(Sku)
M = TypeVar("M", bound=BaseModel)
D = TypeVar("D")
_NO_COST_MODEL: dict[int | str, dict[str, Any]] = {409: {"model": Problem, "description": "no cost model configured"}}


def _document_body(model: type[BaseModel], example: str) -> dict[str, Any]:
    """OpenAPI for a body read by hand: the model as JSON, or the same document as YAML text."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}},
                "application/yaml": {"schema": {"type": "string"}, "example": example},
            },
        }
    }


async def _read_document(request: Request) -> Any:
    """The body as data: YAML (safe loader) for a YAML content type, else JSON; 415 for anything else."""
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type not in YAML_TYPES and content_type != "application/json" and not content_type.endswith("+json"):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"send the document as application/json or application/yaml, not {content_type!r}",
        )
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise field_error(("body",), f"the body is not UTF-8 text ({exc.reason})", kind="body_encoding") from exc
    if content_type in YAML_TYPES:
        try:
            return yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise field_error(("body",), f"not valid YAML{where}: {exc.problem}", kind="yaml_invalid") from exc
        except yaml.YAMLError as exc:
            raise field_error(("body",), f"not valid YAML: {exc}", kind="yaml_invalid") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise field_error(
            ("body",), f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", kind="json_invalid"
        ) from exc


def _validated(model: type[M], data: Any) -> M:
    """`data` as `model`, or a 422 listing every error with its path into the document."""
    if data is None:
        raise field_error(("body",), f"empty document; expected the fields of {model.__name__}", kind="missing")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {
                "type": error["type"],
                "loc": ["body", *_document_path(error["loc"])],
                "msg": str(error["msg"]).removeprefix("Value error, "),
                # Echo scalars only: a whole rate card back in an error helps nobody.
                "input": quoted_input(error["input"]) if not isinstance(error["input"], dict | list) else None,
            }
            for error in exc.errors(include_url=False)
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=errors) from exc


def _document_path(loc: Sequence[int | str]) -> list[int | str]:
    """Pydantic names a one-key condition or action twice (the union tag, then its field): keep one."""
    path: list[int | str] = []
    for part in loc:
        if path and part == path[-1] and part in _ONE_KEY_TAGS:
            continue
        path.append(part)
    return path


def _etag(version: int) -> str:
    return f'"{version}"'


def _stored(stored: tuple[D, int] | None, response: Response, missing: str) -> tuple[D, int]:
    """A stored document and its version, the version also as the `ETag`; 404 saying `missing` if none."""
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing)
    response.headers["ETag"] = _etag(stored[1])
    return stored


# ---- cost model and rules -------------------------------------------------------------------------


@router.put(
    "/sourcing/cost-model",
    response_model=CostModelDocument,
    responses={415: {"model": Problem, "description": "neither JSON nor YAML"}},
    openapi_extra=_document_body(CostModel, "currency: USD\nservices:\n  - name: ups-ground\n    ..."),
)
async def put_cost_model(
    request: Request, response: Response, store: StoreDep, caller: AdminKey
) -> CostModelDocument:
    """Replace the cost model (zone chart, carrier rate cards, node handling and calendars) as a whole;
    the next promise and the next order use it. JSON, or YAML with `Content-Type: application/yaml`.
    A bad document is a 422 naming each bad field's path; nothing is stored."""
    model = _validated(CostModel, await _read_document(request))
    version = await run_in_threadpool(store.set_cost_model, model, actor=actor_of(caller))
    await record_async(store, caller, AuditKind.COST_MODEL_PUT, "cost_model", version=version)
    response.headers["ETag"] = _etag(version)
    return CostModelDocument(version=version, cost_model=model)


@router.get("/sourcing/cost-model", response_model=CostModelDocument, responses=NOT_FOUND)
def get_cost_model(store: StoreDep, response: Response, _caller: OperatorKey) -> CostModelDocument:
    """The cost model in force and its version (also the `ETag`); 404 when none was ever set."""
    model, version = _stored(store.cost_model(), response, "no cost model is configured")
    return CostModelDocument(version=version, cost_model=model)


@router.put(
    "/sourcing/rules",
    response_model=RuleSetDocument,
    responses={415: {"model": Problem, "description": "neither JSON nor YAML"}},
    openapi_extra=_document_body(RuleSet, "version: 1\nrules:\n  - id: hold-high-value\n    ..."),
)
async def put_rules(request: Request, response: Response, store: StoreDep, caller: AdminKey) -> RuleSetDocument:
    """Replace the order rules as a whole (format: docs/rules.md); the next order evaluates them.
    JSON, or YAML with `Content-Type: application/yaml`. A bad rule is a 422 naming its path, e.g.
    `["body", "rules", 2, "when", "all", 1, "order_total_over", "amount"]`; nothing is stored."""
    rules = _validated(RuleSet, await _read_document(request))
    version = await run_in_threadpool(store.set_rules, rules, actor=actor_of(caller))
    await record_async(store, caller, AuditKind.RULES_PUT, "rules", version=version, rules=len(rules.rules))
    response.headers["ETag"] = _etag(version)
    return RuleSetDocument(version=version, rules=rules)


@router.get("/sourcing/rules", response_model=RuleSetDocument, responses=NOT_FOUND)
def get_rules(store: StoreDep, response: Response, _caller: OperatorKey) -> RuleSetDocument:
    """The order rules in force and their version (also the `ETag`); 404 when none were ever set."""
    rules, version = _stored(store.rules(), response, "no order rules are configured")
    return RuleSetDocument(version=version, rules=rules)


@router.get("/sourcing/shadow-prices", response_model=ShadowPriceDocument, responses=NOT_FOUND)
def get_shadow_prices(
    store: StoreDep, now: NowDep, _caller: OperatorKey,
    node_id: Annotated[str | None, Query(description="only this node's prices")] = None,
    sku: Annotated[str | None, Query(description="only this SKU's prices")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="at most this many prices, dearest first")] = 500,
) -> ShadowPriceDocument:
    """The look-ahead's stock prices from its last refresh (docs/sourcing.md): cents a unit at a node
    is worth to orders still to come. 404 until the first refresh has run."""
    stored = store.shadow_prices()
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the look-ahead has not priced any stock yet")
    refresh, version = stored
    chosen = [p for p in refresh.prices if (node_id is None or p.node_id == node_id) and (sku is None or p.sku == sku)]
    chosen.sort(key=lambda p: (-p.cents, p.node_id, p.sku))
    model = store.cost_model()
    settings = model[0].look_ahead if model is not None else None
    in_use = refresh.in_use(settings, now)
    return ShadowPriceDocument(version=version, in_use=in_use,
                               refresh=refresh.model_copy(update={"prices": chosen[:limit]}))


# ---- catalogue ------------------------------------------------------------------------------------


@router.put("/catalog/skus", response_model=SkuBatchResult)
def put_skus(batch: SkuBatch, store: StoreDep, caller: AdminKey) -> SkuBatchResult:
    """Insert or replace the weight, dimensions and tags of up to 5,000 SKUs, all or none. A bad item
    is a 422 naming `items[i]` and its field; a SKU given twice, a 422 naming the second one's index."""
    first: dict[str, int] = {}
    for index, item in enumerate(batch.items):
        if item.sku in first:
            raise field_error(
                ("body", "items", index, "sku"),
                f"SKU {item.sku!r} is also items[{first[item.sku]}]; give each SKU once per batch",
                value=item.sku,
            )
        first[item.sku] = index
    written = store.upsert_skus(batch.items)
    record(store, caller, AuditKind.CATALOG_PUT, "skus", written=written)
    return SkuBatchResult(written=written)


# `{sku:path}`: a SKU may contain "/", which would otherwise end the path segment.
@router.get("/catalog/skus/{sku:path}", response_model=SkuAttributes, responses=NOT_FOUND)
def get_sku(
    sku: Annotated[Sku, Path(description="the SKU")], store: StoreDep, _caller: ChannelOrOperatorKey
) -> SkuAttributes:
    """The SKU's attributes; 404 when the catalogue does not list it (sourcing then prices it at the
    catalogue's default weight)."""
    found = store.catalog([sku]).skus.get(sku)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"SKU {sku!r} is not in the catalogue")
    return found


# ---- promise --------------------------------------------------------------------------------------


@router.get("/promise", response_model=PromiseAnswer, responses=_NO_COST_MODEL)
def get_promise(
    postal_code: Annotated[str, Query(max_length=10, description="the destination's US postal code")],
    item: Annotated[
        list[str],
        Query(min_length=1, max_length=MAX_CART_ITEMS, description="`SKU:QTY` (QTY 1 if omitted), once per item"),
    ],
    store: StoreDep,
    now: NowDep,
    caller: ChannelOrOperatorKey,
    level: Annotated[ServiceLevel | None, Query(description="answer for this service level only")] = None,
    channel: Annotated[ChannelName | None, Query(description="promise from this channel's ATP")] = None,
) -> PromiseAnswer:
    """The earliest delivery date of the whole cart to `postal_code` for each service level the cost
    model offers (or only `level`), and what the shipments would cost: one node when one can ship it
    all, else the split with the earliest last delivery. Only ATP at active shipping nodes counts (the
    channel's share, given `channel`); node cut-offs are read at the current time.

    Example: `GET /v1/promise?postal_code=10001&item=MUG-1:2&item=TEE-1&level=two_day`.
    A bad item is a 422 naming `item` and its index; an unknown postal code a 422 naming
    `postal_code`; no cost model configured: 409. A channel key always promises from its own channel.
    """
    channel = scoped_channel(caller, channel, ("query", "channel"))
    lines = [_cart_line(index, text) for index, text in enumerate(item)]
    place = destination(postal_code)
    skus = [line.sku for line in lines]
    network = priced_network(store, skus)
    atp = atp_by_node(availability_for(store, skus, channel))
    options = promise(SourcingInput(lines=lines, destination=place.point, nodes=network.nodes, atp=atp,
                                    model=network.cost_model, catalog=network.catalog, now=now))
    offered = [level] if level is not None else [lvl for lvl in ServiceLevel
                                                  if any(s.level is lvl for s in network.cost_model.services)]
    options = [option for option in options if option.level in offered]
    return PromiseAnswer(
        postal_code=place.postal_code,
        city=place.city,
        region=place.region,
        quoted_at=now,
        channel=channel,
        currency=network.cost_model.currency,
        cost_model_version=network.cost_model_version,
        items=lines,
        options=options,
        unavailable=[lvl for lvl in offered if all(option.level is not lvl for option in options)],
    )


def _cart_line(index: int, text: str) -> ShipmentLine:
    """`SKU:QTY` or `SKU` as the cart's line `index + 1`; a 422 naming `item[index]` when it is neither."""
    sku, separator, quantity = text.rpartition(":")
    if not separator:
        sku, quantity = text, "1"
    loc = ("query", "item", index)
    try:
        _SKU.validate_python(sku)
    except ValidationError as exc:
        raise field_error(loc, f"{text!r}: {sku!r} is not a SKU; give SKU:QTY, e.g. MUG-1:2", value=text) from exc
    if not quantity.isdigit() or not 1 <= int(quantity) <= 10_000:
        raise field_error(loc, f"{text!r}: the quantity must be a whole number from 1 to 10000", value=text)
    return ShipmentLine(line_no=index + 1, sku=sku, quantity=int(quantity))
