"""The whole stack for the e2e tests (tests/fixtures/stack.py starts and drives it). Each test uses SKUs
and ids of its own, so tests may share one stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.stack import RunningStack, running_stack, stack_settings


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """One stack per test module on the default SQLite app DB; tests share it through their own ids."""
    with running_stack(stack_settings(tmp_path_factory.mktemp("stack"))) as stack:
        yield stack


@pytest.fixture
def postgres_stack(tmp_path: Path, postgres_url: str) -> Iterator[RunningStack]:
    """A stack of its own whose app DB is a fresh PostgreSQL database."""
    with running_stack(stack_settings(tmp_path, database_url=postgres_url)) as stack:
        yield stack


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[RunningStack]:
    """A stack for this test alone (for tests that kill parts of it)."""
    with running_stack(stack_settings(tmp_path)) as stack:
        yield stack
