"""Stripe's request encoding: `application/x-www-form-urlencoded` with bracketed keys.

`{"metadata": {"order": "A1"}, "expand": ["latest_charge"]}` travels as
`metadata[order]=A1&expand[0]=latest_charge`; booleans as `true`/`false`; None is left out.
`encode_form` makes those pairs (the client's side), `decode_form` reads them back into nested
dicts and lists of strings (the sandbox's side). Values stay strings: each endpoint parses its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class FormError(ValueError):
    """A form key that is not `name` or `name[part]...`; `param` is the key as sent."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def encode_form(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Nested params as Stripe's bracketed form pairs, in the order given."""
    return list(_pairs("", params))


def _pairs(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _pairs(f"{prefix}[{key}]" if prefix else str(key), item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _pairs(f"{prefix}[{index}]", item)
    elif isinstance(value, bool):
        yield prefix, "true" if value else "false"
    else:
        yield prefix, str(value)


def decode_form(body: bytes | str) -> dict[str, Any]:
    """A form body as nested dicts; `[n]` and `[]` parts make lists. Raises FormError naming the key."""
    text = body.decode() if isinstance(body, bytes) else body
    result: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(key)
        if match is None:
            raise FormError(key, f"Invalid parameter name: {key}")
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        _place(result, parts, value, key)
    return _lists(result)


def _place(target: dict[str, Any], parts: list[str], value: str, key: str) -> None:
    node = target
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if part == "":  # `expand[]=a&expand[]=b`: the next free index
            part = str(len(node))
        if last:
            if isinstance(node.get(part), dict):
                raise FormError(key, f"Invalid parameter: {key} is both a value and an object")
            node[part] = value
            return
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise FormError(key, f"Invalid parameter: {key} is both a value and an object")
        node = child


def _lists(node: dict[str, Any]) -> dict[str, Any]:
    """Objects whose keys are all 0..n-1 become lists (Stripe's arrays)."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        out[key] = _as_list_or_dict(_lists(value)) if isinstance(value, dict) else value
    return out


def _as_list_or_dict(node: dict[str, Any]) -> Any:
    if node and all(key.isdigit() for key in node) and sorted(int(k) for k in node) == list(range(len(node))):
        return [node[str(index)] for index in range(len(node))]
    return node
