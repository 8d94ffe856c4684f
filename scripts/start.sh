#!/usr/bin/env bash
# Builds motif and starts `motif serve` on this machine, the embedded serving layer, with
# one example function deployed: hello in Rust, built to WebAssembly and run in the
# server's own process. It prints the URL to curl; Ctrl-C stops it.
#
#   bash scripts/start.sh
#   curl -d motif http://hello-rust-wasm.localhost:8080/     # in another terminal
#
# MOTIF_SERVE_PORT (8080) and MOTIF_STATE_DIR (~/.local/state/motif/serve) are motif
# serve's own; MOTIF_PROFILE=debug builds without optimisations (faster to build).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo rustup; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: $tool is not installed" >&2
    echo "hint: install the Rust toolchain with rustup (https://rustup.rs)" >&2
    exit 1
  fi
done
# The example is a Rust function built for wasm32-wasip2.
rustup target add wasm32-wasip2 >/dev/null

profile=${MOTIF_PROFILE:-release}
case "$profile" in
  release) flags=(--release) ;;
  debug) flags=() ;;
  *) echo "error: MOTIF_PROFILE is release or debug, not \`$profile\`" >&2; exit 1 ;;
esac
echo "building motif ($profile; the first build takes a few minutes)" >&2
# The same build as the tests' (motif-test-support), so that it is shared with theirs.
cargo build --locked "${flags[@]}" --workspace --bins --examples >&2

port=${MOTIF_SERVE_PORT:-8080}
echo "starting motif serve on port $port; when it says the function is serving, try:" >&2
echo "  curl -d motif http://hello-rust-wasm.localhost:$port/" >&2
exec "${CARGO_TARGET_DIR:-target}/$profile/motif" serve --port "$port" --deploy examples/hello/http/rust-wasm
