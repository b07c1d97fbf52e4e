#!/usr/bin/env bash
# Find PgBouncer for the pooled test run (PGBOUNCER_PATH, PATH, /usr/sbin); else install Debian's
# package when root on Debian. Without it the pooled run is skipped with a message (make test-pooled).
set -euo pipefail
if [ -n "${PGBOUNCER_PATH:-}" ] && [ -x "$PGBOUNCER_PATH" ]; then exit 0; fi
if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's pgbouncer for the pooled test run…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
  # The package starts nothing we use: the tests run their own PgBouncer on a free port.
  (systemctl stop pgbouncer 2>/dev/null || service pgbouncer stop 2>/dev/null || true) >/dev/null 2>&1
else
  echo "PgBouncer not found: install it (Debian: apt-get install pgbouncer) or set PGBOUNCER_PATH." >&2
  exit 1
fi
