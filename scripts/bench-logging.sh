#!/usr/bin/env bash
# The cost of the request log: GET /users/{id} throughput with the default logging (info, one
# JSON line per request, to a file) and at warn (no request lines), run alternately, with the
# number of request lines written (or dropped and counted) against the requests served.
#
# Needs wrk (Debian: apt-get install wrk). Usage: scripts/bench-logging.sh [ROUNDS] [SECONDS]
set -euo pipefail
rounds=${1:-3}
seconds=${2:-5}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cd "$(dirname "$0")/.."
cargo build --release -q -p connect-server
binary=target/release/connect-server
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=18199

run() {
  local level=$1 log=$work/$1.log
  CONNECT_API_KEYS=bench=bench-key "$binary" --bind 127.0.0.1:$port --log-format json \
    --log-level "$level" 2>"$log" >/dev/null &
  local pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:$port/openapi.yaml && break; sleep 0.1; done
  local id
  id=$(curl -s -X POST -H 'X-API-Key: bench-key' -H 'content-type: application/json' \
    -d '{"name":"Ada"}' http://127.0.0.1:$port/users | python3 -c 'import sys,json;print(json.load(sys.stdin)["userId"])')
  local out
  out=$(wrk -t1 -c16 -d"${seconds}s" -H 'X-API-Key: bench-key' "http://127.0.0.1:$port/users/$id")
  kill -TERM $pid
  wait $pid
  local served rps lines dropped
  served=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  lines=$(grep -c '"request completed"' "$log" || true)
  dropped=$(grep '"dropped"' "$log" | python3 -c 'import sys,json;print(sum(json.loads(l)["dropped"] for l in sys.stdin))')
  echo "$level $rps"
  echo "  $level: $rps requests/s; wrk counted $served responses; $lines request lines, $dropped dropped and counted" >&2
}

info_total=0; warn_total=0
for _ in $(seq "$rounds"); do
  info=$(run info | awk '{print $2}')
  warn=$(run warning | awk '{print $2}')
  info_total=$(python3 -c "print($info_total + $info)")
  warn_total=$(python3 -c "print($warn_total + $warn)")
done
python3 -c "print(f'default logging / warn: {$info_total / $warn_total:.3f} of the throughput over $rounds rounds')"
