#!/usr/bin/env bash
# Start or stop the local AWS (moto + our fidelity layer) in the background, on a free loopback
# port. `start` prints AWS_ENDPOINT_URL=...; `stop` stops exactly the process `start` started.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.local-aws"
mkdir -p "$dir"

running() { [[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }

case "${1:-}" in
  start)
    if running; then
      cat "$dir/endpoint"
      exit 0
    fi
    rm -f "$dir/endpoint" "$dir/out"
    (
      cd "$root"
      # Keep no inherited descriptor (a caller's pipe would wait for the server to exit).
      for fd in $(ls /proc/$BASHPID/fd); do
        if ((fd > 2)); then eval "exec $fd>&-"; fi
      done
      nohup "$root/.venv/bin/python" -m localaws --port 0 </dev/null >"$dir/out" 2>"$dir/log" &
      echo $! >"$dir/pid"
    )
    for _ in $(seq 1 100); do
      if [[ -s "$dir/out" ]]; then
        head -n 1 "$dir/out" >"$dir/endpoint"
        cat "$dir/endpoint"
        exit 0
      fi
      sleep 0.1
    done
    echo "local AWS did not start; see $dir/log" >&2
    exit 1
    ;;
  stop)
    if running; then
      kill "$(cat "$dir/pid")"
      echo "local AWS stopped"
    fi
    rm -f "$dir/pid" "$dir/endpoint"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
