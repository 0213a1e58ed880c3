#!/usr/bin/env bash
# The receiver example (crates/connect-webhooks/examples/receive.rs) receives events from the
# server as a user would run them: `cargo run -p connect-server` with --webhook pointing at the
# example, a customer created and renamed through the API, both events printed by the example.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p connect-server -p connect-webhooks --example receive
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The receiver, on a free port.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CONNECT_WEBHOOK_SECRET=example-secret CONNECT_WEBHOOK_BIND="127.0.0.1:$port" \
  target/debug/examples/receive >"$work/received" 2>"$work/receiver.log" &
pids+=($!)

CONNECT_API_KEYS="dev=example-key" CONNECT_WEBHOOK_SECRETS="dev=example-secret" \
  target/debug/connect-server --bind 127.0.0.1:0 --log-format json \
  --webhook "dev=http://127.0.0.1:$port" 2>"$work/server.log" &
pids+=($!)
address=""
for _ in $(seq 100); do
  address=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    entry = json.loads(line)
    if entry.get("msg") == "ready":
        print(entry["address"])
        break
' "$work/server.log" 2>/dev/null || true)
  [ -n "$address" ] && grep -q receiving "$work/received" && break
  sleep 0.1
done
[ -n "$address" ] || { echo "the server did not start"; cat "$work/server.log"; exit 1; }

id=$(curl -sf -H 'X-API-Key: example-key' -H 'Content-Type: application/json' \
  -d '{"name": "Example AB", "customerType": "BUSINESS"}' "http://$address/customers" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["customerId"])')
curl -sf -X PUT -H 'X-API-Key: example-key' -H 'Content-Type: application/json' \
  -d '{"name": "Example Holding AB"}' "http://$address/customers/$id" >/dev/null

for _ in $(seq 100); do
  [ "$(grep -c "$id" "$work/received" || true)" -ge 2 ] && break
  sleep 0.1
done
cat "$work/received"
grep -q "customer.created .* $id (Example AB)" "$work/received" ||
  { echo "no customer.created"; cat "$work/server.log" "$work/receiver.log"; exit 1; }
grep -q "customer.updated .* $id (Example Holding AB" "$work/received" ||
  { echo "no customer.updated"; cat "$work/server.log" "$work/receiver.log"; exit 1; }
echo "the example received both events"
