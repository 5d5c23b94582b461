"""API keys: who calls the gateway, in which role, over which channels or nodes.

A token is `omr_<key_id>_<secret>`: the key id says which row to look at, the secret (32 random
bytes, URL-safe base64) is shown once at creation and kept only as its SHA-256 hash. A key is scoped
by its role: a `channel` key to its channels, a `node` key to its nodes; `operator` and `admin` keys
see everything (see docs/security.md for what each role may do).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from models.order import ChannelName
from models.text import PlainText

NodeRef = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]
KeyId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,32}$")]
TOKEN_PREFIX = "omr"


class Role(StrEnum):
    CHANNEL = "channel"
    NODE = "node"
    OPERATOR = "operator"
    ADMIN = "admin"


class KeyCreate(BaseModel):
    """A new key: a `channel` key names its channels, a `node` key its nodes, the others neither."""

    model_config = ConfigDict(extra="forbid")

    name: PlainText = Field(min_length=1, max_length=100, description="who or what uses the key")
    role: Role
    channels: list[ChannelName] = Field(default_factory=list, max_length=100)
    nodes: list[NodeRef] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _scope_fits_role(self) -> KeyCreate:
        if self.role is Role.CHANNEL:
            if not self.channels:
                raise ValueError("a channel key needs `channels` (at least one)")
            if self.nodes:
                raise ValueError("a channel key takes no `nodes`")
        elif self.role is Role.NODE:
            if not self.nodes:
                raise ValueError("a node key needs `nodes` (at least one)")
            if self.channels:
                raise ValueError("a node key takes no `channels`")
        elif self.channels or self.nodes:
            raise ValueError(f"an {self.role.value} key sees every channel and node: give no `channels` or `nodes`")
        self.channels = sorted(set(self.channels))
        self.nodes = sorted(set(self.nodes))
        return self


class ApiKey(BaseModel):
    """A key as listed: never its token."""

    key_id: str
    name: str
    role: Role
    channels: list[str] = Field(default_factory=list)
    nodes: list[str] = Field(default_factory=list)
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class KeyCreated(BaseModel):
    """The answer to a new key: the token, shown this once."""

    key_id: str
    token: str
    name: str
    role: Role
    channels: list[str] = Field(default_factory=list)
    nodes: list[str] = Field(default_factory=list)


def split_token(token: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]
