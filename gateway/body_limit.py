"""A ceiling on request body size, enforced before anything parses the body.

A declared `Content-Length` over the limit is answered 413 at once, without reading the body; a body
that streams in without one (chunked) is counted as it is read, and refused with 413 the moment it
passes the limit, so no route ever holds more than `max_bytes` of it.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024


def too_large_detail(max_bytes: int) -> str:
    return f"request body larger than the limit of {max_bytes} bytes"


class BodySizeLimit:
    """ASGI middleware: 413 for an HTTP request whose body is over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = JSONResponse(
                {"detail": too_large_detail(self.max_bytes)}, status_code=status.HTTP_413_CONTENT_TOO_LARGE
            )
            await response(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises an HTTPException met while reading the body, and its handler answers it.
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=too_large_detail(self.max_bytes))
            return message

        return counted_receive


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
