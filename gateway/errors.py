"""How failures become HTTP answers, in one place.

Bad input is a 422 in FastAPI's own shape, `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`,
so a client reads every field error the same way; `field_error` builds one by hand for checks that
need the DB or reference data. Domain failures are `{"detail": "..."}` naming the entity:

    404  unknown node, order, shipment or return
    409  the order, shipment or return is in a state where the request cannot apply
    503  Temporal (or a worker to answer) is out of reach; retry later
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
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


def field_error(loc: Sequence[str | int], msg: str, *, kind: str = "value_error", value: Any = None) -> HTTPException:
    """A 422 shaped like FastAPI's validation errors, for a check the request model cannot make."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"type": kind, "loc": list(loc), "msg": msg, "input": value}],
    )


def install_error_handlers(app: FastAPI) -> None:
    """Translate the SDK's and the store's errors; routes then only state the happy path."""

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
