"""Shared fixtures live in tests/fixtures/, one module per real part (DB, sandboxes, Temporal); builders
and helpers that several test modules use live there too, never in a test module."""

pytest_plugins = ["tests.fixtures.cli", "tests.fixtures.db", "tests.fixtures.sandbox", "tests.fixtures.temporal"]
