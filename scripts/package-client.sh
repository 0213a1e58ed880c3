#!/usr/bin/env bash
# The published connect-client tests alone: `cargo package`, unpack the .crate outside the
# workspace, and `cargo test` it there (its unit tests, doctests and examples), with the
# workspace's lock file so that it builds the same dependency versions.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cargo package --quiet -p connect-client --allow-dirty --no-verify
crate=$(ls -t target/package/connect-client-*.crate | head -1)
files=$(tar tzf "$crate")
grep -q '/LICENSE$' <<<"$files" || { echo "$crate has no LICENSE"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar xzf "$crate" -C "$work"
cd "$work"/connect-client-*
cp "$root/Cargo.lock" .
# The workspace's profile (no debug info for dependencies), so the shared target directory's
# builds are reused.
CARGO_TARGET_DIR="$root/target/package-test" cargo test --quiet \
  --config 'profile.dev.package."*".debug = false'
echo "$(basename "$crate") tests alone"
