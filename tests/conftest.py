"""Shared fixtures live in tests/fixtures/, one module per real part (DB, sandboxes, Temporal)."""

pytest_plugins = ["tests.fixtures.cli", "tests.fixtures.db", "tests.fixtures.sandbox", "tests.fixtures.temporal"]
