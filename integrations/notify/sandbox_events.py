"""The SendGrid sandbox's Event Webhook: what became of each recipient, posted as SendGrid posts it.

Settings as SendGrid's API keeps them: `GET|PATCH /v3/user/webhooks/event/settings` (the URL, `enabled`
and one flag per event type; the sandbox sends `processed`, `delivered`, `bounce` and `dropped`) and
`GET|PATCH /v3/user/webhooks/event/settings/signed` (`{"enabled"}` in, `{"public_key"}` out). Once
signing is enabled, each POST carries the ECDSA signature SendGrid sends
(models.sendgrid_signature). Not SendGrid, the knob: `/_sandbox/bounces` (GET lists, POST
`{"emails": [...]}` adds, DELETE clears) names recipients whose mailbox refuses mail. A recipient that
bounced is suppressed as SendGrid does: later mail to it is `dropped` ("Bounced Address").
Settings, bounces and suppressions live in memory only.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any, Literal

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from models.sendgrid_signature import new_signing_key, public_key_text, sign_events

Outcome = Literal["delivered", "bounce", "dropped"]
_POST_TIMEOUT_SECONDS = 5.0
_POST_ATTEMPTS = 3


class EventSettings(BaseModel):
    """SendGrid's Event Webhook settings object (the flags for events the sandbox never makes are kept)."""

    model_config = ConfigDict(extra="ignore")

    enabled: bool = False
    url: str = ""
    processed: bool = False
    delivered: bool = False
    bounce: bool = False
    dropped: bool = False
    deferred: bool = False
    open: bool = False
    click: bool = False
    spam_report: bool = False
    unsubscribe: bool = False
    group_unsubscribe: bool = False
    group_resubscribe: bool = False


class SignedSettings(BaseModel):
    enabled: bool


class Bounces(BaseModel):
    emails: list[str] = Field(min_length=1)


class EventDesk:
    """Settings, the signing key, bounces and suppressions; decides each recipient's fate and posts it."""

    def __init__(self, signing_key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = EventSettings()
        self._signed = False
        self._key = signing_key or new_signing_key()
        self._bouncing: set[str] = set()
        self._suppressed: set[str] = set()
        self._stats = {"event_posts": 0, "event_posts_failed": 0}

    def fates(self, recipients: list[str]) -> dict[str, Outcome]:
        """What becomes of each recipient of an accepted message; a bounce suppresses the address."""
        fates: dict[str, Outcome] = {}
        with self._lock:
            for email in recipients:
                address = email.lower()
                if address in self._suppressed:
                    fates[email] = "dropped"
                elif address in self._bouncing:
                    fates[email] = "bounce"
                    self._suppressed.add(address)
                else:
                    fates[email] = "delivered"
        return fates

    def events(self, message: dict[str, Any], fates: dict[str, Outcome]) -> list[dict[str, Any]]:
        """The events SendGrid would post for `message`, filtered by the enabled event types."""
        with self._lock:
            settings = self._settings
        now = int(time.time())
        extra = {key: value for key, value in message["custom_args"].items() if key not in _RESERVED}
        common = {**extra, "category": list(message["categories"]), "smtp-id": f"<{message['message_id']}@sandbox>"}
        events = []
        for index, (email, fate) in enumerate(fates.items()):
            base = {**common, "email": email, "timestamp": now,
                    "sg_message_id": f"{message['message_id']}.filter0001.{index}"}
            steps: list[dict[str, Any]] = []
            if fate == "dropped":
                steps.append({"event": "dropped", "reason": "Bounced Address", "status": "5.0.0"})
            else:
                steps.append({"event": "processed"})
                steps.append({"event": "delivered", "response": "250 OK"} if fate == "delivered" else
                             {"event": "bounce", "type": "bounce", "status": "5.1.1",
                              "reason": "550 5.1.1 The email account that you tried to reach does not exist"})
            for step in steps:
                if getattr(settings, step["event"]):
                    events.append({**base, **step, "sg_event_id": secrets.token_urlsafe(16)})
        return events

    def post(self, events: list[dict[str, Any]]) -> None:
        """POST `events` as one JSON array to the webhook URL, signed when signing is on; a failed post
        is tried again a few times (SendGrid keeps trying for a day), then counted as failed."""
        with self._lock:
            settings, signed = self._settings, self._signed
        if not events or not settings.enabled or not settings.url:
            return
        body = json.dumps(events).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "SendGrid Event API"}
        if signed:
            headers.update(sign_events(self._key, body, str(int(time.time()))))
        for attempt in range(_POST_ATTEMPTS):
            try:
                response = httpx.post(settings.url, content=body, headers=headers, timeout=_POST_TIMEOUT_SECONDS)
                if response.is_success:
                    self._count("event_posts")
                    return
            except httpx.HTTPError:
                pass
            if attempt + 1 < _POST_ATTEMPTS:
                time.sleep(0.2 * (attempt + 1))
        self._count("event_posts_failed")

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats)

    def _count(self, name: str) -> None:
        with self._lock:
            self._stats[name] += 1

    def router(self) -> APIRouter:
        """SendGrid's settings endpoints (`authorized` guards them) are added by the caller; these are they."""
        api = APIRouter()

        @api.get("/v3/user/webhooks/event/settings")
        def get_settings() -> EventSettings:
            with self._lock:
                return self._settings

        @api.patch("/v3/user/webhooks/event/settings")
        def patch_settings(changes: dict[str, Any]) -> EventSettings:
            with self._lock:
                self._settings = EventSettings.model_validate({**self._settings.model_dump(), **changes})
                return self._settings

        @api.get("/v3/user/webhooks/event/settings/signed")
        def get_signed() -> dict[str, str]:
            with self._lock:
                return {"public_key": public_key_text(self._key) if self._signed else ""}

        @api.patch("/v3/user/webhooks/event/settings/signed")
        def patch_signed(signed: SignedSettings) -> dict[str, str]:
            with self._lock:
                self._signed = signed.enabled
                return {"public_key": public_key_text(self._key) if self._signed else ""}

        return api

    def controls(self) -> APIRouter:
        controls = APIRouter(prefix="/_sandbox", include_in_schema=False)

        @controls.get("/bounces")
        def bouncing() -> dict[str, list[str]]:
            with self._lock:
                return {"emails": sorted(self._bouncing), "suppressed": sorted(self._suppressed)}

        @controls.post("/bounces")
        def add_bounces(bounces: Bounces) -> dict[str, list[str]]:
            with self._lock:
                self._bouncing.update(email.lower() for email in bounces.emails)
            return bouncing()

        @controls.delete("/bounces")
        def clear_bounces() -> dict[str, list[str]]:
            with self._lock:
                self._bouncing.clear()
                self._suppressed.clear()
            return bouncing()

        return controls


# Keys SendGrid puts on every event itself; custom_args with these names do not override them.
_RESERVED = frozenset({"email", "timestamp", "event", "sg_event_id", "sg_message_id", "smtp-id", "category",
                       "reason", "status", "response", "type"})
