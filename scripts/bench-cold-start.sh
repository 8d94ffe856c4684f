#!/usr/bin/env bash
# Cold start of every invoker: the time from spawning a function's process to the first
# 200 on /_/ready (CONTRACT.md §1: ready means loaded and init done), for the contract
# suite's `echo` role as each invoker starts it (tests/contract/functions/<invoker>/
# roles.toml), release builds. See BENCHMARKS.md.
#
# Each run spawns a fresh process through tests/bench's `first-request` (connection
# attempts 1 ms apart). One unmeasured start per invoker first, so that the wasm
# invokers' compile cache is warm and the interpreters' files are in the page cache, as
# on any start after the first; then RUNS rounds, the invokers in turn in each round.
#
# Node and Python start as the suite starts them, with this machine's environment (say,
# NODE_EXTRA_CA_CERTS, which Node reads at start-up, or a site-packages `.pth` hook),
# except that `python3` is the interpreter's real path.
#
# Prints a markdown table of medians on stdout; progress goes to stderr. Raw output in $OUT.
#
# Settings (environment): RUNS=11 INVOKERS="command wasm rust rust-wasm node python python-wasm"
#   OUT=target/bench-cold-start/<UTC time>
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${RUNS:-11}
read -r -a INVOKERS <<<"${INVOKERS:-command wasm rust rust-wasm node python python-wasm}"
OUT=${OUT:-$ROOT/target/bench-cold-start/$(date -u +%Y%m%dT%H%M%SZ)}
SUITE=$ROOT/tests/contract
mkdir -p "$OUT"

log() { printf '[cold-start] %s\n' "$*" >&2; }

log "building (release)"
cargo build --quiet --release -p motif-invoker -p motif-bench -p motif-rust-roles >&2
cargo build --quiet --release -p motif-rust-roles --target wasm32-wasip2 >&2
(cd tests/wasm-guests && cargo build --quiet --release --target wasm32-wasip2 -p contract-roles &&
    cargo build --quiet --release --target wasm32-wasip1 -p p1-roles) >&2
BIN=$ROOT/target/release
# The Python roles as components, as the suite builds them.
PYTHON_ROLES_WASM=${PYTHON_ROLES_WASM:-}

# launch INVOKER: prints, NUL-separated, `env`, the role's environment as K=V, and its argv,
# with the suite's {placeholders} replaced by release paths.
launch() {
    python3 - "$SUITE" "$1" "$BIN" "$ROOT" "$PYTHON_ROLES_WASM" <<'PY'
import sys, tomllib
suite, invoker, bin_dir, root, python_wasm = sys.argv[1:]
with open(f"{suite}/functions/{invoker}/roles.toml", "rb") as f:
    echo = tomllib.load(f)["echo"]
values = {
    "dir": f"{suite}/functions/{invoker}",
    "repo": root,
    "motif-invoker": f"{bin_dir}/motif-invoker",
    "rust-roles": bin_dir,
    "rust-roles-wasm": f"{root}/target/wasm32-wasip2/release",
    "wasm-guests": f"{root}/tests/wasm-guests/target",
    "python-roles-wasm": python_wasm,
}
def fill(s):
    for k, v in values.items():
        s = s.replace("{" + k + "}", v)
    return s
env = {"MOTIF_FUNCTION_KIND": "http", "MOTIF_FUNCTION_NAME": "echo"}
env.update({k: fill(v) for k, v in echo.get("env", {}).items()})
argv = [fill(a) for a in echo["argv"]]
# `python3` as the interpreter itself: on a machine where it is a version manager's shim
# (pyenv's is a shell script), the shim's own start would be counted.
if argv[0] == "python3":
    argv[0] = sys.executable
words = ["env", *(f"{k}={v}" for k, v in env.items()), *argv]
sys.stdout.write("\0".join(words))
PY
}

# once INVOKER FILE: one measured start, appended to FILE as milliseconds.
once() {
    local words=()
    mapfile -d '' words < <(launch "$1")
    "$BIN/first-request" /_/ready -- "${words[@]}" | tee -a "$OUT/$1.raw" |
        sed 's/.*spawn-to-first-200=\([0-9.]*\)ms.*/\1/' >>"$2"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

for inv in "${INVOKERS[@]}"; do
    log "warming $inv"
    once "$inv" /dev/null
done
for round in $(seq "$RUNS"); do
    log "round $round of $RUNS"
    for inv in "${INVOKERS[@]}"; do once "$inv" "$OUT/$inv.ms"; done
done

echo "| invoker | spawn to /_/ready 200, median ms | min | max | runs |"
echo "|---|---|---|---|---|"
for inv in "${INVOKERS[@]}"; do
    printf '| %s | %s | %s | %s | %s |\n' "$inv" "$(median <"$OUT/$inv.ms")" \
        "$(sort -n "$OUT/$inv.ms" | head -1)" "$(sort -n "$OUT/$inv.ms" | tail -1)" "$RUNS"
done | tee "$OUT/table.md"
log "raw output: $OUT"
