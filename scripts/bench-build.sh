#!/usr/bin/env bash
# `motif build` time and image sizes.
#
# 1. Build time of the Rust wasm hello (`motif create hello --language rust-wasm`), with
#    a cold cargo cache (a fresh CARGO_TARGET_DIR) and a warm one (the handler touched),
#    each against the baseline in the same run: plain `cargo build --release --target
#    wasm32-wasip2` of the same crate in a target directory of its own. The ratio is
#    what motif adds on top of cargo (reading the package, rustup's target check).
# 2. Image size per language: the http template of each, `motif build --image` on an
#    empty base image (made here with umoci and served by a local docker-registry), so
#    the size is motif's own layers: what every image of that language carries on top of
#    its base.
#
# Usage: bash scripts/bench-build.sh [OUT_DIR]   (ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
ROUNDS=${ROUNDS:-3}
OUT=${1:-target/bench-build/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
for tool in docker-registry umoci skopeo; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install docker-registry umoci skopeo)"
done

log "building motif and motif-invoker (release)"
cargo build --release --locked -p motif-cli -p motif-invoker >&2
MOTIF=$PWD/target/release/motif
export MOTIF_INVOKER_BIN=$PWD/target/release/motif-invoker
WORK=$(mktemp -d /tmp/motif-bench-build.XXXXXX)
export MOTIF_CONFIG_DIR=$WORK/config MOTIF_DATA_DIR=$WORK/data
REGISTRY_PID=
cleanup() { [ -n "$REGISTRY_PID" ] && kill "$REGISTRY_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

cd "$WORK"
"$MOTIF" create hello --language rust-wasm >/dev/null
cp -r hello baseline
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }

{
    echo "| round | cold: motif build | cold: cargo build | ratio | warm: motif build | warm: cargo build | ratio |"
    echo "|---|---|---|---|---|---|---|"
} > "$OUT/build-time.md"
for round in $(seq "$ROUNDS"); do
    rm -rf target-motif target-cargo
    cold_motif=$(CARGO_TARGET_DIR=$WORK/target-motif ms "$MOTIF" build hello --wasm)
    cold_cargo=$(CARGO_TARGET_DIR=$WORK/target-cargo ms cargo build --release --target wasm32-wasip2 --manifest-path baseline/Cargo.toml)
    touch hello/src/main.rs baseline/src/main.rs
    warm_motif=$(CARGO_TARGET_DIR=$WORK/target-motif ms "$MOTIF" build hello --wasm)
    warm_cargo=$(CARGO_TARGET_DIR=$WORK/target-cargo ms cargo build --release --target wasm32-wasip2 --manifest-path baseline/Cargo.toml)
    printf '| %s | %s ms | %s ms | %s | %s ms | %s ms | %s |\n' "$round" \
        "$cold_motif" "$cold_cargo" "$(awk "BEGIN{printf \"%.2f\", $cold_motif/$cold_cargo}")" \
        "$warm_motif" "$warm_cargo" "$(awk "BEGIN{printf \"%.2f\", $warm_motif/$warm_cargo}")" >> "$OUT/build-time.md"
    log "round $round: cold $cold_motif/$cold_cargo ms, warm $warm_motif/$warm_cargo ms"
done

log "starting docker-registry with an empty base image"
port=$(free_port)
mkdir -p registry
cat > registry/config.yml <<CFG
version: 0.1
storage:
  filesystem: {rootdirectory: $WORK/registry/data}
http:
  addr: 127.0.0.1:$port
CFG
docker-registry serve registry/config.yml > registry/log 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done
umoci init --layout empty >/dev/null
umoci new --image empty:base >/dev/null
skopeo copy -q --dest-tls-verify=false oci:empty:base "docker://127.0.0.1:$port/base/empty:1"

{
    echo "| language | image (compressed, on an empty base) | layers |"
    echo "|---|---|---|"
} > "$OUT/image-size.md"
export CARGO_TARGET_DIR=$WORK/target-images
for language in rust rust-wasm js ts python python-wasm c-wasm command; do
    "$MOTIF" create "size-$language" --language "$language" >/dev/null
    json=$("$MOTIF" build "size-$language" --image --base "127.0.0.1:$port/base/empty:1" -o json 2>"$OUT/build-$language.log")
    size=$(printf '%s' "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
    layers=$(python3 -c "import json; m=json.load(open('size-$language/.motif/build/image/index.json')); d=m['manifests'][-1]['digest'].split(':')[1]; print(len(json.load(open('size-$language/.motif/build/image/blobs/sha256/'+d))['layers']))")
    printf '| %s | %s | %s |\n' "$language" "$(awk "BEGIN{printf \"%.2f MiB\", $size/1048576}")" "$layers" >> "$OUT/image-size.md"
    log "$language: $size bytes"
done
cat "$OUT/build-time.md" "$OUT/image-size.md"
log "results in $OUT"
