"""Omniroute's front door: the channel SDK (`from omniroute import OmnirouteClient`), `omniroute.config`, and the
tools on top (`omniroute.cli`, `devstack`, `files`, `simulation`, `demo`, `bench`); see docs/architecture.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omniroute.client import OmnirouteClient

__all__ = ["OmnirouteClient"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `omniroute` (the CLI) starts without importing temporalio.
    if name == "OmnirouteClient":
        from omniroute.client import OmnirouteClient

        return OmnirouteClient
    raise AttributeError(name)
