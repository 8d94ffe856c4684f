#!/usr/bin/env bash
# Reconcile latency and memory of `motif controller` against a real kube-apiserver:
# N Functions (default 100) applied one at a time (p50/p99 of applied -> Service applied
# -> status written), against the baseline of one server-side apply of a Knative Service
# in the same run, then N at once; the controller's VmRSS/VmHWM.
#   scripts/bench-controller.sh [N]
# Needs the kube-apiserver of scripts/kube-apiserver.sh and etcd (scripts/test.sh
# installs both). Release builds; the apiserver runs on loopback with etcd without fsync.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
export MOTIF_KUBE_APISERVER=${MOTIF_KUBE_APISERVER:-$(bash scripts/kube-apiserver.sh)}
cargo build --release --locked -q -p motif-cli --bin motif
cargo build --release --locked -q -p motif-bench --bin controller-reconcile
echo "# $(date -u +%Y-%m-%d) scripts/bench-controller.sh $n ($(nproc) cores)"
target/release/controller-reconcile target/release/motif "$n"
