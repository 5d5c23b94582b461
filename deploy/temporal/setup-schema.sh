#!/bin/sh
# Temporal's two databases on PostgreSQL: created on the first run, brought up to the schema of this
# admin-tools image on every run (so upgrading TEMPORAL_VERSION upgrades the schema). Safe to re-run.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${POSTGRES_PWD:?}"
export SQL_PASSWORD="$POSTGRES_PWD"
schemas=/etc/temporal/schema/postgresql/v12

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  versions="$schemas/${pair#*:}/versioned"
  # Creating a database that exists fails; that one failure means a re-run and is fine.
  if ! output=$(sql_tool --db "$db" create 2>&1); then
    case "$output" in
      *"already exists"*) echo "database $db already exists" ;;
      *) echo "$output" >&2; exit 1 ;;
    esac
  fi
  sql_tool --db "$db" setup-schema -v 0.0
  sql_tool --db "$db" update-schema -d "$versions"
done
echo "Temporal schema is up to date"
