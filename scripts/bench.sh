#!/usr/bin/env bash
# Runs every benchmark; each prints ratios against a limit or a peer measured in
# the same run and ends with one summary line. Results: docs/performance.md.
set -euo pipefail
bin=${1:-build/bin}
"$(dirname "$0")/install-deps.sh" || echo "bench: PyTorch/numpy peers unavailable; ratios print n/a" >&2
status=0
for b in bench-train bench-merge bench-transfer bench-load bench-sim; do
  echo "== $b"
  "$bin/$b" || status=1
done
exit $status
