#!/usr/bin/env bash
# Install and start PostgreSQL on loopback for the store tests; prints the URL the tests use.
# Skips quietly (prints nothing) where it cannot install packages.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then exit 0; fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >/dev/null 2>&1
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true  # "already running" is fine
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='narrascope'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE narrascope LOGIN SUPERUSER PASSWORD 'narrascope'\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='narrascope_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O narrascope narrascope_test"
echo "postgresql+psycopg://narrascope:narrascope@127.0.0.1:5432/narrascope_test"
