"""The simulation report: a summary table (console and .txt), one self-contained HTML page with the
plots inline as SVG, and per strategy a decisions file (JSON Lines, one object per order).

A decision line is `{order_id, day, lines: [{line_no, sku, quantity, node, distance_km}], shipments,
cost, promise_kept}`; units nobody ships appear with `node: null`. With the nodes and orders files
that is enough to price every decision again (docs/simulation.md shows how).
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table

from omniroute.simulation.bound import HindsightBound
from omniroute.simulation.runner import StrategyRun
from omniroute.simulation.stats import percentile

TEXT_WIDTH = 160
MAX_NODES_PLOTTED = 60


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    text: Path
    decisions: dict[str, Path]


def money(cents: float) -> str:
    return f"{cents / 100:,.2f}"


def summary_rows(runs: Sequence[StrategyRun], bound: HindsightBound | None) -> list[list[str]]:
    """One row of figures per strategy, as printed (see `HEADERS`)."""
    rows = []
    for run in runs:
        latencies = run.latencies_ms
        rows.append([
            run.name + ("" if run.complete else " (stopped)"),
            f"{len(run.records)}",
            money(run.total_cost),
            money(run.total_cost / len(run.records)) if run.records else "-",
            f"{run.total_cost / bound.value:.3f}" if bound and bound.value > 0 and run.complete else "-",
            f"{run.split_rate:.1%}",
            f"{run.units_unfilled}",
            f"{run.promise_kept_rate:.1%}",
            f"{run.km_per_unit:,.0f}",
            f"{percentile(latencies, 50):.2f}" if latencies else "-",
            f"{percentile(latencies, 99):.2f}" if latencies else "-",
        ])
    return rows


HEADERS = ["strategy", "orders", "total cost", "per order", "vs bound", "split rate", "units unfilled",
           "promise kept", "km per unit", "p50 ms", "p99 ms"]


def summary_table(runs: Sequence[StrategyRun], bound: HindsightBound | None) -> Table:
    table = Table(title="Simulation summary (costs in currency units)")
    for index, header in enumerate(HEADERS):
        table.add_column(header, justify="left" if index == 0 else "right")
    for row in summary_rows(runs, bound):
        table.add_row(*row)
    if bound is not None:
        table.caption = bound_note(bound)
    return table


def bound_note(bound: HindsightBound) -> str:
    how = ("the LP optimum over all candidates" if bound.optimal
           else "stopped at its time limit: valid, but looser than the LP optimum")
    return (f"Hindsight lower bound {money(bound.value)}: {how} ({bound.rounds} rounds, {bound.pairs_in_lp} of "
            f"{bound.pairs_total} line-node pairs in the LP, {bound.seconds:.1f} s).")


def decision_rows(run: StrategyRun) -> Iterator[dict[str, Any]]:
    for record in run.records:
        yield {
            "order_id": record.order_id,
            "day": record.day,
            "lines": [{"line_no": d.line_no, "sku": d.sku, "quantity": d.quantity, "node": d.node,
                       "distance_km": d.distance_km} for d in record.lines],
            "shipments": record.shipments,
            "cost": round(record.cost, 6),
            "promise_kept": record.promise_kept,
        }


def write_report(
    runs: Sequence[StrategyRun], out_dir: Path, *, bound: HindsightBound | None = None,
    notes: Sequence[str] = (), console: Console | None = None,
) -> ReportFiles:
    """Write report.html, summary.txt and decisions-<strategy>.jsonl into `out_dir`; print the table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = summary_table(runs, bound)
    recorder = Console(record=True, width=TEXT_WIDTH, file=io.StringIO())
    recorder.print(table)
    for note in notes:
        recorder.print(note, soft_wrap=True)
    text_path = out_dir / "summary.txt"
    text_path.write_text(recorder.export_text(), encoding="utf-8")
    if console is not None:
        console.print(table)
    decisions: dict[str, Path] = {}
    for run in runs:
        path = out_dir / f"decisions-{run.name}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for row in decision_rows(run):
                handle.write(json.dumps(row) + "\n")
        decisions[run.name] = path
    html_path = out_dir / "report.html"
    html_path.write_text(render_html(runs, bound, notes), encoding="utf-8")
    return ReportFiles(html=html_path, text=text_path, decisions=decisions)


def render_html(runs: Sequence[StrategyRun], bound: HindsightBound | None, notes: Sequence[str] = ()) -> str:
    header = "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                   for row in summary_rows(runs, bound))
    bound_line = f"<p>{html.escape(bound_note(bound))}</p>" if bound else ""
    figures = [
        ("Total cost per strategy", _cost_plot(runs, bound)),
        ("Split rate: orders shipped in more than one shipment", _bar_plot(runs, [r.split_rate * 100 for r in runs],
                                                                          "split orders (%)")),
        ("Units nobody shipped", _bar_plot(runs, [float(r.units_unfilled) for r in runs], "units unfilled")),
        ("Load per node: shipments sent", _load_plot(runs)),
    ]
    sections = "".join(f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"
                       for caption, svg in figures)
    note_list = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Omniroute simulation</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
        "figure{margin:2em 0}figcaption{font-weight:bold}</style></head><body>"
        f"<h1>Omniroute simulation</h1><table><tr>{header}</tr>{body}</table>{bound_line}"
        f"<ul>{note_list}</ul>{sections}</body></html>\n"
    )


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _cost_plot(runs: Sequence[StrategyRun], bound: HindsightBound | None) -> str:
    figure = Figure(figsize=(8, 3.5))
    axes = figure.subplots()
    axes.bar([r.name for r in runs], [r.total_cost / 100 for r in runs], color="#4c72b0")
    if bound is not None:
        axes.axhline(bound.value / 100, color="#c44e52", linestyle="--", label="hindsight lower bound")
        axes.legend()
    axes.set_ylabel("total cost")
    return _svg(figure)


def _bar_plot(runs: Sequence[StrategyRun], values: list[float], label: str) -> str:
    figure = Figure(figsize=(8, 3))
    axes = figure.subplots()
    axes.bar([r.name for r in runs], values, color="#55a868")
    axes.set_ylabel(label)
    return _svg(figure)


def _load_plot(runs: Sequence[StrategyRun]) -> str:
    """Shipments per node, nodes ordered by their total load over all strategies (busiest first)."""
    loads = [run.node_load() for run in runs]
    total: dict[str, int] = {}
    for load in loads:
        for node_id, count in load.items():
            total[node_id] = total.get(node_id, 0) + count
    nodes = sorted(total, key=lambda n: (-total[n], n))[:MAX_NODES_PLOTTED]
    figure = Figure(figsize=(max(8, len(nodes) * 0.25), 3.5))
    axes = figure.subplots()
    for run, load in zip(runs, loads, strict=True):
        axes.plot(nodes, [load.get(n, 0) for n in nodes], marker="o", label=run.name)
    axes.set_ylabel("shipments")
    axes.tick_params(axis="x", labelrotation=90)
    axes.legend()
    return _svg(figure)
