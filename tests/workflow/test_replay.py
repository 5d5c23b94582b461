"""Recorded histories of the main workflows replay against today's code: a change that would break
running orders fails here, before it ships (guard such changes with `workflow.patched`). Every patch id
the workflows use must appear in at least one recorded history, so that its branch is replayed too."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from tests.fixtures.temporal import DATA_CONVERTER
from workers.main import PASSTHROUGH, WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
WORKFLOW_SOURCES = sorted((Path(__file__).parents[2] / "workflows").rglob("*.py"))
# The marker the SDK records the first time a run takes a `workflow.patched` branch, and where its id is.
PATCH_MARKER, PATCH_DETAILS = "core_patch", "patch-data"
PATCH_CALLS = {"patched", "deprecate_patch"}


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_without_nondeterminism(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    # debug_mode: no deadlock detector. What is checked is determinism; on a loaded machine the first
    # workflow task of a replay (the sandbox importing the workflows) can take longer than its 2 s.
    replayer = Replayer(
        workflows=list(WORKFLOWS), data_converter=DATA_CONVERTER, debug_mode=True,
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)),
    )

    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


def test_every_main_workflow_has_a_recorded_history() -> None:
    assert {p.stem.split("_")[0] for p in HISTORIES} == {"order", "fulfilment", "return"}


def test_every_patch_the_workflows_use_has_a_recorded_history_that_takes_it() -> None:
    used = patch_ids_in(WORKFLOW_SOURCES)
    recorded = {patch: [p.name for p in HISTORIES if patch in patch_ids_recorded(p)] for patch in used}

    missing = sorted(patch for patch, where in recorded.items() if not where)
    assert not missing, (f"no recorded history takes the patch(es) {missing}: add a scenario that drives the "
                         "patched branch to tests/workflow/histories/record.py and record it (docs/operations.md)")


def test_the_patch_scan_finds_patches_by_literal_and_by_constant(tmp_path: Path) -> None:
    (tmp_path / "names.py").write_text('SHARED = "shared-patch"\n')
    (tmp_path / "wf.py").write_text(
        'from names import SHARED\nOWN = "own-patch"\n'
        'def run():\n'
        '    if workflow.patched(OWN) and workflow.patched("literal-patch"):\n'
        '        workflow.deprecate_patch(SHARED)\n'
        '    if not workflow.patched(names.SHARED): pass\n')

    assert patch_ids_in(sorted(tmp_path.glob("*.py"))) == {"own-patch", "literal-patch", "shared-patch"}


def test_the_patch_scan_refuses_an_id_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text('def run(name):\n    return workflow.patched(name)\n')

    with pytest.raises(AssertionError, match=r"wf\.py:2"):
        patch_ids_in([tmp_path / "wf.py"])


def patch_ids_in(sources: list[Path]) -> set[str]:
    """The ids passed to `workflow.patched` / `workflow.deprecate_patch` in these files: a string literal,
    or a module-level string constant of any of them (imported or referred to as `module.NAME`)."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path)) for path in sources}
    constants: dict[str, str] = {}
    for tree in trees.values():
        for statement in tree.body:
            target, value = _constant(statement)
            if target is not None and value is not None:
                constants[target] = value
    found: set[str] = set()
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _called(node.func) in PATCH_CALLS):
                continue
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
            elif isinstance(arg, (ast.Name, ast.Attribute)) and (name := _called(arg)) in constants:
                found.add(constants[name])
            else:
                raise AssertionError(f"{path}:{node.lineno}: a patch id that is neither a string nor a "
                                     "module-level string constant; the replay check cannot read it")
    return found


def patch_ids_recorded(path: Path) -> set[str]:
    """The patch ids whose markers the history holds."""
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    found = set()
    for event in history.events:
        if not event.HasField("marker_recorded_event_attributes"):
            continue
        marker = event.marker_recorded_event_attributes
        if marker.marker_name == PATCH_MARKER:
            found.add(json.loads(marker.details[PATCH_DETAILS].payloads[0].data)["id"])
    return found


def _constant(node: ast.stmt) -> tuple[str | None, str | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value = node.target, node.value
    else:
        return None, None
    if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
        return target.id, value.value
    return None, None


def _called(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None
