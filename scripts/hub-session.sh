# Sourced by the scripts that run a hub on loopback (demo.sh,
# paper-experiment.sh). Defines:
#   start_session NAME   a fresh work directory in $work, killed and removed at exit
#   start_hub BIN        fl-hub on any free port with data in $work/data; sets
#                        $hub (HOST:PORT) and $manager (the fl-manager command)
# Processes started in the background are added to $pids to be stopped at exit.

start_session() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/fedhub-$1.XXXXXX")
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
}

start_hub() {
  mkfifo "$work/hub.out"
  "$1/fl-hub" --port 0 --data-dir "$work/data" >"$work/hub.out" 2>&1 &
  pids+=($!)
  exec 3<"$work/hub.out"
  hub=""
  # The hub's first lines tell where it listens; no waiting on a clock.
  while IFS= read -r line <&3; do
    echo "$line"
    if [[ $line =~ listening\ on\ ([0-9.]+:[0-9]+) ]]; then hub=${BASH_REMATCH[1]}; break; fi
  done
  [ -n "$hub" ] || { echo "the hub did not start" >&2; exit 1; }
  cat <&3 >"$work/hub.log" &
  pids+=($!)
  manager=("$1/fl-manager" --hub "$hub" --key-file "$work/data/manager.key")
}
