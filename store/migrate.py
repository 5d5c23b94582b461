"""Running the app DB's Alembic migrations from code (the CLI, the dev stack and tests all use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from store.engine import normalize_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` whose scripts are store/migrations (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = normalize_url(url).render_as_string(hide_password=False)
    # ConfigParser interpolates '%': a percent-encoded password must survive it.
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade_database(url: str) -> None:
    """Migrate the database at `url` to the newest revision. Safe to run again, and from two processes."""
    command.upgrade(alembic_config(url), "head")
