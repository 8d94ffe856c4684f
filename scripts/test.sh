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
# curl is the real HTTP/2 (h2c) client of the contract suite; clang, lld, wasi-libc and
# the wasm32 compiler-rt builtins build the wasm host's C guest (its languages test) and
# c-wasm functions; git makes the template repositories of the CLI's tests; the image
# tests push to a real docker-registry, read images with skopeo, unpack them with umoci
# and run them with runc; the Kubernetes tests store into etcd, and rsync and make build
# their kube-apiserver.
packages=()
command -v curl >/dev/null || packages+=(curl)
command -v git >/dev/null || packages+=(git)
command -v make >/dev/null || packages+=(make)
# The README's tour applies `motif system install` with kubectl (Debian's is 1.20's).
command -v kubectl >/dev/null || packages+=(kubernetes-client)
for package in clang lld wasi-libc libclang-rt-dev-wasm32 docker-registry skopeo umoci runc \
  etcd-server rsync; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' ||
    packages+=("$package")
done
if ((${#packages[@]})); then
  echo "installing ${packages[*]}" >&2
  apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
missing=()
for tool in cargo sh sed head sleep python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "error: missing tools: ${missing[*]}" >&2
  echo "hint: install the Rust toolchain with rustup, and python3 (with pip) and" \
    "coreutils/sed with apt-get" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# The wasm host's tests build their guest components from source.
rustup target add wasm32-wasip2 wasm32-wasip1 >/dev/null
# Rust functions' images are static musl binaries.
rustup target add x86_64-unknown-linux-musl >/dev/null
cargo --version >&2
# componentize-py, the version its requirements pin, builds the wasm host's Python guest.
requirements=tests/wasm-guests/python/requirements.txt
componentize_py="componentize-py $(sed -n 's/^componentize-py==//p' "$requirements")"
if [[ $(componentize-py --version 2>/dev/null) != "$componentize_py" ]]; then
  echo "installing $componentize_py" >&2
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    -r "$requirements" >&2
  if [[ $(componentize-py --version 2>/dev/null) != "$componentize_py" ]]; then
    echo "error: $componentize_py is not on PATH after pip install" >&2
    exit 1
  fi
fi

# The JavaScript invoker's dependencies (its lockfile), and the Python invoker's and the
# interop client's (pinned requirements: the invoker, its tests, the cloudevents SDK).
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "error: the JavaScript invoker needs Node.js >= 20 and npm" >&2
  echo "hint: apt-get install nodejs npm" >&2
  exit 1
}
npm ci --prefix invokers/node --no-audit --no-fund --loglevel=error >&2
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
  -r invokers/python/requirements.txt -r invokers/python/requirements-dev.txt \
  -r tests/contract/requirements.txt >&2

conformance="${MOTIF_CONFORMANCE_DIR:-../shared/conformance}"
if [[ -d $conformance ]]; then
  echo "conformance data: $conformance" >&2
  # Present: the tests that read it (the CESQL TCK, the Trigger filter cases) fail
  # rather than skip if they cannot.
  export MOTIF_REQUIRE_CONFORMANCE=1
else
  echo "notice: no conformance data at $conformance: the tests that read it will skip" >&2
fi

# A real kube-apiserver (v1.20.2) for the Kubernetes tests, built from Debian's source
# archive the first time (~4 min) and cached in ~/.cache/motif-test. The cluster's CRDs
# are Knative's, from the conformance data: with them, a cluster that does not start
# fails its tests rather than skipping them.
MOTIF_KUBE_APISERVER=$(scripts/kube-apiserver.sh)
export MOTIF_KUBE_APISERVER
if [[ -d $conformance/knative-crds ]]; then
  export MOTIF_REQUIRE_CLUSTER=1
fi

# runc and umoci are installed above: the oci runtime's tests (which need root too)
# fail rather than skip without them.
export MOTIF_REQUIRE_RUNC=1

# A clean checkout gains nothing from incremental artifacts, which only take disk.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

step "format"
cargo fmt --all --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The Rust SDK's wasm path compiles only for wasm32: lint it there too.
cargo clippy -p motif-function --examples --target wasm32-wasip2 --locked -- -D warnings

step "test"
(cd invokers/node && node --test)
python3 -m pytest -q invokers/python
cargo test --workspace --locked
