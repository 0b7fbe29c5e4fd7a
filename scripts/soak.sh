#!/usr/bin/env bash
# make soak: the crash-safety test with many kills and the soak under load
# (tests/soak/, docs/reliability.md). Builds only what they need into the
# build directory, runs both and prints both summary lines:
#   crash_safety: kills K acknowledged A lost 0 violations 0 ...
#   soak: seconds S uploads U downloads D rss_start_mb A rss_end_mb B growth_pct G fds_max F lost 0
# Settings: SOAK_KILLS (default 20), SOAK_SEED (1), SOAK_SECONDS (600),
# SOAK_OUT (BUILD/soak: both logs and the RSS/fd CSV), JOBS (2).
set -uo pipefail
build=${1:-build}
kills=${SOAK_KILLS:-20}
seed=${SOAK_SEED:-1}
seconds=${SOAK_SECONDS:-600}
out=${SOAK_OUT:-$build/soak}
cmake --build "$build" -j"${JOBS:-2}" --target fl-hub fl-manager fedhub-soak-driver fedhub-crash-safety \
  fedhub-load-soak || exit 1
mkdir -p "$out"

echo "soak: the crash-safety test, $kills kills (seed $seed); log $out/crash.log"
"$build/bin/fedhub-crash-safety" --kills "$kills" --seed "$seed" 2>&1 | tee "$out/crash.log"
crash=${PIPESTATUS[0]}

echo "soak: $seconds s under load; log $out/load.log, samples $out/load.csv"
"$build/bin/fedhub-load-soak" --seconds "$seconds" --csv "$out/load.csv" 2>&1 | tee "$out/load.log"
load=${PIPESTATUS[0]}

echo
grep -h '^crash_safety: kills' "$out/crash.log" || echo "crash_safety: no summary (exit $crash)"
grep -h '^soak: seconds' "$out/load.log" || echo "soak: no summary (exit $load)"
[ "$crash" -eq 0 ] && [ "$load" -eq 0 ]
