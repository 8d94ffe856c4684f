# Helpers shared by the benchmark scripts (bench-runtime, bench-node, bench-python):
# logging, the one server under test (start it yourself, put its pid in SERVER_PID), free
# ports, wrk runs and their latencies, and how busy the shared machine is. Sourced, not
# run. wrk_run reads THREADS and CONNECTIONS.

log() { printf '[bench] %s\n' "$*" >&2; }

die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

seconds() { # "10s" -> 10, "2m" -> 120, "5" -> 5
    case $1 in *m) echo $((${1%m} * 60)) ;; *s) echo "${1%s}" ;; *) echo "$1" ;; esac
}

SERVER_PID=
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
trap stop_server EXIT
trap 'exit 130' INT TERM

free_port() { # below Linux's ephemeral range, so no client socket holds it
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 12000))
        if [ -z "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ]; then
            echo "$p"; return 0
        fi
    done
    die "no free port found"
}

# The machine is shared: other builds (rustc) or CPU-bound jobs (fuzzers, test loops)
# would take CPU from wrk and the server. Wait for it to be quiet, and record per run how
# much CPU everything else used while it was measured.
busy() { pgrep -c -x rustc 2>/dev/null || true; }

cpu_jiffies() { # busy, total, softirq (the loopback's packet processing is counted here)
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $8 }' /proc/stat
}

others_busy() { # percent of the machine's CPU in use over 2 s (nothing of ours runs now)
    local a b
    a=$(cpu_jiffies); sleep 2; b=$(cpu_jiffies)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", 100 * (y[1] - x[1]) / (y[2] - x[2] + 1e-9) }'
}

to_ms() { # wrk's latency ("812.00us", "3.12ms", "1.02s") in ms
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) ; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
        printf "%.2f", n }'
}

# wrk_run LUA PORT DURATION OUTFILE [--latency]: prints the CPU seconds wrk used.
wrk_run() {
    local lua=$1 port=$2 dur=$3 out=$4 extra=${5:-} limit
    limit=$(($(seconds "$dur") + 20))
    local TIMEFORMAT='%U %S'
    { time timeout "$limit" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$dur" $extra -s "$lua" \
        "http://127.0.0.1:$port/" >"$out" 2>&1; } 2>"$out.time" ||
        die "wrk failed or timed out (see $out)"
    awk '{ printf "%.1f", $1 + $2 }' "$out.time"
}
