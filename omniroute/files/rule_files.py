"""Rule files: a `RuleSet` from YAML or JSON text, every mistake reported with its file and field path.

Rule files are data. YAML is read with the safe loader (no tag can build an object or run code),
and a key given twice in one mapping is refused in both formats rather than silently letting the
last one win. Validation errors name the path into the document, e.g.
`rules[2].when.all[1].order_total_over.amount: Input should be greater than or equal to 0`.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from models.rules import ACTION_KEYS, CONDITION_KEYS, RuleSet

RuleFormat = Literal["yaml", "json"]

_FORMAT_BY_SUFFIX: dict[str, RuleFormat] = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
_ONE_KEY_ERRORS = frozenset({"unknown_condition", "unknown_action"})
_TAGS = CONDITION_KEYS | ACTION_KEYS


@dataclass(frozen=True)
class RuleFileProblem:
    """One mistake: where (a field path, or a line and column for syntax) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class RuleFileError(ValueError):
    """A rule file could not be read as a RuleSet; `problems` lists every mistake found."""

    def __init__(self, source: str, problems: Sequence[RuleFileProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{source}: {count} problem{'s' if count != 1 else ''} in the rules\n{lines}")


def parse_rules(text: str, *, format: RuleFormat = "yaml", source: str = "<rules>") -> RuleSet:
    """The RuleSet in `text`; `source` names it in errors (a file name, or what the text came from)."""
    data = _load_yaml(text, source) if format == "yaml" else _load_json(text, source)
    if data is None:
        raise RuleFileError(source, [RuleFileProblem("(top level)", "empty document; expected version and rules")])
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        raise RuleFileError(source, [_problem(error) for error in exc.errors()]) from exc


def load_rules(path: str | Path) -> RuleSet:
    """The RuleSet in the file at `path`: .yaml, .yml or .json. A missing file raises FileNotFoundError."""
    path = Path(path)
    rule_format = _FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if rule_format is None:
        raise RuleFileError(str(path), [RuleFileProblem("file name", "rule files end in .yaml, .yml or .json")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RuleFileError(str(path), [RuleFileProblem("file", f"not UTF-8 text ({exc.reason})")]) from exc
    return parse_rules(text, format=rule_format, source=str(path))


def dump_rules(rule_set: RuleSet, *, format: RuleFormat = "yaml") -> str:
    """`rule_set` as text that `parse_rules` reads back to an equal RuleSet (defaults left out)."""
    data = rule_set.model_dump(mode="json", exclude_defaults=True)
    if format == "json":
        return json.dumps(data, indent=2) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def field_path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a path: `rules[2].when.all[1].order_total_over`.

    A one-key condition or action shows up twice in pydantic's location (the union tag, then the
    field of the same name); the path shows it once. A bad mapping key (pydantic's `[key]` after it,
    e.g. an unknown currency in `fx_rates`) is named by the key alone: `fx_rates.USD.EUX`.
    """
    path = ""
    index = 0
    while index < len(loc):
        part = loc[index]
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":
            path += f".{part}" if path else part
            if part in _TAGS and index + 1 < len(loc) and loc[index + 1] == part:
                index += 1
        index += 1
    return path or "(top level)"


def _problem(error: Any) -> RuleFileProblem:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in _ONE_KEY_ERRORS:
        given = error["input"]
        if isinstance(given, dict) and given:
            got = "keys " + ", ".join(map(str, given))
        elif isinstance(given, dict):
            got = "an empty mapping"
        else:
            got = f"a {type(given).__name__}"
        message += f" (got {got})"
    return RuleFileProblem(field_path(error["loc"]), message)


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice in one mapping."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            continue  # construct_mapping reports it
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, f"found key {key!r} twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _load_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no object tags
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "YAML"
        raise RuleFileError(source, [RuleFileProblem(where, exc.problem or "invalid YAML")]) from exc
    except yaml.YAMLError as exc:
        raise RuleFileError(source, [RuleFileProblem("YAML", str(exc))]) from exc


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"found key {key!r} twice in one object")
        result[key] = value
    return result


def _load_json(text: str, source: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_object)
    except json.JSONDecodeError as exc:
        raise RuleFileError(source, [RuleFileProblem(f"line {exc.lineno}, column {exc.colno}", exc.msg)]) from exc
    except ValueError as exc:
        raise RuleFileError(source, [RuleFileProblem("JSON", str(exc))]) from exc
