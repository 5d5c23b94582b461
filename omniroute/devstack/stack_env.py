"""Settings handed to child processes as environment variables, and URLs made fit to print."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import SecretStr

from omniroute.config.settings import Settings


def settings_environment(settings: Settings) -> dict[str, str]:
    """OMNIROUTE_* variables from which a child's `Settings()` reads back exactly `settings`.
    Fields that are None are left out (so the child falls back to the same default)."""
    prefix = str(settings.model_config.get("env_prefix", "")).upper()
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
        elif isinstance(value, Path):
            text = str(value.resolve())  # children may not share the caller's working directory
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list | tuple | dict | set):
            # Through pydantic's JSON mode, so that models inside (e.g. channel sync configs) serialise too.
            text = json.dumps(settings.model_dump(mode="json", include={name})[name])
        else:
            text = str(value)
        env[f"{prefix}{name.upper()}"] = text
    return env


def child_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any OMNIROUTE_* of its own, plus `settings` as OMNIROUTE_*,
    with unbuffered Python output so that logs are current."""
    source = dict(os.environ) if base is None else base
    prefix = str(settings.model_config.get("env_prefix", "")).upper()
    env = {key: value for key, value in source.items() if not key.upper().startswith(prefix)}
    env.update(settings_environment(settings))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def redact_url(url: str) -> str:
    """A database URL with its password masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"
