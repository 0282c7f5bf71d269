#!/usr/bin/env bash
# CI only, best effort: turn on TLS on the local PostgreSQL test server with a
# self-signed certificate, so the test of `?sslmode=require` URLs (as Neon,
# Supabase and RDS hand out) connects for real instead of only proving that
# TLS was requested. Does nothing when TLS is already on; exits 0 on failure.
set -u
psql_q() { psql -h 127.0.0.1 -U root -d test -Atqc "$1"; }
[ "$(psql_q 'SHOW ssl' 2>/dev/null)" = "on" ] && { echo "TLS already on"; exit 0; }
data=$(psql_q 'SHOW data_directory' 2>/dev/null) || { echo "cannot ask the server for its data directory; TLS stays off"; exit 0; }
if [ ! -f "$data/server.crt" ]; then
  openssl req -new -x509 -days 3650 -nodes -subj "/CN=localhost" \
    -keyout "$data/server.key" -out "$data/server.crt" >/dev/null 2>&1 || { echo "openssl failed; TLS stays off"; exit 0; }
  chown postgres:postgres "$data/server.key" "$data/server.crt" 2>/dev/null
  chmod 600 "$data/server.key"
fi
psql_q "ALTER SYSTEM SET ssl = on" && psql_q "SELECT pg_reload_conf()" >/dev/null
sleep 1
echo "TLS on the test server: $(psql_q 'SHOW ssl')"
exit 0
