#!/usr/bin/env bash
# The published crates (connect-client, connect-webhooks) test alone: `cargo package`, unpack
# each .crate outside the workspace, and `cargo test` it there (its unit tests, doctests and
# examples), with the workspace's lock file so that it builds the same dependency versions.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for package in connect-client connect-webhooks; do
  cargo package --quiet -p "$package" --allow-dirty --no-verify
  crate=$(ls -t target/package/"$package"-[0-9]*.crate | head -1)
  files=$(tar tzf "$crate")
  grep -q '/LICENSE$' <<<"$files" || { echo "$crate has no LICENSE"; exit 1; }
  grep -q '/README.md$' <<<"$files" || { echo "$crate has no README.md"; exit 1; }
  tar xzf "$crate" -C "$work"
  (
    cd "$work/$(basename "$crate" .crate)"
    cp "$root/Cargo.lock" .
    # The workspace's profile (no debug info for dependencies), so the shared target
    # directory's builds are reused.
    CARGO_TARGET_DIR="$root/target/package-test" cargo test --quiet \
      --config 'profile.dev.package."*".debug = false'
  )
  echo "$(basename "$crate") tests alone"
done
