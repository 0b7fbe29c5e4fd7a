#!/usr/bin/env bash
# make fuzz's run (docs/fuzzing.md): every libFuzzer target of tests/fuzz,
# built in BUILD (cmake -DFEDHUB_FUZZ=ON with clang), for FUZZ_SECONDS each
# on a copy of its seed corpus (tests/fuzz/corpus/<target>/ and
# tests/fuzz/regressions/<target>/; the committed corpus is never grown).
# Prints a table (target, runs executed, corpus size, crashes) and exits 1
# when any target crashed, leaked, timed out or ran out of memory; the
# inputs that did are under BUILD/fuzz-runs/<target>/artifacts/.
#
#   scripts/fuzz.sh build-fuzz                      (FUZZ_SECONDS=30 by default)
#   FUZZ_SECONDS=300 FUZZ_TARGETS="request idx" scripts/fuzz.sh build-fuzz
set -euo pipefail

BUILD=${1:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-30}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=$ROOT/tests/fuzz

# The largest input each target is given: a few times its largest seed.
max_len() {
  case $1 in
    request|response|contribution|framed|model_package) echo 8192 ;;
    chunk_stream) echo 16384 ;;
    idx|image) echo 16384 ;;
    cifar) echo 20000 ;;
    http_head) echo 20000 ;;  # past the 16 KiB head limit
    scenario) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

targets=${FUZZ_TARGETS:-$(sed -n '/^set(FEDHUB_FUZZ_TARGETS/,/)/p' "$SRC/CMakeLists.txt" |
  sed 's/set(FEDHUB_FUZZ_TARGETS//; s/)//' | tr -s ' \n' ' ')}

summary=()
failed=0
for t in $targets; do
  bin=$BUILD/bin/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz: $bin is missing (build $BUILD with -DFEDHUB_FUZZ=ON)" >&2; exit 2; }
  work=$BUILD/fuzz-runs/$t
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -r "$SRC/corpus/$t/." "$work/corpus/" 2>/dev/null || true
  [ -d "$SRC/regressions/$t" ] && cp -r "$SRC/regressions/$t/." "$work/corpus/"
  echo "fuzz: $t for ${SECONDS_EACH}s (max_len $(max_len "$t"))"
  set +e
  (cd "$work" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$ROOT/$bin" corpus \
    -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout=25 \
    -artifact_prefix=artifacts/ -print_final_stats=1 > log.txt 2>&1)
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log.txt" | tail -1)
  [ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$work/log.txt" | tail -1)
  corpus=$(find "$work/corpus" -type f | wc -l)
  crashes=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="rc=$rc"; fi
  if [ "$crashes" != 0 ]; then
    failed=1
    echo "fuzz: $t FAILED, see $work/log.txt and $work/artifacts/" >&2
    grep -m3 -E 'ERROR|SUMMARY|terminate|what\(\)' "$work/log.txt" >&2 || true
  fi
  summary+=("$(printf '%-15s %12s %8s %8s' "$t" "${runs:-?}" "$corpus" "$crashes")")
done

echo
printf '%-15s %12s %8s %8s\n' target runs corpus crashes
printf '%s\n' "${summary[@]}"
printf '(%s s per target; logs and artifacts in %s/fuzz-runs/)\n' "$SECONDS_EACH" "$BUILD"
exit $failed
