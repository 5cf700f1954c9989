#!/usr/bin/env bash
# Router benchmark: direct vs Slipway Router vs HAProxy, on 127.0.0.1 only, in about a minute.
# Usage: bench/router/run.sh            (knobs via env: ROUNDS DURATION WARMUP CONNECTIONS THREADS
#                                        HAPROXY_THREADS SLIPWAY_ROUTER_MODULE ROUTER_NODE_FLAGS)
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE=node_modules/.bin/node

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v haproxy >/dev/null || missing+=(haproxy)
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]}…" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  else
    echo "need ${missing[*]}: sudo apt-get install ${missing[*]}" >&2; exit 1
  fi
fi

# Scratch space (HAProxy config) and the PID list: every process the harness starts is recorded in
# it, and whatever is still alive at exit is stopped by PID, even if the harness itself was killed.
WORKDIR=$(mktemp -d -t slipway-router-bench.XXXXXX)
PIDFILE=$WORKDIR/pids
: >"$PIDFILE"
cleanup() {
  local pid cmd
  while read -r pid; do
    [[ -n $pid ]] || continue
    # Only a process that is still ours (not a recycled PID): a harness child by its command line.
    cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) || continue
    [[ $cmd == *bench/lib/backend.ts* || $cmd == *bench/router/router-process.ts* || $cmd == *haproxy*"$WORKDIR"* || $cmd == wrk* ]] || continue
    kill "$pid" 2>/dev/null || true
  done <"$PIDFILE"
  rm -rf "$WORKDIR"
}
trap cleanup EXIT

# In the background so a signal to this script is acted on at once (the harness stops its children).
BENCH_TMPDIR=$WORKDIR BENCH_PIDFILE=$PIDFILE BENCH_COMMAND="bench/router/run.sh${*:+ $*}" "$NODE" bench/router/index.ts "$@" &
harness=$!
trap 'kill -TERM "$harness" 2>/dev/null; wait "$harness"; exit 130' INT
trap 'kill -TERM "$harness" 2>/dev/null; wait "$harness"; exit 143' TERM
wait "$harness"
