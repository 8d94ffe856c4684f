#!/usr/bin/env bash
# The whole test suite, from a fresh machine of the project's kind (Debian, Rust stable):
# installs what the tests need, checks formatting and lints, runs every test.
#
# Conformance data is read from ../shared/conformance (or MOTIF_CONFORMANCE_DIR); tests
# that need it say so and skip when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }

step "tools"
# curl is the real HTTP/2 (h2c) client of the contract suite.
if ! command -v curl >/dev/null; then
  echo "installing curl" >&2
  apt-get update -qq && apt-get install -y -qq curl >/dev/null
fi
missing=()
for tool in cargo sh sed head sleep; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "error: missing tools: ${missing[*]}" >&2
  echo "hint: install the Rust toolchain with rustup, and coreutils/sed with apt-get" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# The wasm host's tests build their guest components from source.
rustup target add wasm32-wasip2 wasm32-wasip1 >/dev/null
cargo --version >&2

conformance="${MOTIF_CONFORMANCE_DIR:-../shared/conformance}"
if [[ -d $conformance ]]; then
  echo "conformance data: $conformance" >&2
else
  echo "notice: no conformance data at $conformance: the tests that read it will skip" >&2
fi

step "format"
cargo fmt --all --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "test"
cargo test --workspace --locked
