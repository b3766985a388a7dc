#!/usr/bin/env bash
# Runs examples/orders (the article's Figure 4, issue 6) end to end against
# the real runnel binary and against redis-server, with ORDERS orders
# (3000 by default); fails if either run exits nonzero. Each server gets a
# free loopback port and a temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${ORDERS:-3000}

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_ready PORT LOG: until the server on PORT answers PING, or fail
# showing its log.
wait_ready() {
  for _ in $(seq 100); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  echo "server on port $1 did not answer PING; its log:"; cat "$2"; exit 1
}

# run_example NAME PORT LOG
run_example() {
  echo "-- examples/orders --orders $orders against $1"
  if ! "$tmp/orders" --addr "127.0.0.1:$2" --orders "$orders"; then
    echo "examples/orders failed against $1; the server's log:"; tail -n 50 "$3"; exit 1
  fi
}

go build -o "$tmp/runnel" ./cmd/runnel
go build -o "$tmp/orders" ./examples/orders

port=$(free_port)
"$tmp/runnel" --port "$port" --dir "$tmp/data" >"$tmp/runnel.log" 2>&1 &
pids+=($!)
wait_ready "$port" "$tmp/runnel.log"
run_example runnel "$port" "$tmp/runnel.log"

port=$(free_port)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
pids+=($!)
wait_ready "$port" "$tmp/redis.log"
run_example "redis-server $(redis-server --version | grep -o 'v=[0-9.]*')" "$port" "$tmp/redis.log"
