"""Signing the Temporal UI in to the codec endpoint.

The UI decodes payloads by calling /codec/decode from the operator's browser, and a browser cannot
attach an API key to that call; it can send a cookie ("include cross-origin credentials" in the UI's
codec settings). An operator therefore signs in once at `/codec/login` with an operator or admin key:
the gateway checks the key and sets it as an HttpOnly cookie, scoped to /codec, SameSite=Strict (the
UI and the gateway are the same site: only the port differs), for `SESSION_HOURS`. The codec routes
take the key from `Authorization: Bearer` first, else from that cookie; the key is checked on every
call as any other (a revoked key stops decoding at once).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request, Security, status
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials

from gateway.auth import Principal, bearer_scheme, principal_for
from gateway.deps import StoreDep
from models.keys import Role

COOKIE = "omniroute_codec"
SESSION_HOURS = 8
PATH = "/codec"

router = APIRouter(prefix=PATH, include_in_schema=False)

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Omniroute codec sign-in</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Omniroute: sign the Temporal UI in</h1><p>{message}</p>
<form method="post" action="{path}/login"><label>Operator or admin API key<br>
<input name="token" type="password" size="70" autocomplete="off"></label> <button>Sign in</button></form>
<p>Then, in the Temporal UI's codec server settings, turn on <em>include cross-origin credentials</em>.
The key is kept in an HttpOnly cookie for this gateway's {path} only, for {hours} hours.</p>
<form method="post" action="{path}/logout"><button>Sign out</button></form></body></html>"""


def _page(message: str, code: int = status.HTTP_200_OK) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(message=message, path=PATH, hours=SESSION_HOURS), status_code=code)


@router.get("/login")
async def login_page() -> HTMLResponse:
    return _page("Paste an operator or admin key to let this browser's Temporal UI show decoded orders.")


@router.post("/login")
async def login(request: Request, store: StoreDep) -> HTMLResponse:
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    token = (form.get("token") or [""])[0].strip()
    if not token:
        return _page("No key given.", status.HTTP_422_UNPROCESSABLE_CONTENT)
    try:
        principal = await principal_for(request, store, token)
    except HTTPException as refused:
        return _page(f"Not signed in: {refused.detail}", refused.status_code)
    if principal.role not in (Role.OPERATOR, Role.ADMIN):
        return _page(f"Not signed in: the UI needs an operator or admin key; this key's role is "
                     f"{principal.role.value}.", status.HTTP_403_FORBIDDEN)
    answer = _page(f"Signed in with key {principal.key_id} ({principal.role.value}).")
    answer.set_cookie(COOKIE, token, max_age=SESSION_HOURS * 3600, path=PATH, httponly=True, samesite="strict",
                      secure=request.url.scheme == "https")
    return answer


@router.post("/logout")
async def logout() -> HTMLResponse:
    answer = _page("Signed out.")
    answer.delete_cookie(COOKIE, path=PATH)
    return answer


async def codec_caller(
    request: Request, store: StoreDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
) -> Principal:
    """An operator or admin key from the Authorization header, else from the sign-in cookie."""
    token = credentials.credentials if credentials is not None else request.cookies.get(COOKIE)
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "an API key is required: send `Authorization: Bearer "
                            f"<token>`, or sign the browser in at {PATH}/login",
                            headers={"WWW-Authenticate": "Bearer"})
    principal = await principal_for(request, store, token)
    if principal.role not in (Role.OPERATOR, Role.ADMIN):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this route needs a key with role operator or admin; "
                            f"this key's role is {principal.role.value}")
    return principal


CodecCaller = Annotated[Principal, Depends(codec_caller)]
