#!/usr/bin/env bash
# schemathesis against the real server: every check, every phase (examples, coverage,
# fuzzing, stateful), once per tenant of a server with two, bounded so that it is
# deterministic enough for CI. Exits non-zero on any failure.
#
# Usage: scripts/schemathesis.sh [MAX_EXAMPLES] [extra st arguments, e.g. --max-time 300]
# Needs python3; installs schemathesis into target/schemathesis-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-25}
shift || true

venv=target/schemathesis-venv
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi

cargo build --quiet -p connect-server
log=$(mktemp)
CONNECT_API_KEYS="acme=schemathesis-acme,globex=schemathesis-globex" \
  target/debug/connect-server --bind 127.0.0.1:0 --log-format json 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
# The bound address is on the `ready` line.
address=""
for _ in $(seq 100); do
  address=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    entry = json.loads(line)
    if entry.get("msg") == "ready":
        print(entry["address"])
        break
' "$log" 2>/dev/null || true)
  [ -n "$address" ] && break
  sleep 0.1
done
[ -n "$address" ] || { echo "the server did not start"; cat "$log"; exit 1; }

status=0
for key in schemathesis-acme schemathesis-globex; do
  echo "== schemathesis as tenant ${key#schemathesis-} against http://$address"
  PYTHONPATH=scripts SCHEMATHESIS_HOOKS=schemathesis_hooks "$venv/bin/st" run openapi/connect.yaml \
    --url "http://$address" --checks all -H "X-API-Key: $key" \
    --max-examples "$examples" --seed 1 --no-color "$@" || status=1
done
exit $status
