"""Shared fixtures live in tests/fixtures/, one module per real part (DB, sandboxes, Temporal); builders
and helpers that several test modules use live there too, never in a test module (nor imported from a
conftest.py). Their asserts are rewritten like a test's, so a failing helper shows the values compared."""

import pytest

pytest.register_assert_rewrite("tests.fixtures")

pytest_plugins = ["tests.fixtures.cli", "tests.fixtures.db", "tests.fixtures.sandbox", "tests.fixtures.temporal"]
