#!/usr/bin/env bash
# GET /docs in headless Chromium (Debian's, installed here when missing), through Playwright:
# no request but the page itself, none failed, every operationId anchored and linked, a
# screenshot in target/docs.png. Then Redoc (its standalone bundle from npm, nothing fetched by
# the page) renders every spec with `x-webhooks`, each webhook marked as one (target/redoc-*.png).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
  (apt-get install -y --no-install-recommends chromium >/dev/null 2>&1) ||
    (apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null)
fi
work=target/browser
mkdir -p "$work"
[ -d "$work/node_modules/playwright-core" ] ||
  npm install --silent --prefix "$work" playwright-core@1.65.1 >/dev/null
cp scripts/docs-browser.mjs scripts/redoc-webhooks.mjs "$work/"

cargo build --quiet -p connect-server
log=$(mktemp)
CONNECT_API_KEYS="docs=docs-key" target/debug/connect-server --bind 127.0.0.1:0 --log-format json 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
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
node "$work/docs-browser.mjs" "http://$address" "$PWD/target/docs.png"

redoc="$work/redoc/package/bundles/redoc.standalone.js"
if [ ! -f "$redoc" ]; then
  mkdir -p "$work/redoc"
  (cd "$work/redoc" && npm pack --silent redoc@2.5.1 >/dev/null && tar xzf redoc-2.5.1.tgz package/bundles/redoc.standalone.js)
fi
# YAML to JSON with the Python that .ci/run set up for openapi-spec-validator (PyYAML is one of
# its dependencies), or one made here.
python=target/ci-venv/bin/python
if ! "$python" -c 'import yaml' 2>/dev/null; then
  python3 -m venv target/ci-venv
  "$python" -m pip install --quiet --disable-pip-version-check pyyaml
fi
for spec in openapi/*.yaml openapi/*.yml openapi/*.json; do
  [ -e "$spec" ] && grep -q 'x-webhooks' "$spec" || continue
  name=$(basename "${spec%.*}")
  "$python" -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2], "w"))' \
    "$spec" "$work/$name.json"
  node "$work/redoc-webhooks.mjs" "$work/$name.json" "$redoc" "$PWD/target/redoc-$name.png"
done
