"""The routes of the EasyPost sandbox's trackers: EasyPost's own (behind the API key) and the
sandbox's controls under `/_sandbox/` (see integrations.carriers.sandbox_trackers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ValidationError

from integrations.carriers.sandbox_trackers import TrackerBook, TrackingPlan, WebhookIn
from integrations.carriers.tracking import TrackerStatus

ApiError = Callable[..., Exception]
JsonObject = Callable[[Request], Awaitable[dict[str, Any]]]


class Advance(BaseModel):
    status: TrackerStatus | None = None


def tracker_api(trackers: TrackerBook, error: ApiError, json_object: JsonObject) -> APIRouter:
    """`POST /trackers`, `GET /trackers/{id}`, `POST /webhooks`, `GET /webhooks`, `DELETE /webhooks/{id}`."""
    api = APIRouter()

    def field_error(field: str, message: str) -> Exception:
        return error(422, "PARAMETER.INVALID", f"Invalid parameter: {field}.",
                     [{"field": field, "message": message, "suggestion": None}])

    @api.post("/trackers")
    async def create_tracker(request: Request) -> dict[str, Any]:
        tracker = (await json_object(request)).get("tracker")
        code = tracker.get("tracking_code") if isinstance(tracker, dict) else None
        if not isinstance(code, str) or not code.strip():
            raise field_error("tracker.tracking_code", "is required")
        carrier = tracker.get("carrier") if isinstance(tracker, dict) else None
        return trackers.create(code.strip(), carrier if isinstance(carrier, str) and carrier else "USPS")

    @api.get("/trackers/{tracker_id}")
    def get_tracker(tracker_id: str) -> dict[str, Any]:
        tracker = trackers.get(tracker_id)
        if tracker is None:
            raise error(404, "NOT_FOUND", "The requested resource could not be found.")
        return tracker

    @api.post("/webhooks", status_code=201)
    async def create_webhook(request: Request) -> dict[str, Any]:
        try:
            hook = WebhookIn.model_validate((await json_object(request)).get("webhook"))
        except ValidationError as err:
            problem = err.errors()[0]
            raise field_error(".".join(["webhook", *map(str, problem["loc"])]), problem["msg"]) from None
        return trackers.add_webhook(hook)

    @api.get("/webhooks")
    def list_webhooks() -> dict[str, Any]:
        return {"webhooks": trackers.webhooks()}

    @api.delete("/webhooks/{hook_id}")
    def delete_webhook(hook_id: str) -> dict[str, Any]:
        if not trackers.delete_webhook(hook_id):
            raise error(404, "NOT_FOUND", "The requested resource could not be found.")
        return {}

    return api


def tracker_controls(trackers: TrackerBook) -> APIRouter:
    """The sandbox's knobs: the plan (`GET|PUT|DELETE /_sandbox/tracking`), a tracker moved now
    (`POST /_sandbox/trackers/{tracking_code}/advance`, to the next status of its path or to `status`),
    and the counters (`GET /_sandbox/tracking/stats`)."""
    controls = APIRouter(prefix="/_sandbox", include_in_schema=False)

    @controls.get("/tracking")
    def get_plan() -> TrackingPlan:
        return trackers.plan

    @controls.put("/tracking")
    def put_plan(plan: TrackingPlan) -> TrackingPlan:
        trackers.set_plan(plan)
        return plan

    @controls.delete("/tracking")
    def reset_plan() -> TrackingPlan:
        trackers.set_plan(TrackingPlan())
        return trackers.plan

    @controls.get("/tracking/stats")
    def stats() -> dict[str, int]:
        return trackers.stats()

    @controls.post("/trackers/{tracking_code}/advance")
    def advance(tracking_code: str, body: Advance | None = None) -> dict[str, Any]:
        tracker = trackers.by_code(tracking_code)
        if tracker is None:
            raise HTTPException(404, f"no tracker for {tracking_code}")
        moved = trackers.advance(tracker["id"], body.status if body is not None else None)
        if moved is None:
            raise HTTPException(409, f"tracker {tracking_code} has no status left to move to")
        return moved

    return controls
