#!/usr/bin/env bash
# The README's "Using it by hand" as one script; tests/integration/newcomer_test.cpp
# runs it as written and checks that the README shows exactly these lines.
# Run it from the checkout's root after `make build`. FEDHUB_BIN, FEDHUB_PORT and
# FEDHUB_DATA choose the programs' folder, the hub's port and its data directory.
set -euo pipefail
BIN=${FEDHUB_BIN:-build/bin}
PORT=${FEDHUB_PORT:-7461}
DATA=${FEDHUB_DATA:-$(mktemp -d)/hub-data}   # outside the checkout
FMNIST=/usr/share/datasets/fashion-mnist      # Debian's dataset-fashion-mnist

# 1. The hub. Here it runs in the background and stops when the script ends; by
#    hand, start it in a terminal of its own (without the &) and use a second one.
"$BIN/fl-hub" --data-dir "$DATA" --port "$PORT" > "$DATA.log" 2>&1 &
HUB=$!
trap 'kill $HUB; wait $HUB' EXIT

# 2. Its first start writes the manager key into the data directory; --wait lets
#    the first command wait (up to 30 s) for the hub to come up.
M="$BIN/fl-manager --hub 127.0.0.1:$PORT --key-file $DATA/manager.key"
$M --wait 30 create fmnist --arch config/fmnist-mlp.arch.json \
    --labels config/fashion-mnist-labels.txt --recipe config/adam.recipe.json

# 3. A participant key, and a participant that trains one round on the first
#    five classes of the training set and uploads the result (a few seconds).
KEY=$($M keys add org-1 --role participant)
"$BIN/fl-participant" run --hub 127.0.0.1:$PORT --key "$KEY" --model fmnist \
    --data idx:$FMNIST/train:0,1,2,3,4 --rounds 1 &
PARTICIPANT=$!

# 4. Wait for that contribution, then merge: version 0's contributions become
#    version 1. (Step by step: `$M status fmnist` until org-1 is listed, then
#    `$M merge fmnist --base 0`; a merge with nothing to merge is refused.)
$M watch fmnist --merge-at 1 --versions 1
wait $PARTICIPANT
$M status fmnist --version 0          # who contributed to version 0

# 5. Accuracy on the ten classes of the test set: about 0.42 of at most 0.5,
#    because org-1 only saw classes 0-4 (the per-class lines show them learned,
#    the others at 0).
#    Participants holding the other classes fix that: `make demo` reaches ~0.82.
$M evaluate fmnist --data idx:$FMNIST/t10k
