"""The codec server for the Temporal UI and CLI: `POST /codec/decode` and `POST /codec/encode`.

Temporal stores workflow payloads encrypted (omniroute/config/codec.py). The UI, pointed here by
`--ui-codec-endpoint <gateway>/codec`, sends the payloads it shows to /codec/decode from the browser and
displays what comes back; the CLI does the same with `--codec-endpoint` and `--codec-auth 'Bearer <key>'`.
Both speak Temporal's codec protocol: a `Payloads` message in protobuf's JSON form,
`{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`, in and out. The payloads
hold customers' personal data, so only operator and admin API keys are admitted (gateway/auth.py). The
browser calls from the UI's origin, so /codec, and only /codec, answers CORS for the origins in
`OMNIROUTE_CODEC_UI_ORIGINS` (by default the UI at `ui_url`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload

from gateway.codec_session import CodecCaller
from gateway.errors import field_error
from omniroute.config.codec import CodecError, EncryptionCodec
from omniroute.config.settings import Settings

PREFIX = "/codec"
LOOPBACK_NAMES = ("127.0.0.1", "localhost")

router = APIRouter(prefix=PREFIX, tags=["codec"])


class CodecPayload(BaseModel):
    """One Temporal payload in protobuf JSON: metadata values and data are base64."""

    # Newer servers add fields (e.g. externalPayloads) that the codec does not need.
    model_config = ConfigDict(extra="ignore")

    metadata: dict[str, str] = Field(default_factory=dict, description="metadata name to base64 value")
    data: str = Field(default="", description="base64")


class CodecPayloads(BaseModel):
    """The body of Temporal's codec protocol, in and out."""

    payloads: list[CodecPayload]


def get_codec(request: Request) -> EncryptionCodec:
    codec: EncryptionCodec = request.app.state.codec
    return codec


CodecDep = Annotated[EncryptionCodec, Depends(get_codec)]


@router.post("/decode", response_model=CodecPayloads, response_model_exclude_defaults=True)
async def decode(body: CodecPayloads, codec: CodecDep, _: CodecCaller) -> CodecPayloads:
    """Decrypt the payloads; those not encrypted come back unchanged. Operator and admin keys only: the
    payloads hold customers' personal data (the key as a Bearer token, or the cookie `/codec/login` sets for
    the UI's browser). 422 naming the payload and the key id when one was encrypted
    with a key that is not configured or fails authentication."""
    return _to_json(_apply(codec.decrypt, _from_json(body)))


@router.post("/encode", response_model=CodecPayloads, response_model_exclude_defaults=True)
async def encode(body: CodecPayloads, codec: CodecDep, _: CodecCaller) -> CodecPayloads:
    """Encrypt the payloads with the active key (for inputs typed into the UI or the CLI). Operator and
    admin keys only."""
    return _to_json(_apply(codec.encrypt, _from_json(body)))


def _apply(step: Callable[[Payload], Payload], payloads: list[Payload]) -> list[Payload]:
    converted: list[Payload] = []
    for index, payload in enumerate(payloads):
        try:
            converted.append(step(payload))
        except CodecError as err:
            raise field_error(("body", "payloads", index), str(err), kind="codec") from None
    return converted


def _from_json(body: CodecPayloads) -> list[Payload]:
    payloads: list[Payload] = []
    for index, item in enumerate(body.payloads):
        try:
            payloads.append(json_format.ParseDict({"metadata": item.metadata, "data": item.data}, Payload()))
        except json_format.ParseError:
            raise field_error(("body", "payloads", index), "metadata values and data must be base64",
                              kind="base64") from None
    return payloads


def _to_json(payloads: list[Payload]) -> CodecPayloads:
    return CodecPayloads(payloads=[CodecPayload.model_validate(json_format.MessageToDict(p)) for p in payloads])


def ui_origins(settings: Settings) -> list[str]:
    """The origins allowed to call /codec: `codec_ui_origins`, or the UI at `ui_url`, under both loopback
    names when it is local (the browser's origin is whichever one was typed)."""
    if settings.codec_ui_origins:
        return list(settings.codec_ui_origins)
    parts = urlsplit(settings.ui_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.hostname not in LOOPBACK_NAMES:
        return [origin]
    port = f":{parts.port}" if parts.port else ""
    return [f"{parts.scheme}://{name}{port}" for name in LOOPBACK_NAMES]


class CodecCors:
    """CORS for /codec alone: the UI's origin may call the codec endpoints from the browser (with
    credentials, and the Authorization and X-Namespace headers the UI sends), and no other route."""

    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        self._app = app
        self._cors = CORSMiddleware(app, allow_origins=origins, allow_methods=["POST"], allow_credentials=True,
                                    allow_headers=["authorization", "content-type", "x-namespace"], max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and (path == PREFIX or path.startswith(PREFIX + "/")):
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)
