#!/usr/bin/env bash
# A real Kubernetes API server for tests: etcd and kube-apiserver on free loopback ports,
# token auth, RBAC, no controllers (as controller-runtime's envtest). Used by
# motif-test-support's `Cluster`; developers can run one by hand.
#
#   envtest.sh serve DIR   start, print `KUBECONFIG=DIR/kubeconfig`, then block reading
#                          stdin: on EOF (the parent closed the pipe or died), SIGTERM or
#                          SIGINT stop both processes and exit
#   envtest.sh start DIR   start in the background (pids in DIR/*.pid), print the line
#   envtest.sh stop DIR    stop what `start` started
#
# DIR holds etcd's data, the certificates, the logs, the token file and two kubeconfigs:
# DIR/kubeconfig (an admin in `system:masters`) and DIR/controller.kubeconfig (the
# service account `motif-system:motif-controller`, with no rights unless RBAC grants them).
# The binary is $MOTIF_KUBE_APISERVER, else the one scripts/kube-apiserver.sh builds.
set -euo pipefail

version=1.20.2
# etcd and kube-apiserver listen on 127.0.0.1 only; ports are picked below the kernel's
# ephemeral range (32768+) so that no outgoing connection holds them.
port_base=20000 port_span=12000
# A port can be taken between the check and the bind: start again on new ports.
attempts=3
# Ready takes ~4 s on an idle machine; a busy CI machine (a cargo build beside) is slower.
ready_timeout=60

usage() {
  echo "usage: $0 serve DIR | start DIR | stop DIR" >&2
  exit 2
}

fail() {
  echo "error: $1" >&2
  [[ -z ${2:-} ]] || echo "hint: $2" >&2
  exit 1
}

# Whether a TCP port on any local address is in use (listening or connected).
port_in_use() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v port=":$hex" 'NR > 1 && substr($2, length($2) - 4) == port { found = 1 }
    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

free_port() {
  local port
  while :; do
    port=$((port_base + (RANDOM * 32768 + RANDOM) % port_span))
    port_in_use "$port" || port_in_use "$((port + 1))" || break
  done
  echo "$port"
}

# Whether process $1 runs: exists and is not a zombie that the shell has yet to reap.
running() {
  local state
  state=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [[ -n $state && $state != Z ]]
}

