#!/usr/bin/env bash
# The spec read by generators of other languages: openapi-python-client (Python) and
# openapi-typescript (TypeScript) generate from openapi/connect.yaml without a warning, the
# Python client creates a customer with a billing shape against the real server and reads it
# back as that shape, and a TypeScript file using the billing union type-checks.
#
# Needs python3 and node/npm; installs into target/peers.
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/peers
mkdir -p "$work"
venv=$work/venv
if [ ! -x "$venv/bin/openapi-python-client" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    'openapi-python-client==0.29.1' 'ruff==0.17.6'
fi
export PATH="$PWD/$venv/bin:$PATH"

echo "== openapi-python-client"
rm -rf "$work/python"
output=$(openapi-python-client generate --path openapi/connect.yaml --output-path "$work/python" 2>&1)
echo "$output"
if grep -qi "warning" <<<"$output"; then
  echo "openapi-python-client warned: the spec says something it cannot read"
  exit 1
fi

echo "== openapi-typescript and tsc"
if [ ! -x "$work/node_modules/.bin/tsc" ]; then
  npm install --silent --prefix "$work" 'openapi-typescript@7.13.0' 'typescript@5.9.3' >/dev/null
fi
"$work/node_modules/.bin/openapi-typescript" openapi/connect.yaml -o "$work/connect.d.ts"
cat >"$work/use.ts" <<'TS'
import type { components } from "./connect";
type Billing = components["schemas"]["Billing"];
const email: Billing = { method: "EMAIL_INVOICE", email: "a@example.com" };
const paper: Billing = {
  method: "PAPER_INVOICE",
  address: { street1: "1 Main St", city: "Springfield", zip: "12345", country: "US" },
};
function describe(billing: Billing): string {
  return billing.method === "EMAIL_INVOICE" ? billing.email : billing.address.city;
}
export const described = [describe(email), describe(paper)];
TS
"$work/node_modules/.bin/tsc" --noEmit --strict "$work/use.ts"

echo "== the Python client against the server"
cargo build --quiet -p connect-server
log=$(mktemp)
CONNECT_API_KEYS="peer=peer-key" target/debug/connect-server --bind 127.0.0.1:0 --log-format json 2>"$log" &
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
PYTHONPATH="$work/python" "$venv/bin/python" - "http://$address" <<'PY'
import sys
from connect_api_client import AuthenticatedClient
from connect_api_client.api.customers import create_customer, get_customer
from connect_api_client.models import (CreateCustomerRequest, CustomerType, EmailInvoiceBilling,
                                       EmailInvoiceBillingMethod)

client = AuthenticatedClient(base_url=sys.argv[1], token="peer-key", prefix="", auth_header_name="X-API-Key")
request = CreateCustomerRequest(
    customer_type=CustomerType.BUSINESS,
    name="Peer",
    billing=EmailInvoiceBilling(method=EmailInvoiceBillingMethod.EMAIL_INVOICE, email="a@example.com"),
)
created = create_customer.sync(client=client, body=request)
fetched = get_customer.sync(client=client, customer_id=created.customer_id)
assert isinstance(fetched.billing, EmailInvoiceBilling), type(fetched.billing)
assert fetched.billing.email == "a@example.com"
print("the Python client created and read back customer", fetched.customer_id)
PY
