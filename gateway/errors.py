"""How failures become HTTP answers, in one place.

Bad input is a 422 in FastAPI's own shape, `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`,
so a client reads every field error the same way; `field_error` builds one by hand for checks that
need the DB or reference data. An error quotes at most QUOTED_INPUT_CHARS of the input it refuses (a
longer string, or a longer object or list as compact JSON, is cut and ends in "..."), so a huge bad
value is never echoed back. Domain failures are `{"detail": "..."}` naming the entity:

    404  unknown node, order, shipment or return
    413  the request body is over the gateway's limit (gateway/body_limit.py)
    409  the order, shipment or return is in a state where the request cannot apply
    503  Temporal (or a worker to answer) is out of reach; retry later
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from omniroute.client import NotFoundError, RequestRejectedError, TemporalUnavailableError
from store import InvalidQuantityError, UnknownNodeError


class Problem(BaseModel):
    """A domain error: what is wrong, naming the entity or field."""

    detail: str


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "unknown entity"}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": Problem, "description": "not in this state"}}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: {"model": Problem, "description": "Temporal unreachable"}}
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": "the request body is over the gateway's limit"}}

QUOTED_INPUT_CHARS = 64
MAX_MESSAGE_CHARS = 500


def field_error(loc: Sequence[str | int], msg: str, *, kind: str = "value_error", value: Any = None) -> HTTPException:
    """A 422 shaped like FastAPI's validation errors, for a check the request model cannot make."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"type": kind, "loc": list(loc), "msg": _cut(msg, MAX_MESSAGE_CHARS), "input": quoted_input(value)}],
    )


def quoted_input(value: Any) -> Any:
    """`value` as an error may quote it: unchanged when short, else a prefix ending in "..."."""
    if isinstance(value, str):
        return _cut(value, QUOTED_INPUT_CHARS)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        # YAML reads `.inf` and `.nan`, which JSON cannot carry; a long int is cut like a string.
        text = repr(value)
        return value if math.isfinite(value) and len(text) <= QUOTED_INPUT_CHARS else _cut(text, QUOTED_INPUT_CHARS)
    encoded = jsonable_encoder(value)
    compact = json.dumps(encoded, separators=(",", ":"), ensure_ascii=False)
    fits = len(compact) <= QUOTED_INPUT_CHARS and "Infinity" not in compact and "NaN" not in compact
    return encoded if fits else _cut(compact, QUOTED_INPUT_CHARS)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _field_error_entry(error: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": error["type"],
        "loc": list(error["loc"]),
        "msg": _cut(str(error["msg"]), MAX_MESSAGE_CHARS),
        "input": quoted_input(error.get("input")),
    }


def install_error_handlers(app: FastAPI) -> None:
    """Translate the SDK's and the store's errors; routes then only state the happy path."""

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, err: RequestValidationError) -> JSONResponse:
        detail = [_field_error_entry(error) for error in err.errors()]
        return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(NotFoundError)
    async def _not_found(_request: Request, err: NotFoundError) -> JSONResponse:
        return _problem(status.HTTP_404_NOT_FOUND, str(err))

    @app.exception_handler(RequestRejectedError)
    async def _rejected(_request: Request, err: RequestRejectedError) -> JSONResponse:
        return _problem(status.HTTP_409_CONFLICT, str(err))

    @app.exception_handler(TemporalUnavailableError)
    async def _unavailable(_request: Request, err: TemporalUnavailableError) -> JSONResponse:
        return _problem(status.HTTP_503_SERVICE_UNAVAILABLE, f"order service unavailable, retry later: {err}")

    @app.exception_handler(UnknownNodeError)
    async def _unknown_node(_request: Request, err: UnknownNodeError) -> JSONResponse:
        return _problem(status.HTTP_404_NOT_FOUND, f"unknown node_id {err.node_id!r}: add the node first")

    @app.exception_handler(InvalidQuantityError)
    async def _bad_quantity(_request: Request, err: InvalidQuantityError) -> JSONResponse:
        body = {"detail": [{"type": "value_error", "loc": ["body", err.field], "msg": str(err), "input": err.value}]}
        return JSONResponse(body, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _problem(code: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=code)