# Stops the processes whose pids DIR/*.pid hold: TERM, then KILL after 5 s.
stop_all() {
  local name pid pids=()
  for name in apiserver etcd; do
    [[ -f $dir/$name.pid ]] || continue
    pid=$(<"$dir/$name.pid")
    rm -f "$dir/$name.pid"
    kill "$pid" 2>/dev/null && pids+=("$pid")
  done
  for _ in $(seq 50); do
    ((${#pids[@]})) || return 0
    local alive=()
    for pid in "${pids[@]}"; do
      running "$pid" && alive+=("$pid")
    done
    pids=(${alive[@]+"${alive[@]}"})
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

logs_tail() {
  local log
  for log in etcd apiserver; do
    [[ -s $dir/$log.log ]] || continue
    echo "--- $dir/$log.log (last 20 lines)" >&2
    tail -n 20 "$dir/$log.log" >&2
  done
}

# Starts etcd and the apiserver once, on new ports. Returns 0 when /readyz is ok, 75 when
# a port was taken (try again), 1 on any other failure.
launch_once() {
  local etcd_port api_port
  etcd_port=$(free_port)
  api_port=$(free_port)
  while ((api_port == etcd_port || api_port == etcd_port + 1)); do api_port=$(free_port); done
  server=https://127.0.0.1:$api_port

  rm -rf "$dir/etcd"
  # In `serve`, the children die with this script even when it is killed with SIGKILL.
  local guard=()
  [[ $mode != serve ]] || ! command -v setpriv >/dev/null || guard=(setpriv --pdeathsig KILL)
  # --unsafe-no-fsync: the data is thrown away, and fsync is most of etcd's write latency.
  ${guard[@]+"${guard[@]}"} etcd --name motif-envtest --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
    --initial-cluster "motif-envtest=http://127.0.0.1:$((etcd_port + 1))" \
    --unsafe-no-fsync >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"

  # Kubernetes 1.20 serves only the secure port; it self-signs certs/apiserver.crt.
  # The ServiceAccount admission plugin would wait for a token controller that does not
  # run here.
  ${guard[@]+"${guard[@]}"} "$apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --cert-dir "$dir/certs" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --secure-port "$api_port" --token-auth-file "$dir/token.csv" --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$dir/certs/sa.pub" \
    --service-account-signing-key-file "$dir/certs/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 --disable-admission-plugins ServiceAccount \
    --allow-privileged=true >"$dir/apiserver.log" 2>&1 &
  echo $! >"$dir/apiserver.pid"

  local deadline=$((SECONDS + ready_timeout)) name
  while ((SECONDS < deadline)); do
    if [[ $(curl -sk --max-time 2 -H "Authorization: Bearer $admin_token" \
      "$server/readyz" 2>/dev/null) == ok ]]; then
      return 0
    fi
    for name in etcd apiserver; do
      if ! running "$(<"$dir/$name.pid")"; then
        if grep -q 'address already in use' "$dir/$name.log"; then
          stop_all
          return 75
        fi
        echo "error: $name exited during start" >&2
        return 1
      fi
    done
    sleep 0.1
  done
  echo "error: kube-apiserver was not ready within ${ready_timeout} s" >&2
  return 1
}

# kubeconfig FILE USER TOKEN: a kubeconfig for the running server, written whole.
kubeconfig() {
  (
    umask 077
    cat >"$1.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: envtest
  cluster:
    server: "$server"
    certificate-authority: "$dir/certs/apiserver.crt"
users:
- name: "$2"
  user:
    token: "$3"
contexts:
- name: envtest
  context: {cluster: envtest, user: "$2", namespace: default}
current-context: envtest
EOF
  )
  mv "$1.tmp" "$1"
}

launch() {
  apiserver=${MOTIF_KUBE_APISERVER:-${MOTIF_TEST_CACHE:-$HOME/.cache/motif-test}/kube-apiserver-v$version}
  [[ -x $apiserver ]] ||
    fail "no kube-apiserver at $apiserver" "run scripts/kube-apiserver.sh (it builds one in ~4 min, cached), or set MOTIF_KUBE_APISERVER"
  command -v etcd >/dev/null || fail "etcd is not installed" "apt-get install etcd-server"
  command -v openssl >/dev/null || fail "openssl is not installed" "apt-get install openssl"
  command -v curl >/dev/null || fail "curl is not installed" "apt-get install curl"

  rm -f "$dir/kubeconfig" "$dir/controller.kubeconfig"

  # The key that signs service account tokens (the apiserver requires one).
  openssl genrsa -out "$dir/certs/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/certs/sa.key" -pubout -out "$dir/certs/sa.pub" 2>/dev/null
  admin_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  controller_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  # token,user,uid,"group1,group2"
  (
    umask 077
    cat >"$dir/token.csv" <<EOF
$admin_token,motif-admin,motif-admin,system:masters
$controller_token,system:serviceaccount:motif-system:motif-controller,motif-controller,"system:serviceaccounts,system:serviceaccounts:motif-system"
EOF
  )

  local attempt status
  for attempt in $(seq "$attempts"); do
    status=0
    launch_once || status=$?
    ((status == 75)) || break
    echo "a port was taken (attempt $attempt of $attempts), trying others" >&2
  done
  if ((status != 0)); then
    logs_tail
    stop_all
    exit 1
  fi

  kubeconfig "$dir/controller.kubeconfig" motif-controller "$controller_token"
  kubeconfig "$dir/kubeconfig" motif-admin "$admin_token"
  echo "KUBECONFIG=$dir/kubeconfig"
}

[[ $# == 2 && $1 =~ ^(serve|start|stop)$ ]] || usage
mode=$1 dir=$2
[[ $mode == stop ]] || {
  mkdir -p "$dir/certs"
  dir=$(cd "$dir" && pwd)
  [[ ! -f $dir/apiserver.pid ]] || ! running "$(<"$dir/apiserver.pid")" ||
    fail "an apiserver already runs from $dir" "$0 stop $dir"
}

case $mode in
  serve)
    # Whatever ends this script (EOF, a signal, a failed start, a closed stdout) takes the
    # servers and their data with it; certificates, tokens and logs stay.
    reader=
    trap '[[ -z $reader ]] || kill "$reader" 2>/dev/null; stop_all; rm -rf "$dir/etcd"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    trap 'exit 141' PIPE
    launch
    # Background commands read /dev/null unless told otherwise; `wait` returns at once on
    # a signal, so the traps run without waiting for input.
    exec 3<&0
    cat <&3 >/dev/null &
    reader=$!
    wait "$reader" || true
    reader=
    ;;
  start)
    trap 'stop_all; exit 130' INT
    trap 'stop_all; exit 143' TERM
    launch
    ;;
  stop)
    stop_all
    ;;
esac
