#!/usr/bin/env bash
# Router benchmark: direct vs Slipway Router vs HAProxy, on 127.0.0.1 only, in ~40 s.
# Usage: bench/router/run.sh            (knobs via env: DURATION WARMUP CONNECTIONS THREADS
#                                        HAPROXY_THREADS SLIPWAY_ROUTER_MODULE)
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

# Every process the harness starts is recorded here; whatever is still alive at exit is stopped by PID.
PIDFILE=$(mktemp -t slipway-bench-pids.XXXXXX)
cleanup() {
  while read -r pid; do
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null || true
  done <"$PIDFILE"
  rm -f "$PIDFILE"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

BENCH_PIDFILE=$PIDFILE BENCH_COMMAND="bench/router/run.sh${*:+ $*}" "$NODE" bench/router/index.ts "$@"
