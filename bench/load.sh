#!/usr/bin/env bash
# Load test: builds Veil, generates a scale dataset in a fresh PostgreSQL
# database, starts the server, drives it from a second process for a fixed
# time, and reports throughput, latency and the server's peak memory. It
# then does the same with the baseline build (-tags veilbench: the same
# server without the classification layer). With compare=postgraphile it
# then serves the same database with PostGraphile 4 (installed from npm
# into a temporary directory) and sends it the same three reads.
#
#   bench/load.sh [users=10000] [seconds=20] [clients=8] [compare=none|postgraphile]
#
# Needs PostgreSQL on 127.0.0.1:5432 with trust auth (as in .ci/run); the
# comparison needs Node.js and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-10000}
seconds=${2:-20}
clients=${3:-8}
compare=${4:-none}
db=veil_bench
admin="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
url="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
go build -o "$work/veil" ./server
go build -tags veilbench -o "$work/veil-baseline" ./server
go build -o "$work/load" ./bench/load
echo "--- generating $users users, $((users * 10)) orders, $((users * 100)) activity events"
DATABASE_URL="$url" "$work/veil" demo -tokens "$work/tokens.json" -key-file "$work/keys.json" \
  -users "$users" -orders-per-user 10 -activity-per-user 100
# Planner statistics for the fresh tables, as autovacuum would gather them.
psql -q "$url" -c ANALYZE
# run LABEL BINARY SECONDS: serve the dataset with BINARY, load it, stop it.
run() {
  DATABASE_URL="$url" "$2" -addr 127.0.0.1:18080 -key-file "$work/keys.json" \
    -session-rate 1000000 -anonymous-rate 1000000 2>>"$work/server.log" &
  pid=$!
  for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18080/readyz >/dev/null && break; sleep 0.2; done
  echo "--- $1: $3 s of load from $clients clients"
  "$work/load" -url http://127.0.0.1:18080 -tokens "$work/tokens.json" -duration "${3}s" -concurrency "$clients"
  echo "server peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
# A short run first brings the tables into PostgreSQL's cache for all.
run "warm-up (not a result)" "$work/veil-baseline" 5
run Veil "$work/veil" "$seconds"
run "baseline: Veil without the classification layer" "$work/veil-baseline" "$seconds"

case "$compare" in
none) exit 0 ;;
postgraphile) ;;
*) echo "unknown comparison: $compare" >&2; exit 2 ;;
esac
echo "--- installing PostGraphile 4 from npm"
npm install --silent --no-audit --no-fund --prefix "$work/pg" postgraphile@4 >/dev/null
"$work/pg/node_modules/.bin/postgraphile" -c "$url" --host 127.0.0.1 --port 18081 \
  --disable-query-log 2>"$work/postgraphile.log" >&2 &
pid=$!
for _ in $(seq 1 100); do
  curl -sf -H 'Content-Type: application/json' -d '{"query":"{ __typename }"}' http://127.0.0.1:18081/graphql >/dev/null && break
  sleep 0.2
done
adult=$(psql -tA "$url" -c "SELECT id FROM users WHERE nickname = '阿伟'")
echo "--- PostGraphile 4 on the same database: $seconds s of load from $clients clients"
"$work/load" -target postgraphile -user-id "$adult" -url http://127.0.0.1:18081 -tokens "$work/tokens.json" \
  -duration "${seconds}s" -concurrency "$clients"
echo "server peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
