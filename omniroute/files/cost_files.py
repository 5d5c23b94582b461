"""Read the cost model and the SKU catalogue from files; `sourcing` itself never touches a file.

The cost model is YAML or JSON; the catalogue is YAML, JSON or CSV. Every error is a
`CostFileError` naming the file and the field (and for CSV the line), e.g.
`cost_model.yaml: services.0.rates: row 3 lb is cheaper than row 2 lb in zone 5`.
The format is described in docs/cost-model.md.
"""

from __future__ import annotations

import csv
import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.catalog import Catalog, SkuAttributes
from models.costs import CostModel

CSV_COLUMNS = ("sku", "weight_lb", "length_in", "width_in", "height_in", "tags")


class CostFileError(ValueError):
    """A cost model or catalogue file cannot be read or holds a bad value; the message names file and field."""


def demo_cost_model_path() -> Traversable:
    return resources.files("omniroute.demo") / "data" / "cost_model.yaml"


def demo_catalog_path() -> Traversable:
    return resources.files("omniroute.demo") / "data" / "catalog.csv"


def load_cost_model(path: Path | Traversable | str) -> CostModel:
    """A `CostModel` from a .yaml/.yml or .json file."""
    source = Path(path) if isinstance(path, str) else path
    raw = _structured(source)
    if not isinstance(raw, dict):
        raise CostFileError(f"{source.name}: expected a mapping of cost model fields at the top")
    try:
        return CostModel.model_validate(raw)
    except ValidationError as exc:
        raise CostFileError(_describe(source.name, exc)) from exc


def load_catalog(path: Path | Traversable | str) -> Catalog:
    """A `Catalog` from a .csv file (columns sku, weight_lb, length_in, width_in, height_in, tags with
    tags separated by ';'), or a .yaml/.yml/.json file holding either a list of SKUs or
    `{default_weight_lb: ..., skus: [...] or {SKU: {...}}}`."""
    source = Path(path) if isinstance(path, str) else path
    if source.name.lower().endswith(".csv"):
        return Catalog.of(_csv_skus(source))
    raw = _structured(source)
    if isinstance(raw, list):
        raw = {"skus": raw}
    if not isinstance(raw, dict):
        raise CostFileError(f"{source.name}: expected a list of SKUs or a mapping with skus")
    skus = raw.get("skus", {})
    if isinstance(skus, list):
        skus = _keyed(source.name, skus)
    if isinstance(skus, dict):
        skus = {key: {"sku": key, **value} if isinstance(value, dict) and "sku" not in value else value
                for key, value in skus.items()}
    try:
        return Catalog.model_validate({**raw, "skus": skus})
    except ValidationError as exc:
        raise CostFileError(_describe(source.name, exc)) from exc


def _structured(source: Path | Traversable) -> Any:
    name = source.name.lower()
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise CostFileError(f"{source.name}: cannot be read ({exc.strerror or exc})") from exc
    if name.endswith((".yaml", ".yml")):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CostFileError(f"{source.name}: not valid YAML: {exc}") from exc
    if name.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CostFileError(f"{source.name}: not valid JSON: {exc}") from exc
    raise CostFileError(f"{source.name}: unknown file type (use .yaml, .yml or .json)")


def _keyed(file_name: str, items: list[Any]) -> dict[str, Any]:
    keyed: dict[str, Any] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            raise CostFileError(f"{file_name}: skus.{index}.sku: every SKU needs a sku field")
        if item["sku"] in keyed:
            raise CostFileError(f"{file_name}: skus.{index}.sku: {item['sku']!r} is listed twice")
        keyed[item["sku"]] = item
    return keyed


def _csv_skus(source: Path | Traversable) -> list[SkuAttributes]:
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CostFileError(f"{source.name}: cannot be read ({exc.strerror or exc})") from exc
    reader = csv.DictReader(text.splitlines())
    columns = reader.fieldnames or []
    missing = [c for c in ("sku", "weight_lb") if c not in columns]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if missing or unknown:
        raise CostFileError(f"{source.name}: missing column(s) {missing}, unknown column(s) {unknown}"
                            f" (known: {', '.join(CSV_COLUMNS)})")
    items: list[SkuAttributes] = []
    seen: set[str] = set()
    for line_no, row in enumerate(reader, start=2):
        fields: dict[str, Any] = {k: v.strip() for k, v in row.items() if k in CSV_COLUMNS and v and v.strip()}
        fields["tags"] = [t.strip() for t in fields.get("tags", "").split(";") if t.strip()]
        try:
            item = SkuAttributes.model_validate(fields)
        except ValidationError as exc:
            raise CostFileError(_describe(f"{source.name} line {line_no}", exc)) from exc
        if item.sku in seen:
            raise CostFileError(f"{source.name} line {line_no}: sku {item.sku!r} is listed twice")
        seen.add(item.sku)
        items.append(item)
    return items


def _describe(where: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(top level)"
        problems.append(f"{field}: {error['msg']}")
    return f"{where}: " + "; ".join(problems)
